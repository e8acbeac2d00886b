/**
 * The subscription's life (contract §8, SPEC R-T6) and its licences (R-T2), driven over HTTP as the
 * operator and a customer's script (API token) would, with time moved forward on the service's clock
 * and the renewal job run as the scheduler runs it. Tests run in order and share their subscriptions.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runDueJobs } from '../src/jobs/index.ts';
import { ApiClient, type CustomerSetup, expectProblem, expectStatus, operatorClient, type Reply, setupCustomer, waitForOperation } from './helpers/client.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let service: TestService;
let operator: ApiClient;
let setup: CustomerSetup;
/** The customer's automation: an API token, which outlives the portal sessions the clock jumps end. */
let script: ApiClient;
/** The subscription whose life is followed: created pending, activated, renewed, then cancelled. */
let lifeId: string;
let lifeDomain: string;
/** The subscription whose licences are counted, then terminated by the operator. */
let licencesId: string;

before(async () => {
  service = await startTestService();
  operator = await operatorClient(service);
  setup = await setupCustomer(service, operator, 'Durée SA', { basic: 1 });
  const token = await setup.admin.post(`/api/customers/${setup.customerId}/tokens`, { name: 'portal script' });
  assert.equal(token.status, 201, JSON.stringify(token.body));
  script = new ApiClient(service.url);
  script.token = token.body.token;
});
after(() => service.close());

