/**
 * Small message contents kept in the database, written in the same transaction as the messages that
 * use them: with group commit, a batch of small deliveries then costs one fsync instead of two per
 * message for its files (large contents stay in files).
 */
import { type Kysely, PostgresAdapter } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped schema of their time
export async function up(db: Kysely<any>): Promise<void> {
  const bytes = db.getExecutor().adapter instanceof PostgresAdapter ? 'bytea' : 'blob';
  await db.schema
    .createTable('blob_contents')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('data', bytes, (c) => c.notNull())
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('the blob contents migration is not reversible');
}
