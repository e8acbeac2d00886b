/**
 * DKIM key rotation (issue 3: "keys generated when the domain is added, rotation supported"), as a
 * customer admin and the operator do it: rotate through the API or `facteur domain dkim`, publish the
 * new TXT record in the loopback DNS, and see signing switch only once the record is visible. Mail
 * is sent through submission with nodemailer and each signature is verified with mailauth through
 * the loopback DNS, before, during and after the rotation (RFC 6376 §3.6.2.1: the selector names the key).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { authenticate } from 'mailauth';
import nodemailer from 'nodemailer';
import { runDueJobs } from '../src/jobs/index.ts';
import { cliEnv, type Run, runFacteur } from './helpers/cli.ts';
import { type ApiClient, expectProblem, expectStatus, operatorClient, setupCustomer, waitForOperation } from './helpers/client.ts';
import { messagesOf } from './helpers/mail.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'rotation.test';
const ALICE = `alice@${DOMAIN}`;
const BOB = `bob@${DOMAIN}`;
const PASSWORD = 'alice-password-1';
const DAY_MS = 24 * 60 * 60_000;

let service: TestService;
let admin: ApiClient;
let operator: ApiClient;
let adminLogin: { email: string; password: string };

/** Moves the service's clock on; sessions (12 h) then need a new login. */
async function advance(ms: number): Promise<void> {
  service.clock.advance(ms);
  await admin.login(adminLogin.email, adminLogin.password);
  operator = await operatorClient(service);
}
let domainId: string;

interface DnsRecord {
  kind: string;
  host: string;
  value: string;
  rotation?: 'pending' | 'previous';
  selector?: string;
}

/** Publishes a TXT record as the customer would at their DNS host (strings of at most 255 bytes). */
function publish(record: DnsRecord): void {
  const chunks: string[] = [];
  for (let i = 0; i < record.value.length; i += 255) chunks.push(record.value.slice(i, i + 255));
  service.dns.set(record.host, 'TXT', [chunks]);
}

function recordOf(domain: { records: DnsRecord[] }, rotation: DnsRecord['rotation']): DnsRecord {
  const record = domain.records.find((r) => r.kind === 'dkim' && r.rotation === rotation);
  assert.ok(record, `a ${rotation ?? 'signing'} DKIM record in ${JSON.stringify(domain.records.map((r) => [r.kind, r.rotation]))}`);
  return record;
}

let sent = 0;

/** Sends through 587 as Alice and returns the message Bob received, with its signature checked through the loopback DNS. */
async function sendAndVerify(): Promise<{ selector: string; result: string; raw: string }> {
  const subject = `Rotation ${++sent}`;
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: service.submissionPort,
    requireTLS: true,
    tls: { ca: service.tlsCert, servername: 'localhost' },
    auth: { user: ALICE, pass: PASSWORD },
  });
  await transport.sendMail({ from: ALICE, to: BOB, subject, text: 'Signed with the key of the day' });
  transport.close();
  const message = (await messagesOf(service.ctx, BOB)).find((m) => m.raw.includes(`Subject: ${subject}\r\n`));
  assert.ok(message, 'delivered to Bob');
  return { ...(await verify(message.raw)), raw: message.raw };
}

async function verify(raw: string): Promise<{ selector: string; result: string }> {
  const auth = await authenticate(Buffer.from(raw, 'latin1'), {
    ip: '127.0.0.1',
    helo: 'client.test',
    sender: ALICE,
    mta: 'mx.elsewhere.test',
    resolver: service.ctx.resolver.mailauthResolver,
    disableBimi: true,
    disableArc: true,
  });
  const result = auth.dkim.results?.[0];
  return { selector: result?.selector ?? '', result: result?.status.result ?? 'none' };
}

