/**
 * IMAP bad input (issue 4): each case gets BAD or NO as RFC 3501 §7.1 says, and the session (or a
 * new one) still works afterwards. STARTTLS with pipelined commands is in imap.test.ts.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { deliverMessage, receiveMessage } from '../src/mailstore/index.ts';
import { setupMailAccount } from './helpers/client.ts';
import { RawImap } from './helpers/imap.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'imapbad.test';
const USER = `user@${DOMAIN}`;
const PASSWORD = 'user-password-1';
let service: TestService;
let port: number;
let accountId: string;

function message(n: number, body = `Body of message ${n}`): string {
  return [`From: sender${n}@example.test`, `To: ${USER}`, `Subject: Message ${n}`, `Message-ID: <b${n}@example.test>`, '', body, ''].join('\r\n');
}

async function deliver(raw: string): Promise<void> {
  const received = await receiveMessage(service.ctx, Readable.from([Buffer.from(raw)]), { maxBytes: 64 << 20 });
  const [result] = await deliverMessage(service.ctx, received, [{ accountId }]);
  assert.ok(result?.ok);
}

async function loggedIn(): Promise<RawImap> {
  const imap = await RawImap.open(port);
  assert.match((await imap.command(`LOGIN ${USER} ${PASSWORD}`)).tagged, /^a\d+ OK /);
  return imap;
}

/** The session still answers an ordinary command. */
async function stillWorks(imap: RawImap, tag = 'ok1'): Promise<void> {
  assert.equal((await imap.command('NOOP', tag)).tagged, `${tag} OK NOOP completed`);
}

before(async () => {
  service = await startTestService({
    overrides: { roles: ['web', 'imap'], ports: { http: 0, imap: 0, imaps: 0 }, mailAccess: { allowPlaintextOnLoopback: true } },
  });
  port = service.imapPort as number;
  ({ accountId } = await setupMailAccount(service, 'ImapBad', { address: USER, password: PASSWORD }, { standard: 2 }));
  for (let n = 1; n <= 3; n++) await deliver(message(n));
});
after(() => service.close());

