/**
 * Outbound delivery (R-M2): the persistent queue against "the Internet" on loopback — MX records served
 * by the test DNS server, a receiving smtp-server on 127.0.0.1 whose port the service uses for every
 * MX (`delivery.smtpPort`). The queue is driven round by round with `runDeliveryOnce` and the manual clock.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { after, before, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { createContext } from '../src/context.ts';
import { claimDueRows, enqueueOutbound, runDeliveryOnce, startDeliveryWorker } from '../src/delivery/index.ts';
import { putContent } from '../src/mailstore/index.ts';
import { searchTrace } from '../src/trace/index.ts';
import { expectStatus, operatorClient, setupCustomer, waitForOperation } from './helpers/client.ts';
import { messagesOf } from './helpers/mail.ts';
import { engine, startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'acme.test';
const ALICE = `alice@${DOMAIN}`;
const LEASE_SECONDS = 60;
const DAY_MS = 24 * 60 * 60_000;

interface Received {
  from: string;
  to: string[];
  data: string;
  /** Whether the session had been upgraded with STARTTLS. */
  secure: boolean;
}

/** "The Internet": accepts mail, except recipients a test makes fail or hang. */
const remote = {
  received: [] as Received[],
  /** Recipient → reply code for RCPT TO. */
  refuse: new Map<string, number>(),
  /** Recipients whose RCPT TO is never answered. */
  hang: new Set<string>(),
  sessions: 0,
  maxSessions: 0,
  dataDelayMs: 0,
};

function startRemote(): Promise<SMTPServer> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH'],
    logger: false,
    onConnect(_session, callback) {
      remote.sessions++;
      remote.maxSessions = Math.max(remote.maxSessions, remote.sessions);
      callback();
    },
    onClose() {
      remote.sessions--;
    },
    onRcptTo(address, _session, callback) {
      if (remote.hang.has(address.address)) return;
      const code = remote.refuse.get(address.address);
      if (code) {
        const error = Object.assign(new Error(code >= 500 ? '5.1.1 No such user here' : '4.3.0 Try again later'), { responseCode: code });
        callback(error);
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      void text(stream).then(async (data) => {
        if (remote.dataDelayMs) await new Promise((resolve) => setTimeout(resolve, remote.dataDelayMs));
        remote.received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
          secure: session.secure,
        });
        callback();
      }, callback);
    },
  });
  server.on('error', () => {});
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let remoteServer: SMTPServer;
let service: TestService;

before(async () => {
  remoteServer = await startRemote();
  const smtpPort = (remoteServer.server.address() as AddressInfo).port;
  service = await startTestService({
    overrides: {
      roles: ['web'],
      delivery: { smtpPort, concurrencyPerDomain: 2, connectTimeoutMs: 2000, responseTimeoutMs: 700, leaseSeconds: LEASE_SECONDS, retryJitter: 0 },
    },
    zone: {
      'remote.test': { MX: [{ exchange: 'mx.remote.test', priority: 10 }] },
      'mx.remote.test': { A: ['127.0.0.1'] },
      'bare.test': { A: ['127.0.0.1'] },
      'nullmx.test': { MX: [{ exchange: '.', priority: 0 }] },
      'down.test': { MX: [{ exchange: 'mx.down.test', priority: 10 }] },
      'mx.down.test': { A: ['127.0.0.2'] },
    },
  });
  const operator = await operatorClient(service);
  const { admin, subscriptionId } = await setupCustomer(service, operator, 'Acme', { basic: 3 });
  const added = await admin.post(`/api/subscriptions/${subscriptionId}/domains`, { name: DOMAIN });
  expectStatus(added, 202);
  await waitForOperation(admin, added.body.id);
  expectStatus(await admin.post(`/api/subscriptions/${subscriptionId}/accounts`, { address: ALICE, classId: 'basic', password: 'alice-password-1' }), 201);
});

after(async () => {
  await service?.close();
  await new Promise<void>((resolve) => (remoteServer ? remoteServer.close(() => resolve()) : resolve()));
});

let serial = 0;

