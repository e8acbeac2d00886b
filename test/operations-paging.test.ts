/**
 * The operations journal (R-T5) paged with a cursor: `next` of one page gives the following one with
 * `after`, newest first, and operations started in the same millisecond (a script's bulk changes; every
 * change of a test, whose clock stands still) are neither skipped nor repeated, which a cursor made of
 * the instant alone (`before`) cannot promise.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ApiClient, type CustomerSetup, expectProblem, expectStatus, operatorClient, setupCustomer } from './helpers/client.ts';
import { startTestService, type TestService } from './helpers/service.ts';

let service: TestService;
let operator: ApiClient;
let setup: CustomerSetup;

before(async () => {
  service = await startTestService();
  operator = await operatorClient(service);
  setup = await setupCustomer(service, operator, 'Pages Co', { basic: 1 });
});
after(() => service.close());

test('R-T5 the journal pages with a cursor: every operation once, newest first, even those started in the same millisecond', async () => {
  const S = setup.subscriptionId;
  for (let i = 0; i < 7; i++) expectStatus(await setup.admin.post(`/api/subscriptions/${S}/labels`, { name: `label ${i}` }), 201);
  const all = await setup.admin.get(`/api/operations?subscriptionId=${S}&limit=500`);
  expectStatus(all, 200);
  assert.equal(all.body.next, null, 'one page holds them all');
  const ids = all.body.items.map((o: { id: string }) => o.id);
  assert.ok(ids.length >= 7, `${ids.length} operations`);
  const instants = new Set(all.body.items.map((o: { createdAt: string }) => o.createdAt));
  assert.ok(instants.size < ids.length, 'some share their instant (the test clock stands still)');

  const seen: string[] = [];
  let cursor: string | null | undefined;
  for (let pages = 0; pages < 10; pages++) {
    const reply = await setup.admin.get(`/api/operations?subscriptionId=${S}&limit=3${cursor ? `&after=${encodeURIComponent(cursor)}` : ''}`);
    expectStatus(reply, 200);
    assert.ok(reply.body.items.length <= 3);
    seen.push(...reply.body.items.map((o: { id: string }) => o.id));
    cursor = reply.body.next;
    if (!cursor) break;
  }
  assert.deepEqual(seen, ids, 'the pages together are the whole journal, in its order');

  // A cursor that is not one is refused, naming the field.
  expectProblem(await setup.admin.get(`/api/operations?after=${encodeURIComponent('yesterday')}`), 400, 'invalid-field', 'after');
});
