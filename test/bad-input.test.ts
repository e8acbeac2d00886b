/**
 * Bad input through the HTTP API (foundation issue, "Bad input"): malformed JSON, wrong types, unknown
 * fields, overlong strings, missing fields, invalid domains and addresses, duplicate addresses across
 * accounts/aliases/lists/logins, a domain owned by another customer. Each request must get a 4xx
 * application/problem+json with `status`, `code`, the `field` at fault, a `detail` in French when asked
 * for, and leave every table exactly as it was. No request may get a 500.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ApiClient, type CustomerSetup, expectStatus, operatorClient, type Reply, setupCustomer, waitForOperation } from './helpers/client.ts';
import { startTestService, type TestService } from './helpers/service.ts';

let service: TestService;
let op: ApiClient;
let alpha: CustomerSetup;
let beta: CustomerSetup;
let alphaDomainId: string;
let userId: string;
let aliasId: string;
let listId: string;
let labelId: string;

/** Tables whose content a refused request must leave untouched (sessions and the journal change by design). */
const TABLES = [
  'customers',
  'logins',
  'classes',
  'subscriptions',
  'licences',
  'labels',
  'domains',
  'domain_contacts',
  'domain_aliases',
  'domain_names',
  'addresses',
  'accounts',
  'app_passwords',
  'aliases',
  'lists',
  'list_members',
  'tickets',
  'ticket_messages',
  'api_tokens',
  'operation_locks',
] as const;

async function snapshot(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of TABLES) {
    const rows = await service.ctx.db.selectFrom(table).selectAll().execute();
    out[table] = rows.map((row) => JSON.stringify(row, (_key, value) => (typeof value === 'bigint' ? String(value) : value))).sort();
  }
  return out;
}

/** Runs `body` and checks that no table changed. */
async function unchanged(body: () => Promise<void>): Promise<void> {
  const before = await snapshot();
  await body();
  const after = await snapshot();
  for (const table of TABLES) assert.deepEqual(after[table], before[table], `table ${table} changed`);
}