before(async () => {
  service = await startTestService({ overrides: { roles: ['web', 'submission'], ports: { http: 0, submission: 0, submissions: 0 } } });
  operator = await operatorClient(service);
  const setup = await setupCustomer(service, operator, 'Rotation', { basic: 3 });
  admin = setup.admin;
  adminLogin = { email: setup.adminEmail, password: setup.adminPassword };
  const added = await admin.post(`/api/subscriptions/${setup.subscriptionId}/domains`, { name: DOMAIN });
  expectStatus(added, 202);
  domainId = (await waitForOperation(admin, added.body.id)).result.domainId;
  for (const address of [ALICE, BOB]) {
    expectStatus(await admin.post(`/api/subscriptions/${setup.subscriptionId}/accounts`, { address, classId: 'basic', password: PASSWORD }), 201);
  }
  // The customer publishes every record asked for, so the domain's check is all ok.
  const domain = (await admin.get(`/api/domains/${domainId}`)).body;
  const mx = domain.records
    .filter((r: DnsRecord) => r.kind === 'mx')
    .map((r: DnsRecord) => ({ priority: Number(r.value.split(' ')[0]), exchange: r.value.split(' ')[1] }));
  service.dns.set(DOMAIN, 'MX', mx);
  service.dns.set(DOMAIN, 'TXT', [[domain.records.find((r: DnsRecord) => r.kind === 'spf').value]]);
  service.dns.set(`_dmarc.${DOMAIN}`, 'TXT', [[domain.records.find((r: DnsRecord) => r.kind === 'dmarc').value]]);
  publish(recordOf(domain, undefined));
});
after(() => service?.close());

