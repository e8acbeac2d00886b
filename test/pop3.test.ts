/**
 * POP3 (issue 4, R-M3) as clients see it: raw conversations written against RFC 1939 (with its
 * examples' response texts), RFC 2449 CAPA and response codes, RFC 2595 STLS, RFC 5034 SASL PLAIN;
 * the maildrop lock, durable deletion, streaming of a large message with bounded buffers, and
 * Python's poplib as a real client. Runs on SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connect as connectTcp, type Socket } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { connect as connectTls, TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { deliverMessage, loadMailboxIndex, mailboxByRole, receiveMessage } from '../src/mailstore/index.ts';
import { type Pop3Listeners, startPop3 } from '../src/pop3/index.ts';
import { expectStatus, operatorClient, setupCustomer, waitForOperation } from './helpers/client.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'pop.test';
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'hugo', 'ines', 'jules'] as const;
type User = (typeof USERS)[number];
const password = (user: string) => `${user}-password-1`;
const address = (user: string) => `${user}@${DOMAIN}`;

let service: TestService;
/** A second listener on the same store: plaintext logins refused, short idle timeout, its own stats. */
let strict: Pop3Listeners;
const STRICT_IDLE_MS = 600;
const accountIds = new Map<string, string>();

/** A raw POP3 client: whole lines and whole multi-line responses, exactly as sent. */
class Pop3 {
  private buffer = '';
  private waiter: (() => void) | undefined;
  closed = false;

  constructor(public socket: Socket) {
    this.listen();
  }

