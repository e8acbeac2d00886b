/**
 * Message trace without gaps (R-M6): every message can be followed by address and by Message-ID
 * through the API — submission to a local account, each account an alias expands to, each list
 * member, forwards, and the queued, deferred, bounced and delivered steps of remote deliveries — by
 * the operator, and by a customer's admin for its own domains only. Mail comes in through the real
 * MX and submission listeners; "the Internet" is an SMTP server on loopback; the queue is driven
 * round by round with `runDeliveryOnce`.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import nodemailer from 'nodemailer';
import { runDeliveryOnce } from '../src/delivery/index.ts';
import { type ApiClient, expectStatus, operatorClient, setupCustomer, waitForOperation } from './helpers/client.ts';
import { RawSmtp } from './helpers/mail.ts';
import { type RemoteMx, startRemoteMx } from './helpers/remote-mx.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const ACME = 'acme-trace.test';
const OTHER = 'other-trace.test';
const PASSWORD = 'trace-password-1';
const ALICE = `alice@${ACME}`;
const BOB = `bob@${ACME}`;
const ZOE = `zoe@${OTHER}`;

let remote: RemoteMx;
let service: TestService;
let operator: ApiClient;
let acme: ApiClient;
let other: ApiClient;

interface Step {
  step: string;
  direction: string;
  sender: string;
  recipient: string | null;
  messageId: string | null;
  customerId: string | null;
  detail: Record<string, unknown>;
}

before(async () => {
  remote = await startRemoteMx();
  service = await startTestService({
    overrides: {
      roles: ['web', 'mx', 'submission'],
      ports: { http: 0, mx: 0, submission: 0, submissions: 0 },
      delivery: { smtpPort: remote.port, connectTimeoutMs: 2000, responseTimeoutMs: 2000, retryJitter: 0 },
    },
    zone: { 'remote.test': { MX: [{ exchange: 'mx.remote.test', priority: 10 }] }, 'mx.remote.test': { A: ['127.0.0.1'] } },
  });
  operator = await operatorClient(service);
  const a = await setupCustomer(service, operator, 'Acmetrace', { basic: 3 });
  const o = await setupCustomer(service, operator, 'Othertrace', { basic: 3 });
  acme = a.admin;
  other = o.admin;
  for (const [setup, domain] of [
    [a, ACME],
    [o, OTHER],
  ] as const) {
    const added = await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/domains`, { name: domain });
    await waitForOperation(setup.admin, added.body.id);
  }
  for (const address of [ALICE, BOB]) {
    expectStatus(await acme.post(`/api/subscriptions/${a.subscriptionId}/accounts`, { address, classId: 'basic', password: PASSWORD }), 201);
  }
  expectStatus(await other.post(`/api/subscriptions/${o.subscriptionId}/accounts`, { address: ZOE, classId: 'basic', password: PASSWORD }), 201);
  expectStatus(await acme.post(`/api/subscriptions/${a.subscriptionId}/aliases`, { address: `team@${ACME}`, destinations: [ALICE, BOB] }), 201);
  expectStatus(await acme.post(`/api/subscriptions/${a.subscriptionId}/aliases`, { address: `fwd@${ACME}`, destinations: ['friend@remote.test'] }), 201);
  expectStatus(
    await acme.post(`/api/subscriptions/${a.subscriptionId}/lists`, {
      address: `news@${ACME}`,
      postingPolicy: 'anyone',
      members: [ALICE, 'carol@remote.test'],
    }),
    201,
  );
});

after(async () => {
  await service?.close();
  await remote?.close();
});

let serial = 0;

function messageOf(from: string, to: string, messageId: string): string {
  return `From: <${from}>\r\nTo: <${to}>\r\nSubject: Trace ${++serial}\r\nMessage-ID: <${messageId}>\r\n\r\nHello.\r\n`;
}

/** One transaction through the MX from outside; the end-of-DATA reply. */
async function sendThroughMx(sender: string, recipients: string[], messageId: string): Promise<string> {
  const smtp = await RawSmtp.open(service.mxPort as number);
  try {
    await smtp.command('EHLO client.remote.test');
    assert.match(await smtp.command(`MAIL FROM:<${sender}>`), /^250 /);
    for (const r of recipients) assert.match(await smtp.command(`RCPT TO:<${r}>`), /^250 /, r);
    assert.match(await smtp.command('DATA'), /^354 /);
    return await smtp.command(`${messageOf(sender, recipients[0] as string, messageId)}.`);
  } finally {
    smtp.close();
  }
}

async function submit(from: string, to: string[], messageId: string): Promise<void> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: service.submissionPort,
    requireTLS: true,
    tls: { ca: service.tlsCert, servername: 'localhost' },
    auth: { user: from, pass: PASSWORD },
  });
  try {
    await transport.sendMail({ envelope: { from, to }, raw: messageOf(from, to[0] as string, messageId) });
  } finally {
    transport.close();
  }
}

async function trace(client: ApiClient, query: { address?: string; messageId?: string }): Promise<Step[]> {
  const reply = await client.get(`/api/trace?${new URLSearchParams(query)}`);
  expectStatus(reply, 200);
  return reply.body.items;
}

/** "step recipient" pairs, sorted, for comparisons that do not depend on timing. */
function stepsOf(items: Step[]): string[] {
  return items.map((i) => `${i.step} ${i.recipient ?? '-'}`).sort();
}