describe('RFC 3501 §7.1.3 syntax errors get BAD and the session goes on', () => {
  test('an overlong command line is refused with BAD, the rest of the line skipped', async () => {
    const imap = await loggedIn();
    imap.send(`a2 SEARCH ${'SUBJECT x '.repeat(8000)}\r\n`);
    const reply = await imap.line();
    assert.match(reply, /^(a2|\*) BAD /);
    await stillWorks(imap);
    imap.close();
  });

  test('RFC 7889 / RFC 4469 APPEND announcing {99999999}: NO [TOOBIG] before any continuation', async () => {
    const imap = await loggedIn();
    imap.send('a2 APPEND INBOX {99999999}\r\n');
    const reply = await imap.line();
    assert.match(reply, /^a2 NO \[TOOBIG\] /, 'no "+" continuation: the client must not send the bytes');
    await stillWorks(imap);
    imap.close();
  });

  test('RFC 7888 §4 a non-synchronizing literal over the limit ({70000+} on SEARCH, logged in): BAD [TOOBIG], its bytes skipped', async () => {
    const imap = await loggedIn();
    await imap.command('SELECT INBOX');
    imap.send(`a3 SEARCH SUBJECT {70000+}\r\n${'x'.repeat(70000)} ALL\r\n`);
    assert.match(await imap.line(), /^a3 BAD \[TOOBIG\] /);
    await stillWorks(imap, 'a4');
    imap.close();
  });

  test('RFC 7888 §4 before login, a non-synchronizing literal over 8 KiB ({70000+} on LOGIN): BAD [TOOBIG], then BYE without reading it', async () => {
    const imap = await RawImap.open(port);
    imap.send(`a1 LOGIN {70000+}\r\n${'x'.repeat(70000)} password\r\n`);
    assert.match(await imap.line(), /^a1 BAD \[TOOBIG\] /);
    assert.match(await imap.line(), /^\* BYE /);
    imap.close();
  });

  test('RFC 4469 §4 / RFC 7888 §4 a synchronizing literal over the limit ({70000} on LOGIN): NO [TOOBIG] without a continuation', async () => {
    const imap = await RawImap.open(port);
    imap.send('a1 LOGIN {70000}\r\n');
    assert.match(await imap.line(), /^a1 NO \[TOOBIG\] /);
    await stillWorks(imap);
    imap.close();
  });

  test('unbalanced parentheses, 8-bit bytes in atoms, NUL, an empty line, a missing tag', async () => {
    const imap = await loggedIn();
    await imap.command('SELECT INBOX');
    assert.match((await imap.command('FETCH 1 (FLAGS UID')).tagged, /^a3 BAD /);
    assert.match((await imap.command('FETCH 1 FLAGS)')).tagged, /^a4 BAD /);
    assert.match((await imap.command('FETCH 1 ((FLAGS)')).tagged, /^a5 BAD /);
    imap.send(Buffer.concat([Buffer.from('a6 STATUS caf'), Buffer.from([0xe9]), Buffer.from(' (MESSAGES)\r\n')]));
    assert.match((await imap.until('a6')).tagged, /^a6 BAD /);
    imap.send(Buffer.from('a7 NOOP\u0000\r\n'));
    assert.match((await imap.until('a7')).tagged, /^a7 BAD /);
    imap.send('\r\n');
    assert.match(await imap.line(), /^\* BAD /);
    imap.send('NOOP\r\n');
    assert.match(await imap.line(), /^(\*|NOOP) BAD /);
    await stillWorks(imap);
    imap.close();
  });

  test('RFC 3501 §9 invalid sequence sets: 0, 1:x, a number beyond EXISTS; UID sets beyond the last UID are not errors', async () => {
    const imap = await loggedIn();
    await imap.command('SELECT INBOX');
    assert.match((await imap.command('FETCH 0 FLAGS')).tagged, /^a3 BAD /);
    assert.match((await imap.command('FETCH 1:x FLAGS')).tagged, /^a4 BAD /);
    assert.match((await imap.command('FETCH 99 FLAGS')).tagged, /^a5 BAD /);
    assert.match((await imap.command('STORE 4:99 +FLAGS (\\Seen)')).tagged, /^a6 BAD /);
    assert.match((await imap.command('COPY ,1 Trash')).tagged, /^a7 BAD /);
    assert.match((await imap.command('SEARCH 0')).tagged, /^a8 BAD /);
    const uid = await imap.command('UID FETCH 99:100 FLAGS');
    assert.deepEqual(uid.lines, []);
    assert.equal(uid.tagged, 'a9 OK FETCH completed');
    await stillWorks(imap);
    imap.close();
  });

  test('RFC 3501 §6 commands in the wrong state, unknown commands, UID with a non-UID command', async () => {
    const imap = await RawImap.open(port);
    assert.match((await imap.command('FETCH 1 FLAGS')).tagged, /^a1 BAD /);
    assert.match((await imap.command('LIST "" "*"')).tagged, /^a2 BAD /);
    assert.match((await imap.command('XYZZY')).tagged, /^a3 BAD /);
    assert.match((await imap.command(`LOGIN ${USER} ${PASSWORD}`)).tagged, /^a4 OK /);
    assert.match((await imap.command(`LOGIN ${USER} ${PASSWORD}`)).tagged, /^a5 BAD /, 'LOGIN only before authentication');
    assert.match((await imap.command('STARTTLS')).tagged, /^a6 BAD /);
    assert.match((await imap.command('AUTHENTICATE PLAIN')).tagged, /^a7 BAD /);
    assert.match((await imap.command('EXPUNGE')).tagged, /^a8 BAD /, 'no folder selected');
    assert.match((await imap.command('UID FETCH 1 FLAGS')).tagged, /^a9 BAD /);
    await imap.command('SELECT INBOX');
    assert.match((await imap.command('UID SELECT INBOX')).tagged, /^a11 BAD /);
    assert.match((await imap.command('UID NOOP')).tagged, /^a12 BAD /);
    assert.match((await imap.command('UID')).tagged, /^a13 BAD /);
    assert.match((await imap.command('FETCH')).tagged, /^a14 BAD /);
    assert.match((await imap.command('SELECT')).tagged, /^a15 BAD /);
    assert.match((await imap.command('NOOP extra')).tagged, /^a16 BAD /);
    await stillWorks(imap);
    imap.close();
  });

  test('20 bad commands in a row: BYE and the connection closes; a new session works', async () => {
    const imap = await RawImap.open(port);
    for (let i = 1; i < 20; i++) assert.match((await imap.command('XYZZY')).tagged, /^a\d+ BAD /);
    imap.send('a20 XYZZY\r\n');
    assert.match(await imap.line(), /^a20 BAD /);
    assert.match(await imap.line(), /^\* BYE /);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(imap.closed);
    const fresh = await loggedIn();
    await stillWorks(fresh);
    fresh.close();
  });

  test('good commands reset the count of bad ones', async () => {
    const imap = await RawImap.open(port);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 15; i++) await imap.command('XYZZY');
      await stillWorks(imap, `ok${round}`);
    }
    assert.ok(!imap.closed);
    imap.close();
  });
});

