/**
 * An account's storage in the API (R-M4, R-T4): the list of a subscription's accounts and an account's
 * page give the bytes used, the class's quota and the message count, which the portal shows as a meter.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { deliverMessage, receiveMessage } from '../src/mailstore/index.ts';
import { expectStatus, setupMailAccount } from './helpers/client.ts';
import { startTestService, type TestService } from './helpers/service.ts';

let service: TestService;
before(async () => {
  service = await startTestService();
});
after(() => service.close());

test('R-T4 R-M4 the accounts list and an account show storage used against the class quota, counted from what is stored', async () => {
  const { setup, accountId } = await setupMailAccount(service, 'Usage Co', { address: 'ana@usage.test', password: 'ana-password-usage-1' });
  const classes = await setup.admin.get('/api/classes');
  const quota = classes.body.items.find((c: { id: string }) => c.id === 'standard').quotaBytes;
  assert.ok(quota > 0);
  const empty = await setup.admin.get(`/api/accounts/${accountId}`);
  expectStatus(empty, 200);
  assert.deepEqual(empty.body.usage, { usedBytes: 0, quotaBytes: quota, messages: 0 });

  const message = Buffer.from('From: a@b.test\r\nTo: ana@usage.test\r\nSubject: hello\r\n\r\nSome text to count.\r\n');
  const received = await receiveMessage(service.ctx, Readable.from([message]), { maxBytes: 1 << 20 });
  const [result] = await deliverMessage(service.ctx, received, [{ accountId }]);
  assert.ok(result?.ok, JSON.stringify(result));

  const one = await setup.admin.get(`/api/accounts/${accountId}`);
  assert.equal(one.body.usage.messages, 1);
  assert.ok(one.body.usage.usedBytes >= message.length, JSON.stringify(one.body.usage));
  assert.equal(one.body.usage.quotaBytes, quota);
  const list = await setup.admin.get(`/api/subscriptions/${setup.subscriptionId}/accounts`);
  expectStatus(list, 200);
  assert.deepEqual(list.body.items[0].usage, one.body.usage);
  // Another customer's admin still sees nothing of it.
  const other = await setupMailAccount(service, 'Usage Other', { address: 'bob@usage-other.test', password: 'bob-password-usage-1' });
  assert.equal((await other.setup.admin.get(`/api/accounts/${accountId}`)).status, 404);
});
