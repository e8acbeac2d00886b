/**
 * What users taught the filter (issue 11, R-S4): one row per account and content, so that the same
 * message taught twice counts once, and a message taught as spam then as ham moves from one side of
 * the counts to the other. `wanted` is the last judgement; `learned` what the counts hold (null: not
 * yet); `tokens` the hashed tokens counted and `scopes` where, so that un-learning needs neither the
 * message (it may be gone) nor the tokenizer of its time.
 */
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped schema of their time
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('filter_lessons')
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('blob_id', 'text', (c) => c.notNull())
    .addColumn('wanted', 'text', (c) => c.notNull())
    .addColumn('learned', 'text')
    .addColumn('scopes', 'text')
    .addColumn('tokens', 'text')
    .addColumn('pending', 'integer', (c) => c.notNull()) // 1 while `learned` differs from `wanted`
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('filter_lessons_pk', ['account_id', 'blob_id'])
    .execute();
  // The learner's queue: lessons whose counts do not match the judgement yet.
  // The operator's corpus imports (`facteur filter train`): one row per scope and message digest, so
  // importing the same corpus twice counts it once and a message imported on the other side moves.
  await db.schema
    .createTable('filter_corpus')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('learned', 'text', (c) => c.notNull())
    .addColumn('tokens', 'text', (c) => c.notNull())
    .addColumn('imported_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('filter_corpus_pk', ['scope', 'digest'])
    .execute();
  await db.schema.createIndex('filter_lessons_pending').on('filter_lessons').columns(['pending', 'updated_at']).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('filter_corpus').execute();
  await db.schema.dropTable('filter_lessons').execute();
}
