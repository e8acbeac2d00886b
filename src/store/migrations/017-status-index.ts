/**
 * STATUS (and LIST's RETURN (STATUS)) read from the folder index alone: MESSAGES, UNSEEN, SIZE, DELETED
 * and RECENT need each message's UID, flags and size, and reading `size` from the rows (kilobytes of
 * metadata each, one page or more per message) made a STATUS of a 1,000-message INBOX cost 2 ms of
 * SQLite on the one thread that serves every client (bench/imap heavy mix). The folder index gets the
 * size as a last column; EXPUNGE finds the messages flagged \Deleted in it as well.
 */
import { type Kysely, SqliteAdapter, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped schema of their time
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof SqliteAdapter) {
    await db.schema.createIndex('messages_folder').on('messages').columns(['mailbox_id', 'uid', 'modseq', 'flags', 'size']).execute();
    await db.schema.dropIndex('messages_index').execute();
    return;
  }
  // PostgreSQL: the unique (mailbox_id, uid) index keeps enforcing what the constraint did (009).
  await sql`create unique index messages_folder on messages (mailbox_id, uid) include (modseq, flags, size)`.execute(db);
  await sql`drop index messages_index`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('the status index migration is not reversible');
}
