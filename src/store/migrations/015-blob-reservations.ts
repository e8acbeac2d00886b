/**
 * Blob garbage collection safe across nodes: a delivery reserves a content (a row with a lease,
 * committed) before it relies on the content's file, and the collector never condemns a reserved
 * content. `blobs.condemned_at` marks a content the collector has decided to remove: its file is being
 * deleted, and nobody may take a reference to it until its row is gone.
 */
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped schema of their time
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('blobs').addColumn('condemned_at', 'bigint').execute();
  await db.schema
    .createTable('blob_reservations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('blob_id', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('blob_reservations_blob').on('blob_reservations').columns(['blob_id', 'expires_at']).execute();
  await db.schema.createIndex('blob_reservations_expiry').on('blob_reservations').column('expires_at').execute();
  await db.schema.createIndex('blobs_unreferenced').on('blobs').column('refcount').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('blob_reservations').execute();
  await db.schema.dropIndex('blobs_unreferenced').execute();
  await db.schema.alterTable('blobs').dropColumn('condemned_at').execute();
}