test('R-M6 submission to local accounts: found by Message-ID and by address; each customer sees only its own domains', async () => {
  const id = `submit-${Date.now()}@${ACME}`;
  await submit(ALICE, [BOB, ZOE], id);
  const all = await trace(operator, { messageId: id });
  assert.deepEqual(stepsOf(all), ['received -', `stored ${BOB}`, `stored ${ZOE}`, 'verdict -']);
  assert.ok(all.every((s) => s.messageId === id && s.sender === ALICE));
  assert.deepEqual(stepsOf(await trace(acme, { messageId: id })), ['received -', `stored ${BOB}`, 'verdict -'], "Acme's rows: its sender's and its account's");
  assert.deepEqual(stepsOf(await trace(other, { messageId: id })), [`stored ${ZOE}`], "the other customer sees its account's copy only");
  assert.ok(stepsOf(await trace(acme, { address: BOB })).includes(`stored ${BOB}`), 'by the recipient address');
  assert.ok(stepsOf(await trace(acme, { address: ALICE })).includes('received -'), 'by the sender address');
  assert.deepEqual(await trace(other, { address: BOB }), [], "not Acme's mail");
});

test('R-M6 an alias: the alias address and each account it expands to, by address and by Message-ID', async () => {
  const id = `alias-${Date.now()}@remote.test`;
  assert.match(await sendThroughMx('someone@remote.test', [`team@${ACME}`], id), /^250 /);
  const byAlias = await trace(acme, { address: `team@${ACME}` });
  const steps = stepsOf(byAlias.filter((s) => s.messageId === id));
  for (const expected of [`expanded team@${ACME}`, `stored ${ALICE}`, `stored ${BOB}`, `received ${ALICE}`, `received ${BOB}`]) {
    assert.ok(steps.includes(expected), `${expected} in ${steps.join(', ')}`);
  }
  const expanded = byAlias.find((s) => s.step === 'expanded');
  assert.ok(expanded, 'the expanded step');
  assert.deepEqual((expanded.detail.to as string[]).sort(), [ALICE, BOB]);
  assert.deepEqual(stepsOf(await trace(acme, { messageId: id })), steps);
  assert.deepEqual(await trace(other, { messageId: id }), []);
});

test('R-M6 a forward and a list: queued and delivered steps of the remote copies carry the Message-ID, found by every address', async () => {
  const id = `fan-${Date.now()}@remote.test`;
  assert.match(await sendThroughMx('someone@remote.test', [`fwd@${ACME}`, `news@${ACME}`], id), /^250 /);
  await runDeliveryOnce(service.ctx);
  const steps = await trace(operator, { messageId: id });
  const names = stepsOf(steps);
  for (const expected of [
    `expanded fwd@${ACME}`,
    `expanded news@${ACME}`,
    'queued friend@remote.test',
    'delivered friend@remote.test',
    'queued carol@remote.test',
    'delivered carol@remote.test',
    `stored ${ALICE}`,
  ]) {
    assert.ok(names.includes(expected), `${expected} in ${names.join(', ')}`);
  }
  const queuedForward = steps.find((s) => s.step === 'queued' && s.recipient === 'friend@remote.test');
  assert.equal(queuedForward?.detail.via, `fwd@${ACME}`);
  assert.match(queuedForward?.sender ?? '', /^srs0=/, 'the forward leaves with its SRS sender');
  const queuedList = steps.find((s) => s.step === 'queued' && s.recipient === 'carol@remote.test');
  assert.match(queuedList?.sender ?? '', new RegExp(`^news\\+bounces-[a-z2-7]{16}@${ACME.replace('.', '\\.')}$`), "the list's bounce address");
  // By each address: the forward, the list, the member outside, the alias's destination.
  for (const address of [`fwd@${ACME}`, 'friend@remote.test', `news@${ACME}`, 'carol@remote.test']) {
    const found = stepsOf((await trace(acme, { address })).filter((s) => s.messageId === id));
    assert.ok(
      found.some((s) => s.startsWith('delivered ')),
      `${address}: ${found.join(', ')}`,
    );
  }
  assert.deepEqual(await trace(other, { messageId: id }), []);
});

test('R-M6 remote deliveries deferred then bounced are traced with their Message-ID; the DSN reaches the sender', async () => {
  const id = `remote-${Date.now()}@${ACME}`;
  remote.refuse.set('later@remote.test', 451);
  remote.refuse.set('gone@remote.test', 550);
  await submit(ALICE, ['later@remote.test', 'gone@remote.test'], id);
  await runDeliveryOnce(service.ctx);
  remote.refuse.delete('later@remote.test');
  service.clock.advance(60 * 60_000);
  await runDeliveryOnce(service.ctx);
  const steps = await trace(acme, { messageId: id });
  const names = stepsOf(steps);
  for (const expected of [
    'received -',
    'queued later@remote.test',
    'deferred later@remote.test',
    'delivered later@remote.test',
    'queued gone@remote.test',
    'bounced gone@remote.test',
  ]) {
    assert.ok(names.includes(expected), `${expected} in ${names.join(', ')}`);
  }
  assert.ok(
    steps.every((s) => s.messageId === id),
    'every step has the Message-ID',
  );
  assert.equal(steps.find((s) => s.step === 'bounced')?.detail.dsn, true);
  assert.ok(stepsOf(await trace(acme, { address: 'gone@remote.test' })).includes('bounced gone@remote.test'));
  assert.deepEqual(await trace(other, { address: 'gone@remote.test' }), [], "another customer sees nothing of Acme's deliveries");
});
