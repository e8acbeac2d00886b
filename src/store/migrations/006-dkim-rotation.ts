/**
 * DKIM key rotation (issue 3): the domain's row keeps the key that signs; `dkim_keys` holds the keys
 * around it — the next one, pending until its TXT record is seen in DNS, and the previous ones,
 * still listed for a grace period so signatures made before the switch verify while in transit.
 */
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped schema of their time
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('dkim_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('domain_id', 'text', (c) => c.notNull())
    .addColumn('selector', 'text', (c) => c.notNull())
    .addColumn('private_key', 'text')
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('retire_at', 'bigint')
    .execute();
  await db.schema.createIndex('dkim_keys_selector').on('dkim_keys').columns(['domain_id', 'selector']).unique().execute();
  await db.schema.createIndex('dkim_keys_state').on('dkim_keys').columns(['state', 'retire_at']).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('the DKIM rotation migration is not reversible');
}
