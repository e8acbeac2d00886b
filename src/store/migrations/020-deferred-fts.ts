/**
 * SQLite's full-text index of message texts (012) is filled when the transaction commits rather than
 * by an insert trigger: a new text is queued in `message_texts_pending`, and the writer thread indexes
 * the queue just before each COMMIT (store/sqlite-writer.ts), in the same transaction. FTS5 trigram
 * indexing of a 10 KB message costs about a millisecond, which the statement that filed the message
 * made the main thread wait for; the COMMIT runs while the main thread goes on. A message is still
 * searchable as soon as it is acknowledged: its index entries commit with it.
 *
 * A text deleted while still queued (filed and expunged in one transaction) leaves the queue and has
 * no index entries to remove (an FTS5 'delete' of entries never added would corrupt the index).
 * PostgreSQL is unchanged: its pg_trgm index is maintained by the insert itself.
 */
import { type Kysely, SqliteAdapter, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped schema of their time
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof SqliteAdapter)) return;
  await sql`create table message_texts_pending (id integer primary key)`.execute(db);
  await sql`drop trigger message_texts_insert`.execute(db);
  await sql`create trigger message_texts_insert after insert on message_texts begin
    insert into message_texts_pending(id) values (new.id); end`.execute(db);
  await sql`drop trigger message_texts_delete`.execute(db);
  await sql`create trigger message_texts_delete after delete on message_texts begin
    insert into message_texts_fts(message_texts_fts, rowid, headers, body)
      select 'delete', old.id, old.headers, old.body where not exists (select 1 from message_texts_pending where id = old.id);
    delete from message_texts_pending where id = old.id; end`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('the deferred full-text index migration is not reversible');
}
