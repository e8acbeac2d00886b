/**
 * Where mail for one recipient goes (SPEC R-M1): the decision the MX and the submission server take
 * at RCPT time, before any data is read. An address is looked up by its key (lower-cased local part,
 * ASCII domain); a domain alias rewrites the domain; `local+tag` falls back to `local` when it is not
 * an address itself; address aliases and mailing lists expand, breadth first, to accounts of this
 * service and to external addresses, with loops and over-deep nesting cut off.
 *
 * Two addresses exist without being created: `postmaster@` every hosted domain (RFC 5321 §4.5.1),
 * which reaches the domain's technical contact, and the SRS addresses of forwarded mail (srs.ts),
 * whose bounces go back to the original sender.
 *
 * The lookups are batched per level of the expansion: one query for the domains not seen yet, one for
 * the addresses (joined with their account, class, alias or list), one for the members of the lists
 * met. A recipient that is an account costs two indexed queries.
 */
import type { AppContext } from '../context.ts';
import { type Address, addressKey, normalizeAddress, normalizeDomain } from '../shared/addresses.ts';
import { type Text, text } from '../shared/errors.ts';
import type { AccountsTable, ListsTable, SubscriptionsTable } from '../store/index.ts';
import { bounceParts, memberOfBounceToken } from './list-mail.ts';
import { isSrsAddress, reverseSrs } from './srs.ts';

/** Nesting of aliases and lists followed from the recipient; deeper branches are not expanded. */
export const MAX_EXPANSION_DEPTH = 10;

/** Keys per query: well under SQLite's and PostgreSQL's bound-parameter limits (a list has up to 10,000 members). */
const QUERY_BATCH = 500;

/** RFC 5233 sub-addressing: `local+tag@domain` reaches `local@domain` (Postfix's recipient_delimiter). */
export const SUBADDRESS_DELIMITER = '+';

export interface LocalTarget {
  accountId: string;
  customerId: string;
  subscriptionId: string;
  domainId: string;
  /** The account's own address (its key: lower-cased local part, ASCII domain). */
  address: string;
  classId: string;
  quotaBytes: number;
  maxMessageBytes: number;
}

export type RefusalReason = 'account-disabled' | 'service-ended' | 'list-posting-denied' | 'srs-invalid';

export type Route =
  /** Where copies go: one per account, plus external addresses to forward to. */
  | { kind: 'local'; accounts: LocalTarget[]; external: string[]; listId?: string; viaAlias?: string }
  /** Not hosted here, or a hosted domain without that address (550 5.1.1). */
  | { kind: 'unknown' }
  /**
   * Hosted, but refused (550 5.2.1 for a disabled account or an ended service, 550 5.7.1 for a list's
   * posting policy, 550 5.1.1 for an SRS address that is forged or too old).
   */
  | { kind: 'refused'; reason: RefusalReason; text: Text }
  /** A list's bounce address (list-mail.ts): what comes to it is a report on one member's copy, never passed on. */
  | { kind: 'list-bounce'; listId: string; member: string };

export interface RouteOptions {
  /** The envelope sender (null for a bounce), checked against the posting policy of mailing lists. */
  sender?: string | null;
  /** Internal: routing a postmaster's candidate, whose own postmaster is not looked for again. */
  noPostmaster?: boolean;
}

const UNKNOWN: Route = { kind: 'unknown' };

const REFUSALS: Record<Exclude<RefusalReason, 'list-posting-denied'>, Text> = {
  'account-disabled': text('This mailbox is disabled and does not accept mail', 'Cette boîte aux lettres est désactivée et ne reçoit pas de messages'),
  'service-ended': text('The mail service for this address has ended', 'Le service de messagerie de cette adresse a pris fin'),
  'srs-invalid': text(
    'This forwarding return address is invalid or has expired',
    "Cette adresse de retour d'un message réexpédié n'est pas valide ou a expiré",
  ),
};

/** RFC 5321 §4.5.1: every domain that receives mail has a postmaster; the local part is case-insensitive. */
export const POSTMASTER = 'postmaster';

function refused(reason: RefusalReason, why?: Text): Route {
  return { kind: 'refused', reason, text: why ?? (reason === 'list-posting-denied' ? postingDenied(undefined) : REFUSALS[reason]) };
}

function postingDenied(list: ListEntry | undefined): Text {
  if (!list) return text('You may not post to this mailing list', "Vous n'êtes pas autorisé à écrire à cette liste de diffusion");
  return list.policy === 'moderators'
    ? text(`Only the moderators of ${list.key} may post to it`, `Seuls les modérateurs de ${list.key} peuvent y écrire`)
    : text(`Only the members of ${list.key} may post to it`, `Seuls les membres de ${list.key} peuvent y écrire`);
}

