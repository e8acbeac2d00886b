/**
 * Conversations and sort keys (IMAP SORT and THREAD, RFC 5256; JMAP Thread objects, RFC 8621 §3).
 *
 * `messages` gets the keys SORT and THREAD read (folded base subject, first addresses, normalized
 * Message-ID and references) and `thread_id`, the account's conversation the message belongs to, set
 * once by the mailstore when the message is stored. `thread_links` maps (message id, base subject) to
 * a conversation, for every id a message names (its own and those it refers to): a later reply, or an
 * earlier message arriving late, finds its conversation with one indexed read.
 *
 * Messages stored before this migration have NULL keys: the mailstore fills them lazily
 * (`ensureMessageKeys`, before SORT and THREAD read a folder of the account), found through a partial
 * index that is empty once they are all done.
 */
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped schema of their time
export async function up(db: Kysely<any>): Promise<void> {
  for (const column of [
    'thread_id',
    'sort_subject',
    'sort_from',
    'sort_to',
    'sort_cc',
    'sort_display_from',
    'sort_display_to',
    'thread_message_id',
    'thread_references',
  ]) {
    await db.schema.alterTable('messages').addColumn(column, 'text').execute();
  }
  await db.schema.alterTable('messages').addColumn('subject_is_reply', 'integer').execute();
  await db.schema.createIndex('messages_unthreaded').on('messages').column('account_id').where(sql.ref('thread_id'), 'is', null).execute();
  await db.schema.createIndex('messages_thread').on('messages').columns(['account_id', 'thread_id']).execute();

  await db.schema
    .createTable('thread_links')
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    /** sha-256 of a normalized message id and a base subject (bounded length, whatever the id). */
    .addColumn('link_key', 'text', (c) => c.notNull())
    .addColumn('thread_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('thread_links_pk', ['account_id', 'link_key'])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('the threads migration is not reversible');
}
