/**
 * `facteur serve` as a primary and two worker processes (the default on a machine of two cores or
 * more), on the same listeners and data, and what the workers share through the primary without Redis
 * (DESIGN: "Shared state has one interface"): the change feed (IMAP IDLE on one worker hears an APPEND
 * on the other), the POP3 maildrop lock (RFC 1939 §8), the login throttle and the sending limits
 * (counted across workers). Each pair of sessions is checked to be on two different workers, read from
 * /proc (test/helpers/processes.ts). Both engines.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { connect as connectTls } from 'node:tls';
import { cliEnv, killHard, startServeWithOutput } from './helpers/cli.ts';
import { setupMailAccount } from './helpers/client.ts';
import { RawImap } from './helpers/imap.ts';
import { freePort } from './helpers/ports.ts';
import { childPids, servingPid, workerPids } from './helpers/processes.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'workers.test';
const ALICE = { address: `alice@${DOMAIN}`, password: 'alice-password-1' };
const BOB = { address: 'bob@workers-b.test', password: 'bob-password-1' };

let service: TestService;
let serve: ChildProcess;
let workers: number[];
const ports = { imap: 0, pop3: 0, submissions: 0 };

before(async () => {
  service = await startTestService();
  await setupMailAccount(service, 'Workers', ALICE);
  await setupMailAccount(service, 'Workers B', BOB);
  for (const name of ['imap', 'pop3', 'submissions'] as const) ports[name] = await freePort();
  const started = await startServeWithOutput(
    cliEnv(service, {
      FACTEUR_WORKERS: '2',
      FACTEUR_ROLES: 'imap,pop3,submission',
      FACTEUR_LISTEN_HOST: '127.0.0.1',
      FACTEUR_ALLOW_PLAINTEXT_LOOPBACK: 'true',
      FACTEUR_IMAP_PORT: String(ports.imap),
      FACTEUR_IMAPS_PORT: String(await freePort()),
      FACTEUR_POP3_PORT: String(ports.pop3),
      FACTEUR_POP3S_PORT: String(await freePort()),
      FACTEUR_SUBMISSION_PORT: String(await freePort()),
      FACTEUR_SUBMISSIONS_PORT: String(ports.submissions),
    }),
    'POP3:',
  );
  serve = started.proc;
  workers = workerPids(started.output());
  assert.equal(workers.length, 2, `the banner names two workers: ${started.output()}`);
});
after(async () => {
  if (serve) await killHard(serve);
  await service.close();
});

/**
 * Opens connections with `open` until one lands on each worker (connections are handed out in turn,
 * but the test does not rely on the order): the first two on different workers, the others closed.
 */
async function onTwoWorkers<C>(open: () => Promise<C>, port: number, clientPort: (c: C) => number, close: (c: C) => void): Promise<[C, C]> {
  const byWorker = new Map<number, C>();
  for (let i = 0; i < 12 && byWorker.size < 2; i++) {
    const client = await open();
    const pid = await servingPid(port, clientPort(client), workers);
    assert.ok(pid, 'a worker serves the connection');
    if (byWorker.has(pid)) close(client);
    else byWorker.set(pid, client);
  }
  assert.equal(byWorker.size, 2, 'connections reached both workers');
  return [...byWorker.values()] as [C, C];
}

