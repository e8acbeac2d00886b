/** The mailstore: mailboxes, messages with IMAP semantics, content-addressed blobs, quota usage. */
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped schema of their time
export async function up(db: Kysely<any>): Promise<void> {
  const s = db.schema;
  await s
    .createTable('mailboxes')
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('special_use', 'text')
    .addColumn('uid_validity', 'bigint', (c) => c.notNull())
    .addColumn('uid_next', 'bigint', (c) => c.notNull())
    .addColumn('highest_modseq', 'bigint', (c) => c.notNull())
    .addColumn('subscribed', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('mailboxes_name', ['account_id', 'name'])
    .execute();

  await s
    .createTable('messages')
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('mailbox_id', 'text', (c) => c.notNull().references('mailboxes.id'))
    .addColumn('uid', 'bigint', (c) => c.notNull())
    .addColumn('modseq', 'bigint', (c) => c.notNull())
    .addColumn('blob_id', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('internal_date', 'bigint', (c) => c.notNull())
    .addColumn('flags', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('from_address', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text')
    .addColumn('sent_date', 'bigint')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('messages_uid', ['mailbox_id', 'uid'])
    .execute();
  await s.createIndex('messages_modseq').on('messages').columns(['mailbox_id', 'modseq']).execute();
  await s.createIndex('messages_account').on('messages').columns(['account_id', 'mailbox_id']).execute();

  /** Expunged UIDs with the modseq of their removal, for QRESYNC's VANISHED (RFC 7162 §3.2.10). */
  await s
    .createTable('expunged_messages')
    .addColumn('mailbox_id', 'text', (c) => c.notNull())
    .addColumn('uid', 'bigint', (c) => c.notNull())
    .addColumn('modseq', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('expunged_messages_pk', ['mailbox_id', 'uid'])
    .execute();

  await s
    .createTable('blobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('refcount', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await s
    .createTable('mail_usage')
    .addColumn('account_id', 'text', (c) => c.primaryKey())
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('used_bytes', 'bigint', (c) => c.notNull())
    .addColumn('message_count', 'integer', (c) => c.notNull())
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('the mailstore migration is not reversible');
}
