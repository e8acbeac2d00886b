/**
 * Filter preferences per domain (the customer admin's) and per account (the user's): thresholds, what
 * a blocked sender gets, and how often the quarantine digest comes. A value left unset (null) falls
 * back to the level above: account -> domain -> settings (`filter.*`; the digest defaults to weekly).
 */
import type { AppContext } from '../context.ts';
import { AppError, text } from '../shared/errors.ts';
import type { FilterPrefsTable } from '../store/index.ts';
import type { Db } from '../tenancy/common.ts';
import type { Scope } from '../tenancy/index.ts';
import { type FilterOwner, resolveFilterOwner } from './sender-rules.ts';
import type { Thresholds } from './types.ts';

export type DigestFrequency = 'weekly' | 'daily' | 'off';
export const DIGEST_FREQUENCIES: readonly DigestFrequency[] = ['weekly', 'daily', 'off'];
export const DEFAULT_DIGEST: DigestFrequency = 'weekly';

export interface FilterPrefs {
  quarantineScore: number | null;
  rejectScore: number | null;
  blockedAction: 'reject' | 'quarantine' | null;
  digest: DigestFrequency | null;
}

export interface EffectivePrefs {
  thresholds: Thresholds;
  blockedAction: 'reject' | 'quarantine';
  digest: DigestFrequency;
}

export interface PrefsView {
  /** `account` or `domain`, and its id. */
  level: 'account' | 'domain';
  ownerId: string;
  /** What this level sets (null: inherited). */
  own: FilterPrefs;
  /** What applies, after falling back to the domain and the settings. */
  effective: EffectivePrefs;
}

const EMPTY: FilterPrefs = { quarantineScore: null, rejectScore: null, blockedAction: null, digest: null };

function prefsOf(row: FilterPrefsTable | undefined): FilterPrefs {
  if (!row) return { ...EMPTY };
  return {
    quarantineScore: row.quarantine_score === null ? null : Number(row.quarantine_score),
    rejectScore: row.reject_score === null ? null : Number(row.reject_score),
    blockedAction: row.blocked_action,
    digest: row.digest,
  };
}

function merge(ctx: AppContext, levels: FilterPrefs[]): EffectivePrefs {
  const first = <K extends keyof FilterPrefs>(key: K): FilterPrefs[K] => levels.find((level) => level[key] !== null)?.[key] ?? null;
  return {
    thresholds: { quarantine: first('quarantineScore') ?? ctx.config.filter.quarantineScore, reject: first('rejectScore') ?? ctx.config.filter.rejectScore },
    blockedAction: first('blockedAction') ?? ctx.config.filter.blockedAction,
    digest: first('digest') ?? DEFAULT_DIGEST,
  };
}

async function rowsOf(db: Db, ids: string[]): Promise<Map<string, FilterPrefsTable>> {
  const rows = await db.selectFrom('filter_prefs').selectAll().where('owner_id', 'in', ids).execute();
  return new Map(rows.map((row) => [row.owner_id, row]));
}

/** What applies to an account of a domain (the MX asks this per recipient). */
export async function effectivePrefs(ctx: AppContext, db: Db, recipient: { accountId: string; domainId: string }): Promise<EffectivePrefs> {
  const rows = await rowsOf(db, [recipient.accountId, recipient.domainId]);
  return merge(ctx, [prefsOf(rows.get(recipient.accountId)), prefsOf(rows.get(recipient.domainId))]);
}

export async function getFilterPrefs(ctx: AppContext, scope: Scope, owner: FilterOwner): Promise<PrefsView> {
  const resolved = await resolveFilterOwner(ctx.db, scope, owner);
  const rows = await rowsOf(ctx.db, resolved.accountId ? [resolved.accountId, resolved.domainId] : [resolved.domainId]);
  const own = prefsOf(rows.get(resolved.accountId ?? resolved.domainId));
  const levels = resolved.accountId ? [own, prefsOf(rows.get(resolved.domainId))] : [own];
  return { level: resolved.accountId ? 'account' : 'domain', ownerId: resolved.accountId ?? resolved.domainId, own, effective: merge(ctx, levels) };
}

/** Changes some preferences of an account or a domain; a null value goes back to inheriting. */
export async function setFilterPrefs(ctx: AppContext, scope: Scope, owner: FilterOwner, changes: Partial<FilterPrefs>): Promise<PrefsView> {
  const resolved = await resolveFilterOwner(ctx.db, scope, owner);
  const ownerId = resolved.accountId ?? resolved.domainId;
  const current = await getFilterPrefs(ctx, scope, owner);
  const next: FilterPrefs = { ...current.own, ...Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) };
  // The result must make sense once inherited values are filled in.
  const parentRows = resolved.accountId ? await rowsOf(ctx.db, [resolved.domainId]) : new Map<string, FilterPrefsTable>();
  const effective = merge(ctx, resolved.accountId ? [next, prefsOf(parentRows.get(resolved.domainId))] : [next]);
  if (effective.thresholds.quarantine > effective.thresholds.reject) {
    throw new AppError(
      'invalid',
      'thresholds-out-of-order',
      text(
        `The quarantine score (${effective.thresholds.quarantine}) must not exceed the reject score (${effective.thresholds.reject})`,
        `Le score de quarantaine (${effective.thresholds.quarantine}) ne doit pas dépasser le score de refus (${effective.thresholds.reject})`,
      ),
      { field: changes.quarantineScore !== undefined ? 'quarantineScore' : 'rejectScore' },
    );
  }
  const values = {
    quarantine_score: next.quarantineScore,
    reject_score: next.rejectScore,
    blocked_action: next.blockedAction,
    digest: next.digest,
  };
  await ctx.db
    .insertInto('filter_prefs')
    .values({ customer_id: resolved.customerId, owner_id: ownerId, ...values, last_digest_at: null })
    .onConflict((oc) => oc.column('owner_id').doUpdateSet(values))
    .execute();
  return getFilterPrefs(ctx, scope, owner);
}
