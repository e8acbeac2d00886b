/**
 * The index of a folder (UID, MODSEQ, flags of every message) read from an index alone: SELECT of a
 * 100,000-message folder scanned the whole rows (their metadata is kilobytes each) to read three
 * small columns. SQLite gets a covering index; PostgreSQL's unique (mailbox_id, uid) index carries
 * the two columns with INCLUDE and replaces the constraint it enforced.
 */
import { type Kysely, SqliteAdapter, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped schema of their time
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof SqliteAdapter) {
    await db.schema.createIndex('messages_index').on('messages').columns(['mailbox_id', 'uid', 'modseq', 'flags']).execute();
    return;
  }
  await sql`create unique index messages_index on messages (mailbox_id, uid) include (modseq, flags)`.execute(db);
  await sql`alter table messages drop constraint messages_uid`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('the message index migration is not reversible');
}
