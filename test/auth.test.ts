/**
 * Authentication and least privilege over HTTP (R-A1, R-A2, R-T7): second factor for portal logins,
 * replay and recovery codes, users and their app passwords, no user enumeration, throttling, CSRF,
 * roles and tenancy isolation, password storage, support tickets. The real service on loopback,
 * nothing mocked; throttling is lowered to 3 failures per account so it can be reached quickly.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { generate } from 'otplib';
import { CREDENTIAL_CACHE_TTL_MS, credentialCacheOf } from '../src/auth/credential-cache.ts';
import { verifyMailLogin } from '../src/auth/index.ts';
import { ApiClient, expectProblem, expectStatus, type Reply, waitForOperation } from './helpers/client.ts';
import { OPERATOR, startTestService, type TestService } from './helpers/service.ts';

const FAILURES = 3;

let service: TestService;
let operator: ApiClient;
/** What the operator's very first login looked like, before and after enrolment. */
let operatorFirst: { stage: string; meBefore: number; meAfter: number; recoveryCodes: string[] };
let operatorSecret: string;
/** GET /api/me answered between the password and the end of the enrolment. */
let enrolPending: Reply;

before(async () => {
  service = await startTestService({ overrides: { auth: { loginFailuresPerAccount: FAILURES, loginFailuresPerIp: 100_000 } } });
  const { client, reply } = await passwordLogin(OPERATOR.email, OPERATOR.password);
  const pendingMe = await client.get('/api/me');
  const meBefore = pendingMe.status;
  enrolPending = pendingMe;
  const { secret, recoveryCodes } = await enrolNow(client);
  operatorSecret = secret;
  operatorFirst = { stage: reply.body.stage, meBefore, meAfter: (await client.get('/api/me')).status, recoveryCodes };
  operator = client;
});
after(() => service.close());

// ---------------------------------------------------------------------------------------------
// Helpers

const newClient = () => new ApiClient(service.url, service.clock);

async function passwordLogin(email: string, password: string): Promise<{ client: ApiClient; reply: Reply }> {
  const client = newClient();
  const reply = await client.post('/api/auth/login', { email, password });
  if (reply.status === 200) client.csrf = reply.body.csrfToken;
  return { client, reply };
}

/** Enrols TOTP in a session at stage 'enrol' (or a user's full session). */
async function enrolNow(client: ApiClient): Promise<{ secret: string; recoveryCodes: string[] }> {
  const enrol = await client.post('/api/auth/totp/enrol');
  assert.equal(enrol.status, 200, JSON.stringify(enrol.body));
  const confirm = await client.post('/api/auth/totp/confirm', { code: await client.totpCode(enrol.body.secret) });
  assert.equal(confirm.status, 200, JSON.stringify(confirm.body));
  return { secret: enrol.body.secret, recoveryCodes: confirm.body.recoveryCodes };
}

/** Password then a fresh TOTP code (the clock moves one step so the code is new). */
async function totpLogin(email: string, password: string, secret: string): Promise<ApiClient> {
  const { client, reply } = await passwordLogin(email, password);
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  assert.equal(reply.body.stage, 'totp');
  const verify = await client.post('/api/auth/totp/verify', { code: await client.totpCode(secret) });
  assert.equal(verify.status, 200, JSON.stringify(verify.body));
  return client;
}

const codeAt = (secret: string, ms: number) => generate({ secret, epoch: Math.floor(ms / 1000) });

/** A six-digit code that is valid at no step near now. */
async function wrongCode(secret: string): Promise<string> {
  const now = service.clock.now();
  const valid = new Set(await Promise.all([-2, -1, 0, 1, 2].map((k) => codeAt(secret, now + k * 30_000))));
  for (let n = 123456; ; n++) if (!valid.has(String(n))) return String(n);
}

let serial = 0;
const unique = (prefix: string) => `${prefix}${++serial}`;

interface Customer {
  customerId: string;
  subscriptionId: string;
}

async function newCustomer(name: string, licences: Record<string, number> = { basic: 5 }): Promise<Customer> {
  const customer = await operator.post('/api/customers', { name, contactEmail: `contact@${name.toLowerCase()}.test` });
  assert.equal(customer.status, 201, JSON.stringify(customer.body));
  const subscription = await operator.post('/api/subscriptions', { customerId: customer.body.id, licences, months: 12 });
  assert.equal(subscription.status, 201, JSON.stringify(subscription.body));
  return { customerId: customer.body.id, subscriptionId: subscription.body.id };
}

/** A customer admin created by the operator, not logged in yet. */
async function newAdminLogin(customerId: string, label: string): Promise<{ email: string; password: string }> {
  const email = `${unique(label)}@admins.test`;
  const password = `pw-${email}-Secret`;
  const created = await operator.post(`/api/customers/${customerId}/admins`, { email, password });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return { email, password };
}

interface Admin {
  email: string;
  password: string;
  secret: string;
  client: ApiClient;
}

/** A customer admin logged in, TOTP enrolled. */
async function newAdmin(customerId: string, label = 'admin'): Promise<Admin> {
  const { email, password } = await newAdminLogin(customerId, label);
  const { client, reply } = await passwordLogin(email, password);
  assert.equal(reply.body.stage, 'enrol');
  const { secret } = await enrolNow(client);
  return { email, password, secret, client };
}

async function addDomain(client: ApiClient, subscriptionId: string, name: string): Promise<string> {
  const started = await client.post(`/api/subscriptions/${subscriptionId}/domains`, { name });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const op = await waitForOperation(client, started.body.id);
  assert.equal(op.status, 'succeeded', JSON.stringify(op));
  return op.result.domainId;
}

async function createAccount(client: ApiClient, subscriptionId: string, address: string, password: string): Promise<string> {
  const created = await client.post(`/api/subscriptions/${subscriptionId}/accounts`, { address, classId: 'basic', password });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.id;
}

