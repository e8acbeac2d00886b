/**
 * Operations (R-T5) over HTTP: the journal (who, what, when, parameters, result, duration, with
 * secrets kept out), the per-subscription serialisation of changes while a long operation runs
 * (409 `operation-running` naming it, nothing changed, other subscriptions unaffected), and crashes
 * mid-operation: in-process (lease expiry, recovery) and with a real `facteur serve` killed by SIGKILL.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { dkimSelector } from '../src/dns/index.ts';
import { recoverInterruptedOperations, startOperation } from '../src/operations/index.ts';
import { ApiClient, type CustomerSetup, operatorClient, type Reply, setupCustomer, waitForOperation } from './helpers/client.ts';

/** An operation as the API shows it (JSON). */
type Op = Reply['body'];

import { startTestService, type TestService } from './helpers/service.ts';

let service: TestService;
let operator: ApiClient;
let alpha: CustomerSetup;
let alphaAdminId: string;
/** A second subscription of the same customer. */
let otherSubscriptionId: string;
const DOMAIN = 'journal.example';

before(async () => {
  service = await startTestService();
  operator = await operatorClient(service);
  alpha = await setupCustomer(service, operator, 'Alphajournal', { basic: 10, standard: 1 });
  alphaAdminId = (await alpha.admin.get('/api/me')).body.login.id;
  await addDomain(alpha.admin, alpha.subscriptionId, DOMAIN);
  const other = await operator.post('/api/subscriptions', { customerId: alpha.customerId, licences: { basic: 2 }, months: 12 });
  assert.equal(other.status, 201, JSON.stringify(other.body));
  otherSubscriptionId = other.body.id;
});
after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await service.close();
});

async function addDomain(client: ApiClient, subscriptionId: string, name: string): Promise<Op> {
  const started = await client.post(`/api/subscriptions/${subscriptionId}/domains`, { name });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const op = await waitForOperation(client, started.body.id);
  assert.equal(op.status, 'succeeded', JSON.stringify(op));
  return op;
}

/** Makes every DNS lookup of a domain's records go unanswered, so checking it takes about a second. */
function slowDns(domain: string, now: number): void {
  const selector = dkimSelector(service.ctx.config.dns.dkimSelectorPrefix, now);
  for (const name of [domain, `_dmarc.${domain}`, `${selector}._domainkey.${domain}`]) service.dns.unanswered.add(name);
}

async function journal(client: ApiClient, query = ''): Promise<Op[]> {
  const reply = await client.get(`/api/operations?limit=500${query}`);
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body.items;
}

function assertBusy(reply: Reply, running: { id: string; kind: string }, what: string): void {
  assert.equal(reply.status, 409, `${what}: ${reply.status} ${JSON.stringify(reply.body)}`);
  assert.equal(reply.body.code, 'operation-running', what);
  assert.equal(reply.body.details?.operation?.id, running.id, `${what}: names the running operation`);
  assert.equal(reply.body.details.operation.kind, running.kind);
  assert.equal(typeof reply.body.details.operation.progress, 'number', 'and its progress');
  assert.ok(reply.body.detail.includes(running.kind), `a clear message: ${reply.body.detail}`);
}

// ---------------------------------------------------------------------------------------------

