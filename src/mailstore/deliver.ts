/**
 * The one write path for a message (MX, submission, IMAP APPEND, quarantine release, restore): the
 * content is kept (small: in the database with the messages; large: a file, fsync'd) while its
 * metadata is extracted from the same stream, then
 * one transaction, shared with concurrent deliveries (group commit), files a copy per recipient with
 * its UID, MODSEQ and quota use. Only then does the caller acknowledge (SMTP 250, IMAP OK).
 */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { Transaction } from 'kysely';
import type { AppContext } from '../context.ts';
import { extractMetadata, type MessageMetadata, type SearchText } from '../mime/index.ts';
import { AppError, text } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { BlobRef, Database } from '../store/index.ts';
import { recordTraceIn, type TraceEvent } from '../trace/index.ts';
import { persistContent, putContent } from './blobs.ts';
import { ensureDefaultMailboxes, mailboxByRole, type SpecialUse } from './mailboxes.ts';
import { type MessageKeys, messageKeysOf } from './message-keys.ts';
import { searchTextOf, storeSearchText } from './search-text.ts';
import { threadColumns } from './threads.ts';

export interface IncomingMessage {
  blob: BlobRef;
  metadata: MessageMetadata;
  /** Its searchable text, extracted at its first delivery (search-text.ts). */
  searchText?: SearchText;
}

export function messageTooBig(maxBytes: number): AppError {
  return new AppError('too-big', 'message-too-big', text(`The message exceeds ${maxBytes} bytes`, `Le message dépasse ${maxBytes} octets`), {
    details: { maxBytes },
  });
}

/**
 * Stores a message's bytes durably and extracts its metadata in the same pass, in bounded memory.
 * Over `maxBytes`, it stops with `too-big` and keeps nothing.
 */
export async function receiveMessage(ctx: AppContext, source: AsyncIterable<Uint8Array>, options: { maxBytes: number }): Promise<IncomingMessage> {
  const forMetadata = new PassThrough({ highWaterMark: 1 << 16 });
  const metadata = extractMetadata(forMetadata);
  metadata.catch(() => {}); // awaited below; a failure of the blob write must not leave it unhandled
  let size = 0;
  async function* teed(): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      size += chunk.length;
      if (size > options.maxBytes) throw messageTooBig(options.maxBytes);
      if (!forMetadata.write(chunk)) await once(forMetadata, 'drain');
      yield chunk;
    }
    forMetadata.end();
  }
  let blob: BlobRef;
  try {
    blob = await putContent(ctx, teed());
  } catch (error) {
    forMetadata.destroy();
    throw error;
  }
  return { blob, metadata: await metadata };
}

export interface Delivery {
  accountId: string;
  /** The folder: a special-use role (default inbox) or a mailbox id. */
  mailbox?: SpecialUse | { id: string };
  flags?: string[];
  internalDate?: number;
}

export type DeliveryResult =
  | { ok: true; accountId: string; mailboxId: string; uid: number; modseq: number; messageId: string }
  | { ok: false; accountId: string; reason: 'over-quota' | 'no-account' | 'no-mailbox' };

