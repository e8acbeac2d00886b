/** Bayes: tokenizer, combining, and a train/classify round trip on the engine of FACTEUR_TEST_ENGINE. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { classify, combine, GLOBAL_SCOPE, hashToken, tokenize, train } from './bayes.ts';
import { bayesCheck } from './checks/bayes.ts';
import { readMessage } from './checks/message.ts';
import { input, openTestStore, rawMessage, testContext } from './checks/test-support.ts';

const SPAM_WORDS = ['viagra', 'casino', 'winner', 'prize', 'cheap', 'pills', 'bonus', 'offer', 'guaranteed', 'unsubscribe', 'click', 'cash'];
const HAM_WORDS = ['meeting', 'agenda', 'patch', 'review', 'minutes', 'release', 'kernel', 'thanks', 'tomorrow', 'build', 'branch', 'notes'];
const COMMON = ['the', 'and', 'you', 'this', 'for', 'with', 'have', 'will', 'about', 'your'];

/** A deterministic pseudo-random message of one class. */
function sample(kind: 'spam' | 'ham', n: number): Buffer {
  let seed = n * 7919 + (kind === 'spam' ? 1 : 2);
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const vocabulary = kind === 'spam' ? SPAM_WORDS : HAM_WORDS;
  const words = Array.from({ length: 40 }, () => (next() < 0.35 ? vocabulary : COMMON)[Math.floor(next() * 10)]);
  const from = kind === 'spam' ? `deals${n}@promo${n % 5}.example` : `dev${n % 7}@lists.example.org`;
  return rawMessage(
    [
      `From: ${from}`,
      'To: user@example.net',
      `Subject: ${words.slice(0, 4).join(' ')}`,
      'Date: Thu, 26 Nov 2026 09:00:00 +0000',
      `Message-ID: <${kind}${n}@x.example>`,
    ],
    words.join(' '),
  );
}

describe('bayes: tokenizer and combining', () => {
  it('tokenizes words, subject, header features and URL domains', async () => {
    const message = await input(
      rawMessage(
        [
          'From: Deal Team <deals@promo.example.co.uk>',
          'Subject: Cheap PILLS',
          'Reply-To: x@other.example',
          'Message-ID: <a@b.example>',
          'X-Mailer: Bulk Mailer 2.0',
        ],
        'Buy cheap pills at https://www.pharma.example/buy now! a supercalifragilisticexpialidocious word',
      ),
    );
    const tokens = tokenize(await readMessage(message), message);
    for (const token of [
      's:cheap',
      's:pills',
      'from:promo.example.co.uk',
      'fn:deal',
      'rt:other.example',
      'mid:b.example',
      'mailer:bulk',
      'url:pharma.example',
      'buy',
      'cheap',
      'skip:s30',
      'sbi:cheap pills',
      'bi:buy cheap',
      'bi:cheap pills',
    ])
      assert.ok(tokens.includes(token), `${token} in ${tokens.join(' ')}`);
    assert.ok(!tokens.includes('at'), 'short words are dropped');
  });

  it('hashes tokens to short stable keys', () => {
    assert.equal(hashToken('viagra'), hashToken('viagra'));
    assert.notEqual(hashToken('viagra'), hashToken('viagrb'));
    assert.ok(hashToken('x'.repeat(1000)).length <= 11);
  });

  it('combines clues with chi-square', () => {
    const totals = { spam: 100, ham: 100 };
    assert.ok(
      combine(
        [
          { spam: 50, ham: 0 },
          { spam: 40, ham: 1 },
          { spam: 30, ham: 0 },
        ],
        totals,
      ).probability > 0.95,
    );
    assert.ok(
      combine(
        [
          { spam: 0, ham: 50 },
          { spam: 1, ham: 40 },
          { spam: 0, ham: 30 },
        ],
        totals,
      ).probability < 0.05,
    );
    assert.equal(combine([], totals).probability, 0.5);
    const many = Array.from({ length: 400 }, () => ({ spam: 20, ham: 1 }));
    assert.equal(combine(many, totals).clues, 300, 'at most 300 clues by default');
    assert.equal(combine(many, totals, { maxDiscriminators: 10 }).clues, 10);
  });
});

describe('bayes: train and classify in the database', () => {
  let store: Awaited<ReturnType<typeof openTestStore>>;
  before(async () => {
    store = await openTestStore();
  });
  after(() => store.dispose());

  it('says nothing untrained, then tells spam from ham, per domain and globally (R-S1)', async () => {
    const ctx = testContext({ store });
    const check = bayesCheck(ctx, { minTrained: 20 });
    assert.deepEqual((await check.run(await input(sample('spam', 999)))).symbols, [], 'untrained: no symbol');

    for (let n = 0; n < 20; n++) {
      await train(ctx, await input(sample('spam', n)), 'spam', [GLOBAL_SCOPE]);
      await train(ctx, await input(sample('ham', n)), 'ham', [GLOBAL_SCOPE]);
    }
    const totals = await store.db.selectFrom('bayes_totals').selectAll().execute();
    assert.deepEqual(
      totals.map((t) => [t.scope, Number(t.spam), Number(t.ham)]),
      [['global', 20, 20]],
    );

    for (let n = 100; n < 110; n++) {
      const spam = await check.run(await input(sample('spam', n)));
      assert.equal(spam.symbols[0]?.name, 'BAYES_SPAM', `spam ${n}`);
      assert.ok((spam.symbols[0]?.score ?? 0) > 3);
      const ham = await check.run(await input(sample('ham', n)));
      assert.equal(ham.symbols[0]?.name, 'BAYES_HAM', `ham ${n}`);
      assert.ok((ham.symbols[0]?.score ?? 0) < -2);
    }

    // A domain's own data adds to the global data for its mail only.
    const viagraHam = rawMessage(['From: doctor@clinic.example', 'Subject: viagra casino pills'], 'viagra casino pills prize winner cheap');
    for (let n = 0; n < 30; n++) await train(ctx, await input(viagraHam), 'ham', ['domain-1']);
    const forDomain = await classify(ctx, await input(viagraHam, { domainIds: ['domain-1'] }), undefined, 20);
    const forOthers = await classify(ctx, await input(viagraHam, { domainIds: ['domain-2'] }), undefined, 20);
    assert.ok(forDomain && forOthers && forDomain.probability < forOthers.probability, `${forDomain?.probability} < ${forOthers?.probability}`);
  });

  it('counts concurrent training exactly (upserts)', async () => {
    const ctx = testContext({ store });
    const message = await input(rawMessage(['From: a@concurrent.example', 'Subject: concurrency'], 'same words every time'));
    await Promise.all(Array.from({ length: 8 }, () => train(ctx, message, 'spam', ['concurrent'])));
    const row = await store.db
      .selectFrom('bayes_tokens')
      .select(['spam', 'ham'])
      .where('scope', '=', 'concurrent')
      .where('token', '=', hashToken('words'))
      .executeTakeFirst();
    assert.deepEqual(row && [Number(row.spam), Number(row.ham)], [8, 0]);
    const total = await store.db.selectFrom('bayes_totals').select('spam').where('scope', '=', 'concurrent').executeTakeFirst();
    assert.equal(Number(total?.spam), 8);
  });
});
