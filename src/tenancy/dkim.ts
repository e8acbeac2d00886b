/**
 * DKIM key rotation (issue 3: "keys generated when the domain is added, rotation supported").
 * A rotation makes a new key under a new selector, pending: the domain's row keeps signing with
 * its current key until the new key's TXT record is seen in DNS (at a check of the domain, by hand
 * or by the `dkim.rotate` job), then the new key signs and the old one becomes `previous`: still
 * listed among the records to keep published for `dns.dkimGraceDays` (longer than a message may wait
 * in a queue, so signatures made before the switch verify on arrival), then retired.
 */
import { randomBytes } from 'node:crypto';
import type { AppContext } from '../context.ts';
import { type DkimRotationKey, dkimSelector, generateDkimKey } from '../dns/index.ts';
import { AppError, text } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { DkimKeysTable, DomainsTable } from '../store/index.ts';
import type { Db } from './common.ts';

const DAY_MS = 24 * 60 * 60_000;

export interface DkimRotationView {
  /** The key that signs now. */
  selector: string;
  publicKey: string;
  /** The next key, signing once its record is seen in DNS. */
  pending: { selector: string; publicKey: string; createdAt: string } | null;
  /** Keys that signed before, listed until `retireAt`. */
  previous: { selector: string; publicKey: string; retireAt: string }[];
}

export function rotationKeysOf(db: Db, domainId: string): Promise<DkimKeysTable[]> {
  return db.selectFrom('dkim_keys').selectAll().where('domain_id', '=', domainId).orderBy('created_at').execute();
}

/** The keys around the signing one, for the expected records and their check. */
export function rotationInput(keys: DkimKeysTable[]): DkimRotationKey[] {
  return keys.map((key) => ({
    role: key.state,
    selector: key.selector,
    publicKey: key.public_key,
    ...(key.retire_at !== null ? { until: Number(key.retire_at) } : {}),
  }));
}

export function dkimView(row: DomainsTable, keys: DkimKeysTable[]): DkimRotationView {
  const pending = keys.find((key) => key.state === 'pending');
  return {
    selector: row.dkim_selector,
    publicKey: row.dkim_public_key,
    pending: pending ? { selector: pending.selector, publicKey: pending.public_key, createdAt: new Date(Number(pending.created_at)).toISOString() } : null,
    previous: keys
      .filter((key) => key.state === 'previous')
      .map((key) => ({ selector: key.selector, publicKey: key.public_key, retireAt: new Date(Number(key.retire_at)).toISOString() })),
  };
}

/**
 * A rotated key's selector: the month and 4 random characters (`facteur202611-k3x9`), so a name is
 * never given to two keys, even one cancelled or retired whose record may still be published.
 */