/** Stores a message's content, as the submission server would, and queues it. */
async function queue(sender: string, recipients: string[], subject = `Test ${++serial}`) {
  const raw = `From: <${sender || 'mailer-daemon@provider.test'}>\r\nTo: ${recipients.join(', ')}\r\nSubject: ${subject}\r\nMessage-ID: <${serial}.${Date.now()}@acme.test>\r\n\r\nHello, this is ${subject}.\r\n.leading dot\r\n`;
  const blob = await putContent(service.ctx, Readable.from([Buffer.from(raw)]));
  const ids = await enqueueOutbound(service.ctx, { customerId: null, sender, recipients, blob });
  return { ids, blob, subject };
}

async function rowsOf(ids: string[]) {
  return service.ctx.db.selectFrom('outbound_queue').selectAll().where('id', 'in', ids).orderBy('recipient').execute();
}

function receivedWith(subject: string): Received[] {
  return remote.received.filter((m) => m.data.includes(`Subject: ${subject}\r\n`));
}

const MINUTE = 60_000;

test('R-M2 a queued message is delivered to the MX of its domain on 250, once, and its blob reference released', async () => {
  const { ids, blob, subject } = await queue(ALICE, ['bob@remote.test', 'carol@remote.test']);
  const summary = await runDeliveryOnce(service.ctx);
  assert.equal(summary.delivered, 2);
  const got = receivedWith(subject);
  assert.equal(got.length, 1, 'one transaction for both recipients');
  assert.deepEqual(got[0]?.to.sort(), ['bob@remote.test', 'carol@remote.test']);
  assert.equal(got[0]?.from, ALICE);
  assert.equal(got[0]?.secure, true, 'opportunistic STARTTLS (self-signed certificate accepted)');
  assert.match(got[0]?.data ?? '', /\r\n\.leading dot\r\n/, 'dot-stuffing undone by the server: content intact');
  const rows = await rowsOf(ids);
  assert.deepEqual(
    rows.map((r) => [r.status, Number(r.attempts)]),
    [
      ['delivered', 1],
      ['delivered', 1],
    ],
  );
  const ref = await service.ctx.db.selectFrom('blobs').select('refcount').where('id', '=', blob.id).executeTakeFirstOrThrow();
  assert.equal(Number(ref.refcount), 0);
  assert.equal((await runDeliveryOnce(service.ctx)).taken, 0, 'nothing left to do');
  assert.equal(receivedWith(subject).length, 1);
});

test('R-M6 R-M2 the outbound path is traced per recipient: queued, then delivered, deferred or bounced', async () => {
  remote.refuse.set('refused@remote.test', 550);
  remote.refuse.set('busy@remote.test', 451);
  // The null sender: no DSN, so the other tests' mailboxes stay as they are.
  const { ids } = await queue('', ['fine@remote.test', 'refused@remote.test', 'busy@remote.test'], 'Traced outbound');
  await runDeliveryOnce(service.ctx);
  const steps = async (recipient: string) =>
    (await searchTrace(service.ctx, null, { address: recipient, limit: 50 }))
      .filter((e) => ids.includes(e.sessionId ?? ''))
      .map((e) => e.step)
      .sort();
  assert.deepEqual(await steps('fine@remote.test'), ['delivered', 'queued']);
  assert.deepEqual(await steps('refused@remote.test'), ['bounced', 'queued']);
  assert.deepEqual(await steps('busy@remote.test'), ['deferred', 'queued']);
  remote.refuse.delete('busy@remote.test');
  service.clock.advance(10 * MINUTE);
  await runDeliveryOnce(service.ctx);
  assert.deepEqual(await steps('busy@remote.test'), ['deferred', 'delivered', 'queued']);
  remote.refuse.delete('refused@remote.test');
});

