/**
 * The account's conversations ("threads"): every message belongs to exactly one, chosen once when it
 * is stored and never changed (JMAP's threadId is immutable, RFC 8621 §3). This is the mailstore's
 * shared notion of a conversation, for JMAP Thread objects and any later reader.
 *
 * Rule (the one RFC 8621 §3 suggests): two messages are in one conversation when a message id appears
 * in both (Message-ID, In-Reply-To or References) AND their base subjects (RFC 5256 §2.1, folded,
 * blanks ignored) are the same, so a reply that changes the subject starts a new conversation.
 * Every message registers in `thread_links` each id it names, with its base subject: a reply finds
 * its parent's conversation, and a parent that arrives after its reply finds the reply's. When the ids
 * of a message lead to several conversations, it joins the one its own Message-ID leads to, else the
 * one of its nearest reference; conversations are never merged (that would change thread ids).
 *
 * IMAP's THREAD=REFERENCES (RFC 5256) is a different, per-command view: it builds a tree of the
 * searched messages of one folder from the same stored ids, and merges by subject alone; its threads
 * may join several conversations (same base subject, no shared id) or split one (messages filtered out).
 */
import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { AppContext } from '../context.ts';
import type { MessageMetadata } from '../mime/index.ts';
import { newId } from '../shared/ids.ts';
import type { Database } from '../store/index.ts';
import { type MessageKeys, messageKeysOf } from './message-keys.ts';

/** Messages given their keys per transaction when filling those stored before migration 011. */
const BACKFILL_BATCH = 500;
/** Accounts the background fill takes per run: it stops early enough to stay within its job lease. */
const FILL_ACCOUNTS_PER_RUN = 200;

/** The key of one (message id, base subject) pair: fixed length, whatever the id's. */
function linkKey(messageId: string, subject: string): string {
  return createHash('sha256')
    .update(`${messageId}\n${subject.replace(/\s+/g, '')}`)
    .digest('base64url')
    .slice(0, 32);
}

/** The ids a message names, in the order their conversations are preferred: its own, then its references, nearest first. */
function namedIds(keys: MessageKeys): string[] {
  const references = JSON.parse(keys.thread_references) as string[];
  const ids = keys.thread_message_id ? [keys.thread_message_id] : [];
  for (let i = references.length - 1; i >= 0; i--) ids.push(references[i] as string);
  return [...new Set(ids)];
}

/**
 * The conversation of a message being stored (inside the transaction that stores it): found through
 * the ids it names, or a new one; its links are recorded for the messages that come later.
 */
export async function assignThread(trx: Transaction<Database>, account: { id: string; customer_id: string }, keys: MessageKeys, now: number): Promise<string> {
  const ids = namedIds(keys);
  if (ids.length === 0) return newId('thr');
  const linkKeys = ids.map((id) => linkKey(id, keys.sort_subject));
  const found = await trx
    .selectFrom('thread_links')
    .select(['link_key', 'thread_id'])
    .where('account_id', '=', account.id)
    .where('link_key', 'in', linkKeys)
    .execute();
  const byKey = new Map(found.map((row) => [row.link_key, row.thread_id]));
  let threadId: string | undefined;
  for (const k of linkKeys) {
    threadId = byKey.get(k);
    if (threadId) break;
  }
  threadId ??= newId('thr');
  const missing = linkKeys.filter((k) => !byKey.has(k));
  if (missing.length > 0) {
    await trx
      .insertInto('thread_links')
      .values(missing.map((link_key) => ({ customer_id: account.customer_id, account_id: account.id, link_key, thread_id: threadId, created_at: now })))
      .onConflict((oc) => oc.columns(['account_id', 'link_key']).doNothing())
      .execute();
  }
  return threadId;
}

/** Keys and conversation of one message about to be stored. */
export async function threadColumns(
  trx: Transaction<Database>,
  account: { id: string; customer_id: string },
  keys: MessageKeys,
  now: number,
): Promise<MessageKeys & { thread_id: string }> {
  return { ...keys, thread_id: await assignThread(trx, account, keys, now) };
}

/** Link keys per query (parameter limits of both engines). */
const LINKS_PER_QUERY = 500;

/**
 * `assignThread` for many messages of one account at once, in order, with the same result as one at a
 * time: one read of the known links and one write of the new ones per batch instead of per message
 * (filling 20,000 old messages made 60,000 round trips).
 */
