/**
 * The quarantine (issue 5, R-S1, R-S4) through the API and the CLI: held messages stay outside the
 * mailbox and its quota; users list, preview (never raw HTML), release (into the Inbox, through the one
 * write path) and delete their own; customer admins see their domains'; other customers see nothing;
 * held messages expire; every action is in the trace. Messages are held the way the MX will hold them
 * (receiveMessage, then holdMessage).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { expireQuarantine } from '../src/filter/quarantine.ts';
import { JOBS, runJob } from '../src/jobs/index.ts';
import { quotaOf } from '../src/mailstore/index.ts';
import { DAY_MS } from '../src/shared/clock.ts';
import { type ApiClient, expectProblem, expectStatus } from './helpers/client.ts';
import { facteur, facteurJson, holdFor, inboxSubjects, type MailCustomer, startWithTwoCustomers } from './helpers/filter.ts';
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

test('R-S1 a held message stays outside the mailbox and its quota; the user lists and previews it', async () => {
  const held = await holdFor(service, alice(), {
    subject: 'Win a prize',
    body: 'Claim your prize now',
    attachment: { name: 'prize.pdf', content: 'x'.repeat(300) },
  });
  const quota = await quotaOf(service.ctx.db, alice().id);
  assert.equal(quota?.usedBytes ?? 0, 0);
  assert.deepEqual(await inboxSubjects(service, alice().id), []);

  const list = await alice().client.get('/api/quarantine');
  expectStatus(list, 200);
  assert.deepEqual(
    list.body.items.map((i: { id: string }) => i.id),
    [held.id],
  );
  assert.equal(list.body.items[0].reason, 'spam');
  assert.equal(list.body.items[0].symbols[0].name, 'GTUBE');

  const preview = await alice().client.get(`/api/quarantine/${held.id}`);
  expectStatus(preview, 200);
  assert.equal(preview.body.subject, 'Win a prize');
  assert.match(preview.body.text, /Claim your prize now/);
  assert.deepEqual(
    preview.body.attachments.map((a: { filename: string; size: number }) => [a.filename, a.size]),
    [['prize.pdf', 300]],
  );
  assert.ok(preview.body.headers.some((h: { name: string; value: string }) => h.name === 'Subject' && h.value === 'Win a prize'));
});

test('R-S1 the preview of an HTML message never gives HTML out raw', async () => {
  const held = await holdFor(service, alice(), {
    subject: 'HTML only',
    html: '<html><head><style>p{}</style></head><body><script>alert(1)</script><p>Hello <b>there</b> &amp; <img src=x onerror=alert(2)></p></body></html>',
  });
  const preview = await alice().client.get(`/api/quarantine/${held.id}`);
  expectStatus(preview, 200);
  assert.match(preview.body.text, /Hello\s+there\s+&/);
  assert.doesNotMatch(JSON.stringify(preview.body), /<script|<img|onerror|alert\(/);
  await alice().client.delete(`/api/quarantine/${held.id}`);
});

test('R-S1 R-S2 release delivers to the Inbox through the one write path, optionally allowing the sender and training as ham; traced', async () => {
  const held = await holdFor(service, alice(), { subject: 'Actually wanted', from: 'friend@partner.test' });
  const released = await alice().client.post(`/api/quarantine/${held.id}/release`, { allowSender: true, trainAsHam: true });
  expectStatus(released, 200);
  assert.equal(released.body.allowedSender, 'friend@partner.test');
  assert.equal(released.body.trained, true);
  assert.ok((await inboxSubjects(service, alice().id)).includes('Actually wanted'));
  // The Inbox counts now, the quarantine does not.
  assert.ok(((await quotaOf(service.ctx.db, alice().id))?.usedBytes ?? 0) > 0);
  expectProblem(await alice().client.get(`/api/quarantine/${held.id}`), 404, 'not-found');
  const rules = await alice().client.get('/api/me/sender-rules');
  assert.ok(rules.body.items.some((r: { pattern: string; kind: string }) => r.pattern === 'friend@partner.test' && r.kind === 'allow'));
  // The release is the user's judgement: learnt for the user and their domain, not for everyone (issue 11).
  for (const scope of [`user:${alice().id}`, alice().domainId]) {
    const totals = await service.ctx.db.selectFrom('bayes_totals').selectAll().where('scope', '=', scope).executeTakeFirst();
    assert.ok(Number(totals?.ham ?? 0) >= 1, scope);
  }

  const trace = await operator.get(`/api/trace?address=${encodeURIComponent(alice().address)}`);
  expectStatus(trace, 200);
  const steps = trace.body.items
    .filter((e: { detail: { quarantineId?: string } }) => e.detail.quarantineId === held.id)
    .map((e: { step: string }) => e.step)
    .sort();
  assert.deepEqual(steps, ['quarantined', 'released']);
});

test('R-S1 two releases of one held message at the same moment deliver it once; the other gets 404', async () => {
  const subject = `Released once ${Math.random()}`;
  const held = await holdFor(service, alice(), { subject });
  const replies = await Promise.all([
    alice().client.post(`/api/quarantine/${held.id}/release`, {}),
    alice().client.post(`/api/quarantine/${held.id}/release`, {}),
    alice().client.post(`/api/quarantine/${held.id}/release`, {}),
  ]);
  assert.deepEqual(replies.map((r) => r.status).sort(), [200, 404, 404]);
  const copies = (await inboxSubjects(service, alice().id)).filter((s) => s === subject);
  assert.equal(copies.length, 1, 'one copy in the Inbox');
});

test('R-S1 delete removes the held message and its blob reference; traced', async () => {
  const held = await holdFor(service, alice(), { subject: 'Delete me', body: `unique ${Math.random()}` });
  const blob = await service.ctx.db.selectFrom('quarantine').select('blob_id').where('id', '=', held.id).executeTakeFirstOrThrow();
  const before = await service.ctx.db.selectFrom('blobs').select('refcount').where('id', '=', blob.blob_id).executeTakeFirstOrThrow();
  assert.equal(Number(before.refcount), 1);
  expectStatus(await alice().client.delete(`/api/quarantine/${held.id}`), 204);
  const afterDelete = await service.ctx.db.selectFrom('blobs').select('refcount').where('id', '=', blob.blob_id).executeTakeFirstOrThrow();
  assert.equal(Number(afterDelete.refcount), 0);
  expectProblem(await alice().client.delete(`/api/quarantine/${held.id}`), 404, 'not-found');
  const trace = await service.ctx.db.selectFrom('message_trace').select('step').where('detail', 'like', `%${held.id}%`).execute();
  assert.deepEqual(trace.map((t) => t.step).sort(), ['deleted', 'quarantined']);
});

test('R-S1 tenant isolation: a user sees only its own, a customer admin its domains’, another customer nothing', async () => {
  const forAlice = await holdFor(service, alice(), { subject: 'For Alice' });
  const forBob = await holdFor(service, bob(), { subject: 'For Bob' });
  const forCarol = await holdFor(service, carol(), { subject: 'For Carol' });

  const ids = (reply: { body: { items: Array<{ id: string }> } }) => reply.body.items.map((i) => i.id);
  const bobs = await bob().client.get('/api/quarantine');
  assert.ok(ids(bobs).includes(forBob.id) && !ids(bobs).includes(forAlice.id));
  expectProblem(await bob().client.get(`/api/quarantine/${forAlice.id}`), 404, 'not-found');
  expectProblem(await bob().client.post(`/api/quarantine/${forAlice.id}/release`, {}), 404, 'not-found');

  const admin = await acme.admin.get('/api/quarantine');
  assert.ok(ids(admin).includes(forAlice.id) && ids(admin).includes(forBob.id) && !ids(admin).includes(forCarol.id));
  const byAccount = await acme.admin.get(`/api/quarantine?account=${encodeURIComponent(bob().address)}`);
  assert.deepEqual(ids(byAccount), [forBob.id]);

  const others = await other.admin.get('/api/quarantine');
  assert.deepEqual(ids(others), [forCarol.id]);
  expectProblem(await other.admin.get(`/api/quarantine/${forAlice.id}`), 404, 'not-found');
  expectProblem(await other.admin.post(`/api/quarantine/${forAlice.id}/release`, {}), 404, 'not-found');
  expectProblem(await other.admin.delete(`/api/quarantine/${forAlice.id}`), 404, 'not-found');
  expectProblem(await other.admin.get(`/api/quarantine?account=${encodeURIComponent(alice().address)}`), 404, 'not-found');

  const all = await operator.get('/api/quarantine?limit=500');
  for (const id of [forAlice.id, forBob.id, forCarol.id]) assert.ok(ids(all).includes(id));
  // Paging: one at a time, newest first, no repeats.
  const first = await operator.get('/api/quarantine?limit=1');
  const second = await operator.get(`/api/quarantine?limit=1&after=${encodeURIComponent(first.body.next)}`);
  assert.notEqual(ids(first)[0], ids(second)[0]);
});

test('R-S1 CLI: facteur quarantine list --account --json, release ID, delete ID', async () => {
  const one = await holdFor(service, bob(), { subject: 'CLI release' });
  const two = await holdFor(service, bob(), { subject: 'CLI delete' });
  const listed = await facteurJson(service, ['quarantine', 'list', '--account', bob().address]);
  const ids = listed.items.map((i: { id: string }) => i.id);
  assert.ok(ids.includes(one.id) && ids.includes(two.id));
  assert.ok(listed.items.every((i: { accountId: string }) => i.accountId === bob().id));

  const released = await facteurJson(service, ['quarantine', 'release', one.id]);
  assert.ok(released.uid >= 1);
  assert.ok((await inboxSubjects(service, bob().id)).includes('CLI release'));
  const deleted = await facteur(service, ['quarantine', 'delete', two.id]);
  assert.equal(deleted.code, 0, deleted.stderr);
  const again = await facteur(service, ['quarantine', 'delete', two.id]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /not-found/);
  const left = await facteurJson(service, ['quarantine', 'list', '--account', bob().address]);
  assert.ok(!left.items.some((i: { id: string }) => i.id === one.id || i.id === two.id));
});

test('R-S4 held messages expire after filter.quarantineDays (job quarantine.expire), with their blob references', async () => {
  const old = await holdFor(service, carol(), { subject: 'Old', body: `old ${Math.random()}` });
  const blob = await service.ctx.db.selectFrom('quarantine').select('blob_id').where('id', '=', old.id).executeTakeFirstOrThrow();
  assert.deepEqual(await expireQuarantine(service.ctx), { expired: 0 });
  service.clock.advance(service.ctx.config.filter.quarantineDays * DAY_MS - 60_000);
  const fresh = await holdFor(service, carol(), { subject: 'Fresh' });
  service.clock.advance(2 * 60_000);
  const job = JOBS.find((j) => j.name === 'quarantine.expire');
  assert.ok(job);
  const run = await runJob(service.ctx, job);
  assert.ok(run.ran);
  assert.ok((run.result as { expired: number }).expired >= 1);
  const left = await service.ctx.db.selectFrom('quarantine').select('id').where('account_id', '=', carol().id).execute();
  assert.ok(!left.some((r) => r.id === old.id));
  assert.ok(left.some((r) => r.id === fresh.id));
  const refs = await service.ctx.db.selectFrom('blobs').select('refcount').where('id', '=', blob.blob_id).executeTakeFirstOrThrow();
  assert.equal(Number(refs.refcount), 0);
  const trace = await service.ctx.db.selectFrom('message_trace').select(['step', 'detail']).where('detail', 'like', `%${old.id}%`).execute();
  assert.ok(trace.some((t) => t.step === 'deleted' && JSON.parse(t.detail).by === 'expiry'));
});
