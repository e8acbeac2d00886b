/**
 * A user's judgement of a message, seen in what their client does (issue 11, R-S4), as Dovecot's
 * IMAPSieve + Rspamd set-ups read it: moving or copying a message into the Junk folder says "spam";
 * moving it out of Junk anywhere but the Trash says "not spam"; so do the `$Junk` and `$NotJunk`
 * keywords (webmails and JMAP set them). The mailstore records the judgement in the transaction of the
 * change (filter_lessons) and says so through `ctx.mail.judged`; the filter learns it after the
 * commit (filter/learning.ts), and its job catches up with what a crash left pending.
 */
import type { Transaction } from 'kysely';
import type { Database, MailboxesTable } from '../store/index.ts';

export type Judgement = 'spam' | 'ham';

export interface JudgedMessage {
  customerId: string;
  accountId: string;
  blobId: string;
}

/** A move or copy from a folder to another: a judgement, or none. */
export function judgementOfMove(from: MailboxesTable['special_use'], to: MailboxesTable['special_use']): Judgement | undefined {
  if (to === 'junk' && from !== 'junk') return 'spam';
  if (from === 'junk' && to !== 'junk' && to !== 'trash') return 'ham';
  return undefined;
}

/** Flags changed from `before` to `after`: `$Junk` or `$NotJunk` newly set (case does not count, RFC 3501 §2.3.2). */
export function judgementOfFlags(before: readonly string[], after: readonly string[]): Judgement | undefined {
  const added = (keyword: string) => after.some((f) => f.toLowerCase() === keyword) && !before.some((f) => f.toLowerCase() === keyword);
  if (added('$junk')) return 'spam';
  if (added('$notjunk')) return 'ham';
  return undefined;
}

/**
 * Records judgements inside the caller's transaction: the last judgement of an account on a content
 * wins; one equal to what the filter already learned leaves nothing to do.
 */
export async function recordJudgementsIn(
  trx: Transaction<Database>,
  messages: readonly JudgedMessage[],
  as: Judgement,
  source: string,
  now: number,
): Promise<void> {
  const seen = new Set<string>();
  for (const message of messages) {
    const key = `${message.accountId} ${message.blobId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    await trx
      .insertInto('filter_lessons')
      .values({
        customer_id: message.customerId,
        account_id: message.accountId,
        blob_id: message.blobId,
        wanted: as,
        learned: null,
        scopes: null,
        tokens: null,
        pending: 1,
        source,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc.columns(['account_id', 'blob_id']).doUpdateSet((eb) => ({
          wanted: as,
          source,
          updated_at: now,
          pending: eb.case().when('filter_lessons.learned', '=', as).then(0).else(1).end(),
        })),
      )
      .execute();
  }
}
