/**
 * The audit log of the provider's staff (R-A2) and the operator console's read-only views (issue 15):
 * every operator access to a message's content or subject needs a reason and is recorded; the customer
 * admin lists the accesses and the operator's actions on its customer, a user those on its mailbox;
 * the outbound queue (queued and deferred deliveries) and the job runs, for the operator alone.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { enqueueOutbound } from '../src/delivery/queue.ts';
import { vaultOutbound } from '../src/filter/vault.ts';
import { JOBS, runJob } from '../src/jobs/index.ts';
import { receiveMessage } from '../src/mailstore/index.ts';
import { type ApiClient, expectProblem, expectStatus } from './helpers/client.ts';
import { holdFor, type MailCustomer, rawMessage, startWithTwoCustomers } from './helpers/filter.ts';
import type { TestService } from './helpers/service.ts';

let service: TestService;
let operator: ApiClient;
let acme: MailCustomer;
let other: MailCustomer;

before(async () => {
  ({ service, operator, acme, other } = await startWithTwoCustomers(['alice', 'bob'], ['carol']));
});
after(() => service.close());

const alice = () => acme.accounts[0] as MailCustomer['accounts'][number];
const bob = () => acme.accounts[1] as MailCustomer['accounts'][number];
const carol = () => other.accounts[0] as MailCustomer['accounts'][number];

async function vaultFrom(account: MailCustomer['accounts'][number], subject: string) {
  const raw = rawMessage({ from: account.address, to: 'victim@remote.test', subject });
  const message = await receiveMessage(service.ctx, Readable.from([raw]), { maxBytes: 1 << 20 });
  return vaultOutbound(service.ctx, {
    blob: message.blob,
    account: { accountId: account.id, customerId: account.customerId },
    sender: account.address,
    recipients: ['victim@remote.test'],
    malware: { name: 'Eicar-Test-Signature', reason: { en: 'EICAR test file', fr: 'Fichier de test EICAR' }, source: 'malware' },
  });
}

test('R-A2 an operator’s vault read and quarantine preview need a reason; the customer admin and the user concerned see them in the audit log, others do not', async () => {
  const vaulted = await vaultFrom(alice(), 'Quarterly figures');
  const held = await holdFor(service, alice(), { subject: 'Secret plans', body: 'Do not read' });

  // Without a reason: refused, the field named, nothing shown.
  expectProblem(await operator.post(`/api/vault/${vaulted.id}/read`, { reason: ' ' }), 400, 'reason-required', 'reason');
  expectProblem(await operator.get(`/api/quarantine/${held.id}`), 400, 'reason-required', 'reason');
  // The operator's list shows envelopes, not subjects.
  const listed = await operator.get(`/api/quarantine?account=${encodeURIComponent(alice().address)}`);
  expectStatus(listed, 200);
  assert.equal(listed.body.items[0].subject, '');
  assert.equal((await alice().client.get('/api/quarantine')).body.items[0].subject, 'Secret plans');

  expectStatus(await operator.post(`/api/vault/${vaulted.id}/read`, { reason: 'Request of the authority, ref. 2026-17' }), 200);
  service.clock.advance(1000); // the test's clock stands still otherwise: newest first needs two instants
  const preview = await operator.get(`/api/quarantine/${held.id}?reason=${encodeURIComponent('Support ticket T-42')}`);
  expectStatus(preview, 200);
  assert.equal(preview.body.subject, 'Secret plans');

  const byAdmin = await acme.admin.get('/api/audit');
  expectStatus(byAdmin, 200);
  const accesses = byAdmin.body.items.filter((e: { contentAccess: boolean }) => e.contentAccess);
  assert.deepEqual(
    accesses.map((e: { action: string; reason: string; accountId: string; status: string }) => [e.action, e.reason, e.accountId, e.status]),
    [
      ['quarantine.preview', 'Support ticket T-42', alice().id, 'succeeded'],
      ['vault.read', 'Request of the authority, ref. 2026-17', alice().id, 'succeeded'],
    ],
  );
  assert.equal(byAdmin.body.items[0].actorEmail, 'operator@provider.test');
  // The operator's other actions on the customer are there too (it created the subscription).
  assert.ok(byAdmin.body.items.some((e: { action: string }) => e.action === 'subscription.create'));
  // Nothing the customer's own people did.
  assert.ok(byAdmin.body.items.every((e: { actorEmail: string | null }) => e.actorEmail === 'operator@provider.test'));

  const byAlice = await alice().client.get('/api/audit');
  expectStatus(byAlice, 200);
  assert.deepEqual(
    byAlice.body.items.map((e: { action: string }) => e.action),
    ['quarantine.preview', 'vault.read'],
  );
  assert.deepEqual((await bob().client.get('/api/audit')).body.items, []);
  assert.ok((await other.admin.get('/api/audit')).body.items.every((e: { customerId: string }) => e.customerId === other.customerId));
  assert.deepEqual((await carol().client.get('/api/audit')).body.items, []);

  // The operator sees all, and pages through them.
  const first = await operator.get(`/api/audit?customerId=${acme.customerId}&limit=1`);
  expectStatus(first, 200);
  assert.equal(first.body.items[0].action, 'quarantine.preview');
  const second = await operator.get(`/api/audit?customerId=${acme.customerId}&limit=1&after=${encodeURIComponent(first.body.next)}`);
  assert.equal(second.body.items[0].action, 'vault.read');
  expectProblem(await operator.get('/api/audit?after=nonsense'), 400, 'invalid-field', 'after');
});

test('the outbound queue lists queued and deferred deliveries, soonest first, for the operator only', async () => {
  const message = await receiveMessage(service.ctx, Readable.from([rawMessage({ from: bob().address, to: 'x@far.test', subject: 'Hi' })]), {
    maxBytes: 1 << 20,
  });
  const ids = await enqueueOutbound(service.ctx, {
    customerId: acme.customerId,
    sender: bob().address,
    recipients: ['x@far.test', 'y@away.test'],
    blob: message.blob,
    messageId: 'q-1@acme.test',
  });
  await service.ctx.db
    .updateTable('outbound_queue')
    .set({ attempts: 2, last_error: '451 try later', next_attempt_at: service.clock.now() + 600_000 })
    .where('id', '=', ids[1] as string)
    .execute();
  const queue = await operator.get('/api/queue');
  expectStatus(queue, 200);
  const mine = queue.body.items.filter((e: { id: string }) => ids.includes(e.id));
  assert.deepEqual(
    mine.map((e: { recipient: string; status: string; lastError: string | null }) => [e.recipient, e.status, e.lastError]),
    [
      ['x@far.test', 'queued', null],
      ['y@away.test', 'deferred', '451 try later'],
    ],
  );
  const deferred = await operator.get('/api/queue?deferred=true&domain=away.test');
  assert.deepEqual(
    deferred.body.items.map((e: { id: string }) => e.id),
    [ids[1]],
  );
  expectProblem(await acme.admin.get('/api/queue'), 403, 'forbidden');
  expectProblem(await alice().client.get('/api/jobs'), 403, 'forbidden');
});

test('the job runs: every scheduled job with its schedule, last run and result, for the operator only', async () => {
  const job = JOBS.find((j) => j.name === 'operations.recover');
  assert.ok(job);
  await runJob(service.ctx, job);
  const jobs = await operator.get('/api/jobs');
  expectStatus(jobs, 200);
  assert.equal(jobs.body.items.length, JOBS.length);
  const recover = jobs.body.items.find((j: { name: string }) => j.name === 'operations.recover');
  assert.equal(recover.schedule, '* * * * *');
  assert.ok(recover.lastStartedAt && recover.lastFinishedAt);
  assert.equal(recover.running, false);
  const never = jobs.body.items.find((j: { name: string }) => j.name === 'vault.purge');
  assert.equal(never.lastStartedAt, null);
  expectProblem(await acme.admin.get('/api/jobs'), 403, 'forbidden');
});

test('R-T1 the operator searches customers by a part of the name or contact address, whatever the case', async () => {
  const found = await operator.get('/api/customers?q=ACM');
  expectStatus(found, 200);
  assert.deepEqual(
    found.body.items.map((c: { id: string }) => c.id),
    [acme.customerId],
  );
  assert.deepEqual((await operator.get('/api/customers?q=%25')).body.items, []);
  assert.equal((await operator.get('/api/customers?q=contact@other')).body.items[0].id, other.customerId);
});
