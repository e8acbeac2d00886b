import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Ajv } from 'ajv';
import { ApiClient, operatorClient, type Reply, setupCustomer, waitForOperation } from './helpers/client.ts';
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

type Operation = { responses: Record<string, { content?: Record<string, { schema: Schema }> }> };
type Schema = { type?: string; properties?: Record<string, Schema>; items?: Schema; anyOf?: Schema[]; format?: string; additionalProperties?: unknown };

async function openapiDocument(): Promise<{ paths: Record<string, Record<string, Operation>> }> {
  return (await new ApiClient(service.url).get('/api/openapi.json')).body;
}

function operationsOf(doc: { paths: Record<string, Record<string, Operation>> }): [string, Operation][] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]): [string, Operation] => [`${method.toUpperCase()} ${path}`, op]),
  );
}

test('R-T4 every route documents its success reply with a schema and its errors as problem+json (RFC 9457 §3)', async () => {
  const doc = await openapiDocument();
  const operations = operationsOf(doc);
  assert.ok(operations.length > 90, `${operations.length} routes documented`);
  for (const [name, op] of operations) {
    const statuses = Object.keys(op.responses);
    const success = statuses.filter((s) => /^2\d\d$/.test(s));
    assert.ok(success.length > 0, `${name} documents its success status`);
    for (const status of success) {
      if (status === '204') assert.equal(op.responses[status]?.content, undefined, `${name} 204 has no body`);
      else
        assert.ok(
          Object.values(op.responses[status]?.content ?? {}).every((c) => c.schema.type || c.schema.anyOf),
          `${name} ${status} has a schema`,
        );
    }
    if (name === 'GET /api/digest-links/{token}') continue; // an HTML page, errors included (a browser follows the link)
    for (const range of ['4XX', '5XX']) {
      const problem = op.responses[range]?.content?.['application/problem+json']?.schema;
      assert.ok(problem, `${name} documents its ${range} replies as problem+json`);
      assert.deepEqual(Object.keys(problem.properties ?? {}).slice(0, 4), ['type', 'title', 'status', 'detail'], name);
      assert.ok(problem.properties?.field, `${name}: the problem names the field at fault`);
    }
  }
});

/** Property names of every response schema, with their path, for the style checks. */
function* propertiesOf(schema: Schema, at: string): Generator<[string, Schema]> {
  for (const [key, value] of Object.entries(schema.properties ?? {})) {
    yield [`${at}.${key}`, value];
    yield* propertiesOf(value, `${at}.${key}`);
  }
  if (schema.items) yield* propertiesOf(schema.items, `${at}[]`);
  for (const option of schema.anyOf ?? []) yield* propertiesOf(option, at);
}

test('one API style: every field of every reply is camelCase and every instant is ISO 8601 (format date-time)', async () => {
  const doc = await openapiDocument();
  const offenders: string[] = [];
  for (const [name, op] of operationsOf(doc)) {
    for (const [status, reply] of Object.entries(op.responses)) {
      for (const { schema } of Object.values(reply.content ?? {})) {
        for (const [where, property] of propertiesOf(schema, `${name} ${status}`)) {
          const key = where.slice(where.lastIndexOf('.') + 1);
          if (!/^[a-z][a-zA-Z0-9]*$/.test(key)) offenders.push(`${where} is not camelCase`);
          const isInstant = /At$|^at$|^currentPeriod(Start|End)$/.test(key);
          const formats = [property.format, ...(property.anyOf ?? []).map((s) => s.format)];
          if (isInstant && !formats.includes('date-time')) offenders.push(`${where} is not an ISO 8601 instant`);
        }
      }
    }
  }
  assert.deepEqual(offenders, []);
});

/** The document's schema for a reply (path template, method, status), to check a real reply against it. */
function replySchema(doc: { paths: Record<string, Record<string, Operation>> }, method: string, path: string, status: number, type: string): Schema {
  const responses = doc.paths[path]?.[method.toLowerCase()]?.responses;
  assert.ok(responses, `${method} ${path} is documented`);
  const reply = responses[String(status)] ?? responses[`${String(status)[0]}XX`];
  assert.ok(reply, `${method} ${path} documents status ${status}`);
  if (status === 204) return { type: 'null' };
  const schema = reply.content?.[type]?.schema;
  assert.ok(schema, `${method} ${path} ${status} documents ${type}`);
  return schema;
}