async function fileOne(trx: Transaction<Database>, message: IncomingMessage, keys: MessageKeys, delivery: Delivery, now: number): Promise<DeliveryResult> {
  const account = await trx
    .selectFrom('accounts')
    .innerJoin('classes', 'classes.id', 'accounts.class_id')
    .leftJoin('mail_usage', 'mail_usage.account_id', 'accounts.id')
    .select(['accounts.id', 'accounts.customer_id', 'classes.quota_bytes', 'mail_usage.used_bytes'])
    .where('accounts.id', '=', delivery.accountId)
    .executeTakeFirst();
  if (!account) return { ok: false, accountId: delivery.accountId, reason: 'no-account' };
  if ((account.used_bytes ?? 0) + message.blob.size > account.quota_bytes) return { ok: false, accountId: account.id, reason: 'over-quota' };

  const target = delivery.mailbox ?? 'inbox';
  let mailboxId: string | undefined;
  if (typeof target === 'object') mailboxId = target.id;
  else {
    mailboxId = (await mailboxByRole(trx, account.id, target))?.id;
    if (!mailboxId) {
      await ensureDefaultMailboxes(trx, account, now);
      mailboxId = (await mailboxByRole(trx, account.id, target))?.id;
    }
  }
  const counters = mailboxId
    ? await trx
        .updateTable('mailboxes')
        .set((eb) => ({ uid_next: eb('uid_next', '+', 1), highest_modseq: eb('highest_modseq', '+', 1) }))
        .where('id', '=', mailboxId)
        .where('account_id', '=', account.id)
        .returning(['uid_next', 'highest_modseq'])
        .executeTakeFirst()
    : undefined;
  if (!mailboxId || !counters) return { ok: false, accountId: account.id, reason: 'no-mailbox' };

  const uid = Number(counters.uid_next) - 1;
  const modseq = Number(counters.highest_modseq);
  const { summary } = message.metadata;
  const messageId = newId('msg');
  await trx
    .insertInto('messages')
    .values({
      customer_id: account.customer_id,
      id: messageId,
      account_id: account.id,
      mailbox_id: mailboxId,
      uid,
      modseq,
      blob_id: message.blob.id,
      size: message.blob.size,
      internal_date: delivery.internalDate ?? now,
      flags: JSON.stringify(delivery.flags ?? []),
      subject: summary.subject.slice(0, 1000),
      from_address: summary.from.slice(0, 1000),
      message_id: summary.messageId?.slice(0, 1000) ?? null,
      sent_date: summary.date,
      metadata: JSON.stringify(message.metadata),
      created_at: now,
      // The conversation is decided here, once, on the one write path (see threads.ts).
      ...(await threadColumns(trx, account, keys, now)),
    })
    .execute();
  await trx
    .insertInto('blobs')
    .values({ id: message.blob.id, size: message.blob.size, refcount: 1, created_at: now })
    .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ refcount: eb('blobs.refcount', '+', 1) })))
    .execute();
  await trx
    .insertInto('mail_usage')
    .values({ account_id: account.id, customer_id: account.customer_id, used_bytes: message.blob.size, message_count: 1 })
    .onConflict((oc) =>
      oc.column('account_id').doUpdateSet((eb) => ({
        used_bytes: eb('mail_usage.used_bytes', '+', message.blob.size),
        message_count: eb('mail_usage.message_count', '+', 1),
      })),
    )
    .execute();
  return { ok: true, accountId: account.id, mailboxId, uid, modseq, messageId };
}

export interface DeliverOptions {
  /** Trace steps of the outcome, recorded in the same transaction (a failed trace write does not fail the delivery). */
  trace?: (results: DeliveryResult[]) => TraceEvent[];
  /**
   * More writes that must commit with the delivery or not at all: the other effects of the same
   * message (its outbound queue rows, its held copies, a list's copies filed with `fileMessageIn`), or a
   * release from quarantine removing the held copy. The content is already persisted in `trx`. Throwing
   * cancels the delivery: nothing of it is kept, and the error is the caller's. It may run again in a new
   * transaction (a group-commit batch that failed to commit is retried one write at a time): what it
   * keeps for after the commit, it resets first.
   */
  within?: (trx: Transaction<Database>, results: DeliveryResult[]) => Promise<void>;
}

/** A message ready to be filed: what its copies need that is read or computed outside any transaction. */
export interface PlannedFiling {
  message: IncomingMessage;
  deliveries: Delivery[];
  keys: MessageKeys;
  searchText: SearchText | undefined;
  now: number;
}

/**
 * Prepares a received message for `fileMessageIn`, outside any transaction: its searchable text (it reads
 * the text parts) and its sort keys. Should only the extraction fail, the message is filed without text
 * and the search.index job extracts it later; a content that cannot be read fails in the transaction
 * (persistContent: blob-missing).
 */
export async function planFiling(ctx: AppContext, message: IncomingMessage, deliveries: Delivery[]): Promise<PlannedFiling> {
  const now = ctx.clock.now();
  message.searchText ??= await searchTextOf(ctx, message.blob, message.metadata).catch((error: unknown) => {
    ctx.log.warn({ event: 'search.extract_failed', blobId: message.blob.id, err: error }, 'search.extract_failed');
    return undefined;
  });
  return { message, deliveries, keys: messageKeysOf(message.metadata), searchText: message.searchText, now };
}

