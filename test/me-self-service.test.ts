/**
 * A person's own settings through the API (R-A1, issue 15): language, the second factor turned off by a
 * mail user (never by an operator or a customer admin, whose role requires it), new recovery codes,
 * the password rules to show beside the field, and the settings a mail client needs.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { verifyMailLogin } from '../src/auth/index.ts';
import { ApiClient, expectProblem, expectStatus, secretOf, setupMailAccount } from './helpers/client.ts';
import { startTestService, type TestService } from './helpers/service.ts';

let service: TestService;
let admin: ApiClient;
let adminEmail: string;
const user = { address: 'self@selfservice.test', password: 'self-service-password-1' };

before(async () => {
  service = await startTestService({ overrides: { ports: { http: 0, imaps: 1993, imap: 0, pop3s: 1995, pop3: 1110, submissions: 1465, submission: 1587 } } });
  const { setup } = await setupMailAccount(service, 'Self Co', user);
  admin = setup.admin;
  adminEmail = setup.adminEmail;
});
after(() => service.close());

async function userClient(): Promise<ApiClient> {
  const client = new ApiClient(service.url, service.clock);
  const login = await client.post('/api/auth/login', { email: user.address, password: user.password });
  expectStatus(login, 200);
  client.csrf = login.body.csrfToken;
  return client;
}

async function enrol(client: ApiClient): Promise<{ secret: string; recoveryCodes: string[] }> {
  const enrolment = await client.post('/api/auth/totp/enrol');
  expectStatus(enrolment, 200);
  const confirm = await client.post('/api/auth/totp/confirm', { code: await client.totpCode(enrolment.body.secret) });
  expectStatus(confirm, 200);
  return { secret: enrolment.body.secret, recoveryCodes: confirm.body.recoveryCodes };
}

test('R-A1 PATCH /api/me changes my language; GET /api/me gives the password rules', async () => {
  const client = await userClient();
  const me = await client.get('/api/me');
  expectStatus(me, 200);
  assert.deepEqual(me.body.passwordRules, { minLength: 10, maxLength: 256 });
  const other = me.body.account.language === 'fr' ? 'en' : 'fr';
  const changed = await client.patch('/api/me', { language: other });
  expectStatus(changed, 200);
  assert.equal(changed.body.account.language, other);
  assert.equal((await client.get('/api/me')).body.account.language, other);
  expectProblem(await client.patch('/api/me', { language: 'de' }), 400, 'invalid-field');
  // A customer admin's login has a language too.
  expectStatus(await admin.patch('/api/me', { language: 'en' }), 200);
  assert.equal((await admin.get('/api/me')).body.login.language, 'en');
  expectStatus(await client.patch('/api/me', { language: 'en' }), 200);
});

test('R-A1 GET /api/me/client-settings: host, ports and TLS per protocol from the configuration, TLS first; users only', async () => {
  const client = await userClient();
  const settings = await client.get('/api/me/client-settings');
  expectStatus(settings, 200);
  assert.equal(settings.body.username, user.address);
  assert.equal(settings.body.useAppPassword, false);
  assert.deepEqual(
    settings.body.servers.map((s: { protocol: string; host: string; port: number; security: string }) => `${s.protocol} ${s.host}:${s.port} ${s.security}`),
    [
      'imap mail.provider.test:1993 tls',
      'pop3 mail.provider.test:1995 tls',
      'pop3 mail.provider.test:1110 starttls',
      'smtp mail.provider.test:1465 tls',
      'smtp mail.provider.test:1587 starttls',
    ],
    'a port of 0 (IMAP with STARTTLS here) is not offered',
  );
  expectProblem(await admin.get('/api/me/client-settings'), 403, 'forbidden');
});

test('R-A1 new recovery codes need a current authenticator code; the old codes stop working', async () => {
  const client = await userClient();
  const { secret, recoveryCodes } = await enrol(client);
  expectProblem(await client.post('/api/me/totp/recovery-codes', { code: '000000' }), 400, 'invalid-code', 'code');
  expectProblem(await client.post('/api/me/totp/recovery-codes', { code: recoveryCodes[0] }), 400, 'invalid-code', 'code');
  const code = await client.totpCode(secret);
  const renewed = await client.post('/api/me/totp/recovery-codes', { code });
  expectStatus(renewed, 200);
  assert.equal(renewed.body.recoveryCodes.length, 10);
  assert.notDeepEqual(renewed.body.recoveryCodes, recoveryCodes);
  expectProblem(await client.post('/api/me/totp/recovery-codes', { code }), 400, 'invalid-code', 'code');

  // At the next login, an old code is refused and a new one accepted.
  const old = new ApiClient(service.url, service.clock);
  const first = await old.post('/api/auth/login', { email: user.address, password: user.password });
  old.csrf = first.body.csrfToken;
  assert.equal(first.body.stage, 'totp');
  assert.equal((await old.post('/api/auth/totp/verify', { code: recoveryCodes[1] })).status, 401);
  expectStatus(await old.post('/api/auth/totp/verify', { code: renewed.body.recoveryCodes[0] }), 200);

  // Then off again for the next test.
  expectStatus(await client.post('/api/me/totp/disable', { currentPassword: user.password, code: await client.totpCode(secret) }), 204);
});

test('R-A1 a mail user turns two-factor authentication off with the password and a code; the password opens mail clients again', async () => {
  const client = await userClient();
  const { secret } = await enrol(client);
  const mail = () => verifyMailLogin(service.ctx, { username: user.address, password: user.password, ip: '192.0.2.30' });
  await assert.rejects(mail(), 'with 2FA on, the account password does not open the mailbox');
  expectProblem(
    await client.post('/api/me/totp/disable', { currentPassword: 'wrong-password-0', code: await client.totpCode(secret) }),
    400,
    'wrong-password',
    'currentPassword',
  );
  expectProblem(await client.post('/api/me/totp/disable', { currentPassword: user.password, code: '123456' }), 400, 'invalid-code', 'code');
  assert.equal((await client.get('/api/me')).body.account.twoFactorEnabled, true, 'still on after refusals');
  expectStatus(await client.post('/api/me/totp/disable', { currentPassword: user.password, code: await client.totpCode(secret) }), 204);
  assert.equal((await client.get('/api/me')).body.account.twoFactorEnabled, false);
  assert.equal((await mail()).address, user.address);
  const again = new ApiClient(service.url, service.clock);
  assert.equal((await again.post('/api/auth/login', { email: user.address, password: user.password })).body.stage, 'full');
  expectProblem(await client.post('/api/me/totp/disable', { currentPassword: user.password, code: '123456' }), 409, 'totp-not-enabled');
});

test('R-A1 an operator or a customer admin cannot turn two-factor authentication off', async () => {
  const secret = secretOf(adminEmail) as string;
  assert.ok(secret);
  expectProblem(await admin.post('/api/me/totp/disable', { currentPassword: 'whatever-it-is', code: await admin.totpCode(secret) }), 403, 'totp-required');
  // But may renew its recovery codes.
  const renewed = await admin.post('/api/me/totp/recovery-codes', { code: await admin.totpCode(secret) });
  expectStatus(renewed, 200);
  assert.equal(renewed.body.recoveryCodes.length, 10);
});
