/**
 * The `facteur` command: `facteur serve`, and the operator's tools over the same modules and the same
 * data as a running service (FACTEUR_DATA_DIR or FACTEUR_DATABASE_URL). Changes are recorded as
 * operations by the operator, like those made through the API. `--json` prints the object with its id.
 */
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { createApiToken } from '../auth/index.ts';
import { CLI_OPERATOR } from '../auth/principal.ts';
import { loadConfig } from '../config/index.ts';
import { type AppContext, createContext } from '../context.ts';
import type { FilterOwner } from '../filter/sender-rules.ts';
import { runDueJobs } from '../jobs/index.ts';
import { createLogger } from '../log/index.ts';
import { prepareData } from '../main.ts';
import { listOperations, operationView, runOperation } from '../operations/index.ts';
import { parseAddress } from '../shared/addresses.ts';
import { AppError, invalid, text } from '../shared/errors.ts';
import { rotateSecretsKey, type SubscriptionsTable } from '../store/index.ts';
import * as tenancy from '../tenancy/index.ts';
import { searchTrace } from '../trace/index.ts';
import { print, printError } from './output.ts';
import { serve } from './serve.ts';

const program = new Command('facteur').description('Facteur: hosted mail service').showHelpAfterError();

/** Opens the data with operator rights, runs `fn`, closes. */
async function withContext<T>(fn: (ctx: AppContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const ctx = await createContext(config, { log: createLogger(process.env.FACTEUR_LOG_LEVEL ?? 'warn') });
  try {
    await prepareData(ctx);
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

/** Runs one change as a recorded operation of the operator. */
function recorded<T>(
  ctx: AppContext,
  kind: string,
  target: { customerId?: string | null; subscriptionId?: string | null },
  params: Record<string, unknown>,
  work: () => Promise<T>,
) {
  return runOperation(ctx, { kind, actor: CLI_OPERATOR, customerId: target.customerId ?? null, subscriptionId: target.subscriptionId ?? null, params }, work);
}

function action<A extends unknown[]>(fn: (...args: A) => Promise<unknown>) {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (error) {
      process.exitCode = printError(error);
    }
  };
}

function parseInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('not a whole number');
  return n;
}

/** `basic=5,standard=2` -> { basic: 5, standard: 2 } */
function parseLicences(value: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of value.split(',')) {
    const [classId, count] = part.split('=');
    if (!classId || count === undefined || !/^\d+$/.test(count.trim())) throw new InvalidArgumentError(`expected CLASS=COUNT[,CLASS=COUNT], got "${part}"`);
    out[classId.trim()] = Number(count);
  }
  return out;
}

const list = (value: string) =>
  value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

/** The subscription that owns the domain of an address. */
async function subscriptionOfAddress(ctx: AppContext, address: string): Promise<SubscriptionsTable> {
  const domain = await tenancy.getDomainRow(ctx.db, null, parseAddress(address).domain);
  return tenancy.getSubscriptionRow(ctx.db, null, domain.subscription_id);
}

program
  .command('serve')
  .description('run the service (all roles unless FACTEUR_ROLES says otherwise)')
  .action(action(() => serve()));

// Customers
const customer = program.command('customer').description('customers');
customer
  .command('create')
  .requiredOption('--name <name>')
  .requiredOption('--contact-email <email>', 'where notices go')
  .option('--language <lang>', 'en or fr', 'fr')
  .option('--phone <phone>')
  .option('--json', 'print JSON')
  .action(
    action(async (o: { name: string; contactEmail: string; language: 'en' | 'fr'; phone?: string; json?: boolean }) => {
      const input = { name: o.name, contactEmail: o.contactEmail, language: o.language, phone: o.phone ?? null };
      const created = await withContext((ctx) => recorded(ctx, 'customer.create', {}, input, () => tenancy.createCustomer(ctx, input)));
      print(created, !!o.json);
    }),
  );
customer
  .command('list')
  .option('--json')
  .action(action(async (o: { json?: boolean }) => print(await withContext((ctx) => tenancy.listCustomers(ctx, { limit: 10_000 })), !!o.json)));
customer
  .command('show <id>')
  .option('--json')
  .action(
    action(async (id: string, o: { json?: boolean }) =>
      print(await withContext(async (ctx) => tenancy.customerView(await tenancy.getCustomerRow(ctx, null, id))), !!o.json),
    ),
  );