test('R-T4 real replies match the OpenAPI document: statuses, fields, types and formats, errors included', async () => {
  const doc = await openapiDocument();
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
  const check = (method: string, path: string, reply: Reply) => {
    const type = (reply.headers.get('content-type') ?? '').split(';')[0] ?? '';
    const validate = ajv.compile(replySchema(doc, method, path, reply.status, type));
    const body = reply.status === 204 ? null : reply.body;
    assert.ok(validate(body), `${method} ${path} ${reply.status}: ${JSON.stringify(validate.errors)} in ${JSON.stringify(body).slice(0, 500)}`);
  };
  const operator = await operatorClient(service);
  check('GET', '/api/me', await operator.get('/api/me'));
  check('GET', '/api/classes', await operator.get('/api/classes'));
  check('GET', '/api/health', await operator.get('/api/health'));
  const setup = await setupCustomer(service, operator, 'Docsample');
  const subscription = `/api/subscriptions/${setup.subscriptionId}`;
  check('GET', '/api/customers', await operator.get('/api/customers'));
  check('GET', '/api/customers/{id}', await setup.admin.get(`/api/customers/${setup.customerId}`));
  check('GET', '/api/subscriptions/{id}', await setup.admin.get(subscription));
  check('GET', '/api/subscriptions', await setup.admin.get('/api/subscriptions'));
  const added = await setup.admin.post(`${subscription}/domains`, { name: 'docsample.test' });
  check('POST', '/api/subscriptions/{id}/domains', added);
  await waitForOperation(setup.admin, added.body.id);
  check('GET', '/api/operations/{id}', await setup.admin.get(`/api/operations/${added.body.id}`));
  check('GET', '/api/operations', await setup.admin.get('/api/operations'));
  check('GET', '/api/domains/{id}', await setup.admin.get('/api/domains/docsample.test'));
  check('POST', '/api/domains/{id}/check', await setup.admin.post('/api/domains/docsample.test/check'));
  const account = await setup.admin.post(`${subscription}/accounts`, { address: 'ann@docsample.test', classId: 'basic' });
  check('POST', '/api/subscriptions/{id}/accounts', account);
  check('GET', '/api/subscriptions/{id}/accounts', await setup.admin.get(`${subscription}/accounts`));
  const label = await setup.admin.post(`${subscription}/labels`, { name: 'VIP', color: '#ff0000' });
  check('POST', '/api/subscriptions/{id}/labels', label);
  check('DELETE', '/api/labels/{id}', await setup.admin.delete(`/api/labels/${label.body.id}`));
  check('GET', '/api/customers/{id}/tokens', await setup.admin.get(`/api/customers/${setup.customerId}/tokens`));
  check('POST', '/api/tickets', await setup.admin.post('/api/tickets', { subject: 'Hello', body: 'A question' }));
  check('GET', '/api/faq', await setup.admin.get('/api/faq'));
  // A mail user: who am I, and the app passwords (once snake_case with epoch dates).
  const user = await new ApiClient(service.url, service.clock).login('ann@docsample.test', account.body.generatedPassword);
  check('GET', '/api/me', await user.get('/api/me'));
  const created = await user.post('/api/me/app-passwords', { name: 'Thunderbird' });
  check('POST', '/api/me/app-passwords', created);
  assert.ok(created.body.accountId && created.body.createdAt.endsWith('Z'), JSON.stringify(created.body));
  check('GET', '/api/me/app-passwords', await user.get('/api/me/app-passwords'));
  check('DELETE', '/api/me/app-passwords/{id}', await user.delete(`/api/me/app-passwords/${created.body.id}`));
  // Errors: problem+json as documented.
  check('GET', '/api/subscriptions/{id}', await setup.admin.get('/api/subscriptions/sub_nope'));
  check('POST', '/api/subscriptions/{id}/labels', await setup.admin.post(`${subscription}/labels`, { name: 'x', colour: 'red' }));
  check('GET', '/api/me', await new ApiClient(service.url).get('/api/me'));
  check('POST', '/api/customers', await setup.admin.post('/api/customers', { name: 'X', contactEmail: 'x@x.test' }));
});
