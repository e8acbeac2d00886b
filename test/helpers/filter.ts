/**
 * What the filter's tests share: a customer with a domain and accounts (users logged in with their
 * mail address), held messages made the way the MX will make them (receiveMessage, then holdMessage),
 * the `facteur` CLI as a child process, and the mailstore's view of an Inbox.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { holdMessage, type QuarantineEntry, type QuarantineReason } from '../../src/filter/quarantine.ts';
import type { Verdict } from '../../src/filter/types.ts';
import { findMailbox, loadMailboxIndex, readMessages, receiveMessage } from '../../src/mailstore/index.ts';
import { cliEnv, type Run, runFacteur } from './cli.ts';
import { type ApiClient, ApiClient as Client, expectStatus, operatorClient, setupCustomer, waitForOperation } from './client.ts';
import { startTestService, type TestService } from './service.ts';

export interface TestAccount {
  id: string;
  address: string;
  password: string;
  customerId: string;
  domainId: string;
  /** Logged in as the user (role user). */
  client: ApiClient;
}

export interface MailCustomer {
  customerId: string;
  subscriptionId: string;
  domainId: string;
  admin: ApiClient;
  accounts: TestAccount[];
}

/** A customer with one domain and accounts `local@domain`, each logged in as a user. */
export async function setupMailCustomer(
  service: TestService,
  operator: ApiClient,
  name: string,
  domain: string,
  locals: string[],
  language: 'en' | 'fr' = 'en',
): Promise<MailCustomer> {
  const setup = await setupCustomer(service, operator, name, { basic: 5 });
  const added = await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/domains`, { name: domain });
  await waitForOperation(setup.admin, added.body.id);
  const accounts: TestAccount[] = [];
  for (const local of locals) {
    const password = `password-of-${local}-1`;
    const created = await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/accounts`, {
      address: `${local}@${domain}`,
      classId: 'basic',
      password,
      language,
    });
    expectStatus(created, 201);
    const client = await new Client(service.url, service.clock).login(`${local}@${domain}`, password);
    accounts.push({
      id: created.body.id,
      address: created.body.address,
      password,
      customerId: created.body.customerId,
      domainId: created.body.domainId,
      client,
    });
  }
  return { customerId: setup.customerId, subscriptionId: setup.subscriptionId, domainId: accounts[0]?.domainId as string, admin: setup.admin, accounts };
}

export function verdictOf(score: number, extra: Partial<Verdict> = {}): Verdict {
  return {
    score,
    symbols: [{ name: 'GTUBE', score, reason: { en: 'GTUBE test string', fr: 'Chaîne de test GTUBE' }, source: 'gtube' }],
    malware: null,
    failedSafe: false,
    durationMs: 1,
    ...extra,
  };
}

export function rawMessage(options: {
  from?: string;
  to?: string;
  subject?: string;
  body?: string;
  html?: string;
  attachment?: { name: string; content: string };
}): Buffer {
  const from = options.from ?? 'spammer@junk.test';
  const lines = [`From: Sender <${from}>`, `To: ${options.to ?? 'someone@example.test'}`, `Subject: ${options.subject ?? 'Cheap pills'}`];
  lines.push(`Message-ID: <${Math.random().toString(36).slice(2)}@junk.test>`, 'Date: Thu, 26 Nov 2026 09:00:00 +0000', 'MIME-Version: 1.0');
  if (options.html && !options.attachment) {
    lines.push('Content-Type: text/html; charset=utf-8', '', options.html);
  } else if (options.attachment) {
    lines.push('Content-Type: multipart/mixed; boundary="b1"', '', '--b1', 'Content-Type: text/plain; charset=utf-8', '', options.body ?? 'Hello', '--b1');
    lines.push(
      `Content-Type: application/octet-stream; name="${options.attachment.name}"`,
      `Content-Disposition: attachment; filename="${options.attachment.name}"`,
    );
    lines.push('Content-Transfer-Encoding: base64', '', Buffer.from(options.attachment.content).toString('base64'), '--b1--');
  } else {
    lines.push('Content-Type: text/plain; charset=utf-8', '', options.body ?? 'Buy now');
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n`);
}

/** Holds a message for an account the way the MX does: receiveMessage, then holdMessage. */
export async function holdFor(
  service: TestService,
  account: Pick<TestAccount, 'id' | 'customerId' | 'domainId' | 'address'>,
  options: Parameters<typeof rawMessage>[0] & { reason?: QuarantineReason; score?: number; sender?: string } = {},
): Promise<QuarantineEntry> {
  const message = await receiveMessage(service.ctx, Readable.from([rawMessage({ to: account.address, ...options })]), { maxBytes: 1 << 22 });
  return holdMessage(service.ctx, {
    blob: message.blob,
    metadata: message.metadata,
    account: { accountId: account.id, customerId: account.customerId, domainId: account.domainId },
    verdict: verdictOf(options.score ?? 1000),
    reason: options.reason ?? 'spam',
    sender: options.sender ?? options.from ?? 'spammer@junk.test',
    recipient: account.address,
  });
}

/** Subjects of the messages in an account's Inbox, in UID order. */
export async function inboxSubjects(service: TestService, accountId: string): Promise<string[]> {
  const inbox = await findMailbox(service.ctx.db, accountId, 'INBOX');
  if (!inbox) return [];
  const index = await loadMailboxIndex(service.ctx.db, inbox.id);
  const messages = await readMessages(
    service.ctx.db,
    inbox.id,
    index.map((e) => e.uid),
  );
  return messages.map((m) => (JSON.parse(m.metadata) as { summary: { subject: string } }).summary.subject);
}

/** Runs `facteur` on the test service's data. */
export function facteur(service: TestService, args: string[]): Promise<Run> {
  return runFacteur(cliEnv(service), args);
}

/** Runs a `facteur … --json` command that must succeed and parses what it printed. */
export async function facteurJson(service: TestService, args: string[]): Promise<any> {
  const run = await facteur(service, [...args, '--json']);
  assert.equal(run.code, 0, `facteur ${args.join(' ')} exited ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

export interface TwoCustomers {
  service: TestService;
  operator: ApiClient;
  /** Customer Acme, domain acme.test. */
  acme: MailCustomer;
  /** Customer Other, domain other.test: for the tests of isolation between customers. */
  other: MailCustomer;
}

/** The filter tests' fixture: a running service and two mail customers with the given local parts. */
export async function startWithTwoCustomers(acmeLocals: string[], otherLocals: string[]): Promise<TwoCustomers> {
  const service = await startTestService();
  const operator = await operatorClient(service);
  const acme = await setupMailCustomer(service, operator, 'Acme', 'acme.test', acmeLocals);
  const other = await setupMailCustomer(service, operator, 'Other', 'other.test', otherLocals);
  return { service, operator, acme, other };
}
