/**
 * The filter learns from what users and the operator do (issue 11, R-S4), on both engines: moves to
 * and out of Junk over IMAP (a real client, imapflow), the $Junk / $NotJunk keywords, reports through
 * the API and the CLI, releases from the quarantine (API, digest link), and the operator's corpus
 * import; learning is idempotent (the same judgement twice counts once) and reversible (the opposite
 * judgement moves the message to the other side), in the user's and the domain's scopes.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import { GLOBAL_SCOPE } from '../src/filter/bayes.ts';
import { learningSettled, personalVerdict, userScope } from '../src/filter/index.ts';
import { linkSecret, planDigestLinks } from '../src/filter/links.ts';
import { deliverMessage, receiveMessage } from '../src/mailstore/index.ts';
import { extractMetadata } from '../src/mime/index.ts';
import { type ApiClient, expectProblem, expectStatus, operatorClient } from './helpers/client.ts';
import { facteurJson, holdFor, type MailCustomer, rawMessage, setupMailCustomer, verdictOf } from './helpers/filter.ts';
import { startTestService, type TestService } from './helpers/service.ts';

let service: TestService;
let operator: ApiClient;
let acme: MailCustomer;
const alice = () => acme.accounts[0] as MailCustomer['accounts'][number];
const bob = () => acme.accounts[1] as MailCustomer['accounts'][number];
/** Teaches the filter nothing. */
const carol = () => acme.accounts[2] as MailCustomer['accounts'][number];

before(async () => {
  service = await startTestService({ overrides: { roles: ['web', 'imap'], ports: { http: 0, imap: 0, imaps: 0 } } });
  operator = await operatorClient(service);
  acme = await setupMailCustomer(service, operator, 'Acme', 'acme.test', ['alice', 'bob', 'carol']);
});
after(() => service.close());

function imap(account: { address: string; password: string }): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: service.imapsPort as number,
    secure: true,
    tls: { ca: [service.tlsCert], servername: 'localhost' },
    auth: { user: account.address, pass: account.password },
    logger: false,
  });
}

/** Messages counted in a scope: [spam, ham]. */
async function counted(scope: string): Promise<[number, number]> {
  await learningSettled(service.ctx);
  const row = await service.ctx.db.selectFrom('bayes_totals').select(['spam', 'ham']).where('scope', '=', scope).executeTakeFirst();
  return [Number(row?.spam ?? 0), Number(row?.ham ?? 0)];
}

