/**
 * RFC 3501 §6.3.6: "A server MUST NOT unilaterally remove an existing mailbox name from the subscription
 * list even if a mailbox by that name no longer exists." A subscription is a flag of its folder's row;
 * this table keeps the subscribed names whose folder was deleted, until the client unsubscribes or a
 * folder of that name is created again (RFC 5258 lists them as \NonExistent under (SUBSCRIBED)).
 */
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped schema of their time
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('lost_subscriptions')
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('lost_subscriptions_pk', ['account_id', 'name'])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('lost_subscriptions').execute();
}