/**
 * Who may receive postmaster@ a domain, in order: the domain's technical contact (the person the
 * customer named for the mail system, R-T1), its administrative contact, the customer's contact
 * address, then the customer's admin logins.
 */
async function postmasterCandidates(ctx: AppContext, domain: string): Promise<string[]> {
  const row = await ctx.db
    .selectFrom('domains')
    .innerJoin('customers', 'customers.id', 'domains.customer_id')
    .select(['domains.id as domainId', 'customers.id as customerId', 'customers.contact_email as customer'])
    .where('domains.name', '=', domain)
    .executeTakeFirst();
  if (!row) return [];
  const [contacts, admins] = await Promise.all([
    ctx.db.selectFrom('domain_contacts').select(['kind', 'email']).where('domain_id', '=', row.domainId).execute(),
    ctx.db
      .selectFrom('logins')
      .select('email')
      .where('customer_id', '=', row.customerId)
      .where('role', '=', 'customer_admin')
      .where('status', '=', 'active')
      .orderBy('created_at')
      .execute(),
  ]);
  const contact = (kind: string) => contacts.filter((c) => c.kind === kind).map((c) => c.email);
  return [...new Set([...contact('technical'), ...contact('administrative'), row.customer, ...admins.map((a) => a.email)])];
}

/**
 * postmaster@ a hosted domain that has no such address (RFC 5321 §4.5.1: it must exist): the first
 * candidate that leads somewhere — an address outside is forwarded to, one of ours is routed as
 * usual (its own postmaster excepted, so two domains naming each other cannot loop).
 */
async function routePostmaster(ctx: AppContext, domain: string, options: RouteOptions): Promise<Route | undefined> {
  const self = `${POSTMASTER}@${domain}`;
  for (const candidate of await postmasterCandidates(ctx, domain)) {
    const address = normalizeAddress(candidate);
    if (!address || addressKey(address) === self) continue;
    if (!(await isHostedDomain(ctx, address.domain))) return { kind: 'local', accounts: [], external: [addressKey(address)], viaAlias: self };
    const route = await routeRecipient(ctx, candidate, { ...options, noPostmaster: true });
    if (route.kind === 'local') return { kind: 'local', accounts: route.accounts, external: route.external, viaAlias: self };
  }
  ctx.log.warn({ event: 'routing.postmaster_unreachable', domain }, 'routing.postmaster_unreachable');
  return undefined;
}

/** A bounce to an SRS address of ours: valid ones route to the original sender, the others are refused. */
async function routeSrs(ctx: AppContext, recipient: Address, options: RouteOptions): Promise<Route> {
  const original = await reverseSrs(ctx, recipient);
  if (!original) {
    ctx.log.info({ event: 'routing.srs_refused', recipient: addressKey(recipient) }, 'routing.srs_refused');
    return refused('srs-invalid');
  }
  const parsed = normalizeAddress(original) as Address;
  if (await isHostedDomain(ctx, parsed.domain)) return routeRecipient(ctx, original, options);
  return { kind: 'local', accounts: [], external: [addressKey(parsed)] };
}

/** Whether a domain (ASCII or Unicode) is one of ours: a customer's domain or a domain alias. */
export async function isHostedDomain(ctx: AppContext, domain: string): Promise<boolean> {
  const ascii = normalizeDomain(domain);
  if (!ascii) return false;
  const row = await ctx.db.selectFrom('domain_names').select('name').where('name', '=', ascii).executeTakeFirst();
  return row !== undefined;
}

/** The customer a hosted domain (or domain alias, in ASCII) belongs to. */
export async function customerOfDomain(ctx: AppContext, domain: string): Promise<string | null> {
  const row = await ctx.db.selectFrom('domain_names').select('customer_id').where('domain_names.name', '=', domain).executeTakeFirst();
  return row?.customer_id ?? null;
}

/** A hosted name: the domain it serves (itself, or the target of a domain alias) and that domain's subscription. */
interface HostedDomain {
  domain: string;
  subscriptionStatus: SubscriptionsTable['status'];
}

interface AccountEntry {
  kind: 'account';
  key: string;
  status: AccountsTable['status'];
  subscriptionStatus: SubscriptionsTable['status'];
  target: LocalTarget;
}

interface AliasEntry {
  kind: 'alias';
  key: string;
  destinations: string[];
}

interface ListEntry {
  kind: 'list';
  key: string;
  id: string;
  policy: ListsTable['posting_policy'];
  moderators: string[];
}

