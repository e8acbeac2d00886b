/**
 * Retention: what the service keeps, and for how long (settings `retention.*`), purged by jobs.
 * - Message trace (R-M6): `traceDays`, 365 by default: a French host keeps traffic data one year
 *   (CPCE art. R10-13), and no longer than needed.
 * - Outbound queue rows that are final (delivered, bounced, expired; their contents were released when
 *   they became final): `finishedQueueDays` after they did.
 * - The operations journal (R-T5): finished operations, `operationsDays` after they finished.
 * - The expunge history of each folder: its last `expungeHistoryPerFolder` expunges. The folder's
 *   `expunged_floor` records how far it was trimmed, so QRESYNC answers older states in full
 *   (imap/server/vanished.ts, RFC 7162 §3.2.5.2).
 * Each purge deletes in batches, so a large backlog neither holds a long transaction nor a big lock.
 */
import { sql } from 'kysely';
import type { AppContext } from '../context.ts';

const DAY_MS = 24 * 60 * 60_000;
/** Rows deleted per statement. */
const BATCH = 1000;

function cutoff(ctx: AppContext, days: number): number {
  return ctx.clock.now() - Math.round(days * DAY_MS);
}

/** Deletes, BATCH ids at a time, the rows that `select` names; returns how many. */
async function deleteInBatches(ctx: AppContext, table: 'message_trace' | 'outbound_queue' | 'operations', select: () => Promise<{ id: string }[]>) {
  let deleted = 0;
  for (;;) {
    const ids = (await select()).map((row) => row.id);
    if (ids.length === 0) return deleted;
    const result = await ctx.db.deleteFrom(table).where('id', 'in', ids).executeTakeFirst();
    deleted += Number(result.numDeletedRows);
    if (ids.length < BATCH) return deleted;
  }
}

export async function purgeTrace(ctx: AppContext): Promise<number> {
  const before = cutoff(ctx, ctx.config.retention.traceDays);
  const deleted = await deleteInBatches(ctx, 'message_trace', () =>
    ctx.db.selectFrom('message_trace').select('id').where('at', '<', before).limit(BATCH).execute(),
  );
  if (deleted > 0) ctx.log.info({ event: 'retention.trace_purged', rows: deleted, before }, 'retention.trace_purged');
  return deleted;
}

export async function purgeFinishedQueue(ctx: AppContext): Promise<number> {
  const before = cutoff(ctx, ctx.config.retention.finishedQueueDays);
  const deleted = await deleteInBatches(ctx, 'outbound_queue', () =>
    ctx.db
      .selectFrom('outbound_queue')
      .select('id')
      .where('finished_at', '<', before)
      .where('status', 'in', ['delivered', 'bounced', 'expired'])
      .limit(BATCH)
      .execute(),
  );
  if (deleted > 0) ctx.log.info({ event: 'retention.queue_purged', rows: deleted, before }, 'retention.queue_purged');
  return deleted;
}

export async function purgeOperations(ctx: AppContext): Promise<number> {
  const before = cutoff(ctx, ctx.config.retention.operationsDays);
  const deleted = await deleteInBatches(ctx, 'operations', () =>
    ctx.db.selectFrom('operations').select('id').where('finished_at', '<', before).where('status', '!=', 'running').limit(BATCH).execute(),
  );
  if (deleted > 0) ctx.log.info({ event: 'retention.operations_purged', rows: deleted, before }, 'retention.operations_purged');
  return deleted;
}

/**
 * Keeps the last `expungeHistoryPerFolder` expunges of each folder: older rows go, and the folder's
 * floor rises to the MODSEQ of the newest row removed, in one transaction, so a reader never sees a
 * shorter history with the old floor. Expunges made meanwhile have higher MODSEQs and stay.
 */
export async function trimExpungeHistory(ctx: AppContext): Promise<{ folders: number; rows: number }> {
  const keep = ctx.config.retention.expungeHistoryPerFolder;
  const over = await ctx.db.selectFrom('expunged_messages').select('mailbox_id').groupBy('mailbox_id').having(sql`count(*)`, '>', keep).execute();
  let rows = 0;
  for (const { mailbox_id: mailboxId } of over) {
    rows += await ctx.mail.committer.run(async (trx) => {
      const edge = await trx
        .selectFrom('expunged_messages')
        .select('modseq')
        .where('mailbox_id', '=', mailboxId)
        .orderBy('modseq', 'desc')
        .limit(1)
        .offset(keep)
        .executeTakeFirst();
      if (!edge) return 0;
      const floor = Number(edge.modseq);
      const result = await trx.deleteFrom('expunged_messages').where('mailbox_id', '=', mailboxId).where('modseq', '<=', floor).executeTakeFirst();
      await trx.updateTable('mailboxes').set({ expunged_floor: floor }).where('id', '=', mailboxId).where('expunged_floor', '<', floor).execute();
      return Number(result.numDeletedRows);
    });
  }
  if (rows > 0) ctx.log.info({ event: 'retention.expunges_trimmed', folders: over.length, rows }, 'retention.expunges_trimmed');
  return { folders: over.length, rows };
}