  private listen(): void {
    this.socket.setEncoding('latin1');
    this.socket.on('data', (data: string) => {
      this.buffer += data;
      this.waiter?.();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    this.socket.on('error', () => {});
  }

  static async plain(port: number): Promise<Pop3> {
    const socket = connectTcp(port, '127.0.0.1');
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new Pop3(socket);
    assert.equal(await client.line(), '+OK Facteur POP3 server ready');
    return client;
  }

  static async secure(port: number): Promise<Pop3> {
    const socket = connectTls({ port, host: '127.0.0.1', ca: service.tlsCert, servername: 'localhost' });
    await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    const client = new Pop3(socket);
    assert.equal(await client.line(), '+OK Facteur POP3 server ready');
    return client;
  }

  /** RFC 2595 §4: after +OK to STLS, the TLS handshake on the same connection. */
  async startTls(): Promise<void> {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    const secure = connectTls({ socket: this.socket, ca: service.tlsCert, servername: 'localhost' });
    await new Promise((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    this.socket = secure;
    this.buffer = '';
    this.listen();
  }

  private async until(test: () => number): Promise<string> {
    for (;;) {
      const end = test();
      if (end >= 0) {
        const out = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end);
        return out;
      }
      if (this.closed) throw new Error(`connection closed; buffered: ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
      this.waiter = undefined;
    }
  }

  /** One status line without its CRLF. */
  async line(): Promise<string> {
    const raw = await this.until(() => {
      const i = this.buffer.indexOf('\r\n');
      return i < 0 ? -1 : i + 2;
    });
    return raw.slice(0, -2);
  }

  /** A multi-line response, raw, through its terminating ".\r\n". */
  async multiRaw(): Promise<string> {
    return this.until(() => {
      if (this.buffer.startsWith('-ERR')) {
        const i = this.buffer.indexOf('\r\n');
        return i < 0 ? -1 : i + 2;
      }
      if (this.buffer.startsWith('.\r\n')) return 3;
      const i = this.buffer.indexOf('\r\n.\r\n');
      return i < 0 ? -1 : i + 5;
    });
  }

  async multi(command: string): Promise<string[]> {
    this.send(command);
    return (await this.multiRaw()).slice(0, -2).split('\r\n');
  }

  send(command: string): void {
    this.socket.write(`${command}\r\n`);
  }

  async cmd(command: string): Promise<string> {
    this.send(command);
    return this.line();
  }

  async login(user: string): Promise<string> {
    assert.equal(await this.cmd(`USER ${address(user)}`), '+OK Send your password');
    return this.cmd(`PASS ${password(user)}`);
  }

  /** Resolves once the server has closed the connection. */
  async closedByServer(): Promise<void> {
    await this.until(() => -1).catch(() => {});
  }

  destroy(): void {
    this.socket.destroy();
  }
}

async function deliver(user: User, raw: string | Buffer, flags: string[] = []): Promise<number> {
  const bytes = typeof raw === 'string' ? Buffer.from(raw) : raw;
  const message = await receiveMessage(service.ctx, Readable.from([bytes]), { maxBytes: 60 << 20 });
  const [result] = await deliverMessage(service.ctx, message, [{ accountId: accountIds.get(user) as string, flags }]);
  assert.ok(result?.ok);
  return result.uid;
}

async function inboxOf(user: User) {
  const inbox = await mailboxByRole(service.ctx.db, accountIds.get(user) as string, 'inbox');
  assert.ok(inbox);
  return { inbox, index: await loadMailboxIndex(service.ctx.db, inbox.id) };
}

const FIRST = 'From: mrose@dbc.mtview.ca.us\r\nSubject: first\r\n\r\nHello.\r\n.A line starting with a dot\r\n..and two\r\n';
const SECOND = 'From: someone@else.test\r\nSubject: second\r\n\r\nline 1\r\nline 2\r\nline 3\r\n';
const octets = (...messages: string[]) => messages.reduce((n, m) => n + Buffer.byteLength(m), 0);

before(async () => {
  service = await startTestService({
    overrides: {
      roles: ['web', 'mx', 'pop3'],
      ports: { http: 0, mx: 0, pop3: 0, pop3s: 0 },
      mailAccess: { allowPlaintextOnLoopback: true },
    },
  });
  const operator = await operatorClient(service);
  const setup = await setupCustomer(service, operator, 'Pop', { basic: USERS.length });
  const added = await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/domains`, { name: DOMAIN });
  await waitForOperation(setup.admin, added.body.id);
  for (const user of USERS) {
    const created = await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/accounts`, {
      address: address(user),
      classId: 'basic',
      password: password(user),
    });
    expectStatus(created, 201);
    accountIds.set(user, created.body.id);
  }
  for (const user of ['alice', 'bob', 'carol', 'dave', 'frank'] as const) {
    await deliver(user, FIRST);
    await deliver(user, SECOND);
  }
  const key = await readFile(path.join(service.dataDir, 'tls', 'key.pem'), 'utf8');
  const config = { ...service.ctx.config, mailAccess: { ...service.ctx.config.mailAccess, allowPlaintextOnLoopback: false } };
  strict = await startPop3({ ...service.ctx, config }, { key, cert: service.tlsCert }, { idleTimeoutMs: STRICT_IDLE_MS });
});

after(async () => {
  await strict?.close();
  await service?.close();
});

test('RFC 1939 §4 greeting, §7 USER/PASS enter TRANSACTION, §5 STAT', async () => {
  const c = await Pop3.plain(service.pop3Port as number);
  assert.equal(await c.login('alice'), `+OK maildrop has 2 messages (${octets(FIRST, SECOND)} octets)`);
  assert.equal(await c.cmd('STAT'), `+OK 2 ${octets(FIRST, SECOND)}`);
  assert.equal(await c.cmd('NOOP'), '+OK');
  assert.equal(await c.cmd('QUIT'), '+OK Facteur POP3 server signing off (2 messages left)');
  await c.closedByServer();
});

test('RFC 1939 §5 LIST with and without an argument (scan listings in octets)', async () => {
  const c = await Pop3.plain(service.pop3Port as number);
  await c.login('alice');
  assert.deepEqual(await c.multi('LIST'), [`+OK 2 messages (${octets(FIRST, SECOND)} octets)`, `1 ${octets(FIRST)}`, `2 ${octets(SECOND)}`, '.']);
  assert.equal(await c.cmd('LIST 2'), `+OK 2 ${octets(SECOND)}`);
  assert.equal(await c.cmd('LIST 3'), '-ERR No such message, only 2 messages in maildrop');
  await c.cmd('QUIT');
});

test('RFC 1939 §7 UIDL lists a stable id per message, the same in the next session', async () => {
  const { inbox, index } = await inboxOf('alice');
  const ids = index.map((m) => `${inbox.uid_validity}.${m.uid}`);
  const expected = ['+OK', `1 ${ids[0]}`, `2 ${ids[1]}`, '.'];
  for (let session = 0; session < 2; session++) {
    const c = await Pop3.plain(service.pop3Port as number);
    await c.login('alice');
    assert.deepEqual(await c.multi('UIDL'), expected);
    assert.equal(await c.cmd('UIDL 2'), `+OK 2 ${ids[1]}`);
    for (const id of ids) assert.match(id as string, /^[\x21-\x7e]{1,70}$/);
    await c.cmd('QUIT');
  }
});

test('RFC 1939 §5 RETR sends the message byte-stuffed and ended by CRLF.CRLF; sizes are octets as stored', async () => {
  const c = await Pop3.plain(service.pop3Port as number);
  await c.login('alice');
  c.send('RETR 1');
  assert.equal(
    await c.multiRaw(),
    `+OK ${octets(FIRST)} octets\r\nFrom: mrose@dbc.mtview.ca.us\r\nSubject: first\r\n\r\nHello.\r\n..A line starting with a dot\r\n...and two\r\n.\r\n`,
  );
  assert.equal(await c.cmd('RETR 3'), '-ERR No such message, only 2 messages in maildrop');
  await c.cmd('QUIT');
});

test('RFC 1939 §7 TOP sends the header, the blank line and n body lines', async () => {
  const c = await Pop3.plain(service.pop3Port as number);
  await c.login('alice');
  c.send('TOP 2 2');
  assert.equal(await c.multiRaw(), '+OK Top of message follows\r\nFrom: someone@else.test\r\nSubject: second\r\n\r\nline 1\r\nline 2\r\n.\r\n');
  c.send('TOP 2 0');
  assert.equal(await c.multiRaw(), '+OK Top of message follows\r\nFrom: someone@else.test\r\nSubject: second\r\n\r\n.\r\n');
  c.send('TOP 1 100');
  assert.match(await c.multiRaw(), /\r\n\.\.A line starting with a dot\r\n\.\.\.and two\r\n\.\r\n$/);
  assert.equal(await c.cmd('TOP 1 x'), '-ERR Invalid number of lines');
  assert.equal(await c.cmd('TOP 1'), '-ERR Wrong number of arguments for TOP');
  await c.cmd('QUIT');
});

test('RFC 1939 §5 DELE marks, RSET unmarks; §6 QUIT removes the marked messages durably; RETR marks \\Seen', async () => {
  const c = await Pop3.plain(service.pop3Port as number);
  await c.login('bob');
  assert.equal(await c.cmd('DELE 1'), '+OK Message 1 deleted');
  assert.equal(await c.cmd('DELE 1'), '-ERR Message 1 already deleted');
  assert.equal(await c.cmd('RETR 1'), '-ERR Message 1 already deleted');
  assert.equal(await c.cmd('STAT'), `+OK 1 ${octets(SECOND)}`);
  assert.deepEqual(await c.multi('LIST'), [`+OK 1 messages (${octets(SECOND)} octets)`, `2 ${octets(SECOND)}`, '.']);
  assert.equal(await c.cmd('RSET'), `+OK maildrop has 2 messages (${octets(FIRST, SECOND)} octets)`);
  assert.equal(await c.cmd('DELE 1'), '+OK Message 1 deleted');
  await c.multi('RETR 2');
  const before = await inboxOf('bob');
  assert.equal(before.index.length, 2, 'nothing removed before QUIT');
  assert.equal(await c.cmd('QUIT'), '+OK Facteur POP3 server signing off (1 messages left)');
  const after = await inboxOf('bob');
  assert.equal(after.index.length, 1, 'removed when +OK was sent');
  assert.equal(after.index[0]?.uid, before.index[1]?.uid);
  assert.deepEqual(after.index[0]?.flags, ['\\Seen']);
  const again = await Pop3.plain(service.pop3Port as number);
  assert.equal(await again.login('bob'), `+OK maildrop has 1 messages (${octets(SECOND)} octets)`);
  await again.cmd('QUIT');
});

test('RFC 1939 §6 a dropped connection removes nothing', async () => {
  const c = await Pop3.plain(service.pop3Port as number);
  await c.login('carol');
  assert.equal(await c.cmd('DELE 1'), '+OK Message 1 deleted');
  assert.equal(await c.cmd('DELE 2'), '+OK Message 2 deleted');
  c.destroy();
  const d = await Pop3.plain(service.pop3Port as number);
  assert.equal(await d.login('carol'), `+OK maildrop has 2 messages (${octets(FIRST, SECOND)} octets)`);
  assert.equal((await inboxOf('carol')).index.length, 2);
  assert.equal(await d.cmd('QUIT'), '+OK Facteur POP3 server signing off (2 messages left)');
});

test('RFC 1939 §8 and RFC 2449 §8.1.2 a second session gets -ERR [IN-USE] while the first holds the maildrop', async () => {
  const first = await Pop3.plain(service.pop3Port as number);
  await first.login('dave');
  const second = await Pop3.plain(service.pop3Port as number);
  assert.equal(await second.login('dave'), '-ERR [IN-USE] Maildrop already in use by another POP3 session');
  assert.equal(await second.cmd('STAT'), '-ERR STAT is not valid in this state', 'still in AUTHORIZATION');
  const b64 = Buffer.from(`\0${address('dave')}\0${password('dave')}`).toString('base64');
  assert.equal(await second.cmd(`AUTH PLAIN ${b64}`), '-ERR [IN-USE] Maildrop already in use by another POP3 session');
  await first.cmd('QUIT');
  assert.match(await second.login('dave'), /^\+OK maildrop has 2 messages/);
  second.destroy();
  // The lock goes with the connection, QUIT or not.
  const third = await Pop3.plain(service.pop3Port as number);
  for (let i = 0; i < 50; i++) {
    const reply = await third.login('dave');
    if (reply.startsWith('+OK')) break;
    assert.match(reply, /IN-USE/);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(await third.cmd('NOOP'), '+OK');
  await third.cmd('QUIT');
});

test('RFC 3206 [AUTH]: unknown user and wrong password get the same reply; suspended accounts get [SYS/PERM]', async () => {
  const c = await Pop3.plain(service.pop3Port as number);
  assert.equal(await c.cmd('USER nobody@pop.test'), '+OK Send your password');
  const unknown = await c.cmd(`PASS ${password('alice')}`);
  assert.equal(await c.cmd(`USER ${address('erin')}`), '+OK Send your password');
  const wrong = await c.cmd('PASS not-the-password');
  assert.equal(unknown, '-ERR [AUTH] Invalid e-mail address or password');
  assert.equal(wrong, unknown);
  assert.equal(await c.cmd('PASS again'), '-ERR Send USER first', 'RFC 1939 §7: after a failed PASS, USER again');
  await service.ctx.db
    .updateTable('accounts')
    .set({ status: 'suspended' })
    .where('id', '=', accountIds.get('ines') as string)
    .execute();
  assert.equal(await c.login('ines'), '-ERR [SYS/PERM] This account is suspended or disabled: contact support');
  c.destroy();
});

test('RFC 2449 §8.1.1 failed logins are throttled with [LOGIN-DELAY]', async () => {
  const c = await Pop3.plain(service.pop3Port as number);
  let reply = '';
  for (let i = 0; i < 12 && !reply.includes('LOGIN-DELAY'); i++) {
    await c.cmd(`USER ${address('jules')}`);
    reply = await c.cmd('PASS wrong-password');
  }
  assert.equal(reply, '-ERR [LOGIN-DELAY] Too many failed logins: try again later');
  assert.equal(await c.login('jules'), '-ERR [LOGIN-DELAY] Too many failed logins: try again later', 'even with the right password');
  c.destroy();
});

test('RFC 5034 §4 AUTH PLAIN with an initial response, after an empty challenge, and cancelled with "*"', async () => {
  const b64 = (user: string, authzid = '') => Buffer.from(`${authzid}\0${address(user)}\0${password(user)}`).toString('base64');
  const c = await Pop3.plain(service.pop3Port as number);
  assert.deepEqual(await c.multi('AUTH'), ['+OK Supported mechanisms follow', 'PLAIN', '.']);
  assert.equal(await c.cmd('AUTH CRAM-MD5'), '-ERR Unsupported mechanism CRAM-MD5');
  assert.equal(await c.cmd('AUTH PLAIN'), '+ ');
  assert.equal(await c.cmd('*'), '-ERR Authentication cancelled');
  assert.equal(await c.cmd('AUTH PLAIN'), '+ ');
  assert.equal(await c.cmd('not base64!'), '-ERR Invalid base64 in the authentication response');
  assert.equal(await c.cmd(`AUTH PLAIN ${b64('alice', address('bob'))}`), '-ERR [AUTH] Acting as another user is not allowed');
  assert.equal(await c.cmd('AUTH PLAIN'), '+ ');
  assert.match(await c.cmd(b64('alice')), /^\+OK maildrop has 2 messages/);
  assert.equal(await c.cmd('AUTH PLAIN'), '-ERR AUTH is not valid in this state', 'RFC 5034 §4: no AUTH after success');
  await c.cmd('QUIT');
  const d = await Pop3.plain(service.pop3Port as number);
  assert.match(await d.cmd(`AUTH PLAIN ${b64('alice')}`), /^\+OK maildrop has 2 messages/);
  await d.cmd('QUIT');
});

test('RFC 2449 §5 CAPA lists what this session may use', async () => {
  const c = await Pop3.plain(service.pop3Port as number);
  const loopback = ['+OK Capability list follows', 'TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'STLS', 'USER', 'SASL PLAIN'];
  assert.deepEqual(await c.multi('CAPA'), [...loopback, 'IMPLEMENTATION Facteur', '.']);
  await c.login('alice');
  assert.deepEqual(await c.multi('CAPA'), [
    '+OK Capability list follows',
    'TOP',
    'UIDL',
    'RESP-CODES',
    'AUTH-RESP-CODE',
    'PIPELINING',
    'IMPLEMENTATION Facteur',
    '.',
  ]);
  await c.cmd('QUIT');
});

test('RFC 2595 §4 before STLS no password is taken (unless allowed on loopback); after it, USER and SASL', async () => {
  const c = await Pop3.plain(strict.pop3Port);
  assert.deepEqual(await c.multi('CAPA'), [
    '+OK Capability list follows',
    'TOP',
    'UIDL',
    'RESP-CODES',
    'AUTH-RESP-CODE',
    'PIPELINING',
    'STLS',
    'IMPLEMENTATION Facteur',
    '.',
  ]);
  const refused = '-ERR [AUTH] Plaintext authentication disallowed on non-secure connections: use STLS first';
  assert.equal(await c.cmd(`USER ${address('alice')}`), refused);
  assert.equal(await c.cmd('PASS x'), refused);
  assert.equal(await c.cmd('AUTH PLAIN'), refused);
  assert.equal(await c.cmd('STLS'), '+OK Begin TLS negotiation');
  await c.startTls();
  assert.ok(c.socket instanceof TLSSocket && c.socket.authorized, 'the pinned certificate verifies');
  const capa = await c.multi('CAPA');
  assert.ok(capa.includes('USER') && capa.includes('SASL PLAIN') && !capa.includes('STLS'), capa.join('|'));
  assert.equal(await c.cmd('STLS'), '-ERR Command not permitted when TLS active');
  assert.match(await c.login('alice'), /^\+OK maildrop has 2 messages/);
  await c.cmd('QUIT');
});

test('RFC 2595 §4 commands pipelined after STLS are discarded, not run after the upgrade', async () => {
  const c = await Pop3.plain(strict.pop3Port);
  c.socket.write(`STLS\r\nCAPA\r\nUSER ${address('alice')}\r\n`);
  assert.equal(await c.line(), '+OK Begin TLS negotiation');
  await c.startTls();
  assert.equal(await c.cmd(`PASS ${password('alice')}`), '-ERR Send USER first');
  assert.equal(await c.cmd('NOOP'), '-ERR NOOP is not valid in this state');
  c.destroy();
});

test('RFC 2595 §2 POP3S: TLS from the first byte, with the pinned certificate', async () => {
  const c = await Pop3.secure(service.pop3sPort as number);
  const capa = await c.multi('CAPA');
  assert.ok(!capa.includes('STLS') && capa.includes('USER'), capa.join('|'));
  assert.match(await c.login('alice'), /^\+OK maildrop has 2 messages/);
  assert.equal(await c.cmd('QUIT'), '+OK Facteur POP3 server signing off (2 messages left)');
});

test('RFC 1939 §3 / RFC 2449 §4 bad input: unknown commands, wrong state, bad arguments, NUL, overlong lines', async () => {
  const c = await Pop3.plain(service.pop3Port as number);
  assert.equal(await c.cmd('STAT'), '-ERR STAT is not valid in this state');
  assert.equal(await c.cmd('XYZZY'), '-ERR Unknown command');
  assert.equal(await c.cmd('APOP mrose c4c9334bac560ecc979e58001b3e22fb'), '-ERR Unknown command');
  assert.equal(await c.cmd('GET / HTTP/1.1'), '-ERR Unknown command');
  assert.equal(await c.cmd('USER a\0b'), '-ERR NUL octets are not allowed');
  assert.equal(await c.cmd(`USER ${'x'.repeat(300)}`), '-ERR Command line too long (at most 255 octets)');
  c.socket.write(`USER ${'y'.repeat(100_000)}`);
  assert.equal(await c.line(), '-ERR Command line too long (at most 255 octets)', 'refused before the line ends');
  c.socket.write('yyyy\r\nNOOP\r\n');
  assert.equal(await c.line(), '-ERR NOOP is not valid in this state', 'the rest of the long line was drained');
  assert.equal(await c.cmd('USER'), '-ERR Wrong number of arguments for USER');
  await c.login('alice');
  for (const [command, reply] of [
    ['RETR', '-ERR Wrong number of arguments for RETR'],
    ['RETR 0', '-ERR Invalid message number'],
    ['RETR -1', '-ERR Invalid message number'],
    ['RETR 1x', '-ERR Invalid message number'],
    ['DELE 99999999999', '-ERR Invalid message number'],
    ['LIST 1 2', '-ERR Wrong number of arguments for LIST'],
    ['STAT 1', '-ERR Wrong number of arguments for STAT'],
    ['USER x', '-ERR USER is not valid in this state'],
    ['STLS', '-ERR STLS is not valid in this state'],
  ]) {
    assert.equal(await c.cmd(command as string), reply, command);
  }
  assert.equal(await c.cmd('NOOP'), '+OK', 'the session is still healthy');
  await c.cmd('QUIT');
});

test('RFC 2449 §6.6 PIPELINING: commands sent together are answered in order', async () => {
  const c = await Pop3.plain(service.pop3Port as number);
  c.socket.write(`USER ${address('alice')}\r\nPASS ${password('alice')}\r\nSTAT\r\nLIST 1\r\nNOOP\r\nQUIT\r\n`);
  assert.equal(await c.line(), '+OK Send your password');
  assert.match(await c.line(), /^\+OK maildrop has 2 messages/);
  assert.equal(await c.line(), `+OK 2 ${octets(FIRST, SECOND)}`);
  assert.equal(await c.line(), `+OK 1 ${octets(FIRST)}`);
  assert.equal(await c.line(), '+OK');
  assert.equal(await c.line(), '+OK Facteur POP3 server signing off (2 messages left)');
});

test('a client sending nonsense is disconnected after 20 refused commands; the server keeps serving', async () => {
  const c = await Pop3.plain(service.pop3Port as number);
  c.socket.write('BLAH\r\n'.repeat(25));
  for (let i = 0; i < 20; i++) assert.equal(await c.line(), '-ERR Unknown command');
  assert.equal(await c.line(), '-ERR Too many bad commands, closing');
  await c.closedByServer();
  const d = await Pop3.plain(service.pop3Port as number);
  assert.equal(await d.cmd('QUIT'), '+OK Facteur POP3 server signing off');
});

test('RFC 1939 §3 the autologout timer closes an idle session without a response and without UPDATE', async () => {
  const c = await Pop3.secure(strict.pop3sPort);
  await c.login('frank');
  assert.equal(await c.cmd('DELE 1'), '+OK Message 1 deleted');
  const started = Date.now();
  await c.closedByServer();
  assert.ok(Date.now() - started >= STRICT_IDLE_MS - 50);
  assert.equal((await inboxOf('frank')).index.length, 2, 'nothing removed');
});

/** A message of about `bytes` octets whose lines often start with a dot. */
function bigMessage(bytes: number): Buffer {
  const lines = ['From: big@sender.test', 'Subject: big', ''];
  let size = lines.join('\r\n').length + 2;
  for (let i = 0; size < bytes; i++) {
    const line = `${i % 5 === 0 ? '.' : ''}${'abcdefghij'.repeat(7)} ${i}`;
    lines.push(line);
    size += line.length + 2;
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n`);
}

test('RFC 1939 §5 RETR of a 5 MB message streams with backpressure: a client that stops reading holds the server to a bounded buffer', async () => {
  const message = bigMessage(5 * 1024 * 1024);
  await deliver('gina', message);
  const c = await Pop3.secure(strict.pop3sPort);
  await c.login('gina');
  assert.equal(await c.cmd('LIST 1'), `+OK 1 ${message.length}`);
  c.socket.pause();
  c.send('RETR 1');
  await new Promise((resolve) => setTimeout(resolve, 300));
  const peak = strict.stats().peakWriteBufferBytes;
  assert.ok(peak < 512 * 1024, `peak write buffer ${peak} octets`);
  // Meanwhile other sessions are served.
  const other = await Pop3.plain(service.pop3Port as number);
  assert.equal(await other.cmd('NOOP'), '-ERR NOOP is not valid in this state');
  other.destroy();
  c.socket.resume();
  const raw = await c.multiRaw();
  const body = Buffer.from(raw.slice(raw.indexOf('\r\n') + 2, -3), 'latin1')
    .toString('latin1')
    .split('\r\n')
    .map((l) => (l.startsWith('.') ? l.slice(1) : l))
    .join('\r\n');
  assert.equal(raw.slice(0, raw.indexOf('\r\n')), `+OK ${message.length} octets`);
  assert.equal(createHash('sha256').update(body, 'latin1').digest('hex'), createHash('sha256').update(message).digest('hex'));
  assert.ok(strict.stats().peakWriteBufferBytes < 512 * 1024);
  await c.cmd('QUIT');
});

test('a client that never reads a RETR is logged out by the idle timer and its lock released', async () => {
  const c = await Pop3.secure(strict.pop3sPort);
  await c.login('gina');
  c.socket.pause();
  c.send('RETR 1');
  await new Promise((resolve) => setTimeout(resolve, STRICT_IDLE_MS * 3));
  const d = await Pop3.secure(strict.pop3sPort);
  assert.match(await d.login('gina'), /^\+OK maildrop has 1 messages/);
  await d.cmd('QUIT');
  c.destroy();
  assert.ok(strict.stats().sessions <= 1);
});

test("R-M3 Python's poplib reads, deletes and quits over POP3S, and logs in after STLS", async () => {
  await deliver('hugo', 'From: a@b.test\r\nSubject: py one\r\n\r\nhello poplib\r\n.dot line\r\n');
  await deliver('hugo', 'From: a@b.test\r\nSubject: py two\r\n\r\nsecond\r\n');
  const script = [
    'import json, poplib, ssl, sys',
    'ctx = ssl.create_default_context(cafile=sys.argv[3])',
    "p = poplib.POP3_SSL('127.0.0.1', int(sys.argv[1]), context=ctx)",
    'out = {"capa": sorted(p.capa().keys())}',
    "p.user('hugo@pop.test')",
    "p.pass_('hugo-password-1')",
    'out["stat"] = list(p.stat())',
    'out["uidl"] = [x.decode() for x in p.uidl()[1]]',
    'out["retr"] = [x.decode() for x in p.retr(1)[1]]',
    'out["top"] = [x.decode() for x in p.top(2, 0)[1]]',
    'p.dele(1)',
    'out["quit"] = p.quit().decode()',
    "s = poplib.POP3('127.0.0.1', int(sys.argv[2]))",
    's.stls(ctx)',
    "s.user('hugo@pop.test')",
    "s.pass_('hugo-password-1')",
    'out["after"] = list(s.stat())',
    's.quit()',
    'print(json.dumps(out))',
  ].join('\n');
  const { stdout } = await promisify(execFile)('python3', ['-c', script, String(service.pop3sPort), String(strict.pop3Port), service.tlsCertFile]);
  const out = JSON.parse(stdout);
  assert.deepEqual(out.capa, ['AUTH-RESP-CODE', 'IMPLEMENTATION', 'PIPELINING', 'RESP-CODES', 'SASL', 'TOP', 'UIDL', 'USER']);
  assert.equal(out.stat[0], 2);
  assert.equal(out.uidl.length, 2);
  assert.deepEqual(out.retr, ['From: a@b.test', 'Subject: py one', '', 'hello poplib', '.dot line']);
  assert.deepEqual(out.top, ['From: a@b.test', 'Subject: py two', '']);
  assert.equal(out.quit, '+OK Facteur POP3 server signing off (1 messages left)');
  assert.equal(out.after[0], 1);
});