type Entry = AccountEntry | AliasEntry | ListEntry;

/** An address of a hosted domain, rewritten to the domain it serves: the exact key, then the one without its tag. */
interface HostedAddress {
  candidates: string[];
  domain: HostedDomain;
}

/**
 * One branch waiting to be followed: the address, how deep it is, and the keys of the sender that list
 * policies judge; null once a list has accepted the message (its members, lists included, get it).
 */
interface Pending {
  address: string;
  depth: number;
  senders: ReadonlySet<string> | null;
}

/** The lookups of one routing decision, cached so an address or a domain met twice is read once. */
class Lookup {
  private readonly domains = new Map<string, HostedDomain | null>();
  private readonly entries = new Map<string, Entry | null>();
  private readonly members = new Map<string, string[]>();

  constructor(private readonly ctx: AppContext) {}

  async loadDomains(names: Iterable<string>): Promise<void> {
    const wanted = [...new Set(names)].filter((name) => !this.domains.has(name));
    if (wanted.length === 0) return;
    const rows = await inBatches(wanted, (batch) =>
      this.ctx.db
        .selectFrom('domain_names')
        .innerJoin('domains', 'domains.id', 'domain_names.domain_id')
        .innerJoin('subscriptions', 'subscriptions.id', 'domains.subscription_id')
        .select(['domain_names.name as name', 'domains.name as domain', 'subscriptions.status as subscriptionStatus'])
        .where('domain_names.name', 'in', batch)
        .execute(),
    );
    for (const name of wanted) this.domains.set(name, null);
    for (const row of rows) this.domains.set(row.name, { domain: row.domain, subscriptionStatus: row.subscriptionStatus });
  }

  /** Undefined for a domain that is not hosted here (loadDomains first). */
  hosted(address: Address): HostedAddress | undefined {
    const domain = this.domains.get(address.domain);
    if (!domain) return undefined;
    const local = address.local.toLowerCase();
    const candidates = [`${local}@${domain.domain}`];
    const tagAt = local.indexOf(SUBADDRESS_DELIMITER);
    if (tagAt > 0) candidates.push(`${local.slice(0, tagAt)}@${domain.domain}`);
    return { candidates, domain };
  }

  async loadEntries(keys: Iterable<string>): Promise<void> {
    const wanted = [...new Set(keys)].filter((key) => !this.entries.has(key));
    if (wanted.length === 0) return;
    // Owner ids carry their kind's prefix (acc_, ali_, lst_), so each left join matches one kind only.
    const rows = await inBatches(wanted, (batch) =>
      this.ctx.db
        .selectFrom('addresses')
        .leftJoin('accounts', 'accounts.id', 'addresses.owner_id')
        .leftJoin('classes', 'classes.id', 'accounts.class_id')
        .leftJoin('subscriptions', 'subscriptions.id', 'accounts.subscription_id')
        .leftJoin('aliases', 'aliases.id', 'addresses.owner_id')
        .leftJoin('lists', 'lists.id', 'addresses.owner_id')
        .select([
          'addresses.address as key',
          'addresses.kind as kind',
          'addresses.owner_id as ownerId',
          'accounts.customer_id as accountCustomerId',
          'accounts.subscription_id as subscriptionId',
          'accounts.domain_id as domainId',
          'accounts.class_id as classId',
          'accounts.status as accountStatus',
          'subscriptions.status as subscriptionStatus',
          'classes.quota_bytes as quotaBytes',
          'classes.max_message_bytes as maxMessageBytes',
          'aliases.destinations as destinations',
          'lists.posting_policy as postingPolicy',
          'lists.moderators as moderators',
        ])
        .where('addresses.address', 'in', batch)
        .execute(),
    );
    for (const key of wanted) this.entries.set(key, null);
    for (const row of rows) {
      let entry: Entry | null = null;
      if (row.kind === 'account' && row.accountStatus !== null && row.subscriptionStatus !== null && row.classId !== null) {
        entry = {
          kind: 'account',
          key: row.key,
          status: row.accountStatus,
          subscriptionStatus: row.subscriptionStatus,
          target: {
            accountId: row.ownerId,
            customerId: row.accountCustomerId as string,
            subscriptionId: row.subscriptionId as string,
            domainId: row.domainId as string,
            address: row.key,
            classId: row.classId,
            quotaBytes: Number(row.quotaBytes),
            maxMessageBytes: Number(row.maxMessageBytes),
          },
        };
      } else if (row.kind === 'alias' && row.destinations !== null) {
        entry = { kind: 'alias', key: row.key, destinations: parseAddresses(row.destinations) };
      } else if (row.kind === 'list' && row.postingPolicy !== null && row.moderators !== null) {
        entry = { kind: 'list', key: row.key, id: row.ownerId, policy: row.postingPolicy, moderators: parseAddresses(row.moderators) };
      }
      this.entries.set(row.key, entry);
    }
  }

