/**
 * The outbound queue survives SIGKILL with no loss and no duplicate (issue 3, "Done when"; R-M2).
 * `facteur serve` runs as its own process; a user submits several messages for outside recipients
 * with nodemailer (the submission role alone, so they are all queued when the worker starts); then
 * the worker role starts on them while "the Internet", a receiving smtp-server on loopback, answers
 * the first message at once and holds every later end-of-DATA reply, so several deliveries are in
 * flight when the process is killed with SIGKILL. After a restart every message arrives exactly once.
 *
 * Where the kill lands, and why no duplicate is promised there: a row is marked delivered right after
 * the remote's 250 to the final dot (RFC 5321 §4.1.1.4). Killed between that 250 and the mark, a
 * message would be sent again on restart — unavoidable in SMTP, the receiver already took
 * responsibility. The test therefore kills deterministically at the two points where the design does
 * promise exactly once: for the first message after its row is marked delivered (it must not be sent
 * again), and for the others while the remote has their data but has not replied to the final dot (no
 * 250, so the remote discards the transaction when the connection drops, and the rows, still leased,
 * are taken again once the lease of the dead worker runs out).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { after, before, test } from 'node:test';
import nodemailer from 'nodemailer';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { killHard, startServe as startFacteurServe } from './helpers/cli.ts';
import { expectStatus, operatorClient, setupCustomer, waitForOperation } from './helpers/client.ts';
import { freePort } from './helpers/ports.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'expediteur.test';
const SENDER = `paul@${DOMAIN}`;
const PASSWORD = 'paul-password-1';
const MESSAGES = 6;
const LEASE_SECONDS = 5;

interface Received {
  to: string[];
  subject: string;
}

/** The slow remote: accepts `acceptFirst` messages at once, then holds each final reply until released. */
const remote = {
  received: [] as Received[],
  acceptFirst: 1,
  holding: true,
  held: [] as { session: string; subject: string; to: string[]; callback: (error?: Error | null) => void }[],
  /** Every transaction held at the final dot, even one that arrived while the process was being killed. */
  heldEver: [] as string[],
  dropped: [] as string[],
};

function subjectOf(data: string): string {
  return /^Subject: (.*)$/m.exec(data)?.[1]?.trim() ?? '';
}

function startRemote(): Promise<SMTPServer> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH'],
    logger: false,
    onData(stream, session, callback) {
      void text(stream).then((data) => {
        const item = { session: session.id, subject: subjectOf(data), to: session.envelope.rcptTo.map((r) => r.address) };
        if (remote.acceptFirst > 0 || !remote.holding) {
          remote.acceptFirst--;
          remote.received.push(item);
          return callback();
        }
        remote.heldEver.push(item.subject);
        remote.held.push({
          ...item,
          callback: (error) => {
            if (!error) remote.received.push(item);
            callback(error);
          },
        });
      }, callback);
    },
    onClose(session: SMTPServerSession) {
      // The client went away before our reply to the final dot: the transaction never completed.
      for (const held of remote.held.filter((h) => h.session === session.id)) remote.dropped.push(held.subject);
      remote.held = remote.held.filter((h) => h.session !== session.id);
    },
  });
  server.on('error', () => {});
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let service: TestService;
let remoteServer: SMTPServer;
let child: ChildProcess | undefined;
let submissionPort: number;
let configFile: string;

async function startServe(roles: string): Promise<ChildProcess> {
  return startFacteurServe(
    {
      ...process.env,
      ...service.env,
      FACTEUR_CONFIG: configFile,
      FACTEUR_ROLES: roles,
      FACTEUR_SUBMISSION_PORT: String(submissionPort),
      FACTEUR_SUBMISSIONS_PORT: String(await freePort()),
      FACTEUR_LISTEN_HOST: '127.0.0.1',
    },
    'Submit:',
  );
}

const kill = killHard;

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function rows() {
  return service.ctx.db.selectFrom('outbound_queue').select(['recipient', 'status', 'attempts']).orderBy('recipient').execute();
}

