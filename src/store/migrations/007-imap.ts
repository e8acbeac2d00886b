/**
 * IMAP needs: the highest UIDVALIDITY an account has used, so a folder deleted and created again (some
 * clients empty a folder that way) never gets a UIDVALIDITY it had before (RFC 3501 §2.3.1.1).
 */
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped schema of their time
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('accounts')
    .addColumn('last_uid_validity', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('the IMAP migration is not reversible');
}