const admin = program.command('admin').description('customer-admin logins');
admin
  .command('create')
  .requiredOption('--customer <id>')
  .requiredOption('--email <email>')
  .option('--password <password>', 'generated and printed when absent')
  .option('--json')
  .action(
    action(async (o: { customer: string; email: string; password?: string; json?: boolean }) => {
      const input = { email: o.email, ...(o.password ? { password: o.password } : {}) };
      const created = await withContext((ctx) =>
        recorded(ctx, 'customer.admin.create', { customerId: o.customer }, input, () => tenancy.createLogin(ctx, o.customer, input)),
      );
      print({ ...created.login, ...(created.generatedPassword ? { generatedPassword: created.generatedPassword } : {}) }, !!o.json);
    }),
  );

const token = program.command('token').description('API tokens acting for one customer');
token
  .command('create')
  .requiredOption('--customer <id>')
  .requiredOption('--name <name>')
  .option('--json')
  .action(
    action(async (o: { customer: string; name: string; json?: boolean }) => {
      const created = await withContext(async (ctx) => {
        await tenancy.getCustomerRow(ctx, null, o.customer);
        return recorded(ctx, 'token.create', { customerId: o.customer }, { name: o.name }, () =>
          createApiToken(ctx, { customerId: o.customer, name: o.name, createdBy: CLI_OPERATOR.id }),
        );
      });
      print({ id: created.token.id, name: created.token.name, token: created.secret }, !!o.json);
    }),
  );

// Classes
const klass = program.command('class').description('account classes: quota, sending limits, features');
klass
  .command('list')
  .option('--json')
  .action(action(async (o: { json?: boolean }) => print(await withContext((ctx) => tenancy.listClasses(ctx)), !!o.json)));
klass
  .command('update <id>')
  .option('--quota-bytes <n>', 'storage quota', parseInteger)
  .option('--messages-per-minute-per-recipient <n>', 'contract §6 default 100', parseInteger)
  .option('--recipients-per-message <n>', 'contract §6 default 100', parseInteger)
  .option('--max-message-bytes <n>', 'contract §6 default 50 MB', parseInteger)
  .option('--json')
  .action(
    action(
      async (
        id: string,
        o: { quotaBytes?: number; messagesPerMinutePerRecipient?: number; recipientsPerMessage?: number; maxMessageBytes?: number; json?: boolean },
      ) => {
        const input = {
          ...(o.quotaBytes !== undefined ? { quotaBytes: o.quotaBytes } : {}),
          limits: {
            ...(o.messagesPerMinutePerRecipient !== undefined ? { messagesPerMinutePerRecipient: o.messagesPerMinutePerRecipient } : {}),
            ...(o.recipientsPerMessage !== undefined ? { recipientsPerMessage: o.recipientsPerMessage } : {}),
            ...(o.maxMessageBytes !== undefined ? { maxMessageBytes: o.maxMessageBytes } : {}),
          },
        };
        print(await withContext((ctx) => recorded(ctx, 'class.update', {}, { id, ...input }, () => tenancy.updateClass(ctx, id, input))), !!o.json);
      },
    ),
  );

// Subscriptions
const subscription = program.command('subscription').description('subscriptions');
subscription
  .command('create')
  .requiredOption('--customer <id>')
  .requiredOption('--licences <CLASS=COUNT,...>', 'licences per class', parseLicences)
  .requiredOption('--months <n>', 'initial duration, renewed automatically for the same length', parseInteger)
  .option('--billing-cycle <cycle>', 'monthly, quarterly or yearly', 'monthly')
  .option('--pending', 'create without activating')
  .option('--json')
  .action(
    action(async (o: { customer: string; licences: Record<string, number>; months: number; billingCycle: string; pending?: boolean; json?: boolean }) => {
      const input = { customerId: o.customer, licences: o.licences, months: o.months, billingCycle: o.billingCycle, activate: !o.pending };
      print(
        await withContext((ctx) => recorded(ctx, 'subscription.create', { customerId: o.customer }, input, () => tenancy.createSubscription(ctx, input))),
        !!o.json,
      );
    }),
  );
subscription
  .command('show <id>')
  .description('licences per class, period, domains, labels, sending limits')
  .option('--json')
  .action(action(async (id: string, o: { json?: boolean }) => print(await withContext((ctx) => tenancy.getSubscriptionDetails(ctx, null, id)), !!o.json)));
subscription
  .command('list')
  .option('--customer <id>')
  .option('--json')
  .action(
    action(async (o: { customer?: string; json?: boolean }) =>
      print(await withContext((ctx) => tenancy.listSubscriptions(ctx, null, { limit: 10_000, ...(o.customer ? { customerId: o.customer } : {}) })), !!o.json),
    ),
  );