test('R-T5 every change is in the journal: actor, kind, params, status, timestamps, duration', async () => {
  const admin = alpha.admin;
  const S = alpha.subscriptionId;
  const done: [string, number][] = [];
  const call = async (kind: string, method: string, url: string, body: unknown, status: number) => {
    const reply = await admin.request(method, url, body);
    assert.equal(reply.status, status, `${kind}: ${JSON.stringify(reply.body)}`);
    done.push([kind, status]);
    return reply.body;
  };
  await call('customer.update', 'PATCH', `/api/customers/${alpha.customerId}`, { phone: '+33 1 23 45 67 89' }, 200);
  await call('label.add', 'POST', `/api/subscriptions/${S}/labels`, { name: 'production', color: '#00aa00' }, 201);
  const alice = await call(
    'account.create',
    'POST',
    `/api/subscriptions/${S}/accounts`,
    { address: `alice@${DOMAIN}`, classId: 'basic', password: 'alice-first-pass' },
    201,
  );
  await call('account.update', 'PATCH', `/api/accounts/${alice.id}`, { password: 'alice-second-pass', displayName: 'Alice' }, 200);
  await call('alias.create', 'POST', `/api/subscriptions/${S}/aliases`, { address: `hello@${DOMAIN}`, destinations: [`alice@${DOMAIN}`] }, 201);
  await call('list.create', 'POST', `/api/subscriptions/${S}/lists`, { address: `all@${DOMAIN}`, members: [`alice@${DOMAIN}`] }, 201);
  await call('subscription.billing-cycle', 'POST', `/api/subscriptions/${S}/billing-cycle`, { billingCycle: 'quarterly' }, 200);
  const domains = (await admin.get(`/api/domains?subscriptionId=${S}`)).body.items;
  await call('domain.contacts', 'PUT', `/api/domains/${domains[0].id}/contacts`, { technical: { name: 'Tech', email: 'tech@alphajournal.test' } }, 200);
  await call('token.create', 'POST', `/api/customers/${alpha.customerId}/tokens`, { name: 'journal-ci' }, 201);
  await call(
    'customer.admin.create',
    'POST',
    `/api/customers/${alpha.customerId}/admins`,
    { email: 'second@alphajournal.test', password: 'second-admin-pass' },
    201,
  );
  await call(
    'account.create',
    'POST',
    `/api/subscriptions/${S}/accounts`,
    { address: `stan@${DOMAIN}`, classId: 'standard', password: 'stan-password-1' },
    201,
  );
  // A refused change is recorded too, as failed with its reason.
  const refused = await admin.post(`/api/subscriptions/${S}/accounts`, { address: `extra@${DOMAIN}`, classId: 'standard', password: 'extra-password-1' });
  assert.equal(refused.status, 409);
  assert.equal(refused.body.code, 'licences-exhausted');

  const items = await journal(admin);
  for (const [kind] of done) {
    const op = items.find((o) => o.kind === kind && o.status === 'succeeded');
    assert.ok(op, `${kind} is in the journal`);
    assert.deepEqual(op.actor, { role: 'customer_admin', id: alphaAdminId }, `${kind}: who`);
    assert.equal(op.customerId, alpha.customerId);
    assert.ok(!Number.isNaN(Date.parse(op.createdAt)), `${kind}: when`);
    assert.ok(Date.parse(op.finishedAt) >= Date.parse(op.createdAt));
    assert.equal(typeof op.durationMs, 'number');
    assert.ok(op.durationMs >= 0);
    assert.equal(op.progress, 100);
    assert.equal(typeof op.params, 'object');
    assert.equal(op.error, null);
  }
  const byKind = (kind: string, match: (o: Op) => boolean = () => true) => items.find((o) => o.kind === kind && match(o));
  assert.equal(byKind('label.add')?.subscriptionId, S, 'changes inside a subscription name it');
  assert.equal(byKind('subscription.billing-cycle')?.params.billingCycle, 'quarterly', 'what was asked');
  const created = byKind('account.create', (o) => o.params.address === `alice@${DOMAIN}`);
  assert.equal(created?.params.password, '[redacted]', 'passwords are redacted');
  assert.equal(created?.result?.account?.id ?? created?.result?.id, alice.id, 'the result is recorded');
  assert.equal(byKind('account.update')?.params.password, '[redacted]');
  assert.equal(byKind('customer.admin.create')?.params.password, '[redacted]');
  const failed = byKind('account.create', (o) => o.status === 'failed');
  assert.ok(failed, 'the refused change is recorded');
  assert.equal(failed.error.code, 'licences-exhausted');
  assert.ok(failed.finishedAt && failed.durationMs >= 0);

  // The operator's own changes carry the operator as actor; the customer sees those on its data.
  const operatorId = (await operator.get('/api/me')).body.login.id;
  const subscriptionCreate = (await journal(operator)).find((o) => o.kind === 'subscription.create' && o.customerId === alpha.customerId);
  assert.deepEqual(subscriptionCreate?.actor, { role: 'operator', id: operatorId });
  assert.ok(
    (await journal(admin)).some((o) => o.kind === 'subscription.create'),
    'the customer sees what the operator did to its subscriptions',
  );
  assert.ok(!(await journal(admin)).some((o) => o.kind === 'customer.create'), 'but not operations outside its customer');
  // Filters.
  const filtered = await journal(admin, `&subscriptionId=${S}&status=failed`);
  assert.ok(filtered.length > 0 && filtered.every((o) => o.subscriptionId === S && o.status === 'failed'));
  const one = await admin.get(`/api/operations/${created.id}`);
  assert.equal(one.status, 200);
  assert.deepEqual(one.body, created);
});