  /** The entry an address reaches: itself if it is an address, else the address without its tag. */
  entry(hosted: HostedAddress): Entry | undefined {
    for (const key of hosted.candidates) {
      const entry = this.entries.get(key);
      if (entry) return entry;
    }
    return undefined;
  }

  async loadMembers(listIds: Iterable<string>): Promise<void> {
    const wanted = [...new Set(listIds)].filter((id) => !this.members.has(id));
    if (wanted.length === 0) return;
    const rows = await inBatches(wanted, (batch) =>
      this.ctx.db.selectFrom('list_members').select(['list_id', 'address']).where('list_id', 'in', batch).execute(),
    );
    for (const id of wanted) this.members.set(id, []);
    for (const row of rows) this.members.get(row.list_id)?.push(row.address);
  }

  membersOf(listId: string): string[] {
    return this.members.get(listId) ?? [];
  }
}

async function inBatches<T>(keys: string[], query: (batch: string[]) => Promise<T[]>): Promise<T[]> {
  if (keys.length <= QUERY_BATCH) return query(keys);
  const rows: T[] = [];
  for (let i = 0; i < keys.length; i += QUERY_BATCH) rows.push(...(await query(keys.slice(i, i + QUERY_BATCH))));
  return rows;
}

function parseAddresses(json: string): string[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * The keys a sender may appear under in a list's members or moderators: its own key, without its
 * tag, and at the domain a domain alias serves.
 */
function senderKeys(lookup: Lookup, sender: Address | undefined): Set<string> {
  const keys = new Set<string>();
  if (!sender) return keys;
  keys.add(addressKey(sender));
  const hosted = lookup.hosted(sender);
  if (hosted) for (const key of hosted.candidates) keys.add(key);
  else {
    const local = sender.local.toLowerCase();
    const tagAt = local.indexOf(SUBADDRESS_DELIMITER);
    if (tagAt > 0) keys.add(`${local.slice(0, tagAt)}@${sender.domain}`);
  }
  return keys;
}

/** Moderators may post wherever members may; 'moderators' lists take moderators only. */
function mayPost(list: ListEntry, members: readonly string[], senders: ReadonlySet<string>): boolean {
  if (list.policy === 'anyone') return true;
  if (list.moderators.some((m) => senders.has(m))) return true;
  if (list.policy === 'moderators') return false;
  return members.some((m) => senders.has(m));
}

/**
 * Routes one recipient. Addressed directly, a disabled account, an ended service or a list the sender
 * may not post to is refused; reached through an alias or a list, such a branch is skipped silently,
 * and the recipient is refused only when nothing at all remains (an ended service first, then a
 * disabled account, then a posting policy). A list's policy judges the envelope sender when the list
 * is addressed directly or through aliases; lists nested in a list take what the outer list accepted.
 * Each address is followed once (loops end there) and no deeper than MAX_EXPANSION_DEPTH; an address
 * that leads nowhere (an empty list, a loop of aliases, dangling destinations) is unknown. `listId` is
 * set when the recipient is a list, `viaAlias` (the alias's key) when it is an alias.
 */
export async function routeRecipient(ctx: AppContext, recipient: string, options: RouteOptions = {}): Promise<Route> {
  const address = normalizeAddress(recipient);
  if (!address) return UNKNOWN;
  if (isSrsAddress(ctx, address)) return routeSrs(ctx, address, options);
  const sender = options.sender ? normalizeAddress(options.sender) : undefined;
  const lookup = new Lookup(ctx);
  await lookup.loadDomains(sender ? [address.domain, sender.domain] : [address.domain]);
  const hosted = lookup.hosted(address);
  if (!hosted) return UNKNOWN;
  await lookup.loadEntries(hosted.candidates);
  const top = lookup.entry(hosted);
  if (!top && !options.noPostmaster && hosted.candidates.includes(`${POSTMASTER}@${hosted.domain.domain}`)) {
    if (hosted.domain.subscriptionStatus === 'ended') return refused('service-ended');
    return (await routePostmaster(ctx, hosted.domain.domain, options)) ?? UNKNOWN;
  }
  if (!top) return UNKNOWN;
  // `list+bounces-<token>` would otherwise reach the list itself as a sub-address.
  const bounce = top.kind === 'list' ? bounceParts(address) : undefined;
  if (bounce && top.kind === 'list' && top.key.slice(0, top.key.lastIndexOf('@')) === bounce.listKey.slice(0, bounce.listKey.lastIndexOf('@'))) {
    const member = await memberOfBounceToken(ctx, top.id, bounce.token);
    return member ? { kind: 'list-bounce', listId: top.id, member } : UNKNOWN;
  }

  if (top.kind === 'account') {
    if (top.subscriptionStatus === 'ended') return refused('service-ended');
    if (top.status !== 'active') return refused('account-disabled');
    return { kind: 'local', accounts: [top.target], external: [] };
  }
  if (hosted.domain.subscriptionStatus === 'ended') return refused('service-ended');

  const originalSenders = senderKeys(lookup, sender);
  const visited = new Set<string>([top.key]);
  let frontier: Pending[];
  if (top.kind === 'list') {
    await lookup.loadMembers([top.id]);
    const members = lookup.membersOf(top.id);
    if (!mayPost(top, members, originalSenders)) return refused('list-posting-denied', postingDenied(top));
    frontier = members.map((member) => ({ address: member, depth: 1, senders: null }));
  } else {
    frontier = top.destinations.map((destination) => ({ address: destination, depth: 1, senders: originalSenders }));
  }

  const accounts = new Map<string, LocalTarget>();
  const external = new Set<string>();
  const skipped = new Set<RefusalReason>();
  while (frontier.length > 0) {
    const parsed = frontier.flatMap((pending) => {
      const a = normalizeAddress(pending.address);
      return a ? [{ pending, address: a }] : [];
    });
    await lookup.loadDomains(parsed.map((p) => p.address.domain));
    const level: { pending: Pending; hosted: HostedAddress }[] = [];
    for (const { pending, address: a } of parsed) {
      const h = lookup.hosted(a);
      if (h) level.push({ pending, hosted: h });
      else external.add(addressKey(a));
    }
    await lookup.loadEntries(level.flatMap((l) => l.hosted.candidates));
    const expanding: { pending: Pending; entry: AliasEntry | ListEntry }[] = [];
    for (const { pending, hosted: h } of level) {
      const entry = lookup.entry(h);
      if (!entry) {
        ctx.log.debug({ event: 'routing.dangling', recipient: top.key, address: pending.address }, 'routing.dangling');
        continue;
      }
      if (visited.has(entry.key)) continue; // a loop, or the same address reached twice
      // A list is marked once its policy let the message in: refused through an alias, it may still
      // be reached as a member of another list.
      if (entry.kind !== 'list') visited.add(entry.key);
      if (entry.kind === 'account') {
        if (entry.subscriptionStatus === 'ended') skipped.add('service-ended');
        else if (entry.status !== 'active') skipped.add('account-disabled');
        else if (!accounts.has(entry.target.accountId)) accounts.set(entry.target.accountId, entry.target);
      } else if (h.domain.subscriptionStatus === 'ended') {
        skipped.add('service-ended');
      } else if (pending.depth >= MAX_EXPANSION_DEPTH) {
        ctx.log.warn({ event: 'routing.too_deep', recipient: top.key, address: entry.key, depth: pending.depth }, 'routing.too_deep');
      } else {
        expanding.push({ pending, entry });
      }
    }
    await lookup.loadMembers(expanding.flatMap((e) => (e.entry.kind === 'list' ? [e.entry.id] : [])));
    const next: Pending[] = [];
    for (const { pending, entry } of expanding) {
      const depth = pending.depth + 1;
      if (entry.kind === 'alias') {
        for (const destination of entry.destinations) next.push({ address: destination, depth, senders: pending.senders });
        continue;
      }
      const members = lookup.membersOf(entry.id);
      // Reached through aliases only, a list judges the author (an alias is no way around its policy);
      // reached as a member of a list, it takes what that list accepted, as its admin arranged.
      if (visited.has(entry.key)) continue;
      if (pending.senders !== null && !mayPost(entry, members, pending.senders)) {
        skipped.add('list-posting-denied');
        continue;
      }
      visited.add(entry.key);
      for (const member of members) next.push({ address: member, depth, senders: null });
    }
    frontier = next;
  }

  if (accounts.size === 0 && external.size === 0) {
    for (const reason of ['service-ended', 'account-disabled', 'list-posting-denied'] as const) {
      if (skipped.has(reason)) return refused(reason);
    }
    return UNKNOWN;
  }
  return {
    kind: 'local',
    accounts: [...accounts.values()],
    external: [...external],
    ...(top.kind === 'list' ? { listId: top.id } : { viaAlias: top.key }),
  };
}