/** A line-based client (POP3, SMTP): the greeting read, then one command at a time. */
class LineClient {
  private received = '';
  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1').on('data', (chunk: string) => {
      this.received += chunk;
    });
  }

  /** `tls`: implicit TLS (submissions, RFC 8314), the test service's self-signed certificate accepted. */
  static async open(port: number, tls = false): Promise<LineClient> {
    const socket = tls ? connectTls({ port, host: '127.0.0.1', rejectUnauthorized: false }) : connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => socket.once(tls ? 'secureConnect' : 'connect', resolve).once('error', reject));
    const client = new LineClient(socket);
    await client.reply();
    return client;
  }

  /** The next complete reply: one line, or an SMTP multi-line reply up to its last line. */
  async reply(timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = /^(?:\d{3}-.*\r\n)*(?:\d{3} .*|[+-].*)\r\n/.exec(this.received);
      if (match) {
        this.received = this.received.slice(match[0].length);
        return match[0].trimEnd();
      }
      if (Date.now() > deadline) assert.fail(`no reply in ${timeoutMs} ms (got ${JSON.stringify(this.received)})`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async cmd(line: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  close(): void {
    this.socket.destroy();
  }
}

test('R-M3 IMAP IDLE on one worker hears an APPEND made on the other (the change feed through the primary)', async () => {
  const [watcher, writer] = await onTwoWorkers(
    () => RawImap.open(ports.imap),
    ports.imap,
    (imap) => imap.localPort,
    (imap) => imap.close(),
  );
  for (const imap of [watcher, writer]) assert.match((await imap.command(`LOGIN ${ALICE.address} ${ALICE.password}`)).tagged, / OK /);
  const selected = await watcher.command('SELECT INBOX');
  const exists = Number(/^\* (\d+) EXISTS$/m.exec(selected.lines.join('\n'))?.[1]);
  watcher.send('w1 IDLE\r\n');
  assert.match(await watcher.line(), /^\+ /);
  const raw = `From: ${BOB.address}\r\nTo: ${ALICE.address}\r\nSubject: across workers\r\n\r\nhello\r\n`;
  writer.send(`a APPEND INBOX {${raw.length}+}\r\n${raw}\r\n`);
  assert.match((await writer.until('a')).tagged, /^a OK /);
  assert.equal(await watcher.line(5000), `* ${exists + 1} EXISTS`, 'the other worker told the IDLE session');
  watcher.send('DONE\r\n');
  await watcher.until('w1');
  watcher.close();
  writer.close();
});

test('RFC 1939 §8 a maildrop opened on one worker is refused on the other with -ERR [IN-USE], and free again after QUIT', async () => {
  const [first, second] = await onTwoWorkers(
    () => LineClient.open(ports.pop3),
    ports.pop3,
    (client) => client.socket.localPort as number,
    (client) => client.close(),
  );
  assert.match(await first.cmd(`USER ${ALICE.address}`), /^\+OK/);
  assert.match(await first.cmd(`PASS ${ALICE.password}`), /^\+OK/);
  assert.match(await second.cmd(`USER ${ALICE.address}`), /^\+OK/);
  assert.equal(await second.cmd(`PASS ${ALICE.password}`), '-ERR [IN-USE] Maildrop already in use by another POP3 session');
  assert.match(await first.cmd('QUIT'), /^\+OK/);
  first.close();
  assert.match(await second.cmd(`USER ${ALICE.address}`), /^\+OK/);
  assert.match(await second.cmd(`PASS ${ALICE.password}`), /^\+OK/, 'the lock was given back through the primary');
  await second.cmd('QUIT');
  second.close();
});

test('R-A1 failed logins on both workers count together: the pair is throttled on either once their sum reaches the limit', async () => {
  const [one, two] = await onTwoWorkers(
    () => RawImap.open(ports.imap),
    ports.imap,
    (imap) => imap.localPort,
    (imap) => imap.close(),
  );
  // auth.loginFailuresPerAccount: 10 per (account, source) by default; 5 on each worker.
  for (let i = 0; i < 5; i++) {
    for (const imap of [one, two]) assert.match((await imap.command(`LOGIN ${BOB.address} wrong-password-${i}`)).tagged, / NO /);
  }
  for (const imap of [one, two]) {
    const refused = await imap.command(`LOGIN ${BOB.address} ${BOB.password}`);
    assert.match(refused.tagged, / NO /, 'the right password is refused on this worker too: the failures were counted together');
  }
  one.close();
  two.close();
});

test('R-M5 the sending limit counts messages sent through both workers: the 101st to one recipient within a minute gets 450 4.7.1', async () => {
  const [one, two] = await onTwoWorkers(
    () => LineClient.open(ports.submissions, true),
    ports.submissions,
    (client) => client.socket.localPort as number,
    (client) => client.close(),
  );
  const plain = Buffer.from(`\0${ALICE.address}\0${ALICE.password}`).toString('base64');
  for (const client of [one, two]) {
    assert.match(await client.cmd('EHLO client.test'), /^250/);
    assert.match(await client.cmd(`AUTH PLAIN ${plain}`), /^235/);
  }
  /** One message to Bob through `client`: the reply to its DATA's end (or to RCPT when refused there). */
  const send = async (client: LineClient, n: number): Promise<string> => {
    assert.match(await client.cmd(`MAIL FROM:<${ALICE.address}>`), /^250/);
    const rcpt = await client.cmd(`RCPT TO:<${BOB.address}>`);
    if (!rcpt.startsWith('250')) {
      await client.cmd('RSET');
      return rcpt;
    }
    assert.match(await client.cmd('DATA'), /^354/);
    return client.cmd(`From: ${ALICE.address}\r\nTo: ${BOB.address}\r\nSubject: ${n}\r\n\r\nmessage ${n}\r\n.`);
  };
  // classes' messagesPerMinutePerRecipient: 100 by default; 50 through each worker.
  for (let n = 1; n <= 100; n++) assert.match(await send(n % 2 ? one : two, n), /^250/, `message ${n}`);
  for (const client of [one, two]) assert.match(await send(client, 101), /^450 4\.7\.1 /, 'the 101st is refused through either worker');
  one.close();
  two.close();
});

test('a worker killed is started again by the primary, and the maildrop lock it held is freed at once', async () => {
  const holder = await LineClient.open(ports.pop3);
  const pid = await servingPid(ports.pop3, holder.socket.localPort as number, workers);
  assert.ok(pid, 'a worker serves the session');
  assert.match(await holder.cmd(`USER ${ALICE.address}`), /^\+OK/);
  assert.match(await holder.cmd(`PASS ${ALICE.password}`), /^\+OK/);
  const started = [...workers];
  process.kill(pid, 'SIGKILL');
  // The kill is asynchronous: the primary frees the locks as it reaps the worker, which leaves its
  // list of children in the same step. Once gone from there, the lock must be free.
  const reapedBy = Date.now() + 10_000;
  while ((await childPids(serve.pid as number)).includes(pid) && Date.now() < reapedBy) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  // The other worker takes the next connections; the dead one's lock went with it.
  const next = await LineClient.open(ports.pop3);
  assert.match(await next.cmd(`USER ${ALICE.address}`), /^\+OK/);
  assert.match(await next.cmd(`PASS ${ALICE.password}`), /^\+OK/, 'the lock of the killed worker was freed');
  await next.cmd('QUIT');
  next.close();
  holder.close();
  const deadline = Date.now() + 60_000;
  let now: number[] = [];
  while (Date.now() < deadline) {
    now = await childPids(serve.pid as number);
    if (now.length === 2 && !now.includes(pid)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(now.length, 2, 'two workers again');
  assert.ok(!now.includes(pid), 'a new process replaced the killed one');
  workers = now;
  // The new worker serves once started (it loads the service first): a connection reaches it.
  const replacement = now.find((p) => p !== pid && !started.includes(p));
  let served = false;
  while (!served && Date.now() < deadline) {
    const client = await LineClient.open(ports.pop3);
    served = (await servingPid(ports.pop3, client.socket.localPort as number, workers)) === replacement;
    client.close();
    if (!served) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.ok(served, 'the new worker serves connections');
});