test('R-T5 the journal never holds a password or a secret, neither in params nor in results', async () => {
  const admin = alpha.admin;
  const S = alpha.subscriptionId;
  const secrets: string[] = [];
  const given = 'given-password-XYZ';
  secrets.push(given);
  const account = await admin.post(`/api/subscriptions/${S}/accounts`, { address: `given@${DOMAIN}`, classId: 'basic', password: given });
  assert.equal(account.status, 201);
  const generated = await admin.post(`/api/subscriptions/${S}/accounts`, { address: `generated@${DOMAIN}`, classId: 'basic' });
  assert.equal(generated.status, 201);
  assert.ok(generated.body.generatedPassword, 'a generated password is shown to the caller once');
  secrets.push(generated.body.generatedPassword);
  const changed = await admin.patch(`/api/accounts/${account.body.id}`, { password: 'changed-password-XYZ' });
  assert.equal(changed.status, 200);
  secrets.push('changed-password-XYZ');
  const adminGenerated = await admin.post(`/api/customers/${alpha.customerId}/admins`, { email: 'generated-admin@alphajournal.test' });
  assert.equal(adminGenerated.status, 201);
  assert.ok(adminGenerated.body.generatedPassword);
  secrets.push(adminGenerated.body.generatedPassword);
  const token = await admin.post(`/api/customers/${alpha.customerId}/tokens`, { name: 'secret-check' });
  assert.equal(token.status, 201);
  secrets.push(token.body.token, token.body.token.slice(4));

  const views = [JSON.stringify(await journal(admin)), JSON.stringify(await journal(operator))];
  const rows = await service.ctx.db.selectFrom('operations').select(['params', 'result', 'error']).execute();
  views.push(JSON.stringify(rows));
  for (const view of views) {
    for (const secret of secrets) assert.ok(!view.includes(secret), `the journal holds a secret (${secret.slice(0, 6)}…)`);
    assert.ok(!view.includes('$argon2'), 'nor password hashes');
  }
  // The token still works: redaction is the journal's, not the token's.
  const bot = Object.assign(new ApiClient(service.url, service.clock), { token: token.body.token });
  assert.equal((await bot.get(`/api/subscriptions/${S}`)).status, 200);
});

