/**
 * JMAP (RFC 8620 §5.2 /changes): an Email is a message row, whose id must be reported as destroyed once
 * it is expunged. The expunge history kept only UIDs (enough for IMAP's VANISHED); it now also keeps the
 * row's id and its conversation, so Email/changes and Thread/changes can name what went away. Rows
 * written before this migration have neither: a state that old cannot be answered exactly
 * (cannotCalculateChanges), which RFC 8620 allows.
 */
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped schema of their time
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('expunged_messages').addColumn('message_id', 'text').execute();
  await db.schema.alterTable('expunged_messages').addColumn('thread_id', 'text').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('expunged_messages').dropColumn('thread_id').execute();
  await db.schema.alterTable('expunged_messages').dropColumn('message_id').execute();
}