/** Delivers a message to the account's Inbox through the one write path; its mailstore id. */
async function deliver(account: { id: string; address: string }, subject: string, body = 'An ordinary message'): Promise<string> {
  const message = await receiveMessage(service.ctx, Readable.from([rawMessage({ to: account.address, subject, body, from: 'news@shop.test' })]), {
    maxBytes: 1 << 22,
  });
  const [result] = await deliverMessage(service.ctx, message, [{ accountId: account.id }]);
  assert.ok(result?.ok);
  const row = await service.ctx.db
    .selectFrom('messages')
    .select('id')
    .where('mailbox_id', '=', result.mailboxId)
    .where('uid', '=', result.uid)
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Waits until the learner has nothing pending (it runs right after the commit, in the background). */
async function settled(): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    await learningSettled(service.ctx);
    const pending = await service.ctx.db.selectFrom('filter_lessons').select('pending').where('pending', '=', 1).executeTakeFirst();
    if (!pending) return;
    assert.ok(Date.now() < deadline, 'lessons learnt within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('R-S4 IMAP: MOVE into Junk teaches spam for the user and the domain; MOVE back to INBOX moves it to ham; to Trash teaches nothing', async () => {
  const user = alice();
  await deliver(user, 'Weekly deals 1');
  await deliver(user, 'Weekly deals 2');
  const before = await counted(userScope(user.id));
  const client = imap(user);
  await client.connect();
  try {
    await client.mailboxOpen('INBOX');
    const uids = (await client.search({ subject: 'Weekly deals 1' }, { uid: true })) as number[];
    assert.equal(uids.length, 1);
    const moved = await client.messageMove(uids, 'Junk', { uid: true });
    assert.ok(moved);
    await settled();
    assert.deepEqual(await counted(userScope(user.id)), [before[0] + 1, before[1]], 'learnt as spam for the user');
    assert.deepEqual(await counted(user.domainId), [1, 0], 'and for the domain');
    assert.deepEqual(await counted(GLOBAL_SCOPE), [0, 0], "a user's judgement does not touch the global scope");

    // The user changes their mind: out of Junk into the Inbox is "not spam", and the spam count goes back.
    await client.mailboxOpen('Junk');
    const inJunk = (await client.search({ subject: 'Weekly deals 1' }, { uid: true })) as number[];
    await client.messageMove(inJunk, 'INBOX', { uid: true });
    await settled();
    assert.deepEqual(await counted(userScope(user.id)), [before[0], before[1] + 1], 'moved from spam to ham');
    assert.deepEqual(await counted(user.domainId), [0, 1]);

    // Deleting from Junk (to Trash) is no judgement.
    await client.mailboxOpen('INBOX');
    const other = (await client.search({ subject: 'Weekly deals 2' }, { uid: true })) as number[];
    await client.messageMove(other, 'Junk', { uid: true });
    await settled();
    await client.mailboxOpen('Junk');
    const again = (await client.search({ subject: 'Weekly deals 2' }, { uid: true })) as number[];
    await client.messageMove(again, 'Trash', { uid: true });
    await settled();
    assert.deepEqual(await counted(userScope(user.id)), [before[0] + 1, before[1] + 1], 'the move to Trash changed nothing');
  } finally {
    await client.logout();
  }
});

test('R-S4 IMAP: the same message copied into Junk twice counts once; $Junk and $NotJunk keywords teach too', async () => {
  const user = bob();
  await deliver(user, 'Keyword test');
  const client = imap(user);
  await client.connect();
  try {
    await client.mailboxOpen('INBOX');
    const [uid] = (await client.search({ subject: 'Keyword test' }, { uid: true })) as number[];
    assert.ok(uid);
    await client.messageCopy([uid], 'Junk', { uid: true });
    await client.messageCopy([uid], 'Junk', { uid: true });
    await settled();
    assert.deepEqual(await counted(userScope(user.id)), [1, 0], 'one message, one count');

    await client.messageFlagsAdd([uid], ['$NotJunk'], { uid: true });
    await settled();
    assert.deepEqual(await counted(userScope(user.id)), [0, 1], '$NotJunk moved it to ham');
    await client.messageFlagsAdd([uid], ['$NotJunk'], { uid: true }); // already set: no change
    await client.messageFlagsRemove([uid], ['$NotJunk'], { uid: true });
    await client.messageFlagsAdd([uid], ['$Junk'], { uid: true });
    await settled();
    assert.deepEqual(await counted(userScope(user.id)), [1, 0], '$Junk moved it back to spam');
  } finally {
    await client.logout();
  }
});