async function assignThreads(
  trx: Transaction<Database>,
  account: { id: string; customer_id: string },
  keysList: readonly MessageKeys[],
  now: number,
): Promise<string[]> {
  const linkKeysOf = keysList.map((keys) => namedIds(keys).map((id) => linkKey(id, keys.sort_subject)));
  const wanted = [...new Set(linkKeysOf.flat())];
  const known = new Map<string, string>();
  for (let i = 0; i < wanted.length; i += LINKS_PER_QUERY) {
    const found = await trx
      .selectFrom('thread_links')
      .select(['link_key', 'thread_id'])
      .where('account_id', '=', account.id)
      .where('link_key', 'in', wanted.slice(i, i + LINKS_PER_QUERY))
      .execute();
    for (const row of found) known.set(row.link_key, row.thread_id);
  }
  const added: Array<{ link_key: string; thread_id: string }> = [];
  const threadIds: string[] = [];
  for (const linkKeys of linkKeysOf) {
    let threadId: string | undefined;
    for (const k of linkKeys) {
      threadId = known.get(k);
      if (threadId) break;
    }
    threadId ??= newId('thr');
    for (const k of linkKeys) {
      if (known.has(k)) continue;
      known.set(k, threadId);
      added.push({ link_key: k, thread_id: threadId });
    }
    threadIds.push(threadId);
  }
  for (let i = 0; i < added.length; i += LINKS_PER_QUERY) {
    await trx
      .insertInto('thread_links')
      .values(added.slice(i, i + LINKS_PER_QUERY).map((link) => ({ ...link, customer_id: account.customer_id, account_id: account.id, created_at: now })))
      .onConflict((oc) => oc.columns(['account_id', 'link_key']).doNothing())
      .execute();
  }
  return threadIds;
}

/** Whether some messages of the account have no keys yet (stored before migration 011): one read of an index that is empty when none. */
async function hasMessagesWithoutKeys(db: Kysely<Database>, accountId: string): Promise<boolean> {
  const row = await db.selectFrom('messages').select('id').where('account_id', '=', accountId).where('thread_id', 'is', null).limit(1).executeTakeFirst();
  return row !== undefined;
}

/**
 * Gives keys and a conversation to the account's messages stored before migration 011, oldest first,
 * a batch per transaction; a no-op (one indexed read) once all have them. Readers that need the keys
 * (IMAP SORT and THREAD, JMAP) call it before reading. Returns how many messages it filled.
 */
export async function ensureMessageKeys(ctx: AppContext, accountId: string, options: { maxMessages?: number } = {}): Promise<number> {
  let filled = 0;
  while (filled < (options.maxMessages ?? Number.POSITIVE_INFINITY) && (await hasMessagesWithoutKeys(ctx.db, accountId))) {
    filled += await ctx.mail.committer.run(async (trx) => {
      const rows = await trx
        .selectFrom('messages')
        .select(['id', 'customer_id', 'metadata'])
        .where('account_id', '=', accountId)
        .where('thread_id', 'is', null)
        .orderBy('internal_date')
        .orderBy('id')
        .limit(BACKFILL_BATCH)
        .execute();
      if (rows.length === 0) return 0;
      const keysList = rows.map((row) => messageKeysOf(JSON.parse(row.metadata) as MessageMetadata));
      const threadIds = await assignThreads(trx, { id: accountId, customer_id: (rows[0] as (typeof rows)[number]).customer_id }, keysList, ctx.clock.now());
      for (const [i, row] of rows.entries()) {
        await trx
          .updateTable('messages')
          .set({ ...(keysList[i] as MessageKeys), thread_id: threadIds[i] as string })
          .where('id', '=', row.id)
          .where('thread_id', 'is', null)
          .execute();
      }
      return rows.length;
    });
  }
  return filled;
}

/**
 * The job `messages.keys`: fills the keys of messages stored before migration 011, a few accounts
 * (and at most `maxMessages`) per run, so that no first SORT or JMAP request of a large old account
 * has to wait for it. Returns what it did.
 */
export async function fillMessageKeys(ctx: AppContext, options: { maxMessages?: number } = {}): Promise<{ accounts: number; messages: number }> {
  const budget = options.maxMessages ?? 50_000;
  const rows = await ctx.db.selectFrom('messages').select('account_id').where('thread_id', 'is', null).distinct().limit(FILL_ACCOUNTS_PER_RUN).execute();
  let messages = 0;
  let accounts = 0;
  for (const { account_id } of rows) {
    if (messages >= budget) break;
    messages += await ensureMessageKeys(ctx, account_id, { maxMessages: budget - messages });
    accounts++;
  }
  return { accounts, messages };
}
