import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApiClient } from './helpers/client.ts';
import { startTestService, type TestService } from './helpers/service.ts';

let service: TestService;
before(async () => {
  service = await startTestService();
});
after(() => service.close());

test('R-T4 the OpenAPI document lists every portal operation', async () => {
  const client = new ApiClient(service.url);
  const doc = await client.get('/api/openapi.json');
  assert.equal(doc.status, 200);
  assert.equal(doc.body.openapi, '3.1.0');
  const paths: Record<string, Record<string, unknown>> = doc.body.paths;
  const expected: [string, string][] = [
    ['get', '/api/subscriptions/{id}'], // view subscription details
    ['get', '/api/faq'], // FAQ pages
    ['post', '/api/subscriptions/{id}/domains'], // add domain
    ['post', '/api/domains/{id}/check'],
    ['post', '/api/subscriptions/{id}/accounts'], // add accounts
    ['patch', '/api/accounts/{id}'], // modify accounts (class, password)
    ['post', '/api/domains/{id}/aliases'], // domain aliases
    ['post', '/api/subscriptions/{id}/aliases'],
    ['post', '/api/subscriptions/{id}/lists'], // mailing lists
    ['post', '/api/subscriptions/{id}/billing-cycle'], // billing cycle
    ['post', '/api/subscriptions/{id}/labels'], // labels
    ['patch', '/api/labels/{id}'],
    ['post', '/api/subscriptions/{id}/cancel'], // cancel
    ['post', '/api/tickets'], // R-T7
    ['get', '/api/operations'], // R-T5
  ];
  for (const [method, route] of expected) assert.ok(paths[route]?.[method], `${method.toUpperCase()} ${route} is documented`);
  const create = paths['/api/subscriptions/{id}/accounts']?.post as { requestBody?: { content: Record<string, { schema: { required: string[] } }> } };
  assert.deepEqual(create.requestBody?.content['application/json']?.schema.required.sort(), ['address', 'classId']);
});

test('the API docs page is served', async () => {
  const response = await fetch(`${service.url}/api/docs/`);
  assert.equal(response.status, 200);
  assert.match(await response.text(), /swagger/i);
});

test('R-M5 default classes carry the contract limits from the first start', async () => {
  const client = new ApiClient(service.url, service.clock);
  await client.login('operator@provider.test', 'operator-password-1');
  const classes = await client.get('/api/classes');
  assert.deepEqual(
    classes.body.items.map((c: { id: string }) => c.id),
    ['basic', 'standard', 'premium'],
  );
  for (const c of classes.body.items) {
    assert.deepEqual(
      { ...c.limits, recipientsPerHour: undefined, recipientsPerDay: undefined },
      {
        messagesPerMinutePerRecipient: 100,
        recipientsPerMessage: 100,
        maxMessageBytes: 52428800,
        standardMessageBytes: 10485760,
        recipientsPerHour: undefined,
        recipientsPerDay: undefined,
      },
    );
  }
  const changed = await client.patch('/api/classes/basic', { limits: { recipientsPerMessage: 50 } });
  assert.equal(changed.status, 200);
  assert.equal(changed.body.limits.recipientsPerMessage, 50);
});