test('R-S4 API: a user reports a message as spam then not spam; the admin reports for an account; twice counts once; unknown ids are 404', async () => {
  const user = alice();
  const id = await deliver(user, 'Report me');
  const start = await counted(userScope(user.id));
  const first = await user.client.post(`/api/me/messages/${id}/report`, { as: 'spam' });
  expectStatus(first, 200);
  assert.deepEqual(first.body, { as: 'spam' });
  expectStatus(await user.client.post(`/api/me/messages/${id}/report`, { as: 'spam' }), 200);
  assert.deepEqual(await counted(userScope(user.id)), [start[0] + 1, start[1]], 'reported twice, counted once');
  expectStatus(await user.client.post(`/api/me/messages/${id}/report`, { as: 'ham' }), 200);
  assert.deepEqual(await counted(userScope(user.id)), [start[0], start[1] + 1], 'not spam after all');

  expectProblem(await user.client.post(`/api/me/messages/${id}/report`, { as: 'maybe' }), 400, 'invalid-field', 'as');
  expectProblem(await user.client.post('/api/me/messages/msg_nothing/report', { as: 'spam' }), 404, 'message-not-found');
  // Another user's message is not theirs to report.
  const bobs = await deliver(bob(), 'Not yours');
  expectProblem(await user.client.post(`/api/me/messages/${bobs}/report`, { as: 'spam' }), 404, 'message-not-found');

  const byAdmin = await acme.admin.post(`/api/accounts/${bob().id}/messages/${bobs}/report`, { as: 'spam' });
  expectStatus(byAdmin, 200);
  const journal = await acme.admin.get('/api/operations?limit=5');
  assert.ok(
    journal.body.items.some((op: { kind: string }) => op.kind === 'filter.report'),
    'the admin report is in the journal',
  );
});

test('R-S4 quarantine release teaches "not spam" by default (API and digest link alike), and not when the user says so', async () => {
  const user = alice();
  const start = await counted(userScope(user.id));
  const held = await holdFor(service, user, { subject: 'Held newsletter', body: 'Your monthly newsletter' });
  const released = await user.client.post(`/api/quarantine/${held.id}/release`, {});
  expectStatus(released, 200);
  assert.equal(released.body.trained, true);
  assert.deepEqual(await counted(userScope(user.id)), [start[0], start[1] + 1]);

  const quiet = await holdFor(service, user, { subject: 'Held and released quietly', body: 'Something else entirely' });
  const noTrain = await user.client.post(`/api/quarantine/${quiet.id}/release`, { trainAsHam: false });
  expectStatus(noTrain, 200);
  assert.equal(noTrain.body.trained, false);
  assert.deepEqual(await counted(userScope(user.id)), [start[0], start[1] + 1], 'nothing learnt');

  // The digest's link releases through the same function: it teaches too.
  const viaLink = await holdFor(service, user, { subject: 'Held for the digest', body: 'A receipt you wanted' });
  const { rows, links } = planDigestLinks(await linkSecret(service.ctx), viaLink.id, service.clock.now() + 86_400_000);
  await service.ctx.db.insertInto('digest_links').values(rows).execute();
  const clicked = await fetch(`${service.url}/api/digest-links/${encodeURIComponent(links.release)}`, {
    method: 'POST',
    headers: { accept: 'application/json' },
  });
  assert.equal(clicked.status, 200, await clicked.text());
  assert.deepEqual(await counted(userScope(user.id)), [start[0], start[1] + 2], 'the digest release taught ham');
});