/** A request with exactly the credentials given (no automatic CSRF header). */
async function raw(method: string, path: string, auth: { cookie?: string; csrf?: string; bearer?: string }, body?: unknown): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (auth.cookie) headers.cookie = auth.cookie;
  if (auth.csrf !== undefined) headers['x-csrf-token'] = auth.csrf;
  if (auth.bearer) headers.authorization = `Bearer ${auth.bearer}`;
  const response = await fetch(`${service.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const textBody = await response.text();
  return {
    status: response.status,
    body: textBody && (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(textBody) : textBody,
    headers: response.headers,
  };
}

/** A mail domain, with an account the admin created; the user logged in to the webmail. */
async function newUser(admin: ApiClient, subscriptionId: string, domain: string): Promise<{ address: string; password: string; id: string }> {
  const address = `${unique('user')}@${domain}`;
  const password = `user-pass-${address}`;
  const id = await createAccount(admin, subscriptionId, address, password);
  return { address, password, id };
}

// ---------------------------------------------------------------------------------------------
// Second factor for portal logins

test('R-A1 the operator must enrol TOTP at the first login before using the API', () => {
  assert.equal(operatorFirst.stage, 'enrol');
  assert.equal(operatorFirst.meBefore, 401, 'a session still enrolling reaches no route');
  assert.equal(operatorFirst.meAfter, 200);
  assert.equal(operatorFirst.recoveryCodes.length, 10);
});

test('R-A1 a customer admin must enrol TOTP at the first login; recovery codes are shown once', async () => {
  const { customerId, subscriptionId } = await newCustomer('Enrolco');
  const { email, password } = await newAdminLogin(customerId, 'enrol');
  const { client, reply } = await passwordLogin(email, password);
  assert.equal(reply.status, 200);
  assert.equal(reply.body.stage, 'enrol');
  assert.equal(reply.body.role, 'customer_admin');

  // Not enrolled yet: no normal route, not even read-only ones, and no "verify" shortcut.
  for (const path of ['/api/me', `/api/subscriptions/${subscriptionId}`, `/api/customers/${customerId}`, '/api/operations']) {
    const denied = await client.get(path);
    assert.equal(denied.status, 401, `${path}: ${JSON.stringify(denied.body)}`);
  }
  const changed = await client.patch(`/api/customers/${customerId}`, { name: 'Hijacked' });
  assert.equal(changed.status, 401);
  const shortcut = await client.post('/api/auth/totp/verify', { code: '000000' });
  assert.equal(shortcut.status, 403);
  const session = await client.get('/api/auth/session');
  assert.equal(session.status, 200);
  assert.equal(session.body.stage, 'enrol');

  const enrol = await client.post('/api/auth/totp/enrol');
  assert.equal(enrol.status, 200, JSON.stringify(enrol.body));
  assert.match(enrol.body.uri, /^otpauth:\/\/totp\//);
  assert.ok(enrol.body.uri.includes(enrol.body.secret));

  const bad = await client.post('/api/auth/totp/confirm', { code: await wrongCode(enrol.body.secret) });
  assert.equal(bad.status, 401);
  assert.equal(bad.body.code, 'invalid-code');
  assert.equal((await client.get('/api/me')).status, 401, 'a wrong first code enrols nothing');

  const confirm = await client.post('/api/auth/totp/confirm', { code: await client.totpCode(enrol.body.secret) });
  assert.equal(confirm.status, 200, JSON.stringify(confirm.body));
  const codes: string[] = confirm.body.recoveryCodes;
  assert.equal(codes.length, 10);
  assert.equal(new Set(codes).size, 10, 'recovery codes are distinct');
  for (const code of codes) assert.ok(code.length >= 10, code);

  const me = await client.get('/api/me');
  assert.equal(me.status, 200);
  assert.equal(me.body.login.twoFactorEnabled, true);

  // Shown once: confirming again gives nothing, and nothing else shows them.
  const again = await client.post('/api/auth/totp/confirm', { code: await client.totpCode(enrol.body.secret) });
  assert.equal(again.status, 409);
  assert.equal(again.body.recoveryCodes, undefined);
  const restart = await client.post('/api/auth/totp/enrol');
  assert.equal(restart.status, 409, 'an enrolled login cannot be re-enrolled to a new secret');
  for (const path of ['/api/me', '/api/auth/session', `/api/customers/${customerId}/admins`]) {
    const text = JSON.stringify((await client.get(path)).body);
    for (const code of codes) assert.ok(!text.includes(code), `${path} shows a recovery code`);
  }
  const stored = await service.ctx.db.selectFrom('logins').select('recovery_codes').where('email', '=', email).executeTakeFirstOrThrow();
  for (const code of codes) assert.ok(!stored.recovery_codes.includes(code) && !stored.recovery_codes.includes(code.replace('-', '')), 'stored hashed');
});

test('R-A1 during two-factor enrolment, GET /api/me says to finish enrolling (401 second-factor-required), in English and French', async () => {
  expectProblem(enrolPending, 401, 'second-factor-required');
  assert.match(enrolPending.body.detail, /Finish setting up two-factor authentication/);
  assert.equal(enrolPending.body.details.stage, 'enrol');
  const { customerId } = await newCustomer('Enrolfr');
  const admin = await newAdminLogin(customerId, 'enrolfr');
  const { client } = await passwordLogin(admin.email, admin.password);
  client.language = 'fr';
  const me = await client.get('/api/me');
  expectProblem(me, 401, 'second-factor-required');
  assert.match(me.body.detail, /Terminez d'abord la configuration de l'authentification à deux facteurs/);
});

test('R-A1 after enrolment a portal login needs a TOTP code; a wrong code is refused', async () => {
  const { customerId } = await newCustomer('Totpco');
  const admin = await newAdmin(customerId, 'totp');
  const { client, reply } = await passwordLogin(admin.email, admin.password);
  assert.equal(reply.body.stage, 'totp');
  const pending = await client.get('/api/me');
  expectProblem(pending, 401, 'second-factor-required');
  assert.match(pending.body.detail, /two-factor authentication code/, 'says which step is left, not "log in first"');
  assert.equal((await client.post('/api/auth/totp/enrol')).status, 403, 'no re-enrolment before the code');
  assert.equal((await client.post('/api/auth/totp/confirm', { code: '123456' })).status, 403);

  const wrong = await client.post('/api/auth/totp/verify', { code: await wrongCode(admin.secret) });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.code, 'invalid-code');
  const malformed = await client.post('/api/auth/totp/verify', { code: 'abcdef' });
  assert.equal(malformed.status, 401);
  assert.equal((await client.get('/api/me')).status, 401);

  const right = await client.post('/api/auth/totp/verify', { code: await client.totpCode(admin.secret) });
  assert.equal(right.status, 200, JSON.stringify(right.body));
  const me = await client.get('/api/me');
  assert.equal(me.status, 200);
  assert.equal(me.body.role, 'customer_admin');
});

test('R-A1 a TOTP code cannot be replayed (RFC 6238 §5.2)', async () => {
  const { customerId } = await newCustomer('Replayco');
  const admin = await newAdmin(customerId, 'replay');

  const first = await passwordLogin(admin.email, admin.password);
  const code = await first.client.totpCode(admin.secret);
  assert.equal((await first.client.post('/api/auth/totp/verify', { code })).status, 200);

  // The same code, still inside its 30-second window, in another session: refused.
  const second = await passwordLogin(admin.email, admin.password);
  assert.equal(second.reply.body.stage, 'totp');
  const replay = await second.client.post('/api/auth/totp/verify', { code });
  assert.equal(replay.status, 401, 'a used code is refused');
  assert.equal(replay.body.code, 'invalid-code');
  // An older code (previous step, within the drift tolerance) is refused too.
  const older = await second.client.post('/api/auth/totp/verify', { code: await codeAt(admin.secret, service.clock.now() - 30_000) });
  assert.equal(older.status, 401);
  assert.equal((await second.client.get('/api/me')).status, 401);
  // The next code works.
  assert.equal((await second.client.post('/api/auth/totp/verify', { code: await second.client.totpCode(admin.secret) })).status, 200);

  // Sessions racing with one fresh code: only one gets in.
  const racers = await Promise.all([1, 2, 3, 4].map(() => passwordLogin(admin.email, admin.password)));
  const fresh = await racers[0]!.client.totpCode(admin.secret);
  const results = await Promise.all(racers.map((r) => r.client.post('/api/auth/totp/verify', { code: fresh })));
  assert.equal(results.filter((r) => r.status === 200).length, 1, 'one code, one login: ' + results.map((r) => r.status).join(' '));
  for (const r of results) assert.ok([200, 401, 429].includes(r.status), String(r.status));
});

test('R-A1 a recovery code works once, then never again', async () => {
  const { customerId } = await newCustomer('Recoverco');
  const { email, password } = await newAdminLogin(customerId, 'recover');
  const first = await passwordLogin(email, password);
  const { recoveryCodes } = await enrolNow(first.client);
  const [code, other] = recoveryCodes as [string, string];

  const withCode = await passwordLogin(email, password);
  const used = await withCode.client.post('/api/auth/totp/verify', { code });
  assert.equal(used.status, 200, JSON.stringify(used.body));
  assert.equal((await withCode.client.get('/api/me')).status, 200);
  const stored = await service.ctx.db.selectFrom('logins').select('recovery_codes').where('email', '=', email).executeTakeFirstOrThrow();
  assert.equal(JSON.parse(stored.recovery_codes).length, 9);

  const again = await passwordLogin(email, password);
  const reused = await again.client.post('/api/auth/totp/verify', { code });
  assert.equal(reused.status, 401, 'a recovery code is single-use');
  assert.equal((await again.client.get('/api/me')).status, 401);
  // Another code still works, typed in capitals and with spaces around.
  assert.equal((await again.client.post('/api/auth/totp/verify', { code: ` ${other.toUpperCase()} ` })).status, 200);

  // Sessions racing with one recovery code: only one gets in.
  const third = recoveryCodes[2] as string;
  const racers = await Promise.all([1, 2, 3, 4].map(() => passwordLogin(email, password)));
  const results = await Promise.all(racers.map((r) => r.client.post('/api/auth/totp/verify', { code: third })));
  assert.equal(results.filter((r) => r.status === 200).length, 1, 'one recovery code, one login: ' + results.map((r) => r.status).join(' '));
  for (const r of results) assert.ok([200, 401, 429].includes(r.status), String(r.status));
});

test('R-A1 guessing second-factor codes is throttled per account', async () => {
  const { customerId } = await newCustomer('Guessco');
  const admin = await newAdmin(customerId, 'guess');
  const { client } = await passwordLogin(admin.email, admin.password);
  for (let i = 0; i < FAILURES; i++) {
    const wrong = await client.post('/api/auth/totp/verify', { code: await wrongCode(admin.secret) });
    assert.equal(wrong.status, 401);
  }
  const blocked = await client.post('/api/auth/totp/verify', { code: await client.totpCode(admin.secret) });
  assert.equal(blocked.status, 429, 'even the right code waits once the account is throttled');
  assert.ok(Number(blocked.headers.get('retry-after')) > 0);
  assert.equal((await client.get('/api/me')).status, 401);
  const relogin = await passwordLogin(admin.email, admin.password);
  assert.equal(relogin.reply.status, 429, 'a new password login does not reset the guessing');
});

test('R-A1 logging out ends the session', async () => {
  const { customerId } = await newCustomer('Logoutco');
  const admin = await newAdmin(customerId, 'logout');
  assert.equal((await admin.client.get('/api/me')).status, 200);
  const cookie = admin.client.cookie as string;
  assert.equal((await admin.client.post('/api/auth/logout')).status, 204);
  assert.equal((await raw('GET', '/api/me', { cookie })).status, 401, 'the old cookie is dead on the server, not just cleared');
});

// ---------------------------------------------------------------------------------------------
// Users: webmail logins, voluntary TOTP, app passwords for mail clients

let usersCustomer: Customer & { admin: Admin; domain: string };
async function usersSetup() {
  if (usersCustomer) return usersCustomer;
  const customer = await newCustomer('Userco', { basic: 20 });
  const admin = await newAdmin(customer.customerId, 'useradmin');
  const domain = 'userco.example';
  await addDomain(admin.client, customer.subscriptionId, domain);
  usersCustomer = { ...customer, admin, domain };
  return usersCustomer;
}

test('R-A1 users log in with their password alone (stage full) and may enable TOTP', async () => {
  const setup = await usersSetup();
  const user = await newUser(setup.admin.client, setup.subscriptionId, setup.domain);
  const { client, reply } = await passwordLogin(user.address, user.password);
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  assert.equal(reply.body.stage, 'full');
  assert.equal(reply.body.role, 'user');
  const me = await client.get('/api/me');
  assert.equal(me.status, 200);
  assert.equal(me.body.role, 'user');
  assert.equal(me.body.account.address, user.address);
  assert.equal(me.body.account.twoFactorEnabled, false);

  const { secret, recoveryCodes } = await enrolNow(client);
  assert.equal(recoveryCodes.length, 10);
  assert.equal((await client.get('/api/me')).body.account.twoFactorEnabled, true);

  const next = await passwordLogin(user.address, user.password);
  assert.equal(next.reply.body.stage, 'totp', 'once enabled, the webmail login asks for the code');
  assert.equal((await next.client.get('/api/me')).status, 401);
  assert.equal((await next.client.post('/api/auth/totp/verify', { code: await next.client.totpCode(secret) })).status, 200);
  assert.equal((await next.client.get('/api/me')).status, 200);
});

test('R-A1 users are refused every admin route (403)', async () => {
  const setup = await usersSetup();
  const user = await newUser(setup.admin.client, setup.subscriptionId, setup.domain);
  const { client } = await passwordLogin(user.address, user.password);
  const { customerId, subscriptionId } = setup;
  const attempts: [string, string, unknown?][] = [
    ['GET', '/api/customers'],
    ['GET', `/api/customers/${customerId}`],
    ['PATCH', `/api/customers/${customerId}`, { name: 'Mine now' }],
    ['GET', `/api/customers/${customerId}/tokens`],
    ['POST', `/api/customers/${customerId}/tokens`, { name: 'steal' }],
    ['POST', `/api/customers/${customerId}/admins`, { email: 'promote@userco.example', password: 'a-long-password-1' }],
    ['GET', '/api/subscriptions'],
    ['GET', `/api/subscriptions/${subscriptionId}`],
    ['GET', `/api/subscriptions/${subscriptionId}/accounts`],
    ['POST', `/api/subscriptions/${subscriptionId}/accounts`, { address: `x@${setup.domain}`, classId: 'basic', password: 'a-long-password-1' }],
    ['PATCH', `/api/accounts/${user.id}`, { classId: 'premium' }],
    ['POST', `/api/subscriptions/${subscriptionId}/cancel`],
    ['GET', '/api/domains'],
    ['GET', '/api/operations'],
    ['GET', '/api/tickets'],
    ['POST', '/api/tickets', { subject: 'hello', body: 'hello' }],
    ['POST', '/api/customers', { name: 'Evil', contactEmail: 'evil@evil.test' }],
    ['PATCH', '/api/classes/basic', { quotaBytes: 1 }],
  ];
  for (const [method, path, body] of attempts) {
    const reply = await client.request(method, path, body);
    assert.equal(reply.status, 403, `${method} ${path}: ${JSON.stringify(reply.body)}`);
    assert.equal(reply.body.code, 'forbidden');
  }
  const account = await setup.admin.client.get(`/api/accounts/${user.id}`);
  assert.equal(account.body.classId, 'basic');
  // And admins have no app passwords of their own.
  assert.equal((await setup.admin.client.get('/api/me/app-passwords')).status, 403);
});

test('R-A1 app passwords: created, listed, revoked; mail logins take the password only without 2FA', async () => {
  const setup = await usersSetup();
  const user = await newUser(setup.admin.client, setup.subscriptionId, setup.domain);
  const { client } = await passwordLogin(user.address, user.password);
  const mail = (password: string) => verifyMailLogin(service.ctx, { username: user.address, password, ip: '192.0.2.10' });
  const refused = async (password: string, why: string) => {
    await assert.rejects(mail(password), (error: { code?: string }) => error.code === 'invalid-credentials', why);
  };

  const created = await client.post('/api/me/app-passwords', { name: 'Thunderbird' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const appPassword: string = created.body.password;
  assert.match(appPassword, /^[a-z0-9]{4}(-[a-z0-9]{4}){3}$/);
  const phone = await client.post('/api/me/app-passwords', { name: 'Phone' });
  assert.equal(phone.status, 201);

  const listed = await client.get('/api/me/app-passwords');
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.body.items.map((i: { name: string }) => i.name).sort(), ['Phone', 'Thunderbird']);
  const listedText = JSON.stringify(listed.body);
  assert.ok(!listedText.includes(appPassword) && !listedText.includes('argon2') && !listedText.includes('password_hash'), 'shown once, never listed');
  // The API's one style: camelCase fields and ISO 8601 instants (once snake_case with epoch milliseconds).
  const thunderbird = listed.body.items.find((i: { name: string }) => i.name === 'Thunderbird');
  assert.deepEqual(Object.keys(thunderbird).sort(), ['accountId', 'createdAt', 'customerId', 'id', 'lastUsedAt', 'name']);
  assert.equal(thunderbird.accountId, user.id);
  assert.match(thunderbird.createdAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

  // No 2FA yet: the account password and app passwords both open the mailbox.
  assert.equal((await mail(user.password)).id, user.id);
  assert.equal((await mail(appPassword)).id, user.id);
  await refused('not-the-password', 'a wrong password');
  assert.equal((await mail(user.password)).id, user.id);

  // With 2FA: only app passwords (a mail client cannot ask for a code).
  await enrolNow(client);
  await refused(user.password, 'the account password no longer works for mail once 2FA is on');
  assert.equal((await mail(appPassword)).id, user.id);

  // Revoked: gone for good; and nobody else can revoke it.
  const other = await newUser(setup.admin.client, setup.subscriptionId, setup.domain);
  const otherClient = (await passwordLogin(other.address, other.password)).client;
  assert.equal((await otherClient.delete(`/api/me/app-passwords/${created.body.id}`)).status, 404, "another user's app password is not yours");
  assert.equal((await mail(appPassword)).id, user.id);
  assert.equal((await client.delete(`/api/me/app-passwords/${created.body.id}`)).status, 204);
  await refused(appPassword, 'a revoked app password');
  assert.equal((await client.delete(`/api/me/app-passwords/${created.body.id}`)).status, 404);
  assert.deepEqual(
    (await client.get('/api/me/app-passwords')).body.items.map((i: { name: string }) => i.name),
    ['Phone'],
  );
  // An app password of one account does not open another.
  await assert.rejects(verifyMailLogin(service.ctx, { username: other.address, password: phone.body.password, ip: '192.0.2.10' }));
});

test('R-A1 a disabled account is refused at the portal and by mail clients, and its sessions end', async () => {
  const setup = await usersSetup();
  const user = await newUser(setup.admin.client, setup.subscriptionId, setup.domain);
  const { client } = await passwordLogin(user.address, user.password);
  const app = await client.post('/api/me/app-passwords', { name: 'Laptop' });
  assert.equal(app.status, 201);
  assert.equal((await verifyMailLogin(service.ctx, { username: user.address, password: user.password, ip: '192.0.2.11' })).id, user.id);

  const disabled = await setup.admin.client.patch(`/api/accounts/${user.id}`, { status: 'disabled' });
  assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
  assert.equal((await client.get('/api/me')).status, 401, 'the webmail session ends');
  assert.equal((await passwordLogin(user.address, user.password)).reply.status, 403);
  for (const password of [user.password, app.body.password as string]) {
    await assert.rejects(
      verifyMailLogin(service.ctx, { username: user.address, password, ip: '192.0.2.11' }),
      (error: { code?: string }) => error.code === 'account-not-active',
      'no mail access while disabled',
    );
  }

  assert.equal((await setup.admin.client.patch(`/api/accounts/${user.id}`, { status: 'active' })).status, 200);
  assert.equal((await verifyMailLogin(service.ctx, { username: user.address, password: user.password, ip: '192.0.2.11' })).id, user.id);
});

test('R-A1 mail-client logins are throttled like portal logins, for existing and unknown names alike', async () => {
  const setup = await usersSetup();
  const user = await newUser(setup.admin.client, setup.subscriptionId, setup.domain);
  const ghost = `${unique('ghost')}@${setup.domain}`;
  for (const [name, rightPassword] of [
    [user.address, user.password],
    [ghost, 'whatever-password'],
  ] as const) {
    for (let i = 0; i < FAILURES; i++) {
      await assert.rejects(
        verifyMailLogin(service.ctx, { username: name, password: `wrong-${i}`, ip: '192.0.2.20' }),
        (error: { code?: string }) => error.code === 'invalid-credentials',
      );
    }
    await assert.rejects(
      verifyMailLogin(service.ctx, { username: name, password: rightPassword, ip: '192.0.2.20' }),
      (error: { code?: string; details?: { retryAfterSeconds?: number } }) => error.code === 'too-many-logins' && (error.details?.retryAfterSeconds ?? 0) > 0,
      name,
    );
  }
});

// ---------------------------------------------------------------------------------------------
// No user enumeration, throttling

test('R-A1 no user enumeration: an unknown e-mail and a wrong password get the same answer', async () => {
  const { customerId } = await newCustomer('Enumco');
  const { email } = await newAdminLogin(customerId, 'enum');
  const setup = await usersSetup();
  const user = await newUser(setup.admin.client, setup.subscriptionId, setup.domain);
  for (const language of ['en', 'fr'] as const) {
    const answers = [];
    for (const name of [email, user.address, `${unique('ghost')}@admins.test`, `${unique('ghost')}@${setup.domain}`, `${unique('ghost')}@nowhere.test`]) {
      const client = newClient();
      client.language = language;
      const reply = await client.post('/api/auth/login', { email: name, password: 'wrong-password-123' });
      answers.push({
        status: reply.status,
        code: reply.body.code,
        title: reply.body.title,
        detail: reply.body.detail,
        cookie: reply.headers.get('set-cookie'),
      });
    }
    const [first] = answers;
    assert.equal(first?.status, 401);
    assert.equal(first?.code, 'invalid-credentials');
    assert.equal(first?.cookie, null, 'no session for a failed login');
    for (const answer of answers) assert.deepEqual(answer, first);
  }
});

test('R-A1 logins are throttled after N failures (429, Retry-After), for existing and unknown accounts alike', async () => {
  const { customerId } = await newCustomer('Throttleco');
  const existing = await newAdminLogin(customerId, 'throttled');
  const ghost = `${unique('ghost')}@admins.test`;
  const limited: Reply[] = [];
  for (const email of [existing.email, ghost]) {
    for (let i = 0; i < FAILURES; i++) {
      const failed = (await passwordLogin(email, `wrong-${i}-password`)).reply;
      assert.equal(failed.status, 401, `${email} attempt ${i + 1}`);
    }
    const blocked = (await passwordLogin(email, existing.password)).reply;
    assert.equal(blocked.status, 429, `${email}: ${JSON.stringify(blocked.body)}`);
    limited.push(blocked);
  }
  const [forExisting, forGhost] = limited as [Reply, Reply];
  assert.equal(forExisting.body.code, 'too-many-logins');
  assert.equal(forExisting.body.code, forGhost.body.code);
  assert.equal(forExisting.body.detail, forGhost.body.detail);
  for (const reply of limited) {
    const retryAfter = Number(reply.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 15 * 60, `Retry-After ${reply.headers.get('retry-after')}`);
  }
  // Throttling is per account: another login of the same customer still gets in.
  const other = await newAdminLogin(customerId, 'notthrottled');
  assert.equal((await passwordLogin(other.email, other.password)).reply.status, 200);
  // The throttled name stays throttled, case and spaces notwithstanding.
  assert.equal((await passwordLogin(` ${existing.email.toUpperCase()} `, existing.password)).reply.status, 429);
});

// ---------------------------------------------------------------------------------------------
// CSRF

test('R-A1 CSRF: cookie-authenticated changes need the session token; GET and API tokens do not', async () => {
  const { customerId, subscriptionId } = await newCustomer('Csrfco');
  const admin = await newAdmin(customerId, 'csrf');
  const cookie = admin.client.cookie as string;
  const csrf = admin.client.csrf as string;

  // The cookie itself: HttpOnly, SameSite.
  const login = await newClient().post('/api/auth/login', { email: admin.email, password: admin.password });
  const setCookie = login.headers.get('set-cookie') ?? '';
  assert.match(setCookie, /HttpOnly/i);
  assert.match(setCookie, /SameSite=(Lax|Strict)/i);

  const token = await admin.client.post(`/api/customers/${customerId}/tokens`, { name: 'ci' });
  assert.equal(token.status, 201);
  const before = await admin.client.get(`/api/customers/${customerId}`);

  for (const header of [undefined, 'wrong-token', '']) {
    const auth = header === undefined ? { cookie } : { cookie, csrf: header };
    const patch = await raw('PATCH', `/api/customers/${customerId}`, auth, { name: 'Forged name' });
    assert.equal(patch.status, 403, JSON.stringify(patch.body));
    assert.equal(patch.body.code, 'csrf');
    const post = await raw('POST', `/api/subscriptions/${subscriptionId}/labels`, auth, { name: 'forged' });
    assert.equal(post.status, 403);
    assert.equal(post.body.code, 'csrf');
    const del = await raw('DELETE', `/api/customers/${customerId}/tokens/${token.body.id}`, auth);
    assert.equal(del.status, 403);
    assert.equal(del.body.code, 'csrf');
    const password = await raw('POST', '/api/me/password', auth, { currentPassword: admin.password, newPassword: 'forged-password-123' });
    assert.equal(password.status, 403);
  }
  // A session still at its first step is protected as well.
  const fresh = await newAdminLogin(customerId, 'csrf-enrol');
  const enrolling = await passwordLogin(fresh.email, fresh.password);
  const forgedEnrol = await raw('POST', '/api/auth/totp/enrol', { cookie: enrolling.client.cookie as string });
  assert.equal(forgedEnrol.status, 403);
  assert.equal(forgedEnrol.body.code, 'csrf');
  // Nothing changed; reading needs no token.
  const after = await raw('GET', `/api/customers/${customerId}`, { cookie });
  assert.equal(after.status, 200);
  assert.deepEqual(after.body, before.body);
  const details = await raw('GET', `/api/subscriptions/${subscriptionId}`, { cookie });
  assert.deepEqual(details.body.labels, []);
  const tokens = await raw('GET', `/api/customers/${customerId}/tokens`, { cookie });
  assert.equal(tokens.body.items.length, 1);
  assert.equal((await passwordLogin(admin.email, admin.password)).reply.body.stage, 'totp', 'the password did not change');

  // Another session's token does not do either.
  const otherSession = await totpLogin(admin.email, admin.password, admin.secret);
  assert.notEqual(otherSession.csrf, csrf);
  const crossed = await raw('PATCH', `/api/customers/${customerId}`, { cookie, csrf: otherSession.csrf as string }, { name: 'Forged name' });
  assert.equal(crossed.status, 403);

  // With the right header it works.
  const ok = await raw('PATCH', `/api/customers/${customerId}`, { cookie, csrf }, { name: 'Csrfco renamed' });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  // A Bearer token needs no CSRF header (no ambient credential).
  const byToken = await raw('POST', `/api/subscriptions/${subscriptionId}/labels`, { bearer: token.body.token }, { name: 'from-ci' });
  assert.equal(byToken.status, 201, JSON.stringify(byToken.body));
});

// ---------------------------------------------------------------------------------------------
// Roles and tenancy

test('R-A1 a customer admin of A can neither read nor change anything of customer B (always 404)', async () => {
  const a = await newCustomer('Alpha', { basic: 5, standard: 2 });
  const b = await newCustomer('Bravo', { basic: 5, standard: 2 });
  const adminA = await newAdmin(a.customerId, 'alpha');
  const adminB = await newAdmin(b.customerId, 'bravo');
  const tokenA = (await adminA.client.post(`/api/customers/${a.customerId}/tokens`, { name: 'alpha-ci' })).body.token as string;

  // B's world: a domain, an account, an alias, a list, a label, a ticket, a token, operations.
  const bDomain = 'bravo.example';
  const domainStart = await adminB.client.post(`/api/subscriptions/${b.subscriptionId}/domains`, { name: bDomain });
  const bOperation = domainStart.body.id as string;
  const bDomainId = (await waitForOperation(adminB.client, bOperation)).result.domainId as string;
  const bAccount = await createAccount(adminB.client, b.subscriptionId, `boss@${bDomain}`, 'bravo-boss-password');
  const bAlias = (await adminB.client.post(`/api/subscriptions/${b.subscriptionId}/aliases`, { address: `info@${bDomain}`, destinations: [`boss@${bDomain}`] }))
    .body.id as string;
  const bList = (await adminB.client.post(`/api/subscriptions/${b.subscriptionId}/lists`, { address: `team@${bDomain}`, members: [`boss@${bDomain}`] })).body
    .id as string;
  const bLabel = (await adminB.client.post(`/api/subscriptions/${b.subscriptionId}/labels`, { name: 'main' })).body.id as string;
  const bTicket = (await adminB.client.post('/api/tickets', { subject: 'Bravo private', category: 'restore', body: 'secret matter' })).body.id as string;
  const bToken = (await adminB.client.post(`/api/customers/${b.customerId}/tokens`, { name: 'bravo-ci' })).body.id as string;
  for (const id of [bAlias, bList, bLabel, bTicket, bToken]) assert.ok(id, 'B fixture created');

  const snapshot = async () => {
    const paths = [
      `/api/customers/${b.customerId}`,
      `/api/customers/${b.customerId}/admins`,
      `/api/customers/${b.customerId}/tokens`,
      `/api/subscriptions/${b.subscriptionId}`,
      `/api/domains/${bDomainId}`,
      `/api/subscriptions/${b.subscriptionId}/accounts`,
      `/api/subscriptions/${b.subscriptionId}/aliases`,
      `/api/subscriptions/${b.subscriptionId}/lists`,
      `/api/tickets/${bTicket}`,
      `/api/operations?subscriptionId=${b.subscriptionId}`,
    ];
    const out: Record<string, unknown> = {};
    for (const path of paths) {
      const reply = await operator.get(path);
      assert.equal(reply.status, 200, path);
      out[path] = reply.body;
    }
    out.hash = (await service.ctx.db.selectFrom('accounts').select('password_hash').where('id', '=', bAccount).executeTakeFirstOrThrow()).password_hash;
    return out;
  };
  const before = await snapshot();

  const fakes: Record<string, string> = {
    [b.customerId]: 'cus_00000000000000000000',
    [b.subscriptionId]: 'sub_00000000000000000000',
    [bDomainId]: 'dom_00000000000000000000',
    [bDomain]: 'nowhere-at-all.example',
    [bAccount]: 'acc_00000000000000000000',
    [`boss@${bDomain}`]: 'boss@nowhere-at-all.example',
    [bAlias]: 'ali_00000000000000000000',
    [bList]: 'lst_00000000000000000000',
    [bLabel]: 'lbl_00000000000000000000',
    [bTicket]: 'tkt_00000000000000000000',
    [bToken]: 'tok_00000000000000000000',
    [bOperation]: 'op_00000000000000000000',
  };
  const fake = (path: string) => Object.entries(fakes).reduce((p, [real, replacement]) => p.replaceAll(real, replacement), path);

  const S = `/api/subscriptions/${b.subscriptionId}`;
  const attempts: [string, string, unknown?][] = [
    ['GET', `/api/customers/${b.customerId}`],
    ['PATCH', `/api/customers/${b.customerId}`, { name: 'Taken over' }],
    ['GET', `/api/customers/${b.customerId}/admins`],
    ['POST', `/api/customers/${b.customerId}/admins`, { email: 'mole@alpha.test', password: 'mole-password-123' }],
    ['GET', `/api/customers/${b.customerId}/tokens`],
    ['POST', `/api/customers/${b.customerId}/tokens`, { name: 'stolen' }],
    ['DELETE', `/api/customers/${b.customerId}/tokens/${bToken}`],
    ['DELETE', `/api/customers/${a.customerId}/tokens/${bToken}`],
    ['GET', S],
    ['POST', `${S}/renewal`, { months: 1 }],
    ['POST', `${S}/billing-cycle`, { billingCycle: 'monthly' }],
    ['POST', `${S}/cancel`],
    ['POST', `${S}/resume`],
    ['POST', `${S}/labels`, { name: 'mine' }],
    ['PATCH', `/api/labels/${bLabel}`, { name: 'renamed' }],
    ['DELETE', `/api/labels/${bLabel}`],
    ['POST', `${S}/domains`, { name: 'alpha-sneaks-in.example' }],
    ['GET', `/api/domains/${bDomainId}`],
    ['GET', `/api/domains/${bDomain}`],
    ['POST', `/api/domains/${bDomainId}/check`],
    ['PUT', `/api/domains/${bDomainId}/contacts`, { technical: { name: 'Mole', email: 'mole@alpha.test' } }],
    ['POST', `/api/domains/${bDomainId}/aliases`, { name: 'bravo-alias.example' }],
    ['DELETE', `/api/domains/${bDomainId}`],
    ['GET', `${S}/accounts`],
    ['POST', `${S}/accounts`, { address: `mole@${bDomain}`, classId: 'basic', password: 'mole-password-123' }],
    ['POST', `${S}/accounts/reclass`, { toClassId: 'standard' }],
    ['GET', `/api/accounts/${bAccount}`],
    ['GET', `/api/accounts/boss@${bDomain}`],
    ['PATCH', `/api/accounts/${bAccount}`, { password: 'hijacked-password-1' }],
    ['PATCH', `/api/accounts/boss@${bDomain}`, { displayName: 'Pwned' }],
    ['DELETE', `/api/accounts/${bAccount}`],
    ['GET', `${S}/aliases`],
    ['POST', `${S}/aliases`, { address: `sales@${bDomain}`, destinations: ['mole@alpha.test'] }],
    ['GET', `/api/aliases/${bAlias}`],
    ['PATCH', `/api/aliases/${bAlias}`, { destinations: ['mole@alpha.test'] }],
    ['DELETE', `/api/aliases/${bAlias}`],
    ['GET', `${S}/lists`],
    ['POST', `${S}/lists`, { address: `all@${bDomain}` }],
    ['GET', `/api/lists/${bList}`],
    ['PATCH', `/api/lists/${bList}`, { name: 'owned' }],
    ['POST', `/api/lists/${bList}/members`, { addresses: ['mole@alpha.test'] }],
    ['DELETE', `/api/lists/${bList}/members/boss@${bDomain}`],
    ['DELETE', `/api/lists/${bList}`],
    ['GET', `/api/tickets/${bTicket}`],
    ['POST', `/api/tickets/${bTicket}/messages`, { body: 'peek' }],
    ['POST', `/api/tickets/${bTicket}/close`],
    ['GET', `/api/operations/${bOperation}`],
  ];
  for (const [who, client] of [
    ['session', adminA.client],
    ['token', Object.assign(newClient(), { token: tokenA })],
  ] as const) {
    for (const [method, path, body] of attempts) {
      const reply = await client.request(method, path, body ?? (method === 'GET' || method === 'DELETE' ? undefined : {}));
      assert.equal(reply.status, 404, `${who} ${method} ${path}: ${reply.status} ${JSON.stringify(reply.body)}`);
      const missing = await client.request(method, fake(path), body ?? (method === 'GET' || method === 'DELETE' ? undefined : {}));
      assert.equal(missing.status, 404, `${who} ${method} ${fake(path)}`);
      assert.equal(reply.body.code, missing.body.code, `${method} ${path}: not yours looks like not found`);
      assert.equal(reply.body.detail, missing.body.detail, `${method} ${path}: not yours looks like not found`);
    }
  }

  // Listings never show B's objects, whatever filter is asked for.
  const lists: [string, (body: Reply['body']) => unknown[]][] = [
    ['/api/customers', (body) => body.items],
    [`/api/subscriptions?customerId=${b.customerId}`, (body) => body.items],
    [`/api/domains?subscriptionId=${b.subscriptionId}`, (body) => body.items],
    [`/api/operations?subscriptionId=${b.subscriptionId}`, (body) => body.items],
    [`/api/tickets?customerId=${b.customerId}`, (body) => body.items],
    ['/api/tickets', (body) => body.items],
    ['/api/operations', (body) => body.items],
    ['/api/domains', (body) => body.items],
    ['/api/subscriptions', (body) => body.items],
  ];
  for (const [path, items] of lists) {
    const reply = await adminA.client.get(path);
    assert.equal(reply.status, 200, path);
    for (const item of items(reply.body) as { customerId?: string; id: string }[]) {
      assert.ok(item.customerId === a.customerId || item.id === a.customerId, `${path} shows ${JSON.stringify(item)}`);
    }
    assert.ok(!JSON.stringify(reply.body).includes(b.customerId), `${path} mentions customer B`);
  }
  // A ticket "for B" opened by A's admin is refused (404, like anything of B), not quietly filed as A's.
  const misdirected = await adminA.client.post('/api/tickets', { customerId: b.customerId, subject: 'for B?', body: 'hello' });
  expectProblem(misdirected, 404, 'not-found', 'customerId');
  const filed = await adminA.client.get('/api/tickets');
  assert.ok(!filed.body.items.some((t: { subject: string }) => t.subject === 'for B?'), 'no ticket was filed for the caller instead');

  assert.deepEqual(await snapshot(), before, "nothing of B's changed");
});

test('R-A1 customer admins cannot call operator-only routes (403) and nothing changes', async () => {
  const a = await newCustomer('Operonly', { basic: 2 });
  const admin = await newAdmin(a.customerId, 'operonly');
  const token = (await admin.client.post(`/api/customers/${a.customerId}/tokens`, { name: 'ci' })).body.token as string;
  const classBefore = (await operator.get('/api/classes')).body;
  const customersBefore = (await operator.get('/api/customers?limit=500')).body.items.length;
  const subscriptionBefore = (await operator.get(`/api/subscriptions/${a.subscriptionId}`)).body;
  const subscriptionsBefore = (await operator.get(`/api/subscriptions?customerId=${a.customerId}`)).body.items.length;
  const attempts: [string, string, unknown?][] = [
    ['POST', '/api/customers', { name: 'Shadow', contactEmail: 'shadow@shadow.test' }],
    ['POST', '/api/subscriptions', { customerId: a.customerId, licences: { premium: 100 }, months: 120 }],
    ['PUT', `/api/subscriptions/${a.subscriptionId}/licences`, { licences: { basic: 1000, premium: 1000 } }],
    ['POST', `/api/subscriptions/${a.subscriptionId}/activate`],
    ['POST', `/api/subscriptions/${a.subscriptionId}/terminate`],
    ['PATCH', '/api/classes/basic', { quotaBytes: 1 }],
    ['POST', '/api/classes', { id: 'gold', name: { en: 'Gold', fr: 'Or' } }],
  ];
  for (const client of [admin.client, Object.assign(newClient(), { token })]) {
    for (const [method, path, body] of attempts) {
      const reply = await client.request(method, path, body ?? {});
      assert.equal(reply.status, 403, `${method} ${path}: ${JSON.stringify(reply.body)}`);
      assert.equal(reply.body.code, 'forbidden');
    }
  }
  assert.deepEqual((await operator.get('/api/classes')).body, classBefore);
  assert.equal((await operator.get('/api/customers?limit=500')).body.items.length, customersBefore);
  assert.deepEqual((await operator.get(`/api/subscriptions/${a.subscriptionId}`)).body, subscriptionBefore);
  assert.equal((await operator.get(`/api/subscriptions?customerId=${a.customerId}`)).body.items.length, subscriptionsBefore);

  // Suspension is the provider's too (R-A3).
  await addDomain(admin.client, a.subscriptionId, 'operonly.example');
  const account = await createAccount(admin.client, a.subscriptionId, 'someone@operonly.example', 'someone-password-1');
  const suspend = await admin.client.patch(`/api/accounts/${account}`, { status: 'suspended' });
  assert.equal(suspend.status, 403);
  assert.equal((await admin.client.get(`/api/accounts/${account}`)).body.status, 'active');
});

test('R-A1 API tokens act for their customer only, need no second factor, and can be revoked', async () => {
  const a = await newCustomer('Tokenco');
  const b = await newCustomer('Othertokenco');
  const admin = await newAdmin(a.customerId, 'token');
  const created = await admin.client.post(`/api/customers/${a.customerId}/tokens`, { name: 'deploy' });
  assert.equal(created.status, 201);
  const secret: string = created.body.token;
  assert.match(secret, /^fct_/);
  const bot = Object.assign(newClient(), { token: secret });

  const me = await bot.get('/api/me');
  assert.equal(me.status, 200);
  assert.equal(me.body.customerId, a.customerId);
  assert.equal((await bot.get(`/api/subscriptions/${a.subscriptionId}`)).status, 200);
  assert.equal((await bot.get(`/api/subscriptions/${b.subscriptionId}`)).status, 404);
  assert.deepEqual(
    (await bot.get('/api/subscriptions')).body.items.map((s: { id: string }) => s.id),
    [a.subscriptionId],
  );
  assert.equal((await bot.post('/api/me/password', { currentPassword: 'x', newPassword: 'y-long-password' })).status, 403, 'a token has no password');

  const listed = await admin.client.get(`/api/customers/${a.customerId}/tokens`);
  assert.deepEqual(
    listed.body.items.map((t: { name: string }) => t.name),
    ['deploy'],
  );
  assert.ok(!JSON.stringify(listed.body).includes(secret), 'the secret is shown once');

  assert.equal((await admin.client.delete(`/api/customers/${a.customerId}/tokens/${created.body.id}`)).status, 204);
  const revoked = await bot.get(`/api/subscriptions/${a.subscriptionId}`);
  assert.equal(revoked.status, 401);
  assert.equal(revoked.body.code, 'invalid-token');
  assert.equal((await raw('GET', '/api/me', { bearer: 'fct_not-a-real-token' })).status, 401);
  assert.equal((await raw('GET', '/api/me', { bearer: 'not-even-prefixed' })).status, 401);
});

test('R-A1 passwords, sessions, tokens and recovery codes are stored hashed (argon2id for passwords)', async () => {
  const setup = await usersSetup();
  const user = await newUser(setup.admin.client, setup.subscriptionId, setup.domain);
  const userClient = (await passwordLogin(user.address, user.password)).client;
  const app = await userClient.post('/api/me/app-passwords', { name: 'Mail' });
  assert.equal(app.status, 201);
  const token = await setup.admin.client.post(`/api/customers/${setup.customerId}/tokens`, { name: 'hash-check' });
  const db = service.ctx.db;

  const logins = await db.selectFrom('logins').select(['email', 'password_hash']).execute();
  const accounts = await db.selectFrom('accounts').select(['address', 'password_hash']).execute();
  const appPasswords = await db.selectFrom('app_passwords').select('password_hash').execute();
  assert.ok(logins.length >= 2 && accounts.length >= 1 && appPasswords.length >= 1);
  for (const row of [...logins, ...accounts, ...appPasswords]) assert.ok(row.password_hash.startsWith('$argon2id$'), row.password_hash);
  const userRow = accounts.find((a) => a.address === user.address);
  assert.ok(userRow && !userRow.password_hash.includes(user.password));

  const sessions = await db.selectFrom('sessions').select('id').execute();
  const cookieSecret = decodeURIComponent((userClient.cookie as string).split('=')[1] as string);
  assert.ok(sessions.length > 0);
  assert.ok(!sessions.some((s) => s.id === cookieSecret), 'the session table does not hold the cookie value');
  const tokens = await db.selectFrom('api_tokens').selectAll().execute();
  assert.ok(!JSON.stringify(tokens).includes(token.body.token.slice(4)), 'the API token secret is not stored');
});

test("R-A1 changing one's password ends the other sessions", async () => {
  const { customerId } = await newCustomer('Passwordco');
  const admin = await newAdmin(customerId, 'pwchange');
  const other = await totpLogin(admin.email, admin.password, admin.secret);
  assert.equal((await other.get('/api/me')).status, 200);

  const wrong = await admin.client.post('/api/me/password', { currentPassword: 'not-my-password', newPassword: 'brand-new-password-1' });
  assert.equal(wrong.status, 400);
  assert.equal(wrong.body.code, 'wrong-password');
  const weak = await admin.client.post('/api/me/password', { currentPassword: admin.password, newPassword: 'aaaaaaaaaaaa' });
  assert.equal(weak.status, 400);
  assert.equal((await other.get('/api/me')).status, 200, 'failed changes end nothing');

  const changed = await admin.client.post('/api/me/password', { currentPassword: admin.password, newPassword: 'brand-new-password-1' });
  assert.equal(changed.status, 204, JSON.stringify(changed.body));
  assert.equal((await other.get('/api/me')).status, 401, 'the other session has ended');
  assert.equal((await passwordLogin(admin.email, admin.password)).reply.status, 401, 'the old password is dead');
  await totpLogin(admin.email, 'brand-new-password-1', admin.secret);

  // The same for a user: the webmail session ends, mail clients need the new password.
  const setup = await usersSetup();
  const user = await newUser(setup.admin.client, setup.subscriptionId, setup.domain);
  const webmail1 = (await passwordLogin(user.address, user.password)).client;
  const webmail2 = (await passwordLogin(user.address, user.password)).client;
  assert.equal((await webmail1.post('/api/me/password', { currentPassword: user.password, newPassword: 'user-new-password-1' })).status, 204);
  assert.equal((await webmail2.get('/api/me')).status, 401);
  await assert.rejects(verifyMailLogin(service.ctx, { username: user.address, password: user.password, ip: '192.0.2.12' }));
  assert.equal((await verifyMailLogin(service.ctx, { username: user.address, password: 'user-new-password-1', ip: '192.0.2.12' })).id, user.id);
});

test('R-A1 mail logins: a verified password is believed for a minute from its source, and no longer once changed', async () => {
  const setup = await usersSetup();
  const user = await newUser(setup.admin.client, setup.subscriptionId, setup.domain);
  const mail = (password: string, ip = '192.0.2.30') => verifyMailLogin(service.ctx, { username: user.address, password, ip });
  // Which logins found their credential in the cache (and so skipped argon2).
  const cache = credentialCacheOf(service.ctx);
  const hits: boolean[] = [];
  const get = cache.get.bind(cache);
  cache.get = (...args) => {
    const found = get(...args);
    hits.push(found !== undefined);
    return found;
  };
  try {
    assert.equal((await mail(user.password)).id, user.id);
    assert.equal((await mail(user.password)).id, user.id);
    assert.equal((await mail(user.password, '192.0.2.31')).id, user.id);
    await assert.rejects(mail('not-the-password'), (error: { code?: string }) => error.code === 'invalid-credentials');
    assert.deepEqual(hits, [false, true, false, false], 'a second login from the same source is a hit; another source or password is verified');

    // The password changes (in the portal): the old one, still cached, opens nothing any more.
    const { client } = await passwordLogin(user.address, user.password);
    assert.equal((await client.post('/api/me/password', { currentPassword: user.password, newPassword: 'user-new-password-2' })).status, 204);
    hits.length = 0;
    await assert.rejects(mail(user.password), (error: { code?: string }) => error.code === 'invalid-credentials', 'the old password, though cached');
    assert.equal((await mail('user-new-password-2')).id, user.id);
    assert.equal((await mail('user-new-password-2')).id, user.id);
    assert.deepEqual(hits, [true, false, true], 'the stale entry was found and refused (then dropped); the new password is cached');

    // A minute later the credential is verified again.
    service.clock.advance(CREDENTIAL_CACHE_TTL_MS);
    hits.length = 0;
    assert.equal((await mail('user-new-password-2')).id, user.id);
    assert.deepEqual(hits, [false]);
  } finally {
    cache.get = get;
  }
});

// ---------------------------------------------------------------------------------------------
// Support tickets

test('R-T7 support tickets: the customer opens, the operator answers, both reply, either closes; nobody else sees them', async () => {
  const a = await newCustomer('Ticketco');
  const b = await newCustomer('Nosyco');
  const adminA = await newAdmin(a.customerId, 'ticket');
  const adminB = await newAdmin(b.customerId, 'nosy');

  const opened = await adminA.client.post('/api/tickets', { subject: 'Please unblock our account', category: 'unblock', body: 'We changed the password.' });
  assert.equal(opened.status, 201, JSON.stringify(opened.body));
  assert.equal(opened.body.status, 'open');
  assert.equal(opened.body.category, 'unblock');
  assert.equal(opened.body.customerId, a.customerId);
  const id: string = opened.body.id;
  service.clock.advance(60_000);

  const queue = await operator.get('/api/tickets?status=open');
  assert.ok(
    queue.body.items.some((t: { id: string }) => t.id === id),
    'the operator sees the new ticket',
  );
  const answer = await operator.post(`/api/tickets/${id}/messages`, { body: 'Unblocked, sorry for the trouble.' });
  assert.equal(answer.status, 201);
  assert.equal(answer.body.status, 'answered');
  service.clock.advance(60_000);

  const seen = await adminA.client.get(`/api/tickets/${id}`);
  assert.equal(seen.status, 200);
  assert.equal(seen.body.status, 'answered');
  assert.deepEqual(
    seen.body.messages.map((m: { authorRole: string }) => m.authorRole),
    ['customer_admin', 'operator'],
  );
  const followUp = await adminA.client.post(`/api/tickets/${id}/messages`, { body: 'Thanks, it works again.' });
  assert.equal(followUp.status, 201);
  assert.equal(followUp.body.status, 'open', "the customer's reply puts the ticket back in the queue");

  // Another customer sees nothing of it and cannot touch it.
  assert.equal((await adminB.client.get(`/api/tickets/${id}`)).status, 404);
  assert.ok(!(await adminB.client.get('/api/tickets')).body.items.some((t: { id: string }) => t.id === id));
  assert.equal((await adminB.client.post(`/api/tickets/${id}/messages`, { body: 'me too' })).status, 404);
  assert.equal((await adminB.client.post(`/api/tickets/${id}/close`)).status, 404);
  assert.equal((await adminA.client.get(`/api/tickets/${id}`)).body.messages.length, 3);

  const closed = await adminA.client.post(`/api/tickets/${id}/close`);
  assert.equal(closed.status, 200);
  assert.equal(closed.body.status, 'closed');
  const late = await operator.post(`/api/tickets/${id}/messages`, { body: 'one more thing' });
  assert.equal(late.status, 409);
  assert.equal(late.body.code, 'ticket-closed');

  // The operator can close one too.
  const second = await adminA.client.post('/api/tickets', { subject: 'Restore a mailbox', category: 'restore', body: 'boss@ please' });
  assert.equal((await operator.post(`/api/tickets/${second.body.id}/close`)).body.status, 'closed');
  assert.equal((await adminA.client.get(`/api/tickets/${second.body.id}`)).body.status, 'closed');
  const bad = await adminA.client.post('/api/tickets', { subject: 'x', category: 'gossip', body: 'y' });
  assert.equal(bad.status, 400);
});

// Last: moves the clock by a whole session lifetime.
test('R-A1 sessions expire after their lifetime', async () => {
  const { customerId } = await newCustomer('Expiryco');
  const admin = await newAdmin(customerId, 'expiry');
  const lifetime = service.ctx.config.auth.sessionTtlMinutes * 60_000;
  service.clock.advance(lifetime - 60_000);
  assert.equal((await admin.client.get('/api/me')).status, 200);
  service.clock.advance(120_000);
  const expired = await admin.client.get('/api/me');
  assert.equal(expired.status, 401);
  assert.equal((await admin.client.patch(`/api/customers/${customerId}`, { name: 'Too late' })).status, 401);
  // Whoever comes next logs in again.
  operator = await totpLogin(OPERATOR.email, OPERATOR.password, operatorSecret);
  assert.equal((await operator.get(`/api/customers/${customerId}`)).body.name, 'Expiryco');
});

test('R-A1 passwords are hashed with argon2id at OWASP parameters (19 MiB, 2 passes, 1 lane); a hash made with other parameters is made again at the next login, on the web and by a mail client', async () => {
  // A customer of its own: the tests before this one move the clock past the shared admin's session.
  const customer = await newCustomer('Hashco', { basic: 5 });
  const admin = await newAdmin(customer.customerId, 'hashadmin');
  await addDomain(admin.client, customer.subscriptionId, 'hashco.example');
  const owasp = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/;
  const hashOf = async (id: string) =>
    (await service.ctx.db.selectFrom('accounts').select('password_hash').where('id', '=', id).executeTakeFirstOrThrow()).password_hash;
  for (const via of ['web', 'mail'] as const) {
    const user = await newUser(admin.client, customer.subscriptionId, 'hashco.example');
    assert.match(await hashOf(user.id), owasp, 'a new account');
    // A hash made with other parameters (4 MiB, 3 passes), as a change of parameters leaves them.
    const older = await argon2Hash(user.password, { algorithm: 2, memoryCost: 4096, timeCost: 3 });
    assert.doesNotMatch(older, owasp);
    await service.ctx.db.updateTable('accounts').set({ password_hash: older }).where('id', '=', user.id).execute();
    if (via === 'web') expectStatus((await passwordLogin(user.address, user.password)).reply, 200);
    else assert.equal((await verifyMailLogin(service.ctx, { username: user.address, password: user.password, ip: '192.0.2.40' })).id, user.id);
    const upgraded = await hashOf(user.id);
    assert.match(upgraded, owasp, `made again at the ${via} login`);
    assert.equal(await argon2Verify(upgraded, user.password), true, 'the same password');
    expectStatus((await passwordLogin(user.address, user.password)).reply, 200);
  }
});
