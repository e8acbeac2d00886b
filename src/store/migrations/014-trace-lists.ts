/**
 * Trace without gaps (R-M6) and list bounces (RFC 2369 lists, VERP). The outbound queue keeps the
 * Message-ID of what it carries, so its queued, deferred, bounced and delivered steps are found by
 * Message-ID; a list member counts the bounces that came back from its copies.
 */
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped schema of their time
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('outbound_queue').addColumn('message_id', 'text').execute();
  await db.schema
    .alterTable('list_members')
    .addColumn('bounce_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('list_members').addColumn('last_bounce_at', 'bigint').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('the trace-lists migration is not reversible');
}
