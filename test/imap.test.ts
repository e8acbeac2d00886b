/**
 * IMAP conversations (issue 4, SPEC R-M3): tagged requests against the running service and the
 * responses RFC 3501 and its extensions prescribe, over a raw socket.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { deliverMessage, receiveMessage } from '../src/mailstore/index.ts';
import { setupMailAccount } from './helpers/client.ts';
import { RawImap } from './helpers/imap.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'imap.test';
const USER = `user@${DOMAIN}`;
const PASSWORD = 'user-password-1';
let service: TestService;
let accountId: string;
let port: number;

/** RFC 3501 §6.4.5's example message shape: a multipart with a text part and an attachment. */
function sampleMessage(n: number): string {
  return [
    `From: Sender ${n} <sender${n}@example.test>`,
    `To: ${USER}`,
    `Subject: Message ${n}`,
    `Date: Thu, 26 Nov 2026 10:0${n % 10}:00 +0000`,
    `Message-ID: <m${n}@example.test>`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b"',
    '',
    '--b',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Hello number ${n}, café`,
    '--b',
    'Content-Type: application/octet-stream; name="a.bin"',
    'Content-Transfer-Encoding: base64',
    '',
    'AAECAw==',
    '--b--',
    '',
  ].join('\r\n');
}

async function deliver(raw: string, flags: string[] = []): Promise<number> {
  const message = await receiveMessage(service.ctx, Readable.from([Buffer.from(raw)]), { maxBytes: 1 << 20 });
  const [result] = await deliverMessage(service.ctx, message, [{ accountId, flags }]);
  assert.ok(result?.ok);
  return result.uid;
}

async function loggedIn(): Promise<RawImap> {
  const imap = await RawImap.open(port);
  const reply = await imap.command(`LOGIN ${USER} ${PASSWORD}`);
  assert.match(reply.tagged, /^a\d+ OK /);
  return imap;
}

before(async () => {
  service = await startTestService({
    overrides: { roles: ['web', 'imap'], ports: { http: 0, imap: 0, imaps: 0 }, mailAccess: { allowPlaintextOnLoopback: true } },
  });
  port = service.imapPort as number;
  ({ accountId } = await setupMailAccount(service, 'Imap', { address: USER, password: PASSWORD }, { standard: 2 }));
  for (let n = 1; n <= 3; n++) await deliver(sampleMessage(n));
});
after(() => service.close());

describe('not authenticated state', () => {
  test('RFC 3501 §7.1.1 greeting and §6.1.1 CAPABILITY before login', async () => {
    const imap = await RawImap.open(port);
    const reply = await imap.command('CAPABILITY');
    assert.match(reply.lines[0] ?? '', /^\* CAPABILITY IMAP4rev1 .*STARTTLS.*AUTH=PLAIN/);
    assert.match(reply.tagged, /^a1 OK /);
    imap.close();
  });

  test('RFC 3501 §6.2.3 LOGIN with a wrong password gets NO [AUTHENTICATIONFAILED]', async () => {
    const imap = await RawImap.open(port);
    const reply = await imap.command(`LOGIN ${USER} wrong-password`);
    assert.equal(reply.tagged, 'a1 NO [AUTHENTICATIONFAILED] Invalid credentials');
    const unknown = await imap.command('LOGIN nobody@imap.test wrong-password');
    assert.equal(unknown.tagged, 'a2 NO [AUTHENTICATIONFAILED] Invalid credentials', 'no user enumeration');
    imap.close();
  });

  test('RFC 3501 §6.1.3 LOGOUT says BYE then OK', async () => {
    const imap = await RawImap.open(port);
    const reply = await imap.command('LOGOUT');
    assert.deepEqual(reply.lines, ['* BYE Facteur logging out']);
    assert.equal(reply.tagged, 'a1 OK LOGOUT completed');
  });

  test('RFC 3501 §6.2 commands of the authenticated state are refused before login', async () => {
    const imap = await RawImap.open(port);
    const reply = await imap.command('SELECT INBOX');
    assert.match(reply.tagged, /^a1 BAD /);
    imap.close();
  });
});

describe('authenticated and selected states', () => {
  test('RFC 3501 §6.3.1 SELECT INBOX reports flags, counts, UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ', async () => {
    const imap = await loggedIn();
    const reply = await imap.command('SELECT INBOX');
    assert.equal(reply.lines[0], '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)');
    assert.ok(reply.lines.includes('* 3 EXISTS'));
    assert.ok(reply.lines.includes('* OK [UNSEEN 1] First unseen message'));
    assert.ok(reply.lines.some((l) => /^\* OK \[UIDVALIDITY \d+\]/.test(l)));
    assert.ok(reply.lines.includes('* OK [UIDNEXT 4] Predicted next UID'));
    assert.ok(reply.lines.some((l) => /^\* OK \[HIGHESTMODSEQ \d+\]/.test(l)));
    assert.equal(reply.tagged, 'a2 OK [READ-WRITE] SELECT completed');
    imap.close();
  });

  test('RFC 3501 §6.4.5 FETCH FLAGS, UID, RFC822.SIZE, ENVELOPE and BODYSTRUCTURE', async () => {
    const imap = await loggedIn();
    await imap.command('EXAMINE INBOX');
    const reply = await imap.command('FETCH 1 (UID FLAGS RFC822.SIZE ENVELOPE BODYSTRUCTURE)');
    const line = reply.lines[0] ?? '';
    assert.match(
      line,
      /^\* 1 FETCH \(UID 1 FLAGS \(\) RFC822\.SIZE \d+ ENVELOPE \("Thu, 26 Nov 2026 10:01:00 \+0000" "Message 1" \(\("Sender 1" NIL "sender1" "example\.test"\)\)/,
    );
    assert.match(
      line,
      /BODYSTRUCTURE \(\("text" "plain" \("charset" "utf-8"\) NIL NIL "7bit" \d+ 1 NIL NIL NIL NIL\)\("application" "octet-stream" \("name" "a\.bin"\) NIL NIL "base64" 8 NIL NIL NIL NIL\) "mixed" \("boundary" "b"\) NIL NIL NIL\)\)$/,
    );
    assert.equal(reply.tagged, 'a3 OK FETCH completed');
    imap.close();
  });

  test('RFC 3501 §6.4.5 BODY[section] and partial fetch stream the right bytes; BODY.PEEK leaves \\Seen unset', async () => {
    const imap = await loggedIn();
    await imap.command('SELECT INBOX');
    const text = await imap.command('FETCH 2 (BODY.PEEK[1])');
    const body = Buffer.from('Hello number 2, café');
    assert.equal(text.lines[0], `* 2 FETCH (BODY[1] {${body.length}}\r\n${body.toString('latin1')})`);
    const header = await imap.command('FETCH 2 (BODY.PEEK[HEADER.FIELDS (Subject From)])');
    assert.equal(header.lines[0], '* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT FROM)] {61}\r\nFrom: Sender 2 <sender2@example.test>\r\nSubject: Message 2\r\n\r\n)');
    const partial = await imap.command('FETCH 2 (BODY.PEEK[1]<6.6>)');
    assert.equal(partial.lines[0], '* 2 FETCH (BODY[1]<6> {6}\r\nnumber)');
    const flags = await imap.command('FETCH 2 FLAGS');
    assert.equal(flags.lines[0], '* 2 FETCH (FLAGS ())');
    const read = await imap.command('FETCH 2 BODY[TEXT]');
    assert.match(read.lines[0] ?? '', /FLAGS \(\\Seen\)/);
    imap.close();
  });

  test('RFC 3501 §6.4.6 STORE, §6.4.3 EXPUNGE and RFC 4315 UID EXPUNGE', async () => {
    const uid = await deliver(sampleMessage(4));
    const imap = await loggedIn();
    await imap.command('SELECT INBOX');
    const stored = await imap.command(`UID STORE ${uid} +FLAGS (\\Deleted)`);
    // Delivered before this session selected INBOX, and seen by no session before: recent here (§2.3.2).
    assert.match(stored.lines[0] ?? '', new RegExp(`^\\* \\d+ FETCH \\(UID ${uid} FLAGS \\(\\\\Deleted \\\\Recent\\)\\)$`));
    const expunged = await imap.command(`UID EXPUNGE ${uid}`);
    assert.deepEqual(expunged.lines, ['* 4 EXPUNGE']);
    assert.equal(expunged.tagged, 'a4 OK EXPUNGE completed');
    imap.close();
  });

  test('RFC 3501 §6.3.11 APPEND with a literal, RFC 4315 APPENDUID, and §6.4.4 SEARCH', async () => {
    const imap = await loggedIn();
    const raw = 'From: me@imap.test\r\nSubject: appended draft\r\n\r\nhello\r\n';
    imap.send(`a2 APPEND Drafts (\\Draft) {${raw.length}}\r\n`);
    assert.equal(await imap.line(), '+ Ready for literal data');
    imap.send(`${raw}\r\n`);
    const appended = await imap.until('a2');
    assert.match(appended.tagged, /^a2 OK \[APPENDUID \d+ 1\] APPEND completed$/);
    await imap.command('SELECT Drafts');
    const search = await imap.command('SEARCH SUBJECT "appended" DRAFT');
    assert.deepEqual(search.lines, ['* SEARCH 1']);
    const none = await imap.command('SEARCH BODY "absent words"');
    assert.deepEqual(none.lines, ['* SEARCH']);
    const body = await imap.command('UID SEARCH RETURN (COUNT MIN) BODY hello');
    assert.match(body.lines[0] ?? '', /^\* ESEARCH \(TAG "a\d+"\) UID MIN 1 COUNT 1$/);
    assert.equal(body.lines.length, 1);
    imap.close();
  });

  test('RFC 3501 §6.3.8 LIST with SPECIAL-USE and CHILDREN attributes; §6.3.10 STATUS', async () => {
    const imap = await loggedIn();
    const list = await imap.command('LIST "" "*"');
    assert.ok(list.lines.includes('* LIST (\\HasNoChildren) "/" "INBOX"'));
    assert.ok(list.lines.includes('* LIST (\\HasNoChildren \\Sent) "/" "Sent"'));
    const status = await imap.command('STATUS INBOX (MESSAGES UNSEEN UIDNEXT)');
    assert.match(status.lines[0] ?? '', /^\* STATUS "INBOX" \(MESSAGES \d+ UNSEEN \d+ UIDNEXT \d+\)$/);
    imap.close();
  });
});

describe('TLS and authentication', () => {
  test('RFC 3501 §6.2.1 STARTTLS, then LOGIN over TLS; pipelined bytes after STARTTLS are discarded', async () => {
    const imap = await RawImap.open(port);
    // The LOGIN pipelined with STARTTLS must not run after the upgrade (no command injection).
    imap.send(`a1 STARTTLS\r\na2 LOGIN ${USER} ${PASSWORD}\r\n`);
    const started = await imap.until('a1');
    assert.equal(started.tagged, 'a1 OK Begin TLS negotiation now');
    await imap.startTls(service.tlsCert);
    const caps = await imap.command('CAPABILITY', 'b1');
    assert.ok(!caps.lines[0]?.includes('STARTTLS'));
    const selected = await imap.command('SELECT INBOX', 'b2');
    assert.match(selected.tagged, /^b2 BAD /, 'the pipelined LOGIN did not log the session in');
    const login = await imap.command(`LOGIN ${USER} ${PASSWORD}`, 'b3');
    assert.match(login.tagged, /^b3 OK \[CAPABILITY /);
    imap.close();
  });

  test('RFC 8314 IMAPS with implicit TLS; RFC 4959 AUTHENTICATE PLAIN with an initial response', async () => {
    const imap = await RawImap.open(service.imapsPort as number, { tls: { ca: service.tlsCert } });
    const ir = Buffer.from(`\u0000${USER}\u0000${PASSWORD}`).toString('base64');
    const reply = await imap.command(`AUTHENTICATE PLAIN ${ir}`);
    assert.match(reply.tagged, /^a1 OK \[CAPABILITY IMAP4rev1 /);
    imap.close();
  });

  test('RFC 3501 §6.2.2 AUTHENTICATE PLAIN with a continuation, and cancelled with *', async () => {
    const imap = await RawImap.open(port);
    imap.send('a1 AUTHENTICATE PLAIN\r\n');
    assert.equal(await imap.line(), '+ ');
    imap.send('*\r\n');
    assert.equal((await imap.until('a1')).tagged, 'a1 BAD Authentication cancelled');
    imap.send('a2 AUTHENTICATE PLAIN\r\n');
    assert.equal(await imap.line(), '+ ');
    imap.send(`${Buffer.from(`\u0000${USER}\u0000${PASSWORD}`).toString('base64')}\r\n`);
    assert.match((await imap.until('a2')).tagged, /^a2 OK /);
    imap.close();
  });
});

describe('two sessions on one folder', () => {
  test('RFC 2177 IDLE wakes on a new message and on a flag change made by another session', async () => {
    const watcher = await loggedIn();
    await watcher.command('SELECT INBOX');
    watcher.send('w1 IDLE\r\n');
    assert.equal(await watcher.line(), '+ idling');
    const uid = await deliver(sampleMessage(7));
    const exists = await watcher.line();
    assert.match(exists, /^\* \d+ EXISTS$/);
    assert.equal(await watcher.line(), '* 1 RECENT', 'RFC 3501 §7.3.2: RECENT with the new count; the watcher is told first');
    const count = Number(/\* (\d+) EXISTS/.exec(exists)?.[1]);
    const other = await loggedIn();
    await other.command('SELECT INBOX');
    await other.command(`UID STORE ${uid} +FLAGS (\\Flagged)`);
    assert.equal(await watcher.line(), `* ${count} FETCH (UID ${uid} FLAGS (\\Flagged \\Recent))`);
    watcher.send('DONE\r\n');
    assert.equal((await watcher.until('w1')).tagged, 'w1 OK IDLE terminated');
    watcher.close();
    other.close();
  });

  test('RFC 3501 §7.4.1 no EXPUNGE during FETCH: it waits for a command that allows it', async () => {
    const uid = await deliver(sampleMessage(8));
    const first = await loggedIn();
    await first.command('SELECT INBOX');
    const second = await loggedIn();
    await second.command('SELECT INBOX');
    await second.command(`UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`);
    await second.command('EXPUNGE');
    const fetched = await first.command('FETCH 1 FLAGS');
    assert.ok(!fetched.lines.some((l) => l.endsWith('EXPUNGE')), 'no EXPUNGE during FETCH');
    const noop = await first.command('NOOP');
    assert.ok(
      noop.lines.some((l) => /^\* \d+ EXPUNGE$/.test(l)),
      'NOOP reports the expunge',
    );
    first.close();
    second.close();
  });
});