/** A subscription change: `facteur subscription <verb> ID`. */
function subscriptionChange(
  verb: string,
  description: string,
  kind: string,
  work: (ctx: AppContext, id: string, arg?: string) => Promise<unknown>,
  argName?: string,
) {
  const cmd = subscription
    .command(`${verb} <id>${argName ? ` <${argName}>` : ''}`)
    .description(description)
    .option('--json');
  cmd.action(
    action(async (id: string, ...rest: unknown[]) => {
      const arg = argName ? (rest[0] as string) : undefined;
      const o = (argName ? rest[1] : rest[0]) as { json?: boolean };
      const result = await withContext(async (ctx) => {
        const row = await tenancy.getSubscriptionRow(ctx.db, null, id);
        return recorded(ctx, kind, { customerId: row.customer_id, subscriptionId: id }, arg ? { [argName as string]: arg } : {}, () => work(ctx, id, arg));
      });
      print(result, !!o.json);
    }),
  );
}
subscriptionChange('activate', 'activate a pending subscription', 'subscription.activate', (ctx, id) => tenancy.activateSubscription(ctx, null, id));
subscriptionChange('cancel', 'cancel at the end of the current period', 'subscription.cancel', (ctx, id) => tenancy.cancelSubscription(ctx, null, id));
subscriptionChange('resume', 'withdraw a cancellation', 'subscription.resume', (ctx, id) => tenancy.resumeSubscription(ctx, null, id));
subscriptionChange('terminate', 'end the service now', 'subscription.terminate', (ctx, id) => tenancy.endSubscription(ctx, id, 'terminated'));
subscriptionChange(
  'renew',
  'renew for another duration (months)',
  'subscription.renewal',
  (ctx, id, months) => tenancy.renewForDuration(ctx, null, id, Number(months)),
  'months',
);
subscriptionChange(
  'billing-cycle',
  'change the billing cycle',
  'subscription.billing-cycle',
  (ctx, id, cycle) => tenancy.changeBillingCycle(ctx, null, id, cycle as string),
  'cycle',
);
subscriptionChange(
  'licences',
  'set licences: CLASS=COUNT[,CLASS=COUNT]',
  'subscription.licences',
  (ctx, id, value) => tenancy.setLicences(ctx, id, parseLicences(value as string)),
  'licences',
);
subscriptionChange('label', 'add a label', 'label.add', (ctx, id, name) => tenancy.addLabel(ctx, null, id, { name: name as string }), 'name');

// Domains
const domain = program.command('domain').description('domains and their DNS records');
domain
  .command('add <name>')
  .requiredOption('--subscription <id>')
  .option('--json')
  .action(
    action(async (name: string, o: { subscription: string; json?: boolean }) => {
      const result = await withContext(async (ctx) => {
        const row = await tenancy.getSubscriptionRow(ctx.db, null, o.subscription);
        const ascii = await tenancy.prepareDomain(ctx, null, o.subscription, name);
        return recorded(ctx, 'domain.add', { customerId: row.customer_id, subscriptionId: row.id }, { name: ascii }, () =>
          tenancy.addDomain(ctx, row.id, ascii),
        );
      });
      print(result, !!o.json);
    }),
  );
domain
  .command('check <name>')
  .description('check the DNS records live, record by record')
  .option('--json')
  .action(
    action(async (name: string, o: { json?: boolean }) => {
      const result = await withContext(async (ctx) => {
        const row = await tenancy.getDomainRow(ctx.db, null, name);
        return recorded(ctx, 'domain.check', { customerId: row.customer_id, subscriptionId: row.subscription_id }, { domain: row.name }, () =>
          tenancy.checkDomain(ctx, null, row.id),
        );
      });
      if (o.json) print(result, true);
      else {
        for (const r of result.lastCheck?.records ?? []) process.stdout.write(`${r.status.padEnd(8)} ${r.type.padEnd(4)} ${r.host}  ${r.message.en}\n`);
        process.stdout.write(result.lastCheck?.ok ? 'all records ok\n' : 'some records need attention\n');
      }
      if (!result.lastCheck?.ok) process.exitCode = 3;
    }),
  );
domain
  .command('show <name>')
  .option('--json')
  .action(action(async (name: string, o: { json?: boolean }) => print(await withContext((ctx) => tenancy.getDomain(ctx, null, name)), !!o.json)));
domain
  .command('alias <name> <alias>')
  .description('add a domain alias')
  .option('--json')
  .action(
    action(async (name: string, alias: string, o: { json?: boolean }) => {
      const result = await withContext(async (ctx) => {
        const row = await tenancy.getDomainRow(ctx.db, null, name);
        return recorded(ctx, 'domain.alias.add', { customerId: row.customer_id, subscriptionId: row.subscription_id }, { alias }, () =>
          tenancy.addDomainAlias(ctx, null, row.id, alias),
        );
      });
      print(result, !!o.json);
    }),
  );

