/**
 * IMAP's \Recent (RFC 3501 §2.3.2): a message is recent in the first session that selects its folder
 * after it arrived. `recent_uid` is the highest UID some session has already been given as recent;
 * existing folders start with every message already seen, so none becomes recent by this upgrade.
 */
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped schema of their time
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('mailboxes')
    .addColumn('recent_uid', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`update mailboxes set recent_uid = uid_next - 1`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('the recent migration is not reversible');
}