/** Calendar months in UTC, written here independently of the service's own helper. */
function plusMonths(iso: string, months: number): string {
  const date = new Date(iso);
  const day = date.getUTCDate();
  date.setUTCDate(1);
  date.setUTCMonth(date.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
  date.setUTCDate(Math.min(day, lastDay));
  return date.toISOString();
}

/** Moves the service's time forward; portal sessions may have expired, so the operator logs in again. */
async function moveTo(epochMs: number): Promise<void> {
  assert.ok(epochMs >= service.clock.now(), 'time only moves forward');
  service.clock.set(epochMs);
  operator = await operatorClient(service);
}

async function subscription(id: string): Promise<any> {
  const reply = await script.get(`/api/subscriptions/${id}`);
  expectStatus(reply, 200);
  return reply.body;
}

/** The scheduler's run: every due job once; returns what the renewal job did. */
async function runRenewals(): Promise<{ renewed: number; ended: number }> {
  const results = await runDueJobs(service.ctx);
  const renewals = results['subscriptions.renew'] as { renewed: number; ended: number } | undefined;
  assert.ok(renewals, `the renewal job did not run: ${JSON.stringify(results)}`);
  return renewals;
}

async function addDomain(subscriptionId: string, name: string): Promise<string> {
  const started = await script.post(`/api/subscriptions/${subscriptionId}/domains`, { name });
  expectStatus(started, 202);
  const op = await waitForOperation(script, started.body.id);
  assert.equal(op.status, 'succeeded', JSON.stringify(op));
  return op.result.domainId;
}

async function createAccount(subscriptionId: string, address: string, classId: string, password = `pw-${address}-x1`): Promise<Reply> {
  return script.post(`/api/subscriptions/${subscriptionId}/accounts`, { address, classId, password });
}

async function accounts(subscriptionId: string): Promise<any[]> {
  const reply = await script.get(`/api/subscriptions/${subscriptionId}/accounts?limit=500`);
  expectStatus(reply, 200);
  return reply.body.items;
}

function usage(sub: any): [string, number, number, number][] {
  return sub.licences.map((l: any) => [l.classId, l.quantity, l.used, l.available]);
}

test('R-T6 a subscription starts on activation, not on creation', async () => {
  const created = await operator.post('/api/subscriptions', { customerId: setup.customerId, licences: { basic: 2, standard: 1 }, months: 1, activate: false });
  expectStatus(created, 201);
  lifeId = created.body.id;
  assert.equal(created.body.status, 'pending');
  assert.equal(created.body.periodMonths, 1);
  assert.equal(created.body.activatedAt, null);
  assert.equal(created.body.currentPeriodStart, null);
  assert.equal(created.body.currentPeriodEnd, null);
  // Pending subscriptions are never renewed nor ended by the job.
  await runRenewals();
  assert.equal((await subscription(lifeId)).status, 'pending');

  // Only the operator activates.
  expectProblem(await script.post(`/api/subscriptions/${lifeId}/activate`), 403, 'forbidden');
  expectProblem(await setup.admin.post(`/api/subscriptions/${lifeId}/activate`), 403, 'forbidden');

  // Days later, the operator activates it: the first period starts now.
  await moveTo(Date.parse('2027-01-15T09:00:00Z'));
  const now = new Date(service.clock.now()).toISOString();
  const activated = await operator.post(`/api/subscriptions/${lifeId}/activate`);
  expectStatus(activated, 200);
  assert.equal(activated.body.status, 'active');
  assert.equal(activated.body.activatedAt, now);
  assert.equal(activated.body.currentPeriodStart, now);
  assert.equal(activated.body.currentPeriodEnd, plusMonths(now, 1));
  assert.equal(activated.body.createdAt, created.body.createdAt);
  assert.ok(Date.parse(activated.body.createdAt) < Date.parse(now));
  expectProblem(await operator.post(`/api/subscriptions/${lifeId}/activate`), 409, 'already-activated');
  const shown = await subscription(lifeId);
  for (const [key, value] of Object.entries(activated.body)) assert.deepEqual(shown[key], value, key);
});

test('R-T6 the subscription renews automatically for a period of the same length; running the job twice renews once', async () => {
  const before = await subscription(lifeId);
  // One minute before the end, nothing is due.
  await moveTo(Date.parse(before.currentPeriodEnd) - 60_000);
  await runRenewals();
  assert.deepEqual(await subscription(lifeId), before);

  // Just after the end: a new period of one month, starting where the last one ended.
  await moveTo(Date.parse(before.currentPeriodEnd) + 60_000);
  const first = await runRenewals();
  assert.ok(first.renewed >= 1, JSON.stringify(first));
  const renewed = await subscription(lifeId);
  assert.equal(renewed.status, 'active');
  assert.equal(renewed.periodMonths, 1);
  assert.equal(renewed.currentPeriodStart, before.currentPeriodEnd);
  assert.equal(renewed.currentPeriodEnd, plusMonths(before.currentPeriodEnd, 1));
  assert.equal(renewed.activatedAt, before.activatedAt);
  assert.equal(renewed.cancelAtPeriodEnd, false);

  // The same run again (a second worker, a restart): nothing changes.
  assert.deepEqual(await runRenewals(), { renewed: 0, ended: 0 });
  assert.deepEqual(await subscription(lifeId), renewed);
});

test('R-T6 renewal for another duration applies at the next renewal, and periods then keep that length', async () => {
  const before = await subscription(lifeId);
  const chosen = await script.post(`/api/subscriptions/${lifeId}/renewal`, { months: 3 });
  expectStatus(chosen, 200);
  assert.equal(chosen.body.nextPeriodMonths, 3);
  // The current period is not touched.
  assert.equal(chosen.body.periodMonths, 1);
  assert.equal(chosen.body.currentPeriodStart, before.currentPeriodStart);
  assert.equal(chosen.body.currentPeriodEnd, before.currentPeriodEnd);
  expectProblem(await script.post(`/api/subscriptions/${lifeId}/renewal`, { months: 0 }), 400, 'invalid-field', 'months');
  assert.equal((await subscription(lifeId)).nextPeriodMonths, 3);

  await moveTo(Date.parse(before.currentPeriodEnd) + HOUR);
  await runRenewals();
  const renewed = await subscription(lifeId);
  assert.equal(renewed.periodMonths, 3);
  assert.equal(renewed.nextPeriodMonths, null);
  assert.equal(renewed.currentPeriodStart, before.currentPeriodEnd);
  assert.equal(renewed.currentPeriodEnd, plusMonths(before.currentPeriodEnd, 3));

  // The next renewal is for the same length as the period just ended: three months again.
  await moveTo(Date.parse(renewed.currentPeriodEnd) + HOUR);
  await runRenewals();
  const again = await subscription(lifeId);
  assert.equal(again.periodMonths, 3);
  assert.equal(again.currentPeriodStart, renewed.currentPeriodEnd);
  assert.equal(again.currentPeriodEnd, plusMonths(renewed.currentPeriodEnd, 3));
  assert.deepEqual(await runRenewals(), { renewed: 0, ended: 0 });
  assert.deepEqual(await subscription(lifeId), again);
});

test('R-T6 when the job has not run for several periods, one run catches up to the current period', async () => {
  const before = await subscription(lifeId);
  // Seven months after the end: the periods of 3 months are [end, +3), [+3, +6), [+6, +9): the last one is current.
  await moveTo(Date.parse(plusMonths(before.currentPeriodEnd, 7)));
  await runRenewals();
  const caughtUp = await subscription(lifeId);
  assert.equal(caughtUp.periodMonths, 3);
  assert.equal(caughtUp.currentPeriodStart, plusMonths(before.currentPeriodEnd, 6));
  assert.equal(caughtUp.currentPeriodEnd, plusMonths(before.currentPeriodEnd, 9));
  assert.ok(Date.parse(caughtUp.currentPeriodStart) <= service.clock.now());
  assert.ok(Date.parse(caughtUp.currentPeriodEnd) > service.clock.now());
  assert.deepEqual(await runRenewals(), { renewed: 0, ended: 0 });
  assert.deepEqual(await subscription(lifeId), caughtUp);
});

test('R-T6 R-B3 cancellation takes effect at the end of the current period: ended, accounts disabled, logins refused; the job is idempotent', async () => {
  lifeDomain = 'duree-exemple.test';
  await addDomain(lifeId, lifeDomain);
  const user = { email: `julie@${lifeDomain}`, password: 'julie-password-1' };
  const created = await createAccount(lifeId, user.email, 'basic', user.password);
  expectStatus(created, 201);
  const accountId = created.body.id;

  const started = await script.post(`/api/subscriptions/${lifeId}/cancel`);
  expectStatus(started, 202);
  const op = await waitForOperation(script, started.body.id);
  assert.equal(op.status, 'succeeded', JSON.stringify(op));
  const cancelled = await subscription(lifeId);
  assert.equal(cancelled.status, 'active');
  assert.equal(cancelled.cancelAtPeriodEnd, true);
  assert.equal(cancelled.cancelledAt, new Date(service.clock.now()).toISOString());
  assert.equal(cancelled.endedAt, null);

  // Until the end of the period the service runs: the job leaves it alone, the user works.
  await moveTo(Date.parse(cancelled.currentPeriodEnd) - HOUR);
  await runRenewals();
  assert.deepEqual(await subscription(lifeId), cancelled);
  const session = await new ApiClient(service.url, service.clock).login(user.email, user.password);
  const me = await session.get('/api/me');
  expectStatus(me, 200);
  assert.equal(me.body.account.id, accountId);
  expectStatus(await createAccount(lifeId, `marc@${lifeDomain}`, 'basic'), 201);

  // After the end: ended as of the end of the period (not as of the job's run), cancelled, no renewal.
  await moveTo(Date.parse(cancelled.currentPeriodEnd) + HOUR);
  const run = await runRenewals();
  assert.ok(run.ended >= 1, JSON.stringify(run));
  const ended = await subscription(lifeId);
  assert.equal(ended.status, 'ended');
  assert.equal(ended.endReason, 'cancelled');
  assert.equal(ended.endedAt, cancelled.currentPeriodEnd);
  assert.equal(ended.currentPeriodEnd, cancelled.currentPeriodEnd);
  assert.equal(ended.periodMonths, cancelled.periodMonths);

  // Every account is disabled: its contents are inaccessible at once, for open sessions too (R-B3).
  const all = await accounts(lifeId);
  assert.equal(all.length, 2);
  assert.deepEqual(
    all.map((a) => a.status),
    ['disabled', 'disabled'],
  );
  expectProblem(await session.get('/api/me'), 401, 'unauthenticated');
  expectProblem(await new ApiClient(service.url).post('/api/auth/login', user), 403, 'account-not-active');

  // Running the job again changes nothing.
  assert.deepEqual(await runRenewals(), { renewed: 0, ended: 0 });
  assert.deepEqual(await subscription(lifeId), ended);
  assert.deepEqual(await accounts(lifeId), all);

  // An ended subscription takes no more changes.
  expectProblem(await createAccount(lifeId, `paul@${lifeDomain}`, 'basic'), 409, 'subscription-ended');
  expectProblem(await script.post(`/api/subscriptions/${lifeId}/renewal`, { months: 1 }), 409, 'subscription-not-active');
  expectProblem(await script.post(`/api/subscriptions/${lifeId}/resume`), 409, 'subscription-not-active');
  expectProblem(await script.patch(`/api/accounts/${accountId}`, { status: 'active' }), 409, 'subscription-ended');
  const cancelAgain = await script.post(`/api/subscriptions/${lifeId}/cancel`);
  expectStatus(cancelAgain, 202);
  const refused = await waitForOperation(script, cancelAgain.body.id);
  assert.equal(refused.status, 'failed');
  assert.equal(refused.error.code, 'subscription-not-active');
  // The operator cannot end it a second time either (the end date drives the retention of R-B3).
  expectProblem(await operator.post(`/api/subscriptions/${lifeId}/terminate`), 409, 'subscription-not-active');
  assert.deepEqual(await subscription(lifeId), ended);
  assert.equal(await accounts(lifeId).then((a) => a.length), 2);
});

test('R-T2 creating an account beyond the licences of its class fails with licences-exhausted and creates nothing', async () => {
  const created = await operator.post('/api/subscriptions', { customerId: setup.customerId, licences: { basic: 2, standard: 1 }, months: 12 });
  expectStatus(created, 201);
  licencesId = created.body.id;
  const domain = 'licences-exemple.test';
  await addDomain(licencesId, domain);
  expectStatus(await createAccount(licencesId, `a1@${domain}`, 'basic'), 201);
  expectStatus(await createAccount(licencesId, `a2@${domain}`, 'basic'), 201);
  const before = await subscription(licencesId);
  assert.deepEqual(usage(before), [
    ['basic', 2, 2, 0],
    ['standard', 1, 0, 1],
  ]);

  const refused = await createAccount(licencesId, `a3@${domain}`, 'basic', 'a3-password-1');
  expectProblem(refused, 409, 'licences-exhausted', 'classId');
  assert.match(refused.body.detail, /basic/);
  assert.deepEqual(refused.body.details, { classId: 'basic', quantity: 2, used: 2 });
  // The French text for a French reader.
  script.language = 'fr';
  const refusedFr = await createAccount(licencesId, `a3@${domain}`, 'basic', 'a3-password-1');
  script.language = 'en';
  expectProblem(refusedFr, 409, 'licences-exhausted', 'classId');
  assert.match(refusedFr.body.detail, /licences/);
  assert.notEqual(refusedFr.body.detail, refused.body.detail);
  // A class outside the subscription has no licence at all: said so, with the classes it has (not "all 0 licences are in use").
  const outside = await createAccount(licencesId, `a3@${domain}`, 'premium', 'a3-password-1');
  expectProblem(outside, 409, 'class-not-in-subscription', 'classId');
  assert.match(outside.body.detail, /no licence of class premium: choose one of its classes \(basic, standard\)/);
  assert.deepEqual(outside.body.details, { classId: 'premium', classes: ['basic', 'standard'] });

  // Nothing was created: same accounts, same counts, no login for the address.
  assert.deepEqual(
    (await accounts(licencesId)).map((a) => a.address),
    [`a1@${domain}`, `a2@${domain}`],
  );
  assert.deepEqual(usage(await subscription(licencesId)), usage(before));
  expectProblem(await new ApiClient(service.url).post('/api/auth/login', { email: `a3@${domain}`, password: 'a3-password-1' }), 401, 'invalid-credentials');
  expectProblem(await script.get(`/api/accounts/a3@${domain}`), 404, 'not-found');

  // The address is still free: a later valid use takes it.
  const later = await createAccount(licencesId, `a3@${domain}`, 'standard', 'a3-password-1');
  expectStatus(later, 201);
  assert.equal(later.body.classId, 'standard');
  assert.deepEqual(usage(await subscription(licencesId)), [
    ['basic', 2, 2, 0],
    ['standard', 1, 1, 0],
  ]);
  const failedOps = await script.get(`/api/operations?subscriptionId=${licencesId}&status=failed`);
  expectStatus(failedOps, 200);
  assert.ok(failedOps.body.items.some((o: any) => o.kind === 'account.create' && o.error.code === 'licences-exhausted'));
});

test('R-T2 re-classing beyond the licences of the target class fails and changes nothing', async () => {
  const before = await subscription(licencesId);
  const accountsBefore = await accounts(licencesId);
  const a1 = accountsBefore.find((a) => a.address.startsWith('a1@'));

  expectProblem(await script.patch(`/api/accounts/${a1.id}`, { classId: 'standard', displayName: 'Renamed' }), 409, 'licences-exhausted', 'classId');
  const stillA1 = await script.get(`/api/accounts/${a1.id}`);
  expectStatus(stillA1, 200);
  assert.equal(stillA1.body.classId, 'basic');
  assert.equal(stillA1.body.displayName, a1.displayName);

  // The bulk re-class (a background operation) is all or nothing.
  const started = await script.post(`/api/subscriptions/${licencesId}/accounts/reclass`, { fromClassId: 'basic', toClassId: 'standard' });
  expectStatus(started, 202);
  const op = await waitForOperation(script, started.body.id);
  assert.equal(op.status, 'failed');
  assert.equal(op.error.code, 'licences-exhausted');
  assert.deepEqual(await accounts(licencesId), accountsBefore);
  assert.deepEqual(usage(await subscription(licencesId)), usage(before));
});

test('R-T2 the operator cannot lower licences below their use; raising them lets concurrent creations take exactly the free ones', async () => {
  const before = await subscription(licencesId);
  // Only the operator sets licences.
  expectProblem(await script.put(`/api/subscriptions/${licencesId}/licences`, { licences: { basic: 5 } }), 403, 'forbidden');
  const lowered = await operator.put(`/api/subscriptions/${licencesId}/licences`, { licences: { basic: 1 } });
  expectProblem(lowered, 409, 'licences-in-use', 'licences.basic');
  assert.match(lowered.body.detail, /2/);
  // Refused as a whole: the valid part of the same request is not applied either.
  expectProblem(await operator.put(`/api/subscriptions/${licencesId}/licences`, { licences: { standard: 4, basic: 1 } }), 409, 'licences-in-use');
  assert.deepEqual(usage(await subscription(licencesId)), usage(before));

  // Down to exactly the use is fine; then more standard licences.
  const raised = await operator.put(`/api/subscriptions/${licencesId}/licences`, { licences: { basic: 2, standard: 4 } });
  expectStatus(raised, 200);
  assert.deepEqual(usage(raised.body), [
    ['basic', 2, 2, 0],
    ['standard', 4, 1, 3],
  ]);

  // Five concurrent creations for three free licences: exactly three succeed.
  const replies = await Promise.all([1, 2, 3, 4, 5].map((n) => createAccount(licencesId, `c${n}@licences-exemple.test`, 'standard')));
  const codes = replies.map((r) => r.status).sort();
  assert.deepEqual(codes, [201, 201, 201, 409, 409], JSON.stringify(replies.map((r) => r.body)));
  for (const reply of replies.filter((r) => r.status === 409)) assert.equal(reply.body.code, 'licences-exhausted');
  const after = await subscription(licencesId);
  assert.deepEqual(usage(after), [
    ['basic', 2, 2, 0],
    ['standard', 4, 4, 0],
  ]);
  assert.equal((await accounts(licencesId)).length, 6);
  assert.equal(after.accountCount, 6);

  // With enough licences the bulk re-class goes through.
  expectStatus(await operator.put(`/api/subscriptions/${licencesId}/licences`, { licences: { standard: 6 } }), 200);
  const started = await script.post(`/api/subscriptions/${licencesId}/accounts/reclass`, { fromClassId: 'basic', toClassId: 'standard' });
  expectStatus(started, 202);
  const op = await waitForOperation(script, started.body.id);
  assert.equal(op.status, 'succeeded', JSON.stringify(op));
  assert.equal(op.result.moved, 2);
  assert.deepEqual(usage(await subscription(licencesId)), [
    ['basic', 2, 0, 2],
    ['standard', 6, 6, 0],
  ]);
  assert.ok((await accounts(licencesId)).every((a) => a.classId === 'standard'));
});

test('R-T6 R-A3 the operator terminates a subscription: it ends at once, whatever its period', async () => {
  const before = await subscription(licencesId);
  assert.equal(before.status, 'active');
  assert.ok(Date.parse(before.currentPeriodEnd) > service.clock.now() + 30 * DAY);
  const user = { email: 'a1@licences-exemple.test', password: 'pw-a1@licences-exemple.test-x1' };
  const session = await new ApiClient(service.url, service.clock).login(user.email, user.password);
  expectStatus(await session.get('/api/me'), 200);

  expectProblem(await script.post(`/api/subscriptions/${licencesId}/terminate`), 403, 'forbidden');
  const now = new Date(service.clock.now()).toISOString();
  const terminated = await operator.post(`/api/subscriptions/${licencesId}/terminate`);
  expectStatus(terminated, 200);
  assert.equal(terminated.body.status, 'ended');
  assert.equal(terminated.body.endReason, 'terminated');
  assert.equal(terminated.body.endedAt, now);
  const all = await accounts(licencesId);
  assert.equal(all.length, 6);
  assert.ok(all.every((a) => a.status === 'disabled'));
  expectProblem(await session.get('/api/me'), 401, 'unauthenticated');
  expectProblem(await new ApiClient(service.url).post('/api/auth/login', user), 403, 'account-not-active');

  // Recorded: who ended it and when (read now: a year on, the journal's retention purges it).
  const ops = await script.get(`/api/operations?subscriptionId=${licencesId}&limit=500`);
  const op = ops.body.items.find((o: any) => o.kind === 'subscription.terminate');
  assert.ok(op, 'no subscription.terminate operation');
  assert.equal(op.actor.role, 'operator');
  assert.equal(op.status, 'succeeded');
  assert.equal(op.createdAt, now);

  // The job never renews an ended subscription, even once its period is over.
  await moveTo(Date.parse(before.currentPeriodEnd) + DAY);
  await runRenewals();
  const later = await subscription(licencesId);
  assert.equal(later.status, 'ended');
  assert.equal(later.endedAt, now);
  assert.equal(later.currentPeriodEnd, before.currentPeriodEnd);
});

test('R-T6 a subscription activated on the 31st renews at each month’s end, not on the 28th for ever', async () => {
  let year = new Date(service.clock.now()).getUTCFullYear() + 1;
  while (Date.UTC(year, 0, 31, 10) <= service.clock.now()) year++;
  await moveTo(Date.UTC(year, 0, 31, 10));
  const created = await operator.post('/api/subscriptions', { customerId: setup.customerId, licences: { basic: 1 }, months: 1 });
  expectStatus(created, 201);
  const id = created.body.id;
  const ends = [created.body.currentPeriodEnd];
  for (const next of [Date.UTC(year, 1, 28, 11), Date.UTC(year, 2, 31, 11)]) {
    await moveTo(next);
    await runRenewals();
    ends.push((await subscription(id)).currentPeriodEnd);
  }
  const feb = new Date(Date.UTC(year, 2, 0)).getUTCDate(); // 28 or 29
  const timeOfDay = Date.parse(created.body.activatedAt) - Date.UTC(year, 0, 31); // the login moved the clock a little
  assert.deepEqual(
    ends,
    [Date.UTC(year, 1, feb), Date.UTC(year, 2, 31), Date.UTC(year, 3, 30)].map((day) => new Date(day + timeOfDay).toISOString()),
  );
});