/**
 * Files a planned message in the caller's transaction: its content, a copy per delivery (per-recipient
 * refusals come back as results), and its searchable text, so the message is searchable once
 * acknowledged. With no delivery, persists the content alone (for the caller's queue rows or held copies).
 * Once it has committed, the caller calls `messageFiled`. Safe to run again in a new transaction.
 */
export async function fileMessageIn(ctx: AppContext, trx: Transaction<Database>, plan: PlannedFiling): Promise<DeliveryResult[]> {
  const { message } = plan;
  await persistContent(ctx, trx, message.blob);
  const out: DeliveryResult[] = [];
  for (const delivery of plan.deliveries) {
    out.push(await fileOne(trx, message, plan.keys, delivery, plan.now));
    ctx.faults?.reached('delivery.filed');
  }
  if (plan.searchText && out.some((result) => result.ok)) await storeSearchText(trx, message.blob.id, plan.searchText);
  return out;
}

/** After the commit of `fileMessageIn`: tells the change feed (IMAP IDLE, other nodes) of each copy filed. */
export function messageFiled(ctx: AppContext, results: DeliveryResult[]): void {
  for (const result of results) {
    if (result.ok) ctx.mail.changes.publish({ type: 'new', accountId: result.accountId, mailboxId: result.mailboxId, uid: result.uid, modseq: result.modseq });
  }
}

/**
 * Files a received message for each delivery, in one durable transaction shared with concurrent
 * deliveries. Per-recipient refusals (over quota) come back as results; the others are stored.
 * With no delivery, commits the content and `within` alone (a message only forwarded or held).
 */
export async function deliverMessage(
  ctx: AppContext,
  message: IncomingMessage,
  deliveries: Delivery[],
  options: DeliverOptions = {},
): Promise<DeliveryResult[]> {
  const plan = await planFiling(ctx, message, deliveries);
  const results = await ctx.mail.committer.run(async (trx) => {
    const out = await fileMessageIn(ctx, trx, plan);
    if (options.within) await options.within(trx, out);
    if (options.trace) await recordTraceIn(ctx, trx, options.trace(out));
    return out;
  });
  messageFiled(ctx, results);
  return results;
}

export type Filed = Extract<DeliveryResult, { ok: true }>;
export type Refused = Extract<DeliveryResult, { ok: false }>;

/** Thrown inside the transaction to undo the messages already filed in it. */
class Cancelled extends Error {
  constructor(readonly refusal: Refused) {
    super(`delivery cancelled: ${refusal.reason}`);
  }
}

/**
 * Files several received messages in one durable transaction, all or none (IMAP MULTIAPPEND, RFC
 * 3502 §6.3.11: "no partial appending is permitted"): the first refusal (over quota, no such folder)
 * undoes the others and is returned. Their UIDs are consecutive in a folder, in the order given.
 */
export async function deliverAllOrNone(
  ctx: AppContext,
  items: Array<{ message: IncomingMessage; delivery: Delivery }>,
): Promise<{ ok: true; results: Filed[] } | { ok: false; refusal: Refused }> {
  const now = ctx.clock.now();
  // As deliverMessage: text extracted and keys computed before the transaction, stored in it.
  for (const { message } of items) message.searchText ??= await searchTextOf(ctx, message.blob, message.metadata).catch(() => undefined);
  let results: Filed[];
  try {
    results = await ctx.mail.committer.run(async (trx) => {
      const out: Filed[] = [];
      for (const { message, delivery } of items) {
        await persistContent(ctx, trx, message.blob);
        const result = await fileOne(trx, message, messageKeysOf(message.metadata), delivery, now);
        if (!result.ok) throw new Cancelled(result);
        if (message.searchText) await storeSearchText(trx, message.blob.id, message.searchText);
        out.push(result);
      }
      return out;
    });
  } catch (error) {
    if (error instanceof Cancelled) return { ok: false, refusal: error.refusal };
    throw error;
  }
  messageFiled(ctx, results);
  return { ok: true, results };
}