before(async () => {
  service = await startTestService();
  op = await operatorClient(service);
  alpha = await setupCustomer(service, op, 'Alpha', { basic: 3, standard: 2 });
  beta = await setupCustomer(service, op, 'Beta', { basic: 1 });
  for (const [setup, name] of [
    [alpha, 'alpha.test'],
    [beta, 'beta.test'],
  ] as const) {
    const started = await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/domains`, { name });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const done = await waitForOperation(setup.admin, started.body.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    if (setup === alpha) alphaDomainId = done.result.domainId;
  }
  const domainAlias = await alpha.admin.post('/api/domains/alpha.test/aliases', { name: 'alpha-alias.test' });
  assert.equal(domainAlias.status, 201, JSON.stringify(domainAlias.body));
  const account = await alpha.admin.post(`/api/subscriptions/${alpha.subscriptionId}/accounts`, {
    address: 'user@alpha.test',
    classId: 'basic',
    password: 'user-password-123',
  });
  assert.equal(account.status, 201, JSON.stringify(account.body));
  userId = account.body.id;
  const alias = await alpha.admin.post(`/api/subscriptions/${alpha.subscriptionId}/aliases`, { address: 'info@alpha.test', destinations: ['user@alpha.test'] });
  assert.equal(alias.status, 201, JSON.stringify(alias.body));
  aliasId = alias.body.id;
  const list = await alpha.admin.post(`/api/subscriptions/${alpha.subscriptionId}/lists`, { address: 'team@alpha.test', members: ['user@alpha.test'] });
  assert.equal(list.status, 201, JSON.stringify(list.body));
  listId = list.body.id;
  const label = await alpha.admin.post(`/api/subscriptions/${alpha.subscriptionId}/labels`, { name: 'Head office', color: '#336699' });
  assert.equal(label.status, 201, JSON.stringify(label.body));
  labelId = label.body.id;
});
after(() => service.close());

interface BadRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
  /** A raw body instead of JSON. */
  raw?: string;
  contentType?: string;
}

interface Expected {
  status: number;
  code?: string | RegExp;
  /** The field at fault, as a dotted name (`licences.basic`); a JSON pointer (`/licences/basic`) matches too. */
  field?: string | null;
  /** Something the English detail must say. */
  detail?: RegExp;
}

/** `/licences/basic` and `licences.basic` name the same field. */
function fieldName(field: unknown): string | undefined {
  if (typeof field !== 'string') return undefined;
  return field.replace(/^\//, '').replaceAll('/', '.');
}

/** Words only the French texts use; the detail in French must contain one. */
const FRENCH = /[éèêàçù«»]|\b(invalide|inconnu|manquant|introuvable|déjà|adresse|domaine|classe|champ|valeur|corps|envoyez|aucun|aucune|licences|doit)\b/i;

function assertProblem(reply: Reply, expected: Expected, label: string): void {
  const where = `${label} → ${reply.status} ${JSON.stringify(reply.body)}`;
  assert.ok(reply.status < 500, `no 5xx: ${where}`);
  assert.equal(reply.status, expected.status, where);
  assert.match(reply.headers.get('content-type') ?? '', /^application\/problem\+json/, where);
  assert.equal(typeof reply.body, 'object', where);
  assert.equal(reply.body.status, reply.status, where);
  assert.equal(typeof reply.body.code, 'string', where);
  assert.equal(typeof reply.body.title, 'string', where);
  assert.equal(typeof reply.body.detail, 'string', where);
  assert.ok(reply.body.detail.length > 0, where);
  if (expected.code instanceof RegExp) assert.match(reply.body.code, expected.code, where);
  else if (expected.code) assert.equal(reply.body.code, expected.code, where);
  if (expected.field === null) assert.equal(reply.body.field, undefined, where);
  else if (expected.field !== undefined) assert.equal(fieldName(reply.body.field), expected.field, where);
}

/**
 * Sends the request in English and in French: both must be the expected problem, the French detail
 * must be French (and differ from the English one). Returns the English reply.
 */
async function expectProblem(client: ApiClient, request: BadRequest, expected: Expected): Promise<Reply> {
  const label = `${request.method} ${request.path} ${request.raw ?? JSON.stringify(request.body) ?? ''}`.slice(0, 300);
  const send = (language: 'en' | 'fr') =>
    client.request(request.method, request.path, request.body, {
      ...(request.raw !== undefined ? { raw: request.raw } : {}),
      headers: { 'accept-language': language, ...(request.contentType ? { 'content-type': request.contentType } : {}) },
    });
  const en = await send('en');
  assertProblem(en, expected, label);
  if (expected.detail) assert.match(en.body.detail, expected.detail, label);
  const fr = await send('fr');
  assertProblem(fr, expected, `${label} (fr)`);
  assert.equal(fr.body.code, en.body.code, label);
  assert.equal(fr.body.field, en.body.field, label);
  assert.notEqual(fr.body.detail, en.body.detail, `${label}: the French detail is not the English one`);
  assert.match(fr.body.detail, FRENCH, `${label}: French detail expected, got ${fr.body.detail}`);
  return en;
}

async function expectAll(client: ApiClient, cases: [BadRequest, Expected][]): Promise<void> {
  for (const [request, expected] of cases) await expectProblem(client, request, expected);
}

const customerBody = { name: 'Gamma', contactEmail: 'contact@gamma.test' };
const subs = () => `/api/subscriptions/${alpha.subscriptionId}`;

test('R-T4 bad input: malformed JSON, an empty body and a body that is not JSON get 400 problem+json, as operator and as customer admin', async () => {
  await unchanged(async () => {
    for (const client of [op, alpha.admin]) {
      const path = client === op ? '/api/customers' : `${subs()}/aliases`;
      await expectAll(client, [
        [
          { method: 'POST', path, raw: '{"name": "Gamma",' },
          { status: 400, code: 'invalid-json', detail: /not valid JSON/ },
        ],
        [
          { method: 'POST', path, raw: "{'name': 'Gamma'}" },
          { status: 400, code: 'invalid-json' },
        ],
        [
          { method: 'POST', path, raw: '' },
          { status: 400, code: 'invalid-json' },
        ],
        [{ method: 'POST', path, raw: 'null' }, { status: 400 }],
        [{ method: 'POST', path, raw: '[]' }, { status: 400 }],
        [{ method: 'POST', path, raw: '"Gamma"' }, { status: 400 }],
        [{ method: 'POST', path, raw: '42' }, { status: 400 }],
        [
          { method: 'POST', path, raw: 'name=Gamma&contactEmail=contact@gamma.test', contentType: 'text/plain' },
          { status: 400, code: /^(unsupported-media-type|invalid-field)$/ },
        ],
        [
          { method: 'POST', path, raw: 'name=Gamma&contactEmail=contact@gamma.test', contentType: 'application/x-www-form-urlencoded' },
          { status: 400, code: 'unsupported-media-type' },
        ],
        [
          { method: 'POST', path, raw: '<customer/>', contentType: 'application/xml' },
          { status: 400, code: 'unsupported-media-type' },
        ],
        [
          { method: 'POST', path, raw: JSON.stringify({ name: 'x'.repeat(3 * 1024 * 1024) }) },
          { status: 413, code: 'body-too-large' },
        ],
      ]);
      await expectProblem(
        client,
        { method: 'PATCH', path: client === op ? `/api/customers/${alpha.customerId}` : `/api/aliases/${aliasId}`, raw: '{"name":' },
        { status: 400, code: 'invalid-json' },
      );
    }
  });
});

test('R-T1 bad input: wrong types, unknown fields, overlong strings and missing fields name the field', async () => {
  await unchanged(async () => {
    await expectAll(op, [
      [
        { method: 'POST', path: '/api/customers', body: { ...customerBody, name: 5 } },
        { status: 400, code: 'invalid-field', field: 'name' },
      ],
      [
        { method: 'POST', path: '/api/customers', body: { ...customerBody, name: null } },
        { status: 400, code: 'invalid-field', field: 'name' },
      ],
      [
        { method: 'POST', path: '/api/customers', body: { ...customerBody, name: ['Gamma'] } },
        { status: 400, code: 'invalid-field', field: 'name' },
      ],
      [
        { method: 'POST', path: '/api/customers', body: { ...customerBody, language: 'de' } },
        { status: 400, field: 'language' },
      ],
      [
        { method: 'POST', path: '/api/customers', body: { ...customerBody, colour: 'red' } },
        { status: 400, code: 'unknown-field', field: 'colour' },
      ],
      [
        { method: 'POST', path: '/api/customers', body: { ...customerBody, name: 'x'.repeat(201) } },
        { status: 400, code: 'invalid-field', field: 'name' },
      ],
      [
        { method: 'POST', path: '/api/customers', body: { ...customerBody, name: '   ' } },
        { status: 400, field: 'name' },
      ],
      [
        { method: 'POST', path: '/api/customers', body: { ...customerBody, phone: '0'.repeat(41) } },
        { status: 400, field: 'phone' },
      ],
      [
        { method: 'POST', path: '/api/customers', body: { contactEmail: 'contact@gamma.test' } },
        { status: 400, code: 'missing-field', field: 'name' },
      ],
      [
        { method: 'POST', path: '/api/customers', body: { name: 'Gamma' } },
        { status: 400, code: 'missing-field', field: 'contactEmail' },
      ],
      [
        { method: 'POST', path: '/api/customers', body: { ...customerBody, contactEmail: 'no-at-sign' } },
        { status: 400, code: 'invalid-address', field: 'contactEmail' },
      ],
      [
        { method: 'POST', path: '/api/customers', body: { ...customerBody, contactEmail: `${'x'.repeat(300)}@gamma.test` } },
        { status: 400, field: 'contactEmail' },
      ],
      [
        { method: 'PATCH', path: `/api/customers/${alpha.customerId}`, body: { name: 5 } },
        { status: 400, code: 'invalid-field', field: 'name' },
      ],
      [
        { method: 'PATCH', path: `/api/customers/${alpha.customerId}`, body: { id: 'cus_other' } },
        { status: 400, code: 'unknown-field', field: 'id' },
      ],
      [
        { method: 'PATCH', path: `/api/customers/${alpha.customerId}`, body: { status: 'suspended' } },
        { status: 400, code: 'unknown-field', field: 'status' },
      ],
      [
        { method: 'POST', path: `/api/customers/${alpha.customerId}/admins`, body: { email: 'a b@alpha.test' } },
        { status: 400, code: 'invalid-address', field: 'email' },
      ],
      [
        { method: 'POST', path: `/api/customers/${alpha.customerId}/admins`, body: { email: 'boss@alpha.test', password: 'short' } },
        { status: 400, field: 'password' },
      ],
      [
        { method: 'POST', path: `/api/customers/${alpha.customerId}/tokens`, body: { name: '' } },
        { status: 400, field: 'name' },
      ],
      [
        { method: 'POST', path: `/api/customers/${alpha.customerId}/tokens`, body: { name: 'ci', expiresInDays: '30' } },
        { status: 400, field: 'expiresInDays' },
      ],
    ]);
    // The customer admin edits its own profile: same checks.
    await expectAll(alpha.admin, [
      [
        { method: 'PATCH', path: `/api/customers/${alpha.customerId}`, body: { contactEmail: 'a b@c.test' } },
        { status: 400, code: 'invalid-address', field: 'contactEmail' },
      ],
      [
        { method: 'PATCH', path: `/api/customers/${alpha.customerId}`, body: { name: 'x'.repeat(201) } },
        { status: 400, field: 'name' },
      ],
      [
        { method: 'PATCH', path: `/api/customers/${alpha.customerId}`, body: { vatNumber: 12 } },
        { status: 400, field: 'vatNumber' },
      ],
      [
        { method: 'POST', path: `/api/customers/${alpha.customerId}/admins`, body: {} },
        { status: 400, code: 'missing-field', field: 'email' },
      ],
      [
        { method: 'POST', path: '/api/tickets', body: { subject: 'x'.repeat(201), body: 'help' } },
        { status: 400, field: 'subject' },
      ],
      [
        { method: 'POST', path: '/api/tickets', body: { subject: 'Help' } },
        { status: 400, code: 'missing-field', field: 'body' },
      ],
      [
        { method: 'POST', path: '/api/tickets', body: { subject: 'Help', body: 'help', category: 'gossip' } },
        { status: 400, field: 'category' },
      ],
    ]);
  });
});

test('R-T2 R-T6 bad input: subscriptions with wrong types, negative or unknown licences, bad durations', async () => {
  const body = { customerId: beta.customerId, licences: { basic: 1 }, months: 12 };
  await unchanged(async () => {
    await expectAll(op, [
      [
        { method: 'POST', path: '/api/subscriptions', body: { ...body, months: '12' } },
        { status: 400, code: 'invalid-field', field: 'months' },
      ],
      [
        { method: 'POST', path: '/api/subscriptions', body: { ...body, months: 12.5 } },
        { status: 400, field: 'months' },
      ],
      [
        { method: 'POST', path: '/api/subscriptions', body: { ...body, months: 0 } },
        { status: 400, field: 'months' },
      ],
      [
        { method: 'POST', path: '/api/subscriptions', body: { ...body, months: 121 } },
        { status: 400, field: 'months' },
      ],
      [
        { method: 'POST', path: '/api/subscriptions', body: { ...body, licences: { basic: -1 } } },
        { status: 400, field: 'licences.basic' },
      ],
      [
        { method: 'POST', path: '/api/subscriptions', body: { ...body, licences: { basic: '2' } } },
        { status: 400, field: 'licences.basic' },
      ],
      [
        { method: 'POST', path: '/api/subscriptions', body: { ...body, licences: { basic: 1.5 } } },
        { status: 400, field: 'licences.basic' },
      ],
      [
        { method: 'POST', path: '/api/subscriptions', body: { ...body, licences: [1, 2] } },
        { status: 400, field: 'licences' },
      ],
      [
        { method: 'POST', path: '/api/subscriptions', body: { ...body, licences: {} } },
        { status: 400, code: 'no-licences', field: 'licences' },
      ],
      [
        { method: 'POST', path: '/api/subscriptions', body: { ...body, licences: { platinum: 1 } } },
        { status: 400, code: 'unknown-class', field: 'licences.platinum' },
      ],
      [
        { method: 'POST', path: '/api/subscriptions', body: { ...body, licences: { 'Not A Class': 1 } } },
        { status: 400, code: 'unknown-class', field: 'licences.Not A Class' },
      ],
      [
        { method: 'POST', path: '/api/subscriptions', body: { ...body, customerId: 'cus_nobody' } },
        { status: 400, code: 'unknown-customer', field: 'customerId' },
      ],
      [
        { method: 'POST', path: '/api/subscriptions', body: { ...body, billingCycle: 'weekly' } },
        { status: 400, field: 'billingCycle' },
      ],
      [
        { method: 'POST', path: '/api/subscriptions', body: { ...body, activate: 'yes' } },
        { status: 400, field: 'activate' },
      ],
      [
        { method: 'POST', path: '/api/subscriptions', body: { ...body, price: 10 } },
        { status: 400, code: 'unknown-field', field: 'price' },
      ],
      [
        { method: 'POST', path: '/api/subscriptions', body: { licences: { basic: 1 }, months: 12 } },
        { status: 400, code: 'missing-field', field: 'customerId' },
      ],
      [
        { method: 'PUT', path: `${subs()}/licences`, body: { licences: { basic: -1 } } },
        { status: 400, field: 'licences.basic' },
      ],
      [
        { method: 'PUT', path: `${subs()}/licences`, body: { licences: { basic: 0 } } },
        { status: 409, code: 'licences-in-use', field: 'licences.basic' },
      ],
    ]);
    await expectAll(alpha.admin, [
      [
        { method: 'POST', path: `${subs()}/renewal`, body: { months: '24' } },
        { status: 400, field: 'months' },
      ],
      [
        { method: 'POST', path: `${subs()}/renewal`, body: {} },
        { status: 400, code: 'missing-field', field: 'months' },
      ],
      [
        { method: 'POST', path: `${subs()}/billing-cycle`, body: { billingCycle: 'weekly' } },
        { status: 400, field: 'billingCycle' },
      ],
      [
        { method: 'POST', path: `${subs()}/labels`, body: { name: 'x'.repeat(65) } },
        { status: 400, field: 'name' },
      ],
      [
        { method: 'POST', path: `${subs()}/labels`, body: { name: 'Red', color: 'red' } },
        { status: 400, field: 'color' },
      ],
      [
        { method: 'PATCH', path: `/api/labels/${labelId}`, body: { name: 'x', size: 3 } },
        { status: 400, code: 'unknown-field', field: 'size' },
      ],
    ]);
  });
});

const longLabels = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.test`; // 254 characters
const INVALID_DOMAINS = [
  'exa mple.com',
  '-bad.test',
  'bad-.test',
  'a..b',
  '1.2.3.4',
  'localhost',
  '.alpha2.test',
  'under_score.test',
  `${'a'.repeat(64)}.test`,
  longLabels,
  'http://site.test',
  // The URL parser would read these as user info, port, path, query or fragment of `site.test`.
  'user@site.test',
  'site.test:25',
  'site.test/x',
  'site.test?x',
  'site.test#x',
  'site.test\\x',
  // … or drop the tab, or decode the %6d: `example.test`.
  'exa\tmple.test',
  'exa%6dple.test',
];

test('R-T3 bad input: invalid domain names (spaces, hyphens, empty labels, IP addresses, overlong) are refused naming the field', async () => {
  assert.equal(longLabels.length, 254);
  await unchanged(async () => {
    for (const client of [alpha.admin, op]) {
      for (const name of INVALID_DOMAINS) {
        await expectProblem(client, { method: 'POST', path: `${subs()}/domains`, body: { name } }, { status: 400, code: 'invalid-domain', field: 'name' });
        await expectProblem(
          client,
          { method: 'POST', path: '/api/domains/alpha.test/aliases', body: { name } },
          { status: 400, code: 'invalid-domain', field: 'name' },
        );
      }
      await expectAll(client, [
        [
          { method: 'POST', path: `${subs()}/domains`, body: { name: `${'a'.repeat(60)}.`.repeat(5) } },
          { status: 400, field: 'name' },
        ],
        [
          { method: 'POST', path: `${subs()}/domains`, body: { name: '' } },
          { status: 400, field: 'name' },
        ],
        [
          { method: 'POST', path: `${subs()}/domains`, body: {} },
          { status: 400, code: 'missing-field', field: 'name' },
        ],
        [
          { method: 'POST', path: `${subs()}/domains`, body: { name: ['alpha2.test'] } },
          { status: 400, field: 'name' },
        ],
        [
          { method: 'POST', path: `${subs()}/domains`, body: { name: 'alpha2.test', dkim: false } },
          { status: 400, code: 'unknown-field', field: 'dkim' },
        ],
        [
          { method: 'PUT', path: `/api/domains/${alphaDomainId}/contacts`, body: { technical: { name: 'Tech', email: 'no-at-sign' } } },
          { status: 400, code: 'invalid-address', field: 'technical.email' },
        ],
        [
          { method: 'PUT', path: `/api/domains/${alphaDomainId}/contacts`, body: { billing: { name: '  ', email: 'billing@alpha.test' } } },
          { status: 400, field: 'billing.name' },
        ],
        [
          { method: 'PUT', path: `/api/domains/${alphaDomainId}/contacts`, body: { sales: { name: 'S', email: 's@alpha.test' } } },
          { status: 400, code: 'unknown-field', field: 'sales' },
        ],
      ]);
    }
  });
});

test('R-T3 bad input: a domain owned by another customer, or already a domain alias, is refused with 409 exists naming the field', async () => {
  await unchanged(async () => {
    await expectAll(alpha.admin, [
      [
        { method: 'POST', path: `${subs()}/domains`, body: { name: 'beta.test' } },
        { status: 409, code: 'already-exists', field: 'name', detail: /beta\.test/ },
      ],
      [
        { method: 'POST', path: `${subs()}/domains`, body: { name: 'BETA.Test' } },
        { status: 409, code: 'already-exists', field: 'name' },
      ],
      [
        { method: 'POST', path: `${subs()}/domains`, body: { name: 'beta.test.' } },
        { status: 409, code: 'already-exists', field: 'name' },
      ],
      [
        { method: 'POST', path: `${subs()}/domains`, body: { name: 'alpha.test' } },
        { status: 409, code: 'already-exists', field: 'name' },
      ],
      [
        { method: 'POST', path: `${subs()}/domains`, body: { name: 'alpha-alias.test' } },
        { status: 409, code: 'already-exists', field: 'name' },
      ],
      [
        { method: 'POST', path: '/api/domains/alpha.test/aliases', body: { name: 'beta.test' } },
        { status: 409, code: 'already-exists', field: 'name' },
      ],
      [
        { method: 'POST', path: '/api/domains/alpha.test/aliases', body: { name: 'alpha.test' } },
        { status: 409, code: 'already-exists', field: 'name' },
      ],
      [
        { method: 'POST', path: '/api/domains/alpha.test/aliases', body: { name: 'alpha-alias.test' } },
        { status: 409, code: 'already-exists', field: 'name' },
      ],
    ]);
    await expectAll(beta.admin, [
      [
        { method: 'POST', path: `/api/subscriptions/${beta.subscriptionId}/domains`, body: { name: 'alpha.test' } },
        { status: 409, code: 'already-exists', field: 'name' },
      ],
      [
        { method: 'POST', path: `/api/subscriptions/${beta.subscriptionId}/domains`, body: { name: 'alpha-alias.test' } },
        { status: 409, code: 'already-exists', field: 'name' },
      ],
      [
        { method: 'POST', path: '/api/domains/beta.test/aliases', body: { name: 'alpha-alias.test' } },
        { status: 409, code: 'already-exists', field: 'name' },
      ],
      // Another customer's domain is not found, not revealed.
      [{ method: 'POST', path: '/api/domains/alpha.test/aliases', body: { name: 'beta-alias.test' } }, { status: 404 }],
    ]);
    await expectAll(op, [
      [
        { method: 'POST', path: `/api/subscriptions/${beta.subscriptionId}/domains`, body: { name: 'Alpha.TEST' } },
        { status: 409, code: 'already-exists', field: 'name' },
      ],
    ]);
  });
});

const INVALID_ADDRESSES = [
  'no-at-sign',
  'a@',
  '@alpha.test',
  'a b@alpha.test',
  `${'l'.repeat(65)}@alpha.test`,
  'a@@alpha.test',
  'a@exa mple.com',
  'a.@alpha.test',
  'a..b@alpha.test',
  '"quoted"@alpha.test',
  'a@1.2.3.4',
  'a@alpha.test:25',
  'a@alpha.test/x',
  'a@x@alpha.test',
];

test('R-T4 bad input: invalid addresses for accounts, aliases, lists and their members name the field', async () => {
  const account = { classId: 'basic', password: 'a-good-password-1' };
  await unchanged(async () => {
    for (const client of [alpha.admin, op]) {
      for (const address of INVALID_ADDRESSES) {
        await expectAll(client, [
          [
            { method: 'POST', path: `${subs()}/accounts`, body: { ...account, address } },
            { status: 400, code: 'invalid-address', field: 'address' },
          ],
          [
            { method: 'POST', path: `${subs()}/aliases`, body: { address, destinations: ['user@alpha.test'] } },
            { status: 400, code: 'invalid-address', field: 'address' },
          ],
          [
            { method: 'POST', path: `${subs()}/aliases`, body: { address: 'new@alpha.test', destinations: ['user@alpha.test', address] } },
            { status: 400, code: 'invalid-address', field: 'destinations.1' },
          ],
          [
            { method: 'POST', path: `${subs()}/lists`, body: { address } },
            { status: 400, code: 'invalid-address', field: 'address' },
          ],
          [
            { method: 'POST', path: `${subs()}/lists`, body: { address: 'new@alpha.test', members: [address] } },
            { status: 400, code: 'invalid-address', field: 'members.0' },
          ],
          [
            { method: 'POST', path: `/api/lists/${listId}/members`, body: { addresses: [address] } },
            { status: 400, code: 'invalid-address', field: 'members.0' },
          ],
          [
            { method: 'PATCH', path: `/api/aliases/${aliasId}`, body: { destinations: [address] } },
            { status: 400, code: 'invalid-address', field: 'destinations.0' },
          ],
        ]);
      }
      await expectAll(client, [
        [
          { method: 'POST', path: `${subs()}/accounts`, body: { ...account, address: `${'l'.repeat(320)}@alpha.test` } },
          { status: 400, field: 'address' },
        ],
        [
          { method: 'POST', path: `${subs()}/accounts`, body: { ...account, address: 42 } },
          { status: 400, field: 'address' },
        ],
        [
          { method: 'POST', path: `${subs()}/accounts`, body: { classId: 'basic' } },
          { status: 400, code: 'missing-field', field: 'address' },
        ],
        [
          { method: 'POST', path: `${subs()}/accounts`, body: { address: 'new@alpha.test' } },
          { status: 400, code: 'missing-field', field: 'classId' },
        ],
        [
          { method: 'POST', path: `${subs()}/accounts`, body: { ...account, address: 'new@alpha.test', quotaBytes: 1 } },
          { status: 400, code: 'unknown-field', field: 'quotaBytes' },
        ],
        [
          { method: 'POST', path: `${subs()}/accounts`, body: { ...account, address: 'new@alpha.test', password: 'short' } },
          { status: 400, field: 'password' },
        ],
        [
          { method: 'POST', path: `${subs()}/accounts`, body: { ...account, address: 'new@alpha.test', displayName: 'x'.repeat(201) } },
          { status: 400, field: 'displayName' },
        ],
        [
          { method: 'POST', path: `${subs()}/accounts`, body: { ...account, address: 'new@alpha.test', classId: 'x'.repeat(33) } },
          { status: 400, field: 'classId' },
        ],
        [
          { method: 'POST', path: `${subs()}/accounts`, body: { ...account, address: 'new@alpha.test', classId: 'platinum' } },
          { status: 400, code: 'unknown-class', field: 'classId' },
        ],
        [
          { method: 'POST', path: `${subs()}/aliases`, body: { address: 'new@alpha.test', destinations: [] } },
          { status: 400, field: 'destinations' },
        ],
        [
          { method: 'POST', path: `${subs()}/aliases`, body: { address: 'new@alpha.test', destinations: 'user@alpha.test' } },
          { status: 400, field: 'destinations' },
        ],
        [
          {
            method: 'POST',
            path: `${subs()}/aliases`,
            body: { address: 'new@alpha.test', destinations: Array.from({ length: 101 }, (_, i) => `d${i}@x.test`) },
          },
          { status: 400, field: 'destinations' },
        ],
        [
          { method: 'POST', path: `${subs()}/aliases`, body: { address: 'loop@alpha.test', destinations: ['LOOP@alpha.test'] } },
          { status: 400, code: 'alias-loop', field: 'destinations' },
        ],
        [
          { method: 'POST', path: `${subs()}/lists`, body: { address: 'new@alpha.test', postingPolicy: 'everyone' } },
          { status: 400, field: 'postingPolicy' },
        ],
        [
          { method: 'POST', path: `${subs()}/lists`, body: { address: 'new@alpha.test', members: ['new@alpha.test'] } },
          { status: 400, code: 'list-loop', field: 'members' },
        ],
        [
          { method: 'PATCH', path: `/api/accounts/${userId}`, body: { status: 'gone' } },
          { status: 400, field: 'status' },
        ],
        [
          { method: 'PATCH', path: `/api/accounts/${userId}`, body: { classId: 'platinum' } },
          { status: 400, code: 'unknown-class', field: 'classId' },
        ],
        [
          { method: 'PATCH', path: `/api/accounts/${userId}`, body: { password: 'short' } },
          { status: 400, field: 'password' },
        ],
        [
          { method: 'PATCH', path: `/api/accounts/${userId}`, body: { address: 'other@alpha.test' } },
          { status: 400, code: 'unknown-field', field: 'address' },
        ],
      ]);
    }
  });
});

test('R-T4 bad input: an account on a domain that is not in the subscription (another customer’s, a domain alias, unknown) is refused', async () => {
  const account = { classId: 'basic', password: 'a-good-password-1' };
  await unchanged(async () => {
    for (const address of ['new@beta.test', 'new@alpha-alias.test', 'new@nowhere.test', 'new@sub.alpha.test']) {
      await expectAll(alpha.admin, [
        [
          { method: 'POST', path: `${subs()}/accounts`, body: { ...account, address } },
          { status: 400, code: 'domain-not-in-subscription', field: 'address' },
        ],
        [
          { method: 'POST', path: `${subs()}/aliases`, body: { address, destinations: ['user@alpha.test'] } },
          { status: 400, code: 'domain-not-in-subscription', field: 'address' },
        ],
        [
          { method: 'POST', path: `${subs()}/lists`, body: { address } },
          { status: 400, code: 'domain-not-in-subscription', field: 'address' },
        ],
      ]);
    }
    await expectAll(op, [
      [
        { method: 'POST', path: `/api/subscriptions/${beta.subscriptionId}/accounts`, body: { ...account, address: 'new@alpha.test' } },
        { status: 400, code: 'domain-not-in-subscription', field: 'address' },
      ],
    ]);
    // A customer admin cannot reach another customer's subscription at all.
    await expectAll(beta.admin, [[{ method: 'POST', path: `${subs()}/accounts`, body: { ...account, address: 'new@alpha.test' } }, { status: 404 }]]);
  });
});

test('R-T4 bad input: one address serves one account, alias, list or login: duplicates get 409 exists naming the field', async () => {
  const account = { classId: 'basic', password: 'a-good-password-1' };
  await unchanged(async () => {
    await expectAll(alpha.admin, [
      // accounts
      [
        { method: 'POST', path: `${subs()}/accounts`, body: { ...account, address: 'user@alpha.test' } },
        { status: 409, code: 'already-exists', field: 'address' },
      ],
      [
        { method: 'POST', path: `${subs()}/accounts`, body: { ...account, address: 'USER@Alpha.Test' } },
        { status: 409, code: 'already-exists', field: 'address' },
      ],
      [
        { method: 'POST', path: `${subs()}/accounts`, body: { ...account, address: 'info@alpha.test' } },
        { status: 409, code: 'already-exists', field: 'address' },
      ],
      [
        { method: 'POST', path: `${subs()}/accounts`, body: { ...account, address: 'team@alpha.test' } },
        { status: 409, code: 'already-exists', field: 'address' },
      ],
      // an account with the address of a customer-admin login (they share the login form)
      [
        { method: 'POST', path: `${subs()}/accounts`, body: { ...account, address: alpha.adminEmail } },
        { status: 409, code: 'already-exists', field: 'address' },
      ],
      // aliases
      [
        { method: 'POST', path: `${subs()}/aliases`, body: { address: 'user@alpha.test', destinations: ['x@elsewhere.test'] } },
        { status: 409, code: 'already-exists', field: 'address' },
      ],
      [
        { method: 'POST', path: `${subs()}/aliases`, body: { address: 'Info@alpha.test', destinations: ['x@elsewhere.test'] } },
        { status: 409, code: 'already-exists', field: 'address' },
      ],
      [
        { method: 'POST', path: `${subs()}/aliases`, body: { address: 'team@alpha.test', destinations: ['x@elsewhere.test'] } },
        { status: 409, code: 'already-exists', field: 'address' },
      ],
      // lists
      [
        { method: 'POST', path: `${subs()}/lists`, body: { address: 'info@alpha.test' } },
        { status: 409, code: 'already-exists', field: 'address' },
      ],
      [
        { method: 'POST', path: `${subs()}/lists`, body: { address: 'user@alpha.test', members: ['x@elsewhere.test'] } },
        { status: 409, code: 'already-exists', field: 'address' },
      ],
      [
        { method: 'POST', path: `${subs()}/lists`, body: { address: 'TEAM@alpha.test' } },
        { status: 409, code: 'already-exists', field: 'address' },
      ],
      // an admin login with the address of an account, or of another login
      [
        { method: 'POST', path: `/api/customers/${alpha.customerId}/admins`, body: { email: 'user@alpha.test', password: 'a-good-password-1' } },
        { status: 409, code: 'already-exists', field: 'email' },
      ],
      [
        { method: 'POST', path: `/api/customers/${alpha.customerId}/admins`, body: { email: 'User@Alpha.test' } },
        { status: 409, code: 'already-exists', field: 'email' },
      ],
      [
        { method: 'POST', path: `/api/customers/${alpha.customerId}/admins`, body: { email: beta.adminEmail } },
        { status: 409, code: 'already-exists', field: 'email' },
      ],
    ]);
    await expectAll(op, [
      [
        { method: 'POST', path: `/api/customers/${beta.customerId}/admins`, body: { email: 'operator@provider.test' } },
        { status: 409, code: 'already-exists', field: 'email' },
      ],
    ]);
  });
});

test('R-T2 bad input: an account in a class the subscription has no licence of gets 409 class-not-in-subscription naming its classes (not "all 0 licences are in use"), in English and French', async () => {
  await unchanged(async () => {
    // Alpha has no premium licence at all.
    await expectAll(alpha.admin, [
      [
        { method: 'POST', path: `${subs()}/accounts`, body: { address: 'vip@alpha.test', classId: 'premium', password: 'a-good-password-1' } },
        {
          status: 409,
          code: 'class-not-in-subscription',
          field: 'classId',
          detail: /^This subscription has no licence of class premium: choose one of its classes \(basic/,
        },
      ],
      [
        { method: 'PATCH', path: `/api/accounts/${userId}`, body: { classId: 'premium' } },
        { status: 409, code: 'class-not-in-subscription', field: 'classId' },
      ],
    ]);
  });
});

test('R-T4 bad input: Content-Type application/json with an empty body is no body on a POST or DELETE that takes none, and a 400 saying "empty" where a body is needed', async () => {
  const emptyJson = (client: ApiClient, method: string, path: string) => client.request(method, path, undefined, { raw: '' });
  const label = await alpha.admin.post(`${subs()}/labels`, { name: 'Empty body' });
  expectStatus(label, 201);
  expectStatus(await emptyJson(alpha.admin, 'DELETE', `/api/labels/${label.body.id}`), 204);
  expectStatus(await emptyJson(alpha.admin, 'POST', `/api/domains/${alphaDomainId}/check`), 200);
  expectStatus(await emptyJson(alpha.admin, 'POST', `/api/domains/${alphaDomainId}/dkim/rotate`), 201);
  expectStatus(await emptyJson(alpha.admin, 'DELETE', `/api/domains/${alphaDomainId}/dkim/pending`), 200);
  await unchanged(async () => {
    await expectProblem(alpha.admin, { method: 'POST', path: `${subs()}/labels`, raw: '' }, { status: 400, code: 'invalid-json', detail: /body is empty/ });
  });
});

test('R-T7 bad input: a ticket for another customer is refused (404 naming customerId), and the operator must name the customer (400)', async () => {
  await unchanged(async () => {
    await expectAll(alpha.admin, [
      [
        { method: 'POST', path: '/api/tickets', body: { customerId: beta.customerId, subject: 'For Beta?', body: 'hello' } },
        { status: 404, code: 'not-found', field: 'customerId' },
      ],
    ]);
    await expectAll(op, [
      [
        { method: 'POST', path: '/api/tickets', body: { subject: 'For whom?', body: 'hello' } },
        { status: 400, code: 'missing-field', field: 'customerId' },
      ],
    ]);
  });
});

test('R-T2 bad input: an account beyond the licences of its class gets 409 licences-exhausted naming the class, and nothing is created', async () => {
  const filled = await beta.admin.post(`/api/subscriptions/${beta.subscriptionId}/accounts`, {
    address: 'one@beta.test',
    classId: 'basic',
    password: 'a-good-password-1',
  });
  assert.equal(filled.status, 201, JSON.stringify(filled.body));
  await unchanged(async () => {
    await expectProblem(
      beta.admin,
      {
        method: 'POST',
        path: `/api/subscriptions/${beta.subscriptionId}/accounts`,
        body: { address: 'two@beta.test', classId: 'basic', password: 'a-good-password-1' },
      },
      { status: 409, code: 'licences-exhausted', field: 'classId' },
    );
  });
});

test('R-T4 bad input: long operations refuse bad input at once (unknown class for a re-class) rather than after 202', async () => {
  await unchanged(async () => {
    await expectAll(alpha.admin, [
      [
        { method: 'POST', path: `${subs()}/accounts/reclass`, body: { toClassId: 'platinum' } },
        { status: 400, code: 'unknown-class', field: 'toClassId' },
      ],
      [
        { method: 'POST', path: `${subs()}/accounts/reclass`, body: {} },
        { status: 400, code: 'missing-field', field: 'toClassId' },
      ],
      [
        { method: 'POST', path: `${subs()}/accounts/reclass`, body: { toClassId: 'standard', accountIds: 'all' } },
        { status: 400, field: 'accountIds' },
      ],
    ]);
  });
});

test('R-T4 bad input: path and query parameters out of range, unknown routes, and unknown ids get problem+json', async () => {
  await unchanged(async () => {
    await expectAll(op, [
      [
        { method: 'GET', path: '/api/subscriptions?limit=abc' },
        { status: 400, field: 'limit' },
      ],
      [
        { method: 'GET', path: '/api/subscriptions?limit=0' },
        { status: 400, field: 'limit' },
      ],
      [
        { method: 'GET', path: '/api/subscriptions?limit=501' },
        { status: 400, field: 'limit' },
      ],
      [
        { method: 'GET', path: '/api/operations?status=sleeping' },
        { status: 400, field: 'status' },
      ],
      [
        { method: 'GET', path: `/api/accounts/${'x'.repeat(101)}` },
        { status: 400, code: 'invalid-url' },
      ],
      [
        { method: 'PATCH', path: `/api/accounts/${'x'.repeat(101)}`, body: { displayName: 'X' } },
        { status: 400, code: 'invalid-url' },
      ],
      [
        { method: 'GET', path: '/api/accounts/%E0%A4%A' },
        { status: 400, code: 'invalid-url' },
      ],
      [
        { method: 'GET', path: `/api/domains/${'x'.repeat(100)}` },
        { status: 404, code: 'not-found' },
      ],
      [
        { method: 'GET', path: '/api/nothing-here' },
        { status: 404, code: 'no-route' },
      ],
      [
        { method: 'POST', path: '/api/nothing-here', body: {} },
        { status: 404, code: 'no-route' },
      ],
      [
        { method: 'DELETE', path: '/api/customers' },
        { status: 404, code: 'no-route' },
      ],
      [
        { method: 'GET', path: '/nothing-here' },
        { status: 404, code: 'no-route' },
      ],
      [
        { method: 'GET', path: '/api/subscriptions/sub_nothing' },
        { status: 404, code: 'not-found' },
      ],
      [
        { method: 'GET', path: '/api/accounts/nobody@alpha.test' },
        { status: 404, code: 'not-found' },
      ],
      [
        { method: 'GET', path: '/api/domains/exa%20mple.com' },
        { status: 404, code: 'not-found' },
      ],
      [
        { method: 'POST', path: '/api/subscriptions/sub_nothing/accounts', body: { address: 'x@alpha.test', classId: 'basic' } },
        { status: 404, code: 'not-found' },
      ],
    ]);
    await expectAll(alpha.admin, [
      [
        { method: 'GET', path: `${subs()}/accounts?limit=-1` },
        { status: 400, field: 'limit' },
      ],
      [
        { method: 'GET', path: `/api/subscriptions/${beta.subscriptionId}` },
        { status: 404, code: 'not-found' },
      ],
      [
        { method: 'GET', path: '/api/nothing-here' },
        { status: 404, code: 'no-route' },
      ],
    ]);
  });
});

/** Every request body the API accepts, fed values of every wrong shape: always a 4xx problem, never a 500. */
test('R-T4 bad input: every route with a body answers odd bodies with a 4xx problem+json, never a 500', async () => {
  const spec = await op.get('/api/openapi.json');
  assert.equal(spec.status, 200);
  const ids: Record<string, string> = {
    '/customers/{id}': alpha.customerId,
    '/subscriptions/{id}': alpha.subscriptionId,
    '/domains/{id}': alphaDomainId,
    '/accounts/{id}': userId,
    '/aliases/{id}': aliasId,
    '/lists/{id}': listId,
    '/labels/{id}': labelId,
    '/classes/{id}': 'basic',
    '/tickets/{id}': 'tkt_nothing',
  };
  const routes: { method: string; path: string }[] = [];
  for (const [template, methods] of Object.entries(spec.body.paths as Record<string, Record<string, { requestBody?: unknown }>>)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (!operation.requestBody) continue;
      const path = template.replace(/^\/api/, '').replace(/^(\/[a-z-]+\/\{id\})/, (prefix) => (ids[prefix] ? prefix.replace('{id}', ids[prefix]) : prefix));
      routes.push({ method: method.toUpperCase(), path: `/api${path.replace(/\{[^}]+\}/g, 'x')}` });
    }
  }
  assert.ok(routes.length >= 20, `the OpenAPI document lists the routes with bodies (${routes.length})`);
  const bodies = [
    'null',
    '[]',
    '"text"',
    '123',
    'true',
    '{"a":1}',
    '{"name":{"$ne":null}}',
    '{"__proto__":{"admin":true}}',
    '{"email":[],"address":{},"name":1e400}',
    '{',
  ];
  await unchanged(async () => {
    for (const client of [op, alpha.admin]) {
      for (const route of routes) {
        for (const raw of bodies) {
          const reply = await client.request(route.method, route.path, undefined, { raw });
          const where = `${route.method} ${route.path} ${raw} → ${reply.status} ${JSON.stringify(reply.body)}`;
          assert.ok(reply.status >= 400 && reply.status < 500, where);
          assert.match(reply.headers.get('content-type') ?? '', /^application\/problem\+json/, where);
          assert.equal(reply.body.status, reply.status, where);
          assert.equal(typeof reply.body.code, 'string', where);
        }
      }
    }
  });
});
