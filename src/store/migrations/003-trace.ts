/** Message trace (R-M6): one row per step of a message's path, searchable by address and Message-ID. */
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped schema of their time
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('message_trace')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('customer_id', 'text')
    .addColumn('session_id', 'text')
    .addColumn('message_id', 'text')
    .addColumn('step', 'text', (c) => c.notNull())
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('sender', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text')
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('message_trace_recipient').on('message_trace').columns(['recipient', 'at']).execute();
  await db.schema.createIndex('message_trace_sender').on('message_trace').columns(['sender', 'at']).execute();
  await db.schema.createIndex('message_trace_message').on('message_trace').columns(['message_id']).execute();
  await db.schema.createIndex('message_trace_session').on('message_trace').columns(['session_id']).execute();
  await db.schema.createIndex('message_trace_customer').on('message_trace').columns(['customer_id', 'at']).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('the trace migration is not reversible');
}