test('R-M2 a remote 4xx defers with back-off; a later attempt delivers', async () => {
  remote.refuse.set('later@remote.test', 451);
  const { ids, subject } = await queue(ALICE, ['later@remote.test']);
  assert.equal((await runDeliveryOnce(service.ctx)).deferred, 1);
  let [row] = await rowsOf(ids);
  assert.equal(row?.status, 'queued');
  assert.equal(Number(row?.attempts), 1);
  assert.equal(Number(row?.next_attempt_at), service.clock.now() + 1 * MINUTE, 'first back-off: 1 minute');
  assert.match(row?.last_error ?? '', /^451 4\.3\.0/);
  assert.equal((await runDeliveryOnce(service.ctx)).taken, 0, 'not due before its time');

  service.clock.advance(MINUTE);
  assert.equal((await runDeliveryOnce(service.ctx)).deferred, 1);
  [row] = await rowsOf(ids);
  assert.equal(Number(row?.next_attempt_at), service.clock.now() + 5 * MINUTE, 'second back-off: 5 minutes');

  remote.refuse.delete('later@remote.test');
  service.clock.advance(5 * MINUTE);
  assert.equal((await runDeliveryOnce(service.ctx)).delivered, 1);
  [row] = await rowsOf(ids);
  assert.equal(row?.status, 'delivered');
  assert.equal(Number(row?.attempts), 3);
  assert.equal(receivedWith(subject).length, 1);
});

test('R-M2 a remote 5xx bounces: a DSN (multipart/report) lands in the local sender INBOX; the other recipient is delivered', async () => {
  remote.refuse.set('nobody@remote.test', 550);
  const before = (await messagesOf(service.ctx, ALICE)).length;
  const { ids, subject } = await queue(ALICE, ['nobody@remote.test', 'ok@remote.test'], 'Bounce me');
  const summary = await runDeliveryOnce(service.ctx);
  assert.deepEqual([summary.delivered, summary.bounced], [1, 1]);
  const rows = await rowsOf(ids);
  assert.deepEqual(
    rows.map((r) => [r.recipient, r.status, Number(r.dsn_sent)]),
    [
      ['nobody@remote.test', 'bounced', 1],
      ['ok@remote.test', 'delivered', 0],
    ],
  );
  assert.deepEqual(receivedWith(subject)[0]?.to, ['ok@remote.test']);
  const inbox = await messagesOf(service.ctx, ALICE);
  assert.equal(inbox.length, before + 1);
  const dsn = inbox.at(-1)?.raw ?? '';
  assert.match(dsn, /^From: Mail Delivery System <MAILER-DAEMON@mail\.provider\.test>/m);
  assert.match(dsn, /^Auto-Submitted: auto-replied/m);
  assert.match(dsn, /^Content-Type: multipart\/report; report-type=delivery-status; boundary="([^"]+)"/m);
  const boundary = /boundary="([^"]+)"/.exec(dsn)?.[1] as string;
  const parts = dsn.split(`--${boundary}`);
  assert.equal(parts.length, 5, 'preamble, three parts, closing');
  assert.match(parts[1] ?? '', /^\r\nContent-Type: text\/plain; charset=utf-8/);
  assert.match(parts[2] ?? '', /^\r\nContent-Type: message\/delivery-status/);
  const status = parts[2] ?? '';
  assert.match(status, /^Reporting-MTA: dns; mail\.provider\.test$/m);
  assert.match(status, /^Arrival-Date: /m);
  assert.match(status, /^Final-Recipient: rfc822; nobody@remote\.test$/m);
  assert.match(status, /^Action: failed$/m);
  assert.match(status, /^Status: 5\.1\.1$/m);
  assert.match(status, /^Remote-MTA: dns; mx\.remote\.test$/m);
  assert.match(status, /^Diagnostic-Code: smtp; 550 5\.1\.1 No such user here$/m);
  assert.doesNotMatch(status, /ok@remote\.test/, 'only the failed recipient is reported');
  assert.match(parts[3] ?? '', /^\r\nContent-Type: text\/rfc822-headers/);
  assert.match(parts[3] ?? '', /^Subject: Bounce me$/m);
  assert.doesNotMatch(parts[3] ?? '', /Hello, this is/, 'headers only');
  remote.refuse.delete('nobody@remote.test');
});

