/** Mailboxes of an account: the special-use set (RFC 6154) exists from the first delivery or login on. */
import type { Transaction } from 'kysely';
import { newId } from '../shared/ids.ts';
import type { Database, MailboxesTable } from '../store/index.ts';

type Db = Transaction<Database> | import('kysely').Kysely<Database>;

export type SpecialUse = NonNullable<MailboxesTable['special_use']>;

/** The folders every account has, with their RFC 6154 roles. */
export const DEFAULT_MAILBOXES: { name: string; specialUse: SpecialUse }[] = [
  { name: 'INBOX', specialUse: 'inbox' },
  { name: 'Sent', specialUse: 'sent' },
  { name: 'Drafts', specialUse: 'drafts' },
  { name: 'Junk', specialUse: 'junk' },
  { name: 'Trash', specialUse: 'trash' },
  { name: 'Archive', specialUse: 'archive' },
];

/** RFC 3501 §2.3.1.1: a UIDVALIDITY that never repeats for a name; seconds since 1970 fit 32 bits. */
function newUidValidity(now: number): number {
  return Math.floor(now / 1000) % 0xffffffff || 1;
}

export async function ensureDefaultMailboxes(db: Db, account: { id: string; customer_id: string }, now: number): Promise<void> {
  const existing = await db.selectFrom('mailboxes').select('special_use').where('account_id', '=', account.id).execute();
  const missing = DEFAULT_MAILBOXES.filter((m) => !existing.some((e) => e.special_use === m.specialUse));
  if (missing.length === 0) return;
  await db
    .insertInto('mailboxes')
    .values(
      missing.map((m) => ({
        customer_id: account.customer_id,
        id: newId('mbx'),
        account_id: account.id,
        name: m.name,
        special_use: m.specialUse,
        uid_validity: newUidValidity(now),
        uid_next: 1,
        highest_modseq: 1,
        recent_uid: 0,
        expunged_floor: 0,
        subscribed: 1 as const,
        created_at: now,
      })),
    )
    .onConflict((oc) => oc.columns(['account_id', 'name']).doNothing())
    .execute();
}

export async function mailboxByRole(db: Db, accountId: string, role: SpecialUse): Promise<MailboxesTable | undefined> {
  return db.selectFrom('mailboxes').selectAll().where('account_id', '=', accountId).where('special_use', '=', role).executeTakeFirst();
}

export async function listMailboxes(db: Db, accountId: string): Promise<MailboxesTable[]> {
  return db.selectFrom('mailboxes').selectAll().where('account_id', '=', accountId).orderBy('name').execute();
}