test('issue 3 DKIM rotation (RFC 6376 §3.6.2.1): the new key signs only once its record is in DNS, the old one stays listed for the grace period, then retires', async () => {
  const first = await sendAndVerify();
  const original = (await admin.get(`/api/domains/${domainId}`)).body;
  assert.deepEqual([first.selector, first.result], [original.dkim.selector, 'pass']);

  const rotated = await admin.post(`/api/domains/${domainId}/dkim/rotate`);
  expectStatus(rotated, 201);
  const pending = recordOf(rotated.body, 'pending');
  assert.equal(rotated.body.dkim.selector, original.dkim.selector, 'the current key still signs');
  assert.ok(rotated.body.dkim.pending.selector !== original.dkim.selector, 'a new selector');
  assert.equal(pending.host, `${rotated.body.dkim.pending.selector}._domainkey.${DOMAIN}`);
  assert.equal(pending.value, `v=DKIM1; k=rsa; p=${rotated.body.dkim.pending.publicKey}`);

  // One rotation at a time; activating a key nobody can look up is refused, in the caller's language.
  expectProblem(await admin.post(`/api/domains/${domainId}/dkim/rotate`), 409, 'dkim-rotation-pending');
  admin.language = 'fr';
  const early = await admin.post(`/api/domains/${domainId}/dkim/activate`);
  admin.language = 'en';
  expectProblem(early, 409, 'dkim-not-published');
  assert.match(early.body.detail, /n'est pas encore visible dans le DNS/);

  // Not published yet: a check leaves the domain working and the old key signing.
  const checked = await admin.post(`/api/domains/${domainId}/check`);
  expectStatus(checked, 200);
  assert.equal(checked.body.lastCheck.ok, true, 'the pending record is advice, not a failure');
  assert.equal(checked.body.lastCheck.records.find((r: DnsRecord) => r.rotation === 'pending').status, 'missing');
  const during = await sendAndVerify();
  assert.deepEqual([during.selector, during.result], [original.dkim.selector, 'pass']);

  // Published: the next check switches signing to the new key.
  publish(pending);
  const switched = await admin.post(`/api/domains/${domainId}/check`);
  expectStatus(switched, 200);
  assert.equal(switched.body.dkim.selector, rotated.body.dkim.pending.selector);
  assert.equal(switched.body.dkim.pending, null);
  assert.deepEqual(
    switched.body.dkim.previous.map((p: { selector: string }) => p.selector),
    [original.dkim.selector],
  );
  const previous = recordOf(switched.body, 'previous');
  assert.equal(previous.host, `${original.dkim.selector}._domainkey.${DOMAIN}`);
  assert.equal(Date.parse(switched.body.dkim.previous[0].retireAt), service.clock.now() + 7 * DAY_MS, 'dns.dkimGraceDays');
  assert.equal(switched.body.lastCheck.ok, true);

  const afterwards = await sendAndVerify();
  assert.deepEqual([afterwards.selector, afterwards.result], [rotated.body.dkim.pending.selector, 'pass'], 'signed with the new selector');
  assert.match(afterwards.raw, new RegExp(`s=${rotated.body.dkim.pending.selector};`));
  // A message signed before the switch, still in transit, verifies while the old record is published.
  assert.equal((await verify(during.raw)).result, 'pass');

  // Recorded like every domain change.
  const ops = (await admin.get('/api/operations?limit=50')).body.items.map((o: { kind: string; status: string }) => `${o.kind} ${o.status}`);
  assert.ok(ops.includes('domain.dkim.rotate succeeded'), ops.join(', '));
  assert.ok(ops.includes('domain.dkim.activate failed'), ops.join(', '));

  // After the grace period the job retires the old key: no longer listed.
  await advance(7 * DAY_MS + 60_000);
  const jobs = await runDueJobs(service.ctx);
  assert.deepEqual(jobs['dkim.rotate'], { activated: 0, retired: 1 });
  const retired = (await admin.get(`/api/domains/${domainId}`)).body;
  assert.deepEqual(retired.dkim.previous, []);
  assert.equal(retired.records.filter((r: DnsRecord) => r.kind === 'dkim').length, 1);
});

test('issue 3 DKIM rotation: the dkim.rotate job switches once the record appears; a rotation can be cancelled; another customer sees nothing', async () => {
  const before = (await admin.get(`/api/domains/${domainId}`)).body;
  const rotated = await admin.post(`/api/domains/${domainId}/dkim/rotate`);
  expectStatus(rotated, 201);
  const cancelled = await admin.delete(`/api/domains/${domainId}/dkim/pending`);
  expectStatus(cancelled, 200);
  assert.equal(cancelled.body.dkim.pending, null);
  assert.equal(cancelled.body.dkim.selector, before.dkim.selector);
  expectProblem(await admin.delete(`/api/domains/${domainId}/dkim/pending`), 404, 'no-dkim-rotation');

  const again = await admin.post(`/api/domains/${domainId}/dkim/rotate`);
  expectStatus(again, 201);
  assert.notEqual(again.body.dkim.pending.selector, rotated.body.dkim.pending.selector, 'a cancelled selector is not reused');
  publish(recordOf(again.body, 'pending'));
  await advance(11 * 60_000);
  const jobs = await runDueJobs(service.ctx);
  assert.deepEqual(jobs['dkim.rotate'], { activated: 1, retired: 0 });
  const signing = await sendAndVerify();
  assert.deepEqual([signing.selector, signing.result], [again.body.dkim.pending.selector, 'pass']);

  const other = await setupCustomer(service, operator, 'Autre', { basic: 1 });
  expectProblem(await other.admin.post(`/api/domains/${domainId}/dkim/rotate`), 404, 'not-found');
});

function facteur(args: string[]): Promise<Run> {
  return runFacteur(cliEnv(service), args);
}

test('issue 3 DKIM rotation from the CLI: facteur domain dkim rotate, then activate once the record is published', async () => {
  const rotate = await facteur(['domain', 'dkim', 'rotate', DOMAIN, '--json']);
  assert.equal(rotate.code, 0, rotate.stderr);
  const pending = recordOf(JSON.parse(rotate.stdout), 'pending');
  const early = await facteur(['domain', 'dkim', 'activate', DOMAIN]);
  assert.notEqual(early.code, 0);
  assert.match(early.stderr + early.stdout, /not visible in DNS yet|pas encore visible/);
  publish(pending);
  const activate = await facteur(['domain', 'dkim', 'activate', DOMAIN]);
  assert.equal(activate.code, 0, activate.stderr);
  assert.match(activate.stdout, new RegExp(`signing: ${pending.selector}\\b`));
  assert.match(activate.stdout, /previous: /);
  const signing = await sendAndVerify();
  assert.deepEqual([signing.selector, signing.result], [pending.selector, 'pass']);
  const ops = (await operator.get('/api/operations?limit=50')).body.items.map((o: { kind: string; status: string }) => `${o.kind} ${o.status}`);
  assert.ok(ops.includes('domain.dkim.activate succeeded'), ops.join(', '));
});
