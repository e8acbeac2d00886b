/**
 * The searchable text of every message (issue: full-text SEARCH without parsing stored messages), one
 * row per content (`blob_id`: copies and the recipients of one delivery share it), written with the
 * message's metadata and removed with the last message that uses it.
 *
 * Columns hold text already case-folded (JavaScript's toLowerCase) by the mailstore, so that both
 * engines compare folded text byte for byte, whatever their collation. `headers` (every top-level field,
 * for TEXT) and `body` (decoded text/plain and text/html parts) carry a trigram index: SQLite's FTS5
 * `trigram` tokenizer (an external-content table kept in step by triggers), PostgreSQL's pg_trgm (a
 * contrib extension shipped in Debian's postgresql package; trusted, so a database owner may create it).
 * The small fields (subject, from, to, cc, bcc) are scanned: a folder's worth of them reads in milliseconds.
 *
 * Messages stored before this migration are indexed by the `search.index` job (mailstore/search-text.ts):
 * extracting their text reads their content, which a migration cannot.
 */
import { type Kysely, SqliteAdapter, sql } from 'kysely';

const TEXT_COLUMNS = ['headers', 'subject', 'from_field', 'to_field', 'cc_field', 'bcc_field', 'body'] as const;

// biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped schema of their time
export async function up(db: Kysely<any>): Promise<void> {
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
  // SQLite: an INTEGER PRIMARY KEY, because the FTS index names rows by rowid and VACUUM may renumber implicit ones.
  let table = db.schema
    .createTable('message_texts')
    .addColumn('id', sqlite ? 'integer' : 'bigserial', (c) => c.primaryKey())
    .addColumn('blob_id', 'text', (c) => c.notNull().unique());
  for (const column of TEXT_COLUMNS) table = table.addColumn(column, 'text', (c) => c.notNull());
  await table.execute();
  // Finds whether a content still has a message (expunge) and the messages of a content (search).
  await db.schema.createIndex('messages_blob').on('messages').column('blob_id').execute();

  if (sqlite) {
    await sql`create virtual table message_texts_fts using fts5(headers, body, content='message_texts', content_rowid='id', tokenize='trigram case_sensitive 1')`.execute(
      db,
    );
    await sql`create trigger message_texts_insert after insert on message_texts begin
      insert into message_texts_fts(rowid, headers, body) values (new.id, new.headers, new.body); end`.execute(db);
    await sql`create trigger message_texts_delete after delete on message_texts begin
      insert into message_texts_fts(message_texts_fts, rowid, headers, body) values ('delete', old.id, old.headers, old.body); end`.execute(db);
    return;
  }
  const schema = await trigramSchema(db);
  const opclass = sql.raw(`"${schema}".gin_trgm_ops`);
  await sql`create index message_texts_headers on message_texts using gin (headers ${opclass})`.execute(db);
  await sql`create index message_texts_body on message_texts using gin (body ${opclass})`.execute(db);
}

/**
 * The schema of pg_trgm, created when absent. An extension is per database, not per schema: it goes to
 * `public` (when there is one) so that every schema of the database can use it and dropping one schema
 * (tests have one each) does not drop it. An advisory lock orders two migrations creating it at once.
 */
// biome-ignore lint/suspicious/noExplicitAny: see up()
async function trigramSchema(db: Kysely<any>): Promise<string> {
  await sql`select pg_advisory_xact_lock(8105012)`.execute(db);
  const find = async () =>
    (
      await sql<{
        schema: string;
      }>`select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'`.execute(db)
    ).rows[0]?.schema;
  const existing = await find();
  if (existing) return existing;
  const hasPublic = (await sql`select 1 from pg_namespace where nspname = 'public'`.execute(db)).rows.length > 0;
  await (hasPublic ? sql`create extension if not exists pg_trgm schema public` : sql`create extension if not exists pg_trgm`).execute(db);
  const created = await find();
  if (!created) throw new Error('pg_trgm could not be created');
  return created;
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('the search text migration is not reversible');
}
