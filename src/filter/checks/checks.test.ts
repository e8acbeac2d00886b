/** The built-in checks that need neither DNS nor a database: GTUBE, authentication, heuristics. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authCheck } from './auth.ts';
import { GTUBE_SCORE, gtubeCheck } from './gtube.ts';
import { heuristicsCheck } from './heuristics.ts';
import { GTUBE } from './message.ts';
import { BASIC_HEADERS, input, rawMessage, testContext } from './test-support.ts';

const names = (symbols: Array<{ name: string }>) => symbols.map((s) => s.name).sort();

describe('gtube (R-S1)', () => {
  const check = gtubeCheck();
  it('scores GTUBE in a plain body, with reasons in both languages', async () => {
    const result = await check.run(await input(rawMessage(BASIC_HEADERS, `Hello\n${GTUBE}\n`)));
    assert.deepEqual(
      result.symbols.map((s) => [s.name, s.score, s.source]),
      [['GTUBE', GTUBE_SCORE, 'gtube']],
    );
    assert.ok(result.symbols[0]?.reason.en && result.symbols[0]?.reason.fr);
  });

  it('finds GTUBE in a base64 text part and across chunk boundaries', async () => {
    const encoded = Buffer.from(`Text ${GTUBE} end`).toString('base64');
    const raw = rawMessage([...BASIC_HEADERS, 'Content-Type: text/plain', 'Content-Transfer-Encoding: base64'], encoded);
    assert.equal((await check.run(await input(raw))).symbols.length, 1);
    const padded = rawMessage(BASIC_HEADERS, `${'x'.repeat(64 * 1024 - 30)}${GTUBE}`);
    assert.equal((await check.run(await input(padded))).symbols.length, 1);
  });

  it('passes ordinary mail', async () => {
    assert.deepEqual((await check.run(await input(rawMessage(BASIC_HEADERS, 'Hello Bob')))).symbols, []);
  });
});

describe('auth (R-S1): SPF, DKIM, DMARC from the MX', () => {
  const check = authCheck();
  const auth = (spf: string, dkim: string[], dmarc: string, dmarcPolicy?: string) => ({ spf, dkim, dmarc, dmarcPolicy, arc: 'none' });

  it('scores failures', async () => {
    const result = await check.run(await input(rawMessage(BASIC_HEADERS, 'x'), { auth: auth('fail', ['fail (example.org)'], 'fail', 'none') }));
    assert.deepEqual(names(result.symbols), ['DKIM_FAIL', 'DMARC_FAIL', 'SPF_FAIL']);
    assert.ok(result.symbols.every((s) => s.score > 0 && s.source === 'auth'));
  });

  it('honours a DMARC reject policy with a score above any threshold', async () => {
    const result = await check.run(await input(rawMessage(BASIC_HEADERS, 'x'), { auth: auth('softfail', [], 'fail', 'reject') }));
    assert.deepEqual(names(result.symbols), ['DMARC_POLICY_REJECT', 'NO_DKIM', 'SPF_SOFTFAIL']);
    assert.ok((result.symbols.find((s) => s.name === 'DMARC_POLICY_REJECT')?.score ?? 0) >= 100);
  });

  it('rewards a DMARC pass, and says nothing of outbound mail', async () => {
    const good = await check.run(await input(rawMessage(BASIC_HEADERS, 'x'), { auth: auth('pass', ['pass (example.org)'], 'pass') }));
    assert.deepEqual(names(good.symbols), ['DMARC_PASS']);
    const outbound = await check.run(await input(rawMessage(BASIC_HEADERS, 'x'), { direction: 'outbound' }));
    assert.deepEqual(outbound.symbols, []);
  });
});

describe('heuristics (R-S1)', () => {
  const check = heuristicsCheck(testContext());
  const run = async (raw: Buffer) => names((await check.run(await input(raw))).symbols);

  it('finds nothing wrong with an ordinary message', async () => {
    assert.deepEqual(await run(rawMessage(BASIC_HEADERS, 'Hi Bob,\n\nHere are the minutes of Monday.\n\nAlice')), []);
  });

  it('finds the signs of a phishing message', async () => {
    const html = [
      '<html><body><p>Dear customer, your account has been suspended!!! Verify your account now!!! Act now!!!</p>',
      '<a href="http://evil.example.net/login">https://www.mybank.com/login</a>',
      '<div style="display:none">random words to fool filters</div>',
      '<a href="https://bit.ly/xyz">here</a> You have won $1,000,000</body></html>',
    ].join('\n');
    const raw = rawMessage(
      [
        'From: "security@mybank.com" <noreply@evil.example.net>',
        'To: undisclosed-recipients:;',
        'Reply-To: claims@other.example.com',
        'Subject: URGENT ACCOUNT NOTICE!!!',
        'Date: Thu, 26 Nov 2026 09:00:00 +0000',
        'MIME-Version: 1.0',
        'Content-Type: text/html; charset=utf-8',
      ],
      html,
    );
    const found = await run(raw);
    for (const name of [
      'MISSING_MESSAGE_ID',
      'FROM_NAME_OTHER_ADDRESS',
      'SUBJECT_ALL_CAPS',
      'SUBJECT_EXCLAMATIONS',
      'BODY_EXCLAMATIONS',
      'HTML_ONLY',
      'HTML_HIDDEN_TEXT',
      'URL_SHORTENER',
      'LINK_TEXT_MISMATCH',
      'SUSPICIOUS_PHRASES',
      'MONEY_AMOUNT',
      'REPLY_TO_OTHER_DOMAIN',
      'TO_UNDISCLOSED',
    ])
      assert.ok(found.includes(name), `${name} in ${found.join(' ')}`);
  });

  it('recognises French scam phrases', async () => {
    const found = await run(rawMessage(BASIC_HEADERS, 'Bonjour, vous avez gagné ! Réclamez votre prix : vérifiez votre compte ici.'));
    assert.ok(found.includes('SUSPICIOUS_PHRASES'));
  });

  it('checks dates against the clock', async () => {
    const future = rawMessage([...BASIC_HEADERS.filter((h) => !h.startsWith('Date')), 'Date: Mon, 1 Jan 2035 00:00:00 +0000'], 'x');
    assert.deepEqual(await run(future), ['DATE_IN_FUTURE']);
    const old = rawMessage([...BASIC_HEADERS.filter((h) => !h.startsWith('Date')), 'Date: Mon, 1 Jan 2001 00:00:00 +0000'], 'x');
    assert.deepEqual(await run(old), ['DATE_TOO_OLD']);
    const none = rawMessage(
      BASIC_HEADERS.filter((h) => !h.startsWith('Date')),
      'x',
    );
    assert.deepEqual(await run(none), ['MISSING_DATE']);
  });

  it('flags needless and broken base64', async () => {
    const needless = rawMessage(
      [...BASIC_HEADERS, 'Content-Type: text/plain', 'Content-Transfer-Encoding: base64'],
      Buffer.from('plain ascii text').toString('base64'),
    );
    assert.deepEqual(await run(needless), ['BASE64_TEXT']);
    const broken = rawMessage(
      [...BASIC_HEADERS, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64'],
      'w6l0w6k=!!!*** not base64 at all',
    );
    assert.ok((await run(broken)).includes('BROKEN_ENCODING'));
  });
});