test('R-T5 while a long operation runs, conflicting changes on its subscription get 409 naming it; others go through', async () => {
  const admin = alpha.admin;
  const S = alpha.subscriptionId;
  const slow = 'slow-checks.example';
  slowDns(slow, service.clock.now());
  const labelsBefore = (await admin.get(`/api/subscriptions/${S}`)).body.labels;
  const alice = (await admin.get(`/api/accounts/alice@${DOMAIN}`)).body;

  const startedAt = Date.now();
  const started = await admin.post(`/api/subscriptions/${S}/domains`, { name: slow });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  assert.equal(started.body.status, 'running');
  assert.equal(started.headers.get('location'), `/api/operations/${started.body.id}`);
  const running = { id: started.body.id as string, kind: 'domain.add' };

  // Conflicting changes on the same subscription, from the customer and from the operator, all at
  // once (so that the second or so the slow DNS gives is plenty), and changes to another subscription.
  const conflicting: [string, Promise<Reply>][] = [
    ['account create', admin.post(`/api/subscriptions/${S}/accounts`, { address: `bob@${DOMAIN}`, classId: 'basic', password: 'bob-password-1' })],
    ['another domain add', admin.post(`/api/subscriptions/${S}/domains`, { name: 'second-domain.example' })],
    ['cancel', admin.post(`/api/subscriptions/${S}/cancel`)],
    ['cancel by the operator', operator.post(`/api/subscriptions/${S}/cancel`)],
    ['label', admin.post(`/api/subscriptions/${S}/labels`, { name: 'during' })],
    ['account update', admin.patch(`/api/accounts/${alice.id}`, { displayName: 'Changed during' })],
    ['reclass', admin.post(`/api/subscriptions/${S}/accounts/reclass`, { toClassId: 'basic', fromClassId: 'standard' })],
    ['licences', operator.put(`/api/subscriptions/${S}/licences`, { licences: { basic: 50, standard: 1 } })],
  ];
  const [elsewhere, cycle, ...replies] = await Promise.all([
    admin.post(`/api/subscriptions/${otherSubscriptionId}/labels`, { name: 'meanwhile' }),
    admin.post(`/api/subscriptions/${otherSubscriptionId}/billing-cycle`, { billingCycle: 'yearly' }),
    ...conflicting.map(([, reply]) => reply),
  ]);
  for (const [i, [what]] of conflicting.entries()) assertBusy(replies[i] as Reply, running, what);
  // Another subscription is not held up.
  assert.equal(elsewhere?.status, 201, JSON.stringify(elsewhere?.body));
  assert.equal(cycle?.status, 200, JSON.stringify(cycle?.body));
  // Reading is never blocked, and the progress is visible.
  let progress = await admin.get(`/api/operations/${running.id}`);
  while (progress.body.status === 'running' && progress.body.progressMessage === null) progress = await admin.get(`/api/operations/${running.id}`);
  assert.equal(progress.status, 200);
  assert.equal(progress.body.status, 'running', `all of the above must have happened while the operation ran (${Date.now() - startedAt} ms)`);
  assert.ok(progress.body.progress > 0 && progress.body.progress < 100, `progress ${progress.body.progress}`);
  assert.equal(typeof progress.body.progressMessage, 'string');
  assert.equal((await admin.get(`/api/subscriptions/${S}`)).status, 200);

  // Nothing changed.
  const details = (await admin.get(`/api/subscriptions/${S}`)).body;
  assert.deepEqual(details.labels, labelsBefore);
  assert.equal(details.cancelAtPeriodEnd, false);
  assert.ok(!details.domains.some((d: { name: string }) => d.name === 'second-domain.example'));
  assert.equal((await admin.get(`/api/accounts/bob@${DOMAIN}`)).status, 404);
  assert.equal((await admin.get(`/api/accounts/${alice.id}`)).body.displayName, alice.displayName);
  assert.deepEqual(
    details.licences.map((l: { classId: string; quantity: number }) => [l.classId, l.quantity]),
    [
      ['basic', 10],
      ['standard', 1],
    ],
  );
  // The refusals are in the journal, each naming why.
  const refusals = (await journal(admin, `&subscriptionId=${S}&status=failed`)).filter((o) => o.error?.code === 'operation-running');
  assert.ok(refusals.length >= 8, `refusals recorded: ${refusals.length}`);

  const finished = await waitForOperation(admin, running.id);
  assert.equal(finished.status, 'succeeded', JSON.stringify(finished));
  assert.ok(Date.now() - startedAt >= 500, 'the slow DNS made the operation long');
  assert.equal(finished.result.name, slow);

  // Once it has finished, the same changes are accepted.
  const bob = await admin.post(`/api/subscriptions/${S}/accounts`, { address: `bob@${DOMAIN}`, classId: 'basic', password: 'bob-password-1' });
  assert.equal(bob.status, 201, JSON.stringify(bob.body));
  await addDomain(admin, S, 'second-domain.example');
  const cancel = await admin.post(`/api/subscriptions/${S}/cancel`);
  assert.equal(cancel.status, 202, JSON.stringify(cancel.body));
  assert.equal((await waitForOperation(admin, cancel.body.id)).status, 'succeeded');
  const resumed = await admin.post(`/api/subscriptions/${S}/resume`);
  assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
});

test('R-T5 an operation whose process died is failed (interrupted) once its lease runs out, and the subscription is free again', async () => {
  const S = otherSubscriptionId;
  const leaseMs = service.ctx.config.operations.leaseSeconds * 1000;
  const releases: (() => void)[] = [];
  const hang = () =>
    startOperation(
      service.ctx,
      { kind: 'test.hang', actor: { role: 'operator', id: 'test', via: 'cli' }, customerId: alpha.customerId, subscriptionId: S, params: {} },
      () => new Promise<void>((resolve) => releases.push(resolve)),
    );
  try {
    // Recovery at start-up (recoverInterruptedOperations) after the lease has run out.
    const first = await hang();
    assertBusy(await alpha.admin.post(`/api/subscriptions/${S}/labels`, { name: 'blocked' }), { id: first.id, kind: 'test.hang' }, 'label while hanging');
    assert.equal(await recoverInterruptedOperations(service.ctx), 0, 'a live lease is left alone');
    service.clock.advance(leaseMs + 1_000);
    assert.ok((await recoverInterruptedOperations(service.ctx)) >= 1);
    const failed = (await alpha.admin.get(`/api/operations/${first.id}`)).body;
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error.code, 'interrupted');
    assert.ok(failed.finishedAt);
    const locks = await service.ctx.db.selectFrom('operation_locks').selectAll().where('subscription_id', '=', S).execute();
    assert.deepEqual(locks, [], 'not locked forever');
    assert.equal((await alpha.admin.post(`/api/subscriptions/${S}/labels`, { name: 'after-recovery' })).status, 201);

    // Or a new change takes over the expired lock by itself.
    const second = await hang();
    assertBusy(await alpha.admin.post(`/api/subscriptions/${S}/labels`, { name: 'blocked' }), { id: second.id, kind: 'test.hang' }, 'label while hanging');
    service.clock.advance(leaseMs + 1_000);
    const takeover = await alpha.admin.post(`/api/subscriptions/${S}/labels`, { name: 'after-takeover' });
    assert.equal(takeover.status, 201, JSON.stringify(takeover.body));
    const interrupted = (await alpha.admin.get(`/api/operations/${second.id}`)).body;
    assert.equal(interrupted.status, 'failed');
    assert.equal(interrupted.error.code, 'interrupted');
  } finally {
    for (const release of releases) release();
  }
});