test('R-M2 a bounce for a remote sender is queued with the null sender; a null-sender message never gets a DSN', async () => {
  remote.refuse.set('gone@remote.test', 550);
  const { ids } = await queue('someone@elsewhere.test', ['gone@remote.test']);
  const nullSender = await queue('', ['gone@remote.test']);
  const summary = await runDeliveryOnce(service.ctx);
  assert.equal(summary.bounced, 2);
  const dsnRows = await service.ctx.db.selectFrom('outbound_queue').selectAll().where('recipient', '=', 'someone@elsewhere.test').execute();
  assert.equal(dsnRows.length, 1);
  assert.equal(dsnRows[0]?.sender, '');
  assert.equal(dsnRows[0]?.status, 'queued');
  const [original] = await rowsOf(ids);
  assert.equal(Number(original?.dsn_sent), 1);
  const [bounce] = await rowsOf(nullSender.ids);
  assert.equal(bounce?.status, 'bounced');
  assert.equal(Number(bounce?.dsn_sent), 0);
  const dsnOfDsn = await service.ctx.db.selectFrom('outbound_queue').select('id').where('recipient', '=', 'mailer-daemon@provider.test').execute();
  assert.equal(dsnOfDsn.length, 0);
  // The DSN itself goes out from <> (elsewhere.test has no MX nor address: it bounces, silently).
  await runDeliveryOnce(service.ctx);
  const [dsnRow] = await service.ctx.db
    .selectFrom('outbound_queue')
    .selectAll()
    .where('id', '=', dsnRows[0]?.id as string)
    .execute();
  assert.equal(dsnRow?.status, 'bounced');
  assert.equal(Number(dsnRow?.dsn_sent), 0);
  remote.refuse.delete('gone@remote.test');
});

test('R-M2 a timeout (a server that never answers) defers; the retry delivers', async () => {
  remote.hang.add('slow@remote.test');
  const { ids, subject } = await queue(ALICE, ['slow@remote.test']);
  const started = Date.now();
  assert.equal((await runDeliveryOnce(service.ctx)).deferred, 1);
  assert.ok(Date.now() - started < 5000, 'gave up after the response timeout');
  let [row] = await rowsOf(ids);
  assert.equal(row?.status, 'queued');
  assert.match(row?.last_error ?? '', /timed out|timeout/i);
  remote.hang.delete('slow@remote.test');
  service.clock.advance(MINUTE);
  assert.equal((await runDeliveryOnce(service.ctx)).delivered, 1);
  [row] = await rowsOf(ids);
  assert.equal(row?.status, 'delivered');
  assert.equal(receivedWith(subject).length, 1);
});

test('R-M2 a message still undeliverable after the queue lifetime (5 days) expires with a DSN (4.4.7)', async () => {
  const before = (await messagesOf(service.ctx, ALICE)).length;
  const { ids } = await queue(ALICE, ['someone@down.test'], 'Never arrives');
  assert.equal((await runDeliveryOnce(service.ctx)).deferred, 1, 'connection refused: deferred');
  let [row] = await rowsOf(ids);
  assert.equal(Number(row?.expires_at) - Number(row?.created_at), 5 * DAY_MS);
  assert.match(row?.last_error ?? '', /mx\.down\.test/);
  for (let i = 0; i < 3; i++) {
    service.clock.advance(DAY_MS);
    assert.equal((await runDeliveryOnce(service.ctx)).deferred, 1);
  }
  service.clock.advance(2 * DAY_MS);
  const summary = await runDeliveryOnce(service.ctx);
  assert.equal(summary.expired, 1);
  [row] = await rowsOf(ids);
  assert.equal(row?.status, 'expired');
  const dsn = (await messagesOf(service.ctx, ALICE)).at(-1)?.raw ?? '';
  assert.equal((await messagesOf(service.ctx, ALICE)).length, before + 1);
  assert.match(dsn, /^Final-Recipient: rfc822; someone@down\.test$/m);
  assert.match(dsn, /^Action: failed$/m);
  assert.match(dsn, /^Status: 4\.4\.7$/m);
  assert.match(dsn, /^Subject: Never arrives$/m);
});