/** `facteur domain dkim <verb> NAME`: the DKIM key rotation, recorded like the API's. */
const dkim = domain.command('dkim').description('DKIM key rotation: rotate, activate once published, or cancel');
function dkimChange(verb: string, description: string, kind: string, work: (ctx: AppContext, id: string) => Promise<tenancy.DomainView>) {
  dkim
    .command(`${verb} <name>`)
    .description(description)
    .option('--json')
    .action(
      action(async (name: string, o: { json?: boolean }) => {
        const result = await withContext(async (ctx) => {
          const row = await tenancy.getDomainRow(ctx.db, null, name);
          return recorded(ctx, kind, { customerId: row.customer_id, subscriptionId: row.subscription_id }, { domain: row.name }, () => work(ctx, row.id));
        });
        if (o.json) return print(result, true);
        const lines = [`signing: ${result.dkim.selector}`];
        if (result.dkim.pending) {
          const record = result.records.find((r) => r.rotation === 'pending');
          lines.push(`pending: ${result.dkim.pending.selector} (signs once this record is seen in DNS)`, `  ${record?.host} TXT "${record?.value}"`);
        }
        for (const previous of result.dkim.previous) lines.push(`previous: ${previous.selector} (keep published until ${previous.retireAt})`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
    );
}
dkimChange('rotate', 'new key under a new selector, pending until its TXT record is published', 'domain.dkim.rotate', (ctx, id) =>
  tenancy.rotateDkimKey(ctx, null, id),
);
dkimChange('activate', 'sign with the pending key now (its record must be visible in DNS)', 'domain.dkim.activate', (ctx, id) =>
  tenancy.activateDkimKey(ctx, null, id),
);
dkimChange('cancel', 'give up the pending key; the current one goes on signing', 'domain.dkim.cancel', (ctx, id) => tenancy.cancelDkimRotation(ctx, null, id));

// Accounts
const account = program.command('account').description('mail accounts');
account
  .command('create <address>')
  .requiredOption('--class <class>')
  .option('--password <password>', 'generated and printed when absent')
  .option('--name <displayName>')
  .option('--language <lang>', 'en or fr')
  .option('--json')
  .action(
    action(async (address: string, o: { class: string; password?: string; name?: string; language?: 'en' | 'fr'; json?: boolean }) => {
      const input = {
        address,
        classId: o.class,
        ...(o.password ? { password: o.password } : {}),
        ...(o.name ? { displayName: o.name } : {}),
        ...(o.language ? { language: o.language } : {}),
      };
      const created = await withContext(async (ctx) => {
        const sub = await subscriptionOfAddress(ctx, address);
        return recorded(ctx, 'account.create', { customerId: sub.customer_id, subscriptionId: sub.id }, input, () =>
          tenancy.createAccount(ctx, null, sub.id, input),
        );
      });
      print({ ...created.account, ...(created.generatedPassword ? { generatedPassword: created.generatedPassword } : {}) }, !!o.json);
    }),
  );
account
  .command('show <address>')
  .option('--json')
  .action(action(async (address: string, o: { json?: boolean }) => print(await withContext((ctx) => tenancy.getAccount(ctx, null, address)), !!o.json)));
account
  .command('list')
  .requiredOption('--subscription <id>')
  .option('--json')
  .action(
    action(async (o: { subscription: string; json?: boolean }) =>
      print(await withContext((ctx) => tenancy.listAccounts(ctx, null, o.subscription, { limit: 100_000 })), !!o.json),
    ),
  );
account
  .command('update <address>')
  .option('--class <class>')
  .option('--password <password>')
  .option('--name <displayName>')
  .option('--status <status>', 'active, disabled or suspended')
  .option('--json')
  .action(
    action(async (address: string, o: { class?: string; password?: string; name?: string; status?: 'active' | 'disabled' | 'suspended'; json?: boolean }) => {
      const changes = {
        ...(o.class ? { classId: o.class } : {}),
        ...(o.password ? { password: o.password } : {}),
        ...(o.name ? { displayName: o.name } : {}),
        ...(o.status ? { status: o.status } : {}),
      };
      const result = await withContext(async (ctx) => {
        const row = await tenancy.getAccountRow(ctx.db, null, address);
        return recorded(ctx, 'account.update', { customerId: row.customer_id, subscriptionId: row.subscription_id }, { address, ...changes }, () =>
          tenancy.updateAccount(ctx, null, row.id, changes),
        );
      });
      print(result, !!o.json);
    }),
  );
account.command('delete <address>').action(
  action(async (address: string) => {
    await withContext(async (ctx) => {
      const row = await tenancy.getAccountRow(ctx.db, null, address);
      await recorded(ctx, 'account.delete', { customerId: row.customer_id, subscriptionId: row.subscription_id }, { address }, () =>
        tenancy.deleteAccount(ctx, null, row.id),
      );
    });
  }),
);

// Aliases and lists
const alias = program.command('alias').description('address aliases');
alias
  .command('add <address>')
  .requiredOption('--to <addresses>', 'comma-separated destinations', list)
  .option('--json')
  .action(
    action(async (address: string, o: { to: string[]; json?: boolean }) => {
      const input = { address, destinations: o.to };
      const result = await withContext(async (ctx) => {
        const sub = await subscriptionOfAddress(ctx, address);
        return recorded(ctx, 'alias.create', { customerId: sub.customer_id, subscriptionId: sub.id }, input, () =>
          tenancy.createAlias(ctx, null, sub.id, input),
        );
      });
      print(result, !!o.json);
    }),
  );

const mailingList = program.command('list').description('mailing lists');
mailingList
  .command('create <address>')
  .option('--name <name>')
  .option('--members <addresses>', 'comma-separated', list)
  .option('--policy <policy>', 'who may post: members, anyone or moderators', 'members')
  .option('--json')
  .action(
    action(async (address: string, o: { name?: string; members?: string[]; policy: string; json?: boolean }) => {
      const input = { address, postingPolicy: o.policy, members: o.members ?? [], ...(o.name ? { name: o.name } : {}) };
      const result = await withContext(async (ctx) => {
        const sub = await subscriptionOfAddress(ctx, address);
        return recorded(ctx, 'list.create', { customerId: sub.customer_id, subscriptionId: sub.id }, { address, members: input.members.length }, () =>
          tenancy.createList(ctx, null, sub.id, input),
        );
      });
      print(result, !!o.json);
    }),
  );

// Tickets, operations, jobs
program
  .command('tickets')
  .description('support tickets, latest first')
  .option('--status <status>')
  .option('--json')
  .action(
    action(async (o: { status?: string; json?: boolean }) =>
      print(await withContext((ctx) => tenancy.listTickets(ctx, null, { limit: 500, ...(o.status ? { status: o.status } : {}) })), !!o.json),
    ),
  );
const ticket = program.command('ticket').description('one support ticket: open it for a customer, read it, answer, close');
/** A message body from --body TEXT, or --body-file FILE ("-" reads standard input). */
async function bodyOf(o: { body?: string; bodyFile?: string }): Promise<string | undefined> {
  if (o.bodyFile === undefined) return o.body;
  if (o.bodyFile !== '-') return readFile(o.bodyFile, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
ticket
  .command('open')
  .description("open a ticket on a customer's behalf (e.g. a request received by phone)")
  .requiredOption('--customer <id>')
  .requiredOption('--subject <text>')
  .option('--category <category>', tenancy.TICKET_CATEGORIES.join(' | '), 'general')
  .option('--body <text>')
  .option('--body-file <file>', 'the message from a file, or - for standard input')
  .option('--json')
  .action(
    action(async (o: { customer: string; subject: string; category: string; body?: string; bodyFile?: string; json?: boolean }) => {
      const body = await bodyOf(o);
      print(await withContext((ctx) => tenancy.openTicket(ctx, CLI_OPERATOR, o.customer, { subject: o.subject, category: o.category, body })), !!o.json);
    }),
  );
ticket
  .command('show <id>')
  .description('a ticket and its messages')
  .option('--json')
  .action(action(async (id: string, o: { json?: boolean }) => print(await withContext((ctx) => tenancy.getTicket(ctx, null, id)), !!o.json)));
ticket
  .command('reply <id>')
  .description("answer a ticket as the provider's support")
  .option('--body <text>')
  .option('--body-file <file>', 'the message from a file, or - for standard input')
  .option('--json')
  .action(
    action(async (id: string, o: { body?: string; bodyFile?: string; json?: boolean }) => {
      const body = await bodyOf(o);
      print(await withContext((ctx) => tenancy.replyToTicket(ctx, CLI_OPERATOR, null, id, body)), !!o.json);
    }),
  );
ticket
  .command('close <id>')
  .description('close a ticket')
  .option('--json')
  .action(action(async (id: string, o: { json?: boolean }) => print(await withContext((ctx) => tenancy.closeTicket(ctx, CLI_OPERATOR, null, id)), !!o.json)));

program
  .command('faq [slug]')
  .description('the FAQ pages on client configuration, as customers read them (all of them, or one by its slug)')
  .option('--lang <lang>', 'en | fr', 'en')
  .option('--json')
  .action(
    action(async (slug: string | undefined, o: { lang: string; json?: boolean }) => {
      if (o.lang !== 'en' && o.lang !== 'fr') throw invalid('invalid-language', 'lang', 'The language is en or fr', 'La langue est en ou fr');
      const language = o.lang;
      const pages = await withContext(async (ctx) => {
        if (!slug) return tenancy.listFaqPages(ctx, language);
        const page = await tenancy.getFaqPage(ctx, slug, language);
        if (!page) throw new AppError('not-found', 'not-found', text(`No FAQ page ${slug}`, `Pas de page de FAQ ${slug}`));
        return [page];
      });
      if (o.json) print(slug ? pages[0] : pages, true);
      else for (const page of pages) process.stdout.write(`# ${page.title}\n(${page.slug})\n\n${page.body}\n\n`);
    }),
  );

program
  .command('operations')
  .description('the journal of operations')
  .option('--subscription <id>')
  .option('--limit <n>', 'how many', parseInteger, 50)
  .option('--json')
  .action(
    action(async (o: { subscription?: string; limit: number; json?: boolean }) =>
      print(
        (await withContext((ctx) => listOperations(ctx, null, { limit: o.limit, ...(o.subscription ? { subscriptionId: o.subscription } : {}) }))).map(
          operationView,
        ),
        !!o.json,
      ),
    ),
  );
program
  .command('trace')
  .description("a message's path, by address or Message-ID, newest first")
  .option('--address <address>')
  .option('--message-id <id>')
  .option('--limit <n>', 'how many matching steps', parseInteger, 200)
  .option('--json')
  .action(
    action(async (o: { address?: string; messageId?: string; limit: number; json?: boolean }) => {
      const entries = await withContext((ctx) =>
        searchTrace(ctx, null, { limit: o.limit, ...(o.address ? { address: o.address } : {}), ...(o.messageId ? { messageId: o.messageId } : {}) }),
      );
      if (o.json) print(entries, true);
      else
        for (const e of entries)
          process.stdout.write(`${e.at} ${e.step.padEnd(10)} ${e.direction.padEnd(8)} ${e.sender || '<>'} -> ${e.recipient ?? '-'} ${e.messageId ?? ''}\n`);
    }),
  );

// The filter (issue 5): quarantine, allow and block lists, digests, the malware vault (loaded when used: the CLI starts faster)
const quarantineModule = () => import('../filter/quarantine.ts');
const senderRulesModule = () => import('../filter/sender-rules.ts');
function filterOwner(o: { account?: string; domain?: string }): FilterOwner {
  if (o.account && !o.domain) return { account: o.account };
  if (o.domain && !o.account) return { domain: o.domain };
  throw invalid(
    'owner-required',
    'account',
    'Give --account ADDRESS or --domain NAME (one of them)',
    'Indiquez --account ADRESSE ou --domain NOM (l’un des deux)',
  );
}

const quarantine = program.command('quarantine').description('held messages');
quarantine
  .command('list')
  .description('held messages, newest first')
  .option('--account <address>')
  .option('--domain <name>')
  .option('--limit <n>', 'how many', parseInteger, 100)
  .option('--after <cursor>', 'the `next` of the previous page')
  .option('--json')
  .action(
    action(async (o: { account?: string; domain?: string; limit: number; after?: string; json?: boolean }) => {
      const page = await withContext(async (ctx) => {
        const accountId = o.account ? (await tenancy.getAccountRow(ctx.db, null, o.account)).id : undefined;
        const domainId = o.domain ? (await tenancy.getDomainRow(ctx.db, null, o.domain)).id : undefined;
        return (await quarantineModule()).listQuarantine(
          ctx,
          { customerId: null },
          { limit: o.limit, ...(o.after ? { after: o.after } : {}), ...(accountId ? { accountId } : {}), ...(domainId ? { domainId } : {}) },
        );
      });
      if (o.json) print(page, true);
      else {
        for (const e of page.items)
          process.stdout.write(`${e.id} ${e.receivedAt} ${e.reason.padEnd(14)} ${e.recipient} <- ${e.from || e.sender || '<>'} ${e.subject}\n`);
        if (page.next) process.stdout.write(`next: ${page.next}\n`);
      }
    }),
  );
quarantine
  .command('show <id>')
  .description('verdict, headers, text and attachments of a held message')
  .option('--json')
  .action(
    action(async (id: string, o: { json?: boolean }) =>
      print(await withContext(async (ctx) => (await quarantineModule()).previewQuarantined(ctx, { customerId: null }, id)), !!o.json),
    ),
  );
quarantine
  .command('release <id>')
  .description("deliver a held message to its recipient's Inbox")
  .option('--allow-sender', 'also add its sender to the recipient’s allow list')
  .option('--no-train', 'do not teach the filter that it is not spam (it does by default)')
  .option('--json')
  .action(
    action(async (id: string, o: { allowSender?: boolean; train: boolean; json?: boolean }) => {
      const options = { allowSender: !!o.allowSender, trainAsHam: o.train };
      const released = await withContext(async (ctx) => {
        const { getQuarantineRow, releaseQuarantined } = await quarantineModule();
        const row = await getQuarantineRow(ctx, { customerId: null }, id);
        return recorded(ctx, 'quarantine.release', { customerId: row.customer_id }, { id, ...options }, () =>
          releaseQuarantined(ctx, { customerId: null }, id, { actor: 'cli', ...options }),
        );
      });
      print(released, !!o.json);
    }),
  );
quarantine
  .command('delete <id>')
  .description('delete a held message for good')
  .option('--json')
  .action(
    action(async (id: string, o: { json?: boolean }) => {
      const deleted = await withContext(async (ctx) => {
        const { getQuarantineRow, deleteQuarantined } = await quarantineModule();
        const row = await getQuarantineRow(ctx, { customerId: null }, id);
        return recorded(ctx, 'quarantine.delete', { customerId: row.customer_id }, { id }, () =>
          deleteQuarantined(ctx, { customerId: null }, id, { actor: 'cli' }),
        );
      });
      print(deleted, !!o.json);
    }),
  );

// What the filter learns (issue 11): reports, the operator's corpus, and what each scope knows.
const filter = program.command('filter').description('teach the spam filter and see what it has learnt');
filter
  .command('report')
  .description("report an account's message as spam or as not spam (learnt for the account and its domain)")
  .requiredOption('--account <address>')
  .requiredOption('--message <id>', 'the message id (as the API and JMAP name it)')
  .requiredOption('--as <class>', 'spam or ham')
  .option('--json')
  .action(
    action(async (o: { account: string; message: string; as: string; json?: boolean }) => {
      if (o.as !== 'spam' && o.as !== 'ham') throw invalid('invalid-class', 'as', '--as is spam or ham', '--as vaut spam ou ham');
      const as = o.as;
      const result = await withContext(async (ctx) => {
        const account = await tenancy.getAccountRow(ctx.db, null, o.account);
        const { reportMessage } = await import('../filter/learning.ts');
        return recorded(ctx, 'filter.report', { customerId: account.customer_id }, { account: o.account, message: o.message, as }, () =>
          reportMessage(ctx, null, { accountId: account.id, messageId: o.message }, as, 'cli'),
        );
      });
      print(result, !!o.json);
    }),
  );
filter
  .command('train')
  .description('learn a corpus: PATH is an mbox file, a maildir, or a folder of .eml files (global scope unless --domain or --account)')
  .option('--spam <path...>', 'spam to learn')
  .option('--ham <path...>', 'wanted mail to learn')
  .option('--domain <name>', "learn in this domain's scope")
  .option('--account <address>', "learn in this account's own scope")
  .option('--json')
  .action(
    action(async (o: { spam?: string[]; ham?: string[]; domain?: string; account?: string; json?: boolean }) => {
      if (!o.spam?.length && !o.ham?.length)
        throw invalid('corpus-required', 'spam', 'Give --spam PATH and/or --ham PATH', 'Indiquez --spam CHEMIN et/ou --ham CHEMIN');
      if (o.domain && o.account) throw invalid('one-scope', 'domain', 'Give --domain or --account, not both', 'Indiquez --domain ou --account, pas les deux');
      const summary = await withContext(async (ctx) => {
        const { importCorpus } = await import('../filter/corpus.ts');
        const { GLOBAL_SCOPE } = await import('../filter/bayes.ts');
        const { userScope } = await import('../filter/learning.ts');
        let scope = GLOBAL_SCOPE;
        if (o.domain) scope = (await tenancy.getDomainRow(ctx.db, null, o.domain)).id;
        if (o.account) scope = userScope((await tenancy.getAccountRow(ctx.db, null, o.account)).id);
        const out: Record<string, unknown> = { scope };
        for (const as of ['spam', 'ham'] as const) {
          for (const source of o[as] ?? []) {
            const progress = await importCorpus(ctx, source, as, scope, (p) => {
              if (!o.json)
                process.stderr.write(
                  `\r${as} ${source}: ${p.read} read, ${p.learned} learnt, ${p.unchanged} already known, ${p.reversed} moved, ${p.skipped} skipped`,
                );
            });
            if (!o.json) process.stderr.write('\n');
            out[`${as}:${source}`] = progress;
          }
        }
        return out;
      });
      print(summary, !!o.json);
    }),
  );
filter
  .command('stats')
  .description('what each scope has learnt (messages and tokens), the users’ lessons and the corpus imports')
  .option('--json')
  .action(
    action(async (o: { json?: boolean }) => {
      const stats = await withContext(async (ctx) => (await import('../filter/corpus.ts')).filterStats(ctx));
      if (o.json) print(stats, true);
      else {
        for (const s of stats.scopes) process.stdout.write(`${s.scope.padEnd(40)} spam ${s.spam}  ham ${s.ham}  tokens ${s.tokens}\n`);
        process.stdout.write(`lessons: ${stats.lessons.learned} learnt, ${stats.lessons.pending} pending\n`);
      }
    }),
  );

const senders = program.command('senders').description('allow and block lists of an account or a domain');
for (const kind of ['allow', 'block'] as const) {
  senders
    .command(`${kind} <address-or-domain>`)
    .description(`${kind} a sender: an address, a domain (example.com) or its subdomains (.example.com)`)
    .option('--account <address>')
    .option('--domain <name>')
    .option('--json')
    .action(
      action(async (pattern: string, o: { account?: string; domain?: string; json?: boolean }) => {
        const owner = filterOwner(o);
        const rule = await withContext(async (ctx) => {
          const { addSenderRule, resolveFilterOwner } = await senderRulesModule();
          const resolved = await resolveFilterOwner(ctx.db, null, owner);
          return recorded(ctx, 'sender-rule.add', { customerId: resolved.customerId }, { owner, pattern, kind }, () =>
            addSenderRule(ctx, null, owner, { pattern, kind }),
          );
        });
        print(rule, !!o.json);
      }),
    );
}
senders
  .command('list')
  .option('--account <address>')
  .option('--domain <name>')
  .option('--json')
  .action(
    action(async (o: { account?: string; domain?: string; json?: boolean }) => {
      const rules = await withContext(async (ctx) => (await senderRulesModule()).listSenderRules(ctx, null, filterOwner(o)));
      if (o.json) print(rules, true);
      else for (const r of rules) process.stdout.write(`${r.id} ${r.kind.padEnd(5)} ${r.pattern}\n`);
    }),
  );
senders.command('remove <id>').action(
  action(async (id: string) => {
    await withContext(async (ctx) => {
      const { getSenderRule, removeSenderRule } = await senderRulesModule();
      const rule = await getSenderRule(ctx, null, id);
      await recorded(ctx, 'sender-rule.remove', { customerId: rule.customerId }, { id }, () => removeSenderRule(ctx, null, id));
    });
  }),
);

const digest = program.command('digest').description('quarantine digests');
digest
  .command('send-due')
  .description('send every digest that is due now (safe to run twice)')
  .option('--json')
  .action(
    action(async (o: { json?: boolean }) => print(await withContext(async (ctx) => (await import('../filter/digest.ts')).sendDueDigests(ctx)), !!o.json)),
  );

const vault = program.command('vault').description('outbound mail kept for carrying malware; reads are recorded');
vault
  .command('list')
  .option('--customer <id>')
  .option('--limit <n>', 'how many', parseInteger, 100)
  .option('--json')
  .action(
    action(async (o: { customer?: string; limit: number; json?: boolean }) =>
      print(
        await withContext(async (ctx) =>
          (await import('../filter/vault.ts')).listVault(ctx, null, { limit: o.limit, ...(o.customer ? { customerId: o.customer } : {}) }),
        ),
        !!o.json,
      ),
    ),
  );
vault
  .command('read <id>')
  .description('print a vaulted message (the read and its reason are recorded)')
  .requiredOption('--reason <text>', 'why you read it')
  .option('--json', 'print JSON (content in base64) instead of the raw message')
  .action(
    action(async (id: string, o: { reason: string; json?: boolean }) => {
      const read = await withContext((ctx) =>
        import('../filter/vault.ts').then(({ readVault }) =>
          recorded(ctx, 'vault.read', {}, { id, reason: o.reason }, () => readVault(ctx, null, id, { loginId: CLI_OPERATOR.id, reason: o.reason })),
        ),
      );
      if (o.json) print(read, true);
      else process.stdout.write(Buffer.from(read.contentBase64, 'base64'));
    }),
  );

const jobs = program.command('jobs').description('scheduled jobs');
jobs
  .command('run-due')
  .description('run every scheduled job once now (renewals, recovery of interrupted operations, purges)')
  .option('--json')
  .action(action(async (o: { json?: boolean }) => print(await withContext((ctx) => runDueJobs(ctx)), !!o.json)));

const secrets = program
  .command('secrets')
  .description('secrets stored in the database (DKIM keys, TOTP, SRS and link secrets), sealed under a key kept outside it');
secrets
  .command('rotate-key')
  .description('seal every secret under a new key (key file) or the first of secrets.keys; services keep running meanwhile')
  .option('--json')
  .action(
    action(async (o: { json?: boolean }) =>
      print(await withContext((ctx) => recorded(ctx, 'secrets.rotate-key', {}, {}, () => rotateSecretsKey(ctx.db, ctx.secrets))), !!o.json),
    ),
  );

await program.parseAsync(process.argv);
