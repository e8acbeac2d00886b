/**
 * Garbage collection of message contents: a blob whose last reference went away (expunged, deleted
 * from quarantine, purged from the vault) is removed with its inline content or file; files that no
 * row names (a crash between writing the file and reserving it) are removed once older than a grace
 * period.
 *
 * Why it is safe with several nodes delivering the same content while it runs (PostgreSQL, or a CLI
 * next to the service): removal is in three steps, none doing file I/O inside a transaction.
 * 1. Condemn, in a commit of its own: lock the row (refcount still <= 0), then look for a live
 *    reservation in a statement of its own. A delivery reserves a content (blobs.ts `reserveContent`:
 *    row locked, reservation written, committed) before it relies on the file; under READ COMMITTED,
 *    a reservation committed before the lock is seen here and the content is spared, and one that comes
 *    after waits for this commit, then finds the content condemned and waits for its removal.
 * 2. Delete the file. Nobody relies on it: no reservation, no reference, and none can be taken now.
 * 3. Delete the row (and the inline content). A delivery waiting for it then writes the file again.
 * A transaction referencing a stored content (`persistContent`) locks its row and checks it is not
 * condemned, so a reference is never committed to a content being removed. A collector that stops
 * between 1 and 3 leaves a condemned row; the next run, or a delivery meeting it, finishes it.
 */
import type { AppContext } from '../context.ts';

/** Rows examined per run: bounds one run's time; the next run takes the rest. */
const BATCH = 500;
/** Files without a row are left alone this long (a delivery writes its file seconds before its commit). */
export const ORPHAN_GRACE_MS = 24 * 60 * 60_000;
/** A condemnation older than this was left by a collector that stopped: whoever meets it finishes it. */
export const CONDEMNED_STALE_MS = 60_000;

export interface GcResult {
  blobs: number;
  orphans: number;
}

/** Step 1 for a content with a row: condemns it when unreferenced and unreserved. */
async function condemn(ctx: AppContext, id: string): Promise<boolean> {
  const now = ctx.clock.now();
  return ctx.mail.committer.run(async (trx) => {
    const locked = await trx
      .updateTable('blobs')
      .set((eb) => ({ refcount: eb.ref('refcount') })) // a no-op that takes the row lock
      .where('id', '=', id)
      .where('refcount', '<=', 0)
      .where((eb) => eb.or([eb('condemned_at', 'is', null), eb('condemned_at', '<', now - CONDEMNED_STALE_MS)]))
      .returning('id')
      .executeTakeFirst();
    if (!locked) return false;
    // A statement of its own, after the lock: it sees every reservation committed before the lock.
    const reserved = await trx.selectFrom('blob_reservations').select('id').where('blob_id', '=', id).where('expires_at', '>', now).executeTakeFirst();
    if (reserved) return false;
    await trx.updateTable('blobs').set({ condemned_at: now }).where('id', '=', id).execute();
    return true;
  });
}

/** Steps 2 and 3: the file, then the row, of a condemned content. */
export async function removeCondemned(ctx: AppContext, id: string): Promise<void> {
  await ctx.blobs.delete(id);
  await ctx.mail.committer.run(async (trx) => {
    const gone = await trx.deleteFrom('blobs').where('id', '=', id).where('condemned_at', 'is not', null).returning('id').executeTakeFirst();
    if (!gone) return;
    await trx.deleteFrom('blob_contents').where('id', '=', id).execute();
    await trx.deleteFrom('blob_reservations').where('blob_id', '=', id).execute();
  });
}

async function removeUnreferenced(ctx: AppContext): Promise<number> {
  const candidates = await ctx.db.selectFrom('blobs').select('id').where('refcount', '<=', 0).limit(BATCH).execute();
  let removed = 0;
  for (const { id } of candidates) {
    if (!(await condemn(ctx, id))) continue;
    await removeCondemned(ctx, id);
    removed++;
  }
  return removed;
}

async function removeOrphans(ctx: AppContext, graceMs: number): Promise<number> {
  const cutoff = Date.now() - graceMs; // file times are wall-clock times, whatever the service clock says
  let removed = 0;
  for await (const entry of ctx.blobs.entries()) {
    if (entry.writtenAt > cutoff) continue;
    // Condemned by creating its row: only when no row exists (a delivery reserving it has one).
    const now = ctx.clock.now();
    const claimed = await ctx.mail.committer.run((trx) =>
      trx
        .insertInto('blobs')
        .values({ id: entry.id, size: 0, refcount: 0, created_at: now, condemned_at: now })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst(),
    );
    if (!claimed) continue;
    await removeCondemned(ctx, entry.id);
    removed++;
  }
  return removed;
}

/** Reservations whose delivery never committed (it failed, or its process died) are dropped once run out. */
async function dropExpiredReservations(ctx: AppContext): Promise<void> {
  await ctx.db.deleteFrom('blob_reservations').where('expires_at', '<=', ctx.clock.now()).execute();
}

export async function collectGarbage(ctx: AppContext, options: { orphanGraceMs?: number } = {}): Promise<GcResult> {
  await dropExpiredReservations(ctx);
  const blobs = await removeUnreferenced(ctx);
  const orphans = await removeOrphans(ctx, options.orphanGraceMs ?? ORPHAN_GRACE_MS);
  if (blobs + orphans > 0) ctx.log.info({ event: 'mailstore.gc', blobs, orphans }, 'mailstore.gc');
  return { blobs, orphans };
}