test('R-M2 a null MX bounces at once (5.1.10); a domain without MX gets its address as implicit MX', async () => {
  const before = (await messagesOf(service.ctx, ALICE)).length;
  const nullMx = await queue(ALICE, ['x@nullmx.test']);
  const bare = await queue(ALICE, ['y@bare.test']);
  const summary = await runDeliveryOnce(service.ctx);
  assert.deepEqual([summary.bounced, summary.delivered], [1, 1]);
  assert.equal((await rowsOf(nullMx.ids))[0]?.status, 'bounced');
  assert.equal((await rowsOf(bare.ids))[0]?.status, 'delivered');
  assert.deepEqual(receivedWith(bare.subject)[0]?.to, ['y@bare.test']);
  const dsn = (await messagesOf(service.ctx, ALICE)).at(-1)?.raw ?? '';
  assert.equal((await messagesOf(service.ctx, ALICE)).length, before + 1);
  assert.match(dsn, /^Status: 5\.1\.10$/m);
  assert.match(dsn, /null MX/);
});

test('R-M2 per-destination concurrency: 6 messages to one domain use at most 2 connections at once', async () => {
  remote.maxSessions = 0;
  remote.dataDelayMs = 50;
  try {
    const queued = await Promise.all([1, 2, 3, 4, 5, 6].map(() => queue(ALICE, ['many@remote.test'])));
    assert.equal((await runDeliveryOnce(service.ctx)).delivered, 6);
    for (const { subject } of queued) assert.equal(receivedWith(subject).length, 1);
    assert.equal(remote.maxSessions, 2);
  } finally {
    remote.dataDelayMs = 0;
  }
});

test('R-M2 two workers running at once deliver each message exactly once', async () => {
  // On PostgreSQL the second worker has its own context and connections, as another process would.
  const other = engine === 'postgres' ? await createContext(service.ctx.config, { clock: service.clock, log: service.ctx.log }) : service.ctx;
  try {
    const queued = await Promise.all(Array.from({ length: 20 }, (_, i) => queue(ALICE, [`w${i}@remote.test`, `w${i}@bare.test`])));
    const [a, b] = await Promise.all([runDeliveryOnce(service.ctx, { workerId: 'a' }), runDeliveryOnce(other, { workerId: 'b' })]);
    assert.equal(a.taken + b.taken, 40, `taken ${a.taken} + ${b.taken}`);
    assert.equal(a.delivered + b.delivered, 40);
    for (const { subject } of queued) {
      const got = receivedWith(subject);
      assert.equal(got.flatMap((m) => m.to).length, 2, subject);
    }
  } finally {
    if (other !== service.ctx) await other.close();
  }
});

test('R-M2 after a SIGKILL, rows left in sending are taken again once their lease has run out, and sent once', async () => {
  const { ids, subject } = await queue(ALICE, ['restart@remote.test']);
  const taken = await claimDueRows(service.ctx, 'killed-worker');
  assert.deepEqual(
    taken.map((r) => r.id),
    ids,
  );
  assert.equal((await runDeliveryOnce(service.ctx)).taken, 0, 'the lease is still held');
  service.clock.advance(LEASE_SECONDS * 1000 - 1);
  assert.equal((await runDeliveryOnce(service.ctx)).taken, 0, 'not before the lease ends');
  service.clock.advance(1);
  assert.equal((await runDeliveryOnce(service.ctx)).delivered, 1);
  const [row] = await rowsOf(ids);
  assert.equal(row?.status, 'delivered');
  assert.equal(Number(row?.attempts), 2);
  assert.equal(receivedWith(subject).length, 1);
});

test('R-M2 the worker (as the worker role runs it) delivers a queued message without being asked, and stops cleanly', async () => {
  const stop = startDeliveryWorker(service.ctx);
  try {
    const { ids, subject } = await queue(ALICE, ['worker@remote.test']);
    const deadline = Date.now() + 5000;
    while (receivedWith(subject).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(receivedWith(subject).length, 1);
    for (let i = 0; i < 50 && (await rowsOf(ids))[0]?.status !== 'delivered'; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal((await rowsOf(ids))[0]?.status, 'delivered');
  } finally {
    await stop();
  }
});
