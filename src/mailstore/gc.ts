/**
 * Garbage collection of message contents: a blob whose last reference went away (expunged, deleted
 * from quarantine, purged from the vault) is removed with its inline content or file; files that no
 * row names (a crash between writing the file and committing its first message) are removed once
 * older than a grace period.
 *
 * Why it is safe against a delivery of the same content at the same moment: the row is deleted and the
 * file removed inside one transaction that re-checks `refcount <= 0`; a delivery that committed first
 * raised the count (nothing is removed), one that commits after finds the file gone and fails before
 * acknowledging (`persistContent` checks the file exists in its transaction), so its client retries.
 */
import type { AppContext } from '../context.ts';

/** Rows examined per run: bounds one run's time; the next run takes the rest. */
const BATCH = 500;
/** Files without a row are left alone this long (a delivery writes its file seconds before its commit). */
export const ORPHAN_GRACE_MS = 24 * 60 * 60_000;

export interface GcResult {
  blobs: number;
  orphans: number;
}

async function removeUnreferenced(ctx: AppContext): Promise<number> {
  const candidates = await ctx.db.selectFrom('blobs').select('id').where('refcount', '<=', 0).limit(BATCH).execute();
  let removed = 0;
  for (const { id } of candidates) {
    const gone = await ctx.mail.committer.run(async (trx) => {
      const deleted = await trx.deleteFrom('blobs').where('id', '=', id).where('refcount', '<=', 0).returning('id').executeTakeFirst();
      if (!deleted) return false;
      await trx.deleteFrom('blob_contents').where('id', '=', id).execute();
      await ctx.blobs.delete(id);
      return true;
    });
    if (gone) removed++;
  }
  return removed;
}

async function removeOrphans(ctx: AppContext, graceMs: number): Promise<number> {
  const cutoff = Date.now() - graceMs; // file times are wall-clock times, whatever the service clock says
  let removed = 0;
  for await (const entry of ctx.blobs.entries()) {
    if (entry.writtenAt > cutoff) continue;
    const gone = await ctx.mail.committer.run(async (trx) => {
      const row = await trx.selectFrom('blobs').select('id').where('id', '=', entry.id).executeTakeFirst();
      if (row) return false;
      await ctx.blobs.delete(entry.id);
      return true;
    });
    if (gone) removed++;
  }
  return removed;
}

export async function collectGarbage(ctx: AppContext, options: { orphanGraceMs?: number } = {}): Promise<GcResult> {
  const blobs = await removeUnreferenced(ctx);
  const orphans = await removeOrphans(ctx, options.orphanGraceMs ?? ORPHAN_GRACE_MS);
  if (blobs + orphans > 0) ctx.log.info({ event: 'mailstore.gc', blobs, orphans }, 'mailstore.gc');
  return { blobs, orphans };
}