describe('backpressure: a client that never reads its responses', () => {
  test('FETCH 1:* BODY[] sent again and again without reading: memory stays bounded, other sessions are served', async () => {
    const big = message(99, `${'0123456789abcdef'.repeat(64)}\r\n`.repeat(4 * 1024)); // about 4 MB
    await deliver(big);
    await deliver(big);
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.pause(); // nothing is read from now on
    const rssBefore = process.memoryUsage().rss;
    socket.write(`a1 LOGIN ${USER} ${PASSWORD}\r\na2 SELECT INBOX\r\n`);
    for (let i = 0; i < 40; i++) socket.write(`f${i} FETCH 1:* BODY.PEEK[]\r\n`); // 40 × 8 MB asked for
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const other = await loggedIn();
    const started = Date.now();
    await other.command('SELECT INBOX');
    const fetched = await other.command('FETCH 1 (UID RFC822.SIZE)');
    assert.match(fetched.lines[0] ?? '', /^\* 1 FETCH \(UID 1 RFC822\.SIZE \d+\)$/);
    assert.ok(Date.now() - started < 5000, 'another session is served while the first is stuck');
    global.gc?.();
    const grown = process.memoryUsage().rss - rssBefore;
    assert.ok(grown < 150 * 1024 * 1024, `RSS grew by ${Math.round(grown / 1048576)} MB for 320 MB of responses`);
    socket.destroy();
    other.close();
  });
});

describe('RFC 3501 §5.4 inactivity: one sweep for every connection, no timer per socket', () => {
  let short: TestService;
  before(async () => {
    short = await startTestService({
      overrides: { roles: ['imap'], ports: { imap: 0, imaps: 0 }, mailAccess: { allowPlaintextOnLoopback: true, loginTimeoutSeconds: 2 } },
    });
  });
  after(() => short.close());

  test('a client that never logs in gets BYE and is disconnected after mailAccess.loginTimeoutSeconds', async () => {
    const opened = Date.now(); // before the server's connection exists: its limit counts from later
    const silent = await RawImap.open(short.imapPort as number);
    const bye = silent.line(10_000).then((line) => ({ line, at: Date.now() }));
    const talking = await RawImap.open(short.imapPort as number);
    // The talking client sends a command every 300 ms: its input keeps it connected past the limit.
    for (let i = 0; i < 12; i++) {
      assert.match((await talking.command('NOOP')).tagged, /^a\d+ OK /);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const { line, at } = await bye;
    assert.match(line, /^\* BYE Autologout/);
    assert.ok(at - opened >= 2000, `not before the limit (${at - opened} ms)`);
    for (let i = 0; i < 40 && !silent.closed; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(silent.closed, 'the silent connection was closed');
    assert.ok(!talking.closed, 'the active connection stays');
    talking.close();
  });
});