test('R-S4 a recipient who taught the filter gets their own Bayes verdict: their judgements weigh more for them than for others', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'facteur-corpus-'));
  try {
    // A global model where "gardening" mail is wanted and "casino" mail is spam.
    await mkdir(path.join(dir, 'ham'));
    await mkdir(path.join(dir, 'spam'));
    for (let i = 0; i < 60; i++) {
      await writeFile(
        path.join(dir, 'ham', `${i}.eml`),
        rawMessage({ from: `club${i}@garden.test`, subject: `Gardening club news ${i}`, body: `Tomatoes roses compost seeds pruning meeting ${i}` }),
      );
      await writeFile(
        path.join(dir, 'spam', `${i}.eml`),
        rawMessage({ from: `win${i}@casino.test`, subject: `Casino bonus ${i}`, body: `Jackpot casino bonus spins deposit winner ${i}` }),
      );
    }
    const imported = await facteurJson(service, ['filter', 'train', '--ham', path.join(dir, 'ham'), '--spam', path.join(dir, 'spam'), '--json']);
    assert.equal(imported.scope, 'global');
    // Alice has had enough of the gardening club: she reports ten of its messages as spam.
    const user = alice();
    for (let i = 0; i < 10; i++) {
      const id = await deliver(user, `Gardening club news extra ${i}`, `Tomatoes roses compost seeds pruning meeting extra ${i}`);
      expectStatus(await user.client.post(`/api/me/messages/${id}/report`, { as: 'spam' }), 200);
    }
    const next = rawMessage({ from: 'club99@garden.test', subject: 'Gardening club news 99', body: 'Tomatoes roses compost seeds pruning meeting 99' });
    const input = {
      direction: 'inbound' as const,
      content: () => Readable.from([next]),
      size: next.length,
      metadata: await extractMetadata(Readable.from([next])),
      clientIp: '',
      helo: '',
      mailFrom: 'club99@garden.test',
      recipients: [user.address],
      domainIds: [user.domainId],
    };
    const shared = verdictOf(0);
    const forAlice = await personalVerdict(service.ctx, input, shared, { accountId: user.id, domainId: user.domainId });
    const forCarol = await personalVerdict(service.ctx, input, shared, { accountId: carol().id, domainId: carol().domainId });
    const bayesOf = (v: typeof shared) => v.symbols.find((s) => s.source === 'bayes');
    assert.equal(forCarol, shared, 'Carol taught nothing: the shared verdict stands');
    assert.equal(bayesOf(forAlice)?.name, 'BAYES_SPAM', `for Alice it is spam now: ${JSON.stringify(forAlice.symbols)}`);
    assert.ok(forAlice.score > shared.score);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('R-S4 corpus import: mbox, maildir and a folder of .eml files; importing again counts nothing twice; stats say what each scope learnt', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'facteur-corpus-'));
  try {
    const mbox = path.join(dir, 'spam.mbox');
    const messages = [0, 1, 2].map((i) =>
      rawMessage({ subject: `Mbox spam ${i}`, body: `From the mbox ${i}\r\nFrom here on, escaped` })
        .toString('latin1')
        .replaceAll('\r\n', '\n'),
    );
    await writeFile(mbox, messages.map((m) => `From spammer@junk.test Thu Nov 26 09:00:00 2026\n${m.replace(/^(>*From )/gm, '>$1')}\n`).join(''));
    const maildir = path.join(dir, 'Maildir');
    for (const sub of ['cur', 'new', 'tmp']) await mkdir(path.join(maildir, sub), { recursive: true });
    await writeFile(path.join(maildir, 'cur', '1.host:2,S'), rawMessage({ subject: 'Maildir ham 1', from: 'friend@ok.test', body: 'See you tomorrow' }));
    await writeFile(path.join(maildir, 'new', '2.host'), rawMessage({ subject: 'Maildir ham 2', from: 'friend@ok.test', body: 'Lunch?' }));
    const domain = 'acme.test';
    const first = await facteurJson(service, ['filter', 'train', '--spam', mbox, '--ham', maildir, '--domain', domain, '--json']);
    assert.equal(first.scope, acme.domainId);
    assert.equal(first[`spam:${mbox}`].read, 3);
    assert.equal(first[`spam:${mbox}`].learned, 3);
    assert.equal(first[`ham:${maildir}`].learned, 2);
    const again = await facteurJson(service, ['filter', 'train', '--spam', mbox, '--domain', domain, '--json']);
    assert.equal(again[`spam:${mbox}`].unchanged, 3, 'nothing counted twice');
    // The same mbox imported as ham: its messages move sides.
    const flipped = await facteurJson(service, ['filter', 'train', '--ham', mbox, '--domain', domain, '--json']);
    assert.equal(flipped[`ham:${mbox}`].reversed, 3);
    const stats = await facteurJson(service, ['filter', 'stats', '--json']);
    assert.deepEqual(stats.corpus[acme.domainId], { spam: 0, ham: 5 });
    const scope = stats.scopes.find((s: { scope: string }) => s.scope === acme.domainId);
    assert.ok(scope.ham >= 5 && scope.tokens > 0, JSON.stringify(scope));
    assert.ok(stats.lessons.learned > 0 && stats.lessons.bySource.report > 0, JSON.stringify(stats.lessons));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
