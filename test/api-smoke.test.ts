import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { operatorClient, setupCustomer } from './helpers/client.ts';
import { startTestService, type TestService } from './helpers/service.ts';

let service: TestService;
before(async () => {
  service = await startTestService();
});
after(() => service.close());

test('smoke: operator logs in and creates a customer with a subscription', async () => {
  const op = await operatorClient(service);
  const setup = await setupCustomer(service, op, 'Acme');
  const details = await setup.admin.get(`/api/subscriptions/${setup.subscriptionId}`);
  assert.equal(details.status, 200, JSON.stringify(details.body));
  assert.equal(details.body.licences.length, 2);
});
