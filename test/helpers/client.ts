/**
 * An HTTP client for the API as a browser or a script uses it: session cookie plus CSRF header, or an
 * API token. `login` goes through the whole second-factor flow (enrolment on the first login, then a
 * TOTP code computed like an authenticator app, at the service's clock).
 */
import assert from 'node:assert/strict';
import { generate } from 'otplib';
import type { ManualClock } from '../../src/shared/clock.ts';
import { OPERATOR, type TestService } from './service.ts';

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** TOTP secrets of the logins enrolled so far, by e-mail, shared by every client of a test. */
const secrets = new Map<string, string>();

export class ApiClient {
  cookie: string | undefined;
  csrf: string | undefined;
  token: string | undefined;
  language: 'en' | 'fr' = 'en';
  recoveryCodes: string[] = [];

  constructor(
    readonly baseUrl: string,
    readonly clock?: ManualClock,
  ) {}

  async request<T = any>(method: string, path: string, body?: unknown, init: { raw?: string; headers?: Record<string, string> } = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = { 'accept-language': this.language, ...init.headers };
    if (body !== undefined || init.raw !== undefined) headers['content-type'] ??= 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (this.cookie) headers.cookie = this.cookie;
    if (this.csrf && !['GET', 'HEAD'].includes(method)) headers['x-csrf-token'] ??= this.csrf;
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, body: init.raw ?? (body === undefined ? undefined : JSON.stringify(body)) });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie?.startsWith('facteur_session=')) this.cookie = setCookie.split(';')[0];
    const textBody = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return { status: response.status, body: type.includes('json') && textBody ? JSON.parse(textBody) : textBody, headers: response.headers };
  }

  get = <T = any>(path: string) => this.request<T>('GET', path);
  post = <T = any>(path: string, body?: unknown) => this.request<T>('POST', path, body ?? {});
  put = <T = any>(path: string, body?: unknown) => this.request<T>('PUT', path, body ?? {});
  patch = <T = any>(path: string, body?: unknown) => this.request<T>('PATCH', path, body ?? {});
  delete = <T = any>(path: string) => this.request<T>('DELETE', path);

  /** A TOTP code for the service's current time, one step after the last one used (no replay). */
  async totpCode(secret: string): Promise<string> {
    this.clock?.advance(30_000);
    const epoch = Math.floor((this.clock?.now() ?? Date.now()) / 1000);
    return generate({ secret, epoch });
  }

  /** Password, then enrolment (first login) or a TOTP code; throws unless the session ends up full. */
  async login(email: string, password: string): Promise<this> {
    const login = await this.post('/api/auth/login', { email, password });
    if (login.status !== 200) throw new Error(`login ${email}: ${login.status} ${JSON.stringify(login.body)}`);
    this.csrf = login.body.csrfToken;
    if (login.body.stage === 'enrol') {
      const enrol = await this.post('/api/auth/totp/enrol');
      if (enrol.status !== 200) throw new Error(`enrol: ${enrol.status} ${JSON.stringify(enrol.body)}`);
      secrets.set(email.toLowerCase(), enrol.body.secret);
      const confirm = await this.post('/api/auth/totp/confirm', { code: await this.totpCode(enrol.body.secret) });
      if (confirm.status !== 200) throw new Error(`confirm: ${confirm.status} ${JSON.stringify(confirm.body)}`);
      this.recoveryCodes = confirm.body.recoveryCodes;
    } else if (login.body.stage === 'totp') {
      const secret = secrets.get(email.toLowerCase());
      if (!secret) throw new Error(`no TOTP secret known for ${email}`);
      const verify = await this.post('/api/auth/totp/verify', { code: await this.totpCode(secret) });
      if (verify.status !== 200) throw new Error(`verify: ${verify.status} ${JSON.stringify(verify.body)}`);
    }
    return this;
  }
}

export function secretOf(email: string): string | undefined {
  return secrets.get(email.toLowerCase());
}

export function operatorClient(service: TestService): Promise<ApiClient> {
  return new ApiClient(service.url, service.clock).login(OPERATOR.email, OPERATOR.password);
}

export interface CustomerSetup {
  customerId: string;
  subscriptionId: string;
  adminEmail: string;
  adminPassword: string;
  admin: ApiClient;
}

/** A customer with one subscription (licences given), one admin logged in, and no domain yet. */
export async function setupCustomer(
  service: TestService,
  operator: ApiClient,
  name: string,
  licences: Record<string, number> = { basic: 3, standard: 2 },
): Promise<CustomerSetup> {
  const slug = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  const customer = await operator.post('/api/customers', { name, contactEmail: `contact@${slug}.test`, language: 'fr' });
  if (customer.status !== 201) throw new Error(`customer: ${customer.status} ${JSON.stringify(customer.body)}`);
  const subscription = await operator.post('/api/subscriptions', { customerId: customer.body.id, licences, months: 12 });
  if (subscription.status !== 201) throw new Error(`subscription: ${subscription.status} ${JSON.stringify(subscription.body)}`);
  const adminEmail = `admin@${slug}.test`;
  const adminPassword = `admin-password-${slug}`;
  const created = await operator.post(`/api/customers/${customer.body.id}/admins`, { email: adminEmail, password: adminPassword });
  if (created.status !== 201) throw new Error(`admin: ${created.status} ${JSON.stringify(created.body)}`);
  const admin = await new ApiClient(service.url, service.clock).login(adminEmail, adminPassword);
  return { customerId: customer.body.id, subscriptionId: subscription.body.id, adminEmail, adminPassword, admin };
}

/** Polls an operation until it has finished. */
export async function waitForOperation(client: ApiClient, id: string, timeoutMs = 20_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const op = await client.get(`/api/operations/${id}`);
    if (op.status !== 200) throw new Error(`operation ${id}: ${op.status} ${JSON.stringify(op.body)}`);
    if (op.body.status !== 'running') return op.body;
    if (Date.now() > deadline) throw new Error(`operation ${id} still running after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export function expectStatus(reply: Reply, status: number): void {
  assert.equal(reply.status, status, `expected ${status}, got ${reply.status}: ${JSON.stringify(reply.body)}`);
}

/** A problem+json error with its code, field, status and a readable detail. */
export function expectProblem(reply: Reply, status: number, code: string, field?: string): void {
  expectStatus(reply, status);
  assert.match(reply.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(reply.body.status, status);
  assert.equal(reply.body.code, code, JSON.stringify(reply.body));
  if (field !== undefined) assert.equal(reply.body.field, field, JSON.stringify(reply.body));
  assert.equal(typeof reply.body.detail, 'string');
  assert.ok(reply.body.detail.length > 0);
}

/**
 * A customer with a verified domain and one mail account on it (class `standard`), through the API as
 * the customer's admin would: what the mail access tests start from. Returns the setup and the account id.
 */
export async function setupMailAccount(
  service: TestService,
  name: string,
  account: { address: string; password: string },
  licences: Record<string, number> = { standard: 2 },
): Promise<{ setup: CustomerSetup; accountId: string }> {
  const operator = await operatorClient(service);
  const setup = await setupCustomer(service, operator, name, licences);
  const domain = account.address.slice(account.address.indexOf('@') + 1);
  const added = await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/domains`, { name: domain });
  await waitForOperation(setup.admin, added.body.id);
  const created = await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/accounts`, {
    address: account.address,
    classId: 'standard',
    password: account.password,
  });
  expectStatus(created, 201);
  return { setup, accountId: created.body.id };
}