export function nextSelector(prefix: string, now: number, taken: ReadonlySet<string>): string {
  for (;;) {
    const candidate = `${dkimSelector(prefix, now)}-${randomBytes(3).readUIntBE(0, 3).toString(36).padStart(5, '0').slice(-4)}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** Starts a rotation: a new key pair, pending under a new selector. One rotation at a time. */
export async function createPendingKey(ctx: AppContext, row: DomainsTable): Promise<void> {
  const keys = await rotationKeysOf(ctx.db, row.id);
  if (keys.some((key) => key.state === 'pending')) {
    throw new AppError(
      'conflict',
      'dkim-rotation-pending',
      text(
        'A DKIM rotation is already waiting for its DNS record: publish it, or cancel the rotation first',
        "Un renouvellement DKIM attend déjà la publication de son enregistrement DNS : publiez-le, ou annulez d'abord ce renouvellement",
      ),
    );
  }
  const key = await generateDkimKey(ctx.config.dns.dkimKeyBits);
  const now = ctx.clock.now();
  const selector = nextSelector(ctx.config.dns.dkimSelectorPrefix, now, new Set([row.dkim_selector, ...keys.map((k) => k.selector)]));
  await ctx.db
    .insertInto('dkim_keys')
    .values({
      id: newId('dk'),
      customer_id: row.customer_id,
      domain_id: row.id,
      selector,
      private_key: ctx.secrets.seal('dkim', key.privateKeyPem),
      public_key: key.publicKey,
      state: 'pending',
      created_at: now,
      retire_at: null,
    })
    .execute();
  ctx.log.info({ event: 'domain.dkim_rotation_started', domain: row.name, selector }, 'domain.dkim_rotation_started');
}

export async function deletePendingKey(ctx: AppContext, row: DomainsTable): Promise<void> {
  const result = await ctx.db.deleteFrom('dkim_keys').where('domain_id', '=', row.id).where('state', '=', 'pending').executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw noRotation();
  ctx.log.info({ event: 'domain.dkim_rotation_cancelled', domain: row.name }, 'domain.dkim_rotation_cancelled');
}

export function noRotation(): AppError {
  return new AppError(
    'not-found',
    'no-dkim-rotation',
    text('No DKIM rotation is pending for this domain', "Aucun renouvellement DKIM n'est en attente pour ce domaine"),
  );
}

export function notPublished(host: string): AppError {
  return new AppError(
    'conflict',
    'dkim-not-published',
    text(
      `The new DKIM key is not visible in DNS yet at ${host}: publish the record, wait for it to propagate, then try again`,
      `La nouvelle clé DKIM n'est pas encore visible dans le DNS en ${host} : publiez l'enregistrement, attendez sa propagation, puis réessayez`,
    ),
  );
}

/**
 * Switches signing to the pending key: in one transaction the pending key becomes the domain's key
 * and the old one becomes `previous` until now + `dns.dkimGraceDays`. False when no key was pending
 * (another process switched first).
 */
export async function activatePendingKey(ctx: AppContext, row: DomainsTable): Promise<boolean> {
  const now = ctx.clock.now();
  const retireAt = now + Math.round(ctx.config.dns.dkimGraceDays * DAY_MS);
  const activated = await ctx.db.transaction().execute(async (trx) => {
    const pending = await trx.selectFrom('dkim_keys').selectAll().where('domain_id', '=', row.id).where('state', '=', 'pending').executeTakeFirst();
    if (!pending?.private_key) return undefined;
    const current = await trx.selectFrom('domains').select(['dkim_selector', 'dkim_public_key']).where('id', '=', row.id).executeTakeFirstOrThrow();
    await trx.deleteFrom('dkim_keys').where('id', '=', pending.id).execute();
    await trx
      .insertInto('dkim_keys')
      .values({
        id: newId('dk'),
        customer_id: row.customer_id,
        domain_id: row.id,
        selector: current.dkim_selector,
        private_key: null,
        public_key: current.dkim_public_key,
        state: 'previous',
        created_at: now,
        retire_at: retireAt,
      })
      .execute();
    // Both columns seal for the purpose 'dkim': the sealed value moves as it is.
    await trx
      .updateTable('domains')
      .set({ dkim_selector: pending.selector, dkim_private_key: pending.private_key, dkim_public_key: pending.public_key })
      .where('id', '=', row.id)
      .execute();
    return { from: current.dkim_selector, to: pending.selector };
  });
  if (activated) ctx.log.info({ event: 'domain.dkim_rotated', domain: row.name, ...activated }, 'domain.dkim_rotated');
  return activated !== undefined;
}

/** Forgets previous keys whose grace period is over; returns how many. */
export async function retireDkimKeys(ctx: AppContext): Promise<number> {
  const result = await ctx.db.deleteFrom('dkim_keys').where('state', '=', 'previous').where('retire_at', '<=', ctx.clock.now()).executeTakeFirst();
  const retired = Number(result.numDeletedRows);
  if (retired > 0) ctx.log.info({ event: 'domain.dkim_retired', keys: retired }, 'domain.dkim_retired');
  return retired;
}

/** The domains with a rotation waiting for its DNS record. */
export async function domainsWithPendingKeys(ctx: AppContext): Promise<string[]> {
  const rows = await ctx.db.selectFrom('dkim_keys').select('domain_id').where('state', '=', 'pending').execute();
  return rows.map((row) => row.domain_id);
}
