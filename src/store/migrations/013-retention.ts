/**
 * Retention (issue 6): what the purge jobs need.
 * - `mailboxes.expunged_floor`: the MODSEQ up to which a folder's expunge history was trimmed; a QRESYNC
 *   client that knows an older state is told every UID it may know and is gone (RFC 7162 §3.2.5.2).
 * - `outbound_queue.finished_at`: when a row became final (delivered, bounced, expired). Rows already
 *   final get their last lease time, the closest thing they have.
 * - Indexes leading with the time each purge compares.
 */
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped schema of their time
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('mailboxes')
    .addColumn('expunged_floor', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('outbound_queue').addColumn('finished_at', 'bigint').execute();
  await sql`update outbound_queue set finished_at = next_attempt_at where status in ('delivered', 'bounced', 'expired')`.execute(db);
  await db.schema.createIndex('outbound_queue_finished').on('outbound_queue').columns(['finished_at']).execute();
  await db.schema.createIndex('message_trace_at').on('message_trace').columns(['at']).execute();
  await db.schema.createIndex('operations_finished').on('operations').columns(['finished_at']).execute();
  await db.schema.createIndex('expunged_messages_modseq').on('expunged_messages').columns(['mailbox_id', 'modseq']).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('the retention migration is not reversible');
}
