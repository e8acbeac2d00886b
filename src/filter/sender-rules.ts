/**
 * Allow and block lists (R-S2): a user's own, and its domain's (set by the customer admin). A rule's
 * pattern is an exact address (`alice@example.com`), a whole domain (`example.com`: that domain only),
 * or its subdomains (`.example.com`: `a.example.com`, `b.a.example.com`, not `example.com` itself;
 * add both to cover a domain and its subdomains). `*.example.com` and `@example.com` are accepted and
 * stored as `.example.com` and `example.com`.
 *
 * Matching (`matchSender`) looks at the envelope sender and the From header address alike, and decides
 * by level: the user's rules first, then the domain's; within a level a block wins over an allow (a
 * user who both allows `example.com` and blocks `spam@example.com` means to block that one address,
 * and an ambiguous list must not let mail through). What an allow or a block then does is `decide`'s.
 */
import type { AppContext } from '../context.ts';
import { addressKey, normalizeAddress, normalizeDomain } from '../shared/addresses.ts';
import { AppError, invalid, notFound, text } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { SenderRulesTable } from '../store/index.ts';
import type { Db } from '../tenancy/common.ts';
import { getAccountRow, getDomainRow, type Scope } from '../tenancy/index.ts';
import type { SenderRuleKind } from './types.ts';

/** Rules one account or one domain may have: lists are for people, not for mass filtering. */
export const MAX_RULES_PER_OWNER = 1000;

/** Whose filter settings: an account (id or address) or a domain (id or name). */
export type FilterOwner = { account: string } | { domain: string };

export interface ResolvedOwner {
  customerId: string;
  subscriptionId: string;
  domainId: string;
  /** Null for a domain's own rules and preferences. */
  accountId: string | null;
  /** The account's address or the domain's name, for messages. */
  name: string;
}

/** Finds the account or domain within the caller's scope ("not found" when it is not theirs). */
export async function resolveFilterOwner(db: Db, scope: Scope, owner: FilterOwner): Promise<ResolvedOwner> {
  if ('account' in owner) {
    const account = await getAccountRow(db, scope, owner.account);
    return {
      customerId: account.customer_id,
      subscriptionId: account.subscription_id,
      domainId: account.domain_id,
      accountId: account.id,
      name: account.address,
    };
  }
  const domain = await getDomainRow(db, scope, owner.domain);
  return { customerId: domain.customer_id, subscriptionId: domain.subscription_id, domainId: domain.id, accountId: null, name: domain.name };
}

export interface SenderRuleView {
  id: string;
  customerId: string;
  domainId: string;
  /** Null: the domain's rule. */
  accountId: string | null;
  pattern: string;
  kind: SenderRuleKind;
  createdAt: string;
}

function ruleView(row: SenderRulesTable): SenderRuleView {
  return {
    id: row.id,
    customerId: row.customer_id,
    domainId: row.domain_id,
    accountId: row.account_id,
    pattern: row.pattern,
    kind: row.kind,
    createdAt: new Date(Number(row.created_at)).toISOString(),
  };
}

/** The stored form of a pattern: an address key, an ASCII domain, or `.` and an ASCII domain. */
export function normalizePattern(input: string, field = 'pattern'): string {
  let value = input.trim();
  if (value.startsWith('*.')) value = value.slice(1);
  if (value.startsWith('@')) value = value.slice(1);
  if (value.includes('@')) {
    const address = normalizeAddress(value);
    if (address) return addressKey(address);
  } else if (value.startsWith('.')) {
    const domain = normalizeDomain(value.slice(1));
    if (domain) return `.${domain}`;
  } else {
    const domain = normalizeDomain(value);
    if (domain) return domain;
  }
  throw invalid(
    'invalid-sender-pattern',
    field,
    `"${input}" is not an address, a domain (example.com) or subdomains (.example.com)`,
    `« ${input} » n'est ni une adresse, ni un domaine (example.com), ni des sous-domaines (.example.com)`,
  );
}

/** The patterns that match an address: itself, its domain, and `.parent` for every parent domain. */
export function patternsFor(address: string): string[] {
  const parsed = normalizeAddress(address);
  if (!parsed) return [];
  const out = [addressKey(parsed), parsed.domain];
  const labels = parsed.domain.split('.');
  for (let i = 1; i < labels.length; i++) out.push(`.${labels.slice(i).join('.')}`);
  return out;
}

function ownerFilter(owner: ResolvedOwner) {
  return { domainId: owner.domainId, accountId: owner.accountId };
}

/**
 * Adds a rule to an account's or a domain's list. The same pattern twice is one rule: adding it
 * again with the other kind turns it over (allow <-> block).
 */