before(async () => {
  remoteServer = await startRemote();
  const remotePort = (remoteServer.server.address() as AddressInfo).port;
  service = await startTestService({
    zone: { 'remote.test': { MX: [{ exchange: 'mx.remote.test', priority: 10 }] }, 'mx.remote.test': { A: ['127.0.0.1'] } },
  });
  const operator = await operatorClient(service);
  const setup = await setupCustomer(service, operator, 'Expediteur', { basic: 2 });
  const added = await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/domains`, { name: DOMAIN });
  await waitForOperation(setup.admin, added.body.id);
  expectStatus(await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/accounts`, { address: SENDER, classId: 'basic', password: PASSWORD }), 201);
  configFile = path.join(service.dataDir, 'serve.config.json');
  await writeFile(
    configFile,
    JSON.stringify({
      delivery: { smtpPort: remotePort, leaseSeconds: LEASE_SECONDS, pollSeconds: 0.1, concurrencyPerDomain: 3, responseTimeoutMs: 120_000, retryJitter: 0 },
    }),
  );
  submissionPort = await freePort();
  child = await startServe('submission');
});

after(async () => {
  if (child) await kill(child);
  await service?.close();
  await new Promise<void>((resolve) => (remoteServer ? remoteServer.close(() => resolve()) : resolve()));
});

test('R-M2 the outbound queue survives SIGKILL with deliveries in flight: after restart every message arrives exactly once', async (t) => {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: submissionPort,
    requireTLS: true,
    tls: { ca: service.tlsCert, servername: 'localhost' },
    auth: { user: SENDER, pass: PASSWORD },
  });
  const subjects: string[] = [];
  for (let i = 1; i <= MESSAGES; i++) {
    const subject = `Durable outbound ${i}`;
    subjects.push(subject);
    const info = await transport.sendMail({ from: SENDER, to: `r${i}@remote.test`, subject, text: `Message ${i}` });
    assert.match(info.response, /^250 /);
  }
  transport.close();
  assert.deepEqual(
    (await rows()).map((r) => r.status),
    subjects.map(() => 'queued'),
  );
  await kill(child as ChildProcess);
  child = await startServe('submission,worker');

  // In flight: one message delivered and marked so, at least two held at the remote's final dot.
  await until('the first delivery to be marked', async () => remote.received.length === 1 && (await rows()).some((r) => r.status === 'delivered'));
  await until('deliveries in flight at the remote', () => remote.held.length >= 2);
  await kill(child as ChildProcess);
  child = undefined;
  await until('the remote to see the connections drop', () => remote.held.length === 0);
  // Read after the kill: on a loaded machine another transaction can reach the final dot while the process dies.
  const inFlight = [...remote.heldEver];
  t.diagnostic(`killed with 1 delivered, ${inFlight.length} held at the final dot, ${MESSAGES - 1 - inFlight.length} not started`);
  assert.deepEqual(remote.dropped.sort(), inFlight.sort(), 'unacknowledged transactions discarded by the remote');
  const afterKill = await rows();
  assert.equal(afterKill.length, MESSAGES, 'every message was queued before its 250 to the user');
  assert.equal(afterKill.filter((r) => r.status === 'delivered').length, 1);

  remote.holding = false;
  child = await startServe('submission,worker');
  await until('every message at the remote', () => remote.received.length >= MESSAGES, 60_000);
  await until('every row delivered', async () => (await rows()).every((r) => r.status === 'delivered'), 30_000);
  await new Promise((resolve) => setTimeout(resolve, 500)); // room for a duplicate to show up

  const counts = new Map<string, number>();
  for (const m of remote.received) counts.set(m.subject, (counts.get(m.subject) ?? 0) + 1);
  assert.deepEqual(
    subjects.map((s) => [s, counts.get(s) ?? 0]),
    subjects.map((s) => [s, 1]),
    'each message exactly once',
  );
  const final = await rows();
  assert.deepEqual(
    final.map((r) => r.recipient),
    subjects.map((_, i) => `r${i + 1}@remote.test`),
  );
  for (const row of final) {
    const heldBefore = inFlight.includes(`Durable outbound ${row.recipient.slice(1, row.recipient.indexOf('@'))}`);
    if (heldBefore) assert.ok(Number(row.attempts) >= 2, `${row.recipient} was attempted again after the restart`);
  }
});
