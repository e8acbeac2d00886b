/**
 * The outbound queue (R-M2): one row per recipient of a message leaving the service. Due rows are
 * taken with a lease (status 'sending', lease_owner, lease_until), so two workers never take the
 * same row and a worker that died gives its rows back when the lease runs out.
 */
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped schema of their time
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('outbound_queue')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('customer_id', 'text')
    .addColumn('sender', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('domain', 'text', (c) => c.notNull())
    .addColumn('blob_id', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_until', 'bigint')
    .addColumn('lease_owner', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('dsn_sent', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('outbound_queue_due').on('outbound_queue').columns(['status', 'next_attempt_at', 'id']).execute();
  await db.schema.createIndex('outbound_queue_lease').on('outbound_queue').columns(['lease_owner']).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('the outbound queue migration is not reversible');
}