export async function addSenderRule(
  ctx: AppContext,
  scope: Scope,
  owner: FilterOwner,
  input: { pattern: string; kind: SenderRuleKind },
): Promise<SenderRuleView> {
  const pattern = normalizePattern(input.pattern);
  const resolved = await resolveFilterOwner(ctx.db, scope, owner);
  const { domainId, accountId } = ownerFilter(resolved);
  return ctx.db.transaction().execute(async (trx) => {
    let existing = trx.selectFrom('sender_rules').selectAll().where('domain_id', '=', domainId).where('pattern', '=', pattern);
    existing = accountId === null ? existing.where('account_id', 'is', null) : existing.where('account_id', '=', accountId);
    const found = await existing.executeTakeFirst();
    if (found) {
      if (found.kind !== input.kind) await trx.updateTable('sender_rules').set({ kind: input.kind }).where('id', '=', found.id).execute();
      return ruleView({ ...found, kind: input.kind });
    }
    let count = trx
      .selectFrom('sender_rules')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('domain_id', '=', domainId);
    count = accountId === null ? count.where('account_id', 'is', null) : count.where('account_id', '=', accountId);
    const { n } = await count.executeTakeFirstOrThrow();
    if (Number(n) >= MAX_RULES_PER_OWNER) {
      throw new AppError(
        'limit',
        'too-many-sender-rules',
        text(`${resolved.name} already has ${MAX_RULES_PER_OWNER} sender rules`, `${resolved.name} a déjà ${MAX_RULES_PER_OWNER} règles d'expéditeurs`),
      );
    }
    const row: SenderRulesTable = {
      customer_id: resolved.customerId,
      id: newId('snd'),
      domain_id: domainId,
      account_id: accountId,
      pattern,
      kind: input.kind,
      created_at: ctx.clock.now(),
    };
    await trx.insertInto('sender_rules').values(row).execute();
    return ruleView(row);
  });
}

/** An account's or a domain's rules, by pattern. */
export async function listSenderRules(ctx: AppContext, scope: Scope, owner: FilterOwner): Promise<SenderRuleView[]> {
  const { domainId, accountId } = ownerFilter(await resolveFilterOwner(ctx.db, scope, owner));
  let query = ctx.db.selectFrom('sender_rules').selectAll().where('domain_id', '=', domainId);
  query = accountId === null ? query.where('account_id', 'is', null) : query.where('account_id', '=', accountId);
  return (await query.orderBy('pattern').orderBy('id').execute()).map(ruleView);
}

const RULE_NOT_FOUND = text('No such sender rule', "Règle d'expéditeur introuvable");

/**
 * A rule by id, within the caller's scope; `accountId` confines a user to the rules of its own account
 * (a user never sees or changes its domain's rules).
 */
export async function getSenderRule(ctx: AppContext, scope: Scope, id: string, accountId?: string): Promise<SenderRuleView> {
  let query = ctx.db.selectFrom('sender_rules').selectAll().where('id', '=', id);
  if (scope !== null) query = query.where('customer_id', '=', scope);
  if (accountId !== undefined) query = query.where('account_id', '=', accountId);
  const row = await query.executeTakeFirst();
  if (!row) throw notFound(RULE_NOT_FOUND);
  return ruleView(row);
}

export async function removeSenderRule(ctx: AppContext, scope: Scope, id: string, accountId?: string): Promise<void> {
  const rule = await getSenderRule(ctx, scope, id, accountId);
  await ctx.db.deleteFrom('sender_rules').where('id', '=', rule.id).execute();
}

/**
 * The rule that applies to a message for one recipient: 'allow', 'block' or null. The envelope sender
 * and the From header address are both looked up; the recipient's own rules come before its domain's,
 * and within a level a block wins over an allow.
 */
export async function matchSender(
  db: Db,
  recipient: { accountId: string; domainId: string },
  senderAddress: string,
  fromHeaderAddress?: string | null,
): Promise<SenderRuleKind | null> {
  const patterns = [...new Set([...patternsFor(senderAddress), ...(fromHeaderAddress ? patternsFor(fromHeaderAddress) : [])])];
  if (patterns.length === 0) return null;
  const rows = await db
    .selectFrom('sender_rules')
    .select(['account_id', 'kind'])
    .where('domain_id', '=', recipient.domainId)
    .where('pattern', 'in', patterns)
    .where((eb) => eb.or([eb('account_id', '=', recipient.accountId), eb('account_id', 'is', null)]))
    .execute();
  for (const level of [recipient.accountId, null]) {
    const kinds = new Set(rows.filter((row) => row.account_id === level).map((row) => row.kind));
    if (kinds.has('block')) return 'block';
    if (kinds.has('allow')) return 'allow';
  }
  return null;
}