// ---------------------------------------------------------------------------------------------
// A real process killed mid-operation

const children: ChildProcess[] = [];
const repoRoot = path.resolve(import.meta.dirname, '..');

/** `facteur serve` on the test service's data, web only, with a 5-second operation lease. */
async function spawnService(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin/facteur.js'), 'serve'], {
    cwd: service.dataDir,
    env: {
      ...process.env,
      ...service.env,
      FACTEUR_HTTP_PORT: '0',
      FACTEUR_ROLES: 'web',
      FACTEUR_LISTEN_HOST: '127.0.0.1',
      FACTEUR_OPERATION_LEASE_SECONDS: '5',
      FACTEUR_OPERATOR_EMAIL: '',
      FACTEUR_OPERATOR_PASSWORD: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`facteur serve did not start:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /API:\s+(http:\/\/\S+)\/api\b/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`facteur serve exited (${code ?? signal}):\n${output}`));
    });
  });
  return { child, url };
}

/** Stops a child with `signal` (SIGKILL after 5 s) and waits for its exit. */
async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('R-T5 a service killed (SIGKILL) mid-operation: the operation ends failed, the subscription is not locked forever', { timeout: 60_000 }, async () => {
  const subscription = await operator.post('/api/subscriptions', { customerId: alpha.customerId, licences: { basic: 1 }, months: 12 });
  assert.equal(subscription.status, 201);
  const S = subscription.body.id as string;
  const token = (await alpha.admin.post(`/api/customers/${alpha.customerId}/tokens`, { name: 'crash-test' })).body.token as string;
  const [doomed, survivor] = await Promise.all([spawnService(), spawnService()]);
  const viaDoomed = Object.assign(new ApiClient(doomed.url), { token });
  const viaSurvivor = Object.assign(new ApiClient(survivor.url), { token });

  const name = 'crash.example';
  slowDns(name, Date.now());
  slowDns(name, service.clock.now());
  const started = await viaDoomed.post(`/api/subscriptions/${S}/domains`, { name });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const opId = started.body.id as string;
  await until(() => service.dns.queries.some((q) => q.name.endsWith(name)), 'the DNS check to begin');

  await stopChild(doomed.child, 'SIGKILL');
  assert.equal(doomed.child.signalCode, 'SIGKILL');

  const row = await service.ctx.db.selectFrom('operations').selectAll().where('id', '=', opId).executeTakeFirstOrThrow();
  assert.equal(row.status, 'running', 'the dead process could not record anything');
  const lock = await service.ctx.db.selectFrom('operation_locks').selectAll().where('subscription_id', '=', S).executeTakeFirst();
  assert.equal(lock?.operation_id, opId);

  // While its lease runs, the other process still refuses conflicting changes…
  assertBusy(await viaSurvivor.post(`/api/subscriptions/${S}/labels`, { name: 'too-early' }), { id: opId, kind: 'domain.add' }, 'label right after the crash');
  // …and once it has run out, the subscription is free again and the operation is marked failed.
  await until(() => service.processNow() > (lock?.lease_until ?? 0) + 100, 'the lease to run out', 10_000);
  // The survivor's clock started a moment after the test read its own (the spawn): asked again until it agrees.
  let label = await viaSurvivor.post(`/api/subscriptions/${S}/labels`, { name: 'after-crash' });
  for (const deadline = Date.now() + 5_000; label.status === 409 && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    label = await viaSurvivor.post(`/api/subscriptions/${S}/labels`, { name: 'after-crash' });
  }
  assert.equal(label.status, 201, JSON.stringify(label.body));
  const op = await viaSurvivor.get(`/api/operations/${opId}`);
  assert.equal(op.status, 200);
  assert.equal(op.body.status, 'failed');
  assert.equal(op.body.error.code, 'interrupted');
  assert.ok(op.body.finishedAt);
  assert.deepEqual(await service.ctx.db.selectFrom('operation_locks').selectAll().where('subscription_id', '=', S).execute(), []);

  await stopChild(survivor.child, 'SIGTERM');
});
