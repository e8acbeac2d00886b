/**
 * The quarantine (R-S1, R-S4): messages held for one recipient, outside its mailbox and its quota, with
 * their verdict. The message's content stays in the blob store (a `blobs` reference per held copy,
 * like a message row's), so holding costs no copy. The user lists, previews, releases (delivered to
 * the Inbox through the mailstore's one write path) or deletes its held messages; a customer admin
 * sees its domains'; the operator all. Held messages expire after `filter.quarantineDays`. Every step
 * (quarantined, released, deleted) is in the message trace.
 */
import type { Transaction } from 'kysely';
import type { AppContext } from '../context.ts';
import { deliverMessage, type IncomingMessage, persistContent, readContent, recordJudgementsIn, releaseContents } from '../mailstore/index.ts';
import { loadMailparser, type MessageMetadata } from '../mime/index.ts';
import { addressKey, normalizeAddress } from '../shared/addresses.ts';
import { DAY_MS } from '../shared/clock.ts';
import { AppError, invalid, notFound, text } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { BlobRef, Database, QuarantineTable } from '../store/index.ts';
import { recordTrace, recordTraceIn, type TraceEvent } from '../trace/index.ts';
import { learnPending } from './learning.ts';
import { addSenderRule } from './sender-rules.ts';
import type { FilterSymbol, Verdict } from './types.ts';

export type QuarantineReason = QuarantineTable['reason'];

/** Who looks: the customer (null: the operator), and for a user its own account only. */
export interface QuarantineScope {
  customerId: string | null;
  accountId?: string;
}

/** Longest text of a preview: enough to judge a message, bounded for the API. */
export const PREVIEW_TEXT_CHARS = 100_000;
/** Rows removed per statement by the expiry job. */
const EXPIRY_BATCH = 500;

export interface HoldInput {
  /** From `receiveMessage`: the content is committed with the quarantine row. */
  blob: BlobRef;
  metadata: MessageMetadata;
  /** The recipient's account (the MX's LocalTarget has these; domainId is looked up when absent). */
  account: { accountId: string; customerId: string; domainId?: string };
  verdict: Verdict;
  reason: QuarantineReason;
  /** Envelope sender ('' for the null sender) and the recipient as given at RCPT. */
  sender: string;
  recipient: string;
  /** The SMTP session, so the trace ties this step to the others of the transfer. */
  sessionId?: string | null;
}

export interface QuarantineEntry {
  id: string;
  customerId: string;
  accountId: string;
  domainId: string;
  sender: string;
  recipient: string;
  from: string;
  subject: string;
  messageId: string | null;
  size: number;
  reason: QuarantineReason;
  score: number;
  symbols: FilterSymbol[];
  receivedAt: string;
  expiresAt: string;
  digestedAt: string | null;
}

export function quarantineEntry(row: QuarantineTable): QuarantineEntry {
  return {
    id: row.id,
    customerId: row.customer_id,
    accountId: row.account_id,
    domainId: row.domain_id,
    sender: row.sender,
    recipient: row.recipient,
    from: row.from_header,
    subject: row.subject,
    messageId: row.message_id,
    size: Number(row.size),
    reason: row.reason,
    score: Number(row.score),
    symbols: JSON.parse(row.symbols) as FilterSymbol[],
    receivedAt: new Date(Number(row.received_at)).toISOString(),
    expiresAt: new Date(Number(row.expires_at)).toISOString(),
    digestedAt: row.digested_at === null ? null : new Date(Number(row.digested_at)).toISOString(),
  };
}

function traceOf(row: QuarantineTable, step: TraceEvent['step'], detail: Record<string, unknown>, sessionId: string | null = null): TraceEvent {
  return {
    step,
    direction: 'inbound',
    customerId: row.customer_id,
    sessionId,
    messageId: row.message_id,
    sender: row.sender,
    recipient: row.recipient,
    detail: { quarantineId: row.id, ...detail },
  };
}

/** A copy ready to be held: its row, and what its trace step says. */
export interface PlannedHold {
  row: QuarantineTable;
  verdict: Verdict;
  sessionId: string | null;
}

/** Prepares a held copy, with the reads it needs done outside any transaction. */
export async function planHold(ctx: AppContext, input: HoldInput): Promise<PlannedHold> {
  const now = ctx.clock.now();
  const domainId =
    input.account.domainId ??
    (await ctx.db.selectFrom('accounts').select('domain_id').where('id', '=', input.account.accountId).executeTakeFirstOrThrow()).domain_id;
  const { summary } = input.metadata;
  const row: QuarantineTable = {
    customer_id: input.account.customerId,
    id: newId('qtn'),
    account_id: input.account.accountId,
    domain_id: domainId,
    blob_id: input.blob.id,
    size: input.blob.size,
    sender: input.sender.trim().slice(0, 320),
    recipient: input.recipient.trim().slice(0, 320),
    subject: summary.subject.slice(0, 1000),
    from_header: summary.from.slice(0, 1000),
    message_id: summary.messageId?.slice(0, 1000) ?? null,
    reason: input.reason,
    score: input.verdict.score,
    symbols: JSON.stringify(input.verdict.symbols),
    metadata: JSON.stringify(input.metadata),
    received_at: now,
    expires_at: now + Math.round(ctx.config.filter.quarantineDays * DAY_MS),
    digested_at: null,
  };
  return { row, verdict: input.verdict, sessionId: input.sessionId ?? null };
}

/**
 * Holds a planned copy in the caller's transaction, where its content is already persisted: the row,
 * its blob reference and its trace step. Once committed, the caller calls `messageHeld`.
 */
export async function holdMessageIn(ctx: AppContext, trx: Transaction<Database>, plan: PlannedHold): Promise<void> {
  const { row, verdict } = plan;
  await trx.insertInto('quarantine').values(row).execute();
  await trx
    .insertInto('blobs')
    .values({ id: row.blob_id, size: row.size, refcount: 1, created_at: row.received_at })
    .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ refcount: eb('blobs.refcount', '+', 1) })))
    .execute();
  await recordTraceIn(ctx, trx, [
    traceOf(
      row,
      'quarantined',
      { reason: row.reason, score: row.score, symbols: verdict.symbols.map((s) => s.name), failedSafe: verdict.failedSafe },
      plan.sessionId,
    ),
  ]);
  ctx.faults?.reached('quarantine.held');
}

/** After the commit of `holdMessageIn`: the log line. */
export function messageHeld(ctx: AppContext, plan: PlannedHold): QuarantineEntry {
  const { row } = plan;
  ctx.log.info({ event: 'filter.quarantined', id: row.id, account: row.account_id, reason: row.reason, score: row.score }, 'filter.quarantined');
  return quarantineEntry(row);
}

/**
 * Holds a received message for one recipient in a commit of its own (shared group commit): the
 * content (when inline), the quarantine row, the blob reference and the trace step together. A message
 * with other effects holds with `holdMessageIn` inside their delivery instead: one commit.
 */
export async function holdMessage(ctx: AppContext, input: HoldInput): Promise<QuarantineEntry> {
  const plan = await planHold(ctx, input);
  await ctx.mail.committer.run(async (trx) => {
    await persistContent(ctx, trx, input.blob);
    await holdMessageIn(ctx, trx, plan);
  });
  return messageHeld(ctx, plan);
}

const NOT_FOUND = text('No such held message', 'Message retenu introuvable');

/** A held message within the caller's scope ("not yours" is "not found"). */
export async function getQuarantineRow(ctx: AppContext, scope: QuarantineScope, id: string): Promise<QuarantineTable> {
  let query = ctx.db.selectFrom('quarantine').selectAll().where('id', '=', id);
  if (scope.customerId !== null) query = query.where('customer_id', '=', scope.customerId);
  if (scope.accountId !== undefined) query = query.where('account_id', '=', scope.accountId);
  const row = await query.executeTakeFirst();
  if (!row) throw notFound(NOT_FOUND);
  return row;
}

export interface QuarantineQuery {
  accountId?: string;
  domainId?: string;
  limit: number;
  /** The `next` of the previous page. */
  after?: string;
}

function cursorOf(row: Pick<QuarantineTable, 'received_at' | 'id'>): string {
  return `${Number(row.received_at)}.${row.id}`;
}

/** Held messages, newest first, page by page (pass `next` as `after`). */
export async function listQuarantine(
  ctx: AppContext,
  scope: QuarantineScope,
  query: QuarantineQuery,
): Promise<{ items: QuarantineEntry[]; next: string | null }> {
  let q = ctx.db.selectFrom('quarantine').selectAll();
  if (scope.customerId !== null) q = q.where('customer_id', '=', scope.customerId);
  if (scope.accountId !== undefined) q = q.where('account_id', '=', scope.accountId);
  if (query.accountId) q = q.where('account_id', '=', query.accountId);
  if (query.domainId) q = q.where('domain_id', '=', query.domainId);
  if (query.after) {
    const dot = query.after.indexOf('.');
    const at = Number(query.after.slice(0, dot));
    const id = query.after.slice(dot + 1);
    if (dot <= 0 || !Number.isSafeInteger(at)) throw invalid('invalid-cursor', 'after', 'Invalid paging cursor', 'Curseur de pagination invalide');
    q = q.where((eb) => eb.or([eb('received_at', '<', at), eb.and([eb('received_at', '=', at), eb('id', '<', id)])]));
  }
  const rows = await q.orderBy('received_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
  const last = rows.at(-1);
  return { items: rows.map(quarantineEntry), next: rows.length === query.limit && last ? cursorOf(last) : null };
}

export interface QuarantinePreview extends QuarantineEntry {
  /** Header fields as sent (decoded), in order; never HTML. */
  headers: Array<{ name: string; value: string }>;
  /** The text part, decoded; from the HTML part with every tag removed when there is no text part. */
  text: string;
  textTruncated: boolean;
  attachments: Array<{ filename: string | null; contentType: string; size: number }>;
}

/** Removes tags, scripts and styles and decodes the common entities: HTML is never given out raw. */
export function htmlToPlainText(html: string): string {
  return html
    .replace(/<(script|style|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<br\s*\/?>|<\/(p|div|li|tr|h[1-6])\s*>/gi, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/gi, ' ')
    .replace(/&lt;/gi, '<')
    .replace(/&gt;/gi, '>')
    .replace(/&quot;/gi, '"')
    .replace(/&#39;|&apos;/gi, "'")
    .replace(/&amp;/gi, '&')
    .replace(/[ \t]+/g, ' ')
    .replace(/\n\s*\n\s*\n+/g, '\n\n')
    .trim();
}

function headerValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(headerValue).join(', ');
  if (typeof value === 'object') {
    const v = value as { text?: string; value?: unknown; params?: Record<string, string> };
    if (typeof v.text === 'string') return v.text;
    if (typeof v.value === 'string') return v.value;
  }
  return String(value);
}

/** Headers, decoded text and attachment names and sizes of a held message (R-S1: HTML never rendered raw). */
export async function previewQuarantined(ctx: AppContext, scope: QuarantineScope, id: string): Promise<QuarantinePreview> {
  const row = await getQuarantineRow(ctx, scope, id);
  const { simpleParser } = await loadMailparser();
  const parsed = await simpleParser(readContent(ctx, row.blob_id), { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
  const headers = parsed.headerLines.map((line) => {
    const colon = line.line.indexOf(':');
    const name = colon > 0 ? line.line.slice(0, colon).trim() : line.key;
    return { name, value: headerValue(parsed.headers.get(line.key)) };
  });
  const uniqueHeaders = headers.filter((h, i) => headers.findIndex((o) => o.name.toLowerCase() === h.name.toLowerCase()) === i);
  let body = parsed.text?.trim() ? parsed.text : typeof parsed.html === 'string' ? htmlToPlainText(parsed.html) : '';
  const textTruncated = body.length > PREVIEW_TEXT_CHARS;
  if (textTruncated) body = body.slice(0, PREVIEW_TEXT_CHARS);
  return {
    ...quarantineEntry(row),
    headers: uniqueHeaders,
    text: body,
    textTruncated,
    attachments: parsed.attachments.map((a) => ({ filename: a.filename ?? null, contentType: a.contentType, size: a.size })),
  };
}

/** Deletes held rows and releases what they hold: blob references and their digest links. */
async function removeRows(trx: Transaction<Database>, rows: Array<Pick<QuarantineTable, 'id' | 'blob_id'>>): Promise<number> {
  if (rows.length === 0) return 0;
  const ids = rows.map((row) => row.id);
  const removed = Number((await trx.deleteFrom('quarantine').where('id', 'in', ids).executeTakeFirst()).numDeletedRows);
  await trx.deleteFrom('digest_links').where('quarantine_id', 'in', ids).execute();
  if (removed === rows.length)
    await releaseContents(
      trx,
      rows.map((row) => row.blob_id),
    );
  return removed;
}

/** Who did it, for the trace and the log: a login or account id, `digest-link`, or `cli`. */
export interface ActionOptions {
  actor: string;
}

export interface ReleaseOptions extends ActionOptions {
  /** Also add the sender to the recipient's allow list. */
  allowSender?: boolean;
  /**
   * Teach the filter that this message is not spam (issue 11: the default, for the API, the CLI and
   * digest links alike); `false` when the user says not to.
   */
  trainAsHam?: boolean;
}

export interface ReleaseResult {
  entry: QuarantineEntry;
  /** The message in the Inbox. */
  mailboxId: string;
  uid: number;
  allowedSender: string | null;
  trained: boolean;
}

/** The address to allow for a released message: the envelope sender, else (a bounce) the From address. */
function senderToAllow(row: QuarantineTable): string | null {
  const envelope = normalizeAddress(row.sender);
  if (envelope) return addressKey(envelope);
  const metadata = JSON.parse(row.metadata) as MessageMetadata;
  const from = metadata.envelope.from?.find((a) => a.mailbox && a.host);
  const parsed = from ? normalizeAddress(`${from.mailbox}@${from.host}`) : undefined;
  return parsed ? addressKey(parsed) : null;
}

/**
 * Releases a held message: delivered to the recipient's Inbox through `deliverMessage` (quota checked:
 * an over-quota mailbox keeps it held), then the row and its blob reference go, in that order, so the
 * content is never without a reference. Optionally allows the sender and trains the classifier as ham.
 */
export async function releaseQuarantined(ctx: AppContext, scope: QuarantineScope, id: string, options: ReleaseOptions): Promise<ReleaseResult> {
  const row = await getQuarantineRow(ctx, scope, id);
  const trained = options.trainAsHam !== false;
  const message: IncomingMessage = { blob: { id: row.blob_id, size: Number(row.size) }, metadata: JSON.parse(row.metadata) as MessageMetadata };
  const [result] = await deliverMessage(ctx, message, [{ accountId: row.account_id }], {
    trace: (results) => [traceOf(row, 'released', { by: options.actor, delivered: results[0]?.ok ?? false })],
    // The held copy leaves the quarantine in the delivery's own commit: of two releases at the same
    // moment (two clicks, the portal and a digest link), one delivers, the other finds nothing.
    within: async (trx, results) => {
      if (results[0]?.ok && (await removeRows(trx, [row])) === 0) throw notFound(NOT_FOUND);
      // The release is the user's judgement "not spam", learnt once the release has committed.
      if (results[0]?.ok && trained) {
        await recordJudgementsIn(
          trx,
          [{ customerId: row.customer_id, accountId: row.account_id, blobId: row.blob_id }],
          'ham',
          `release:${options.actor}`,
          ctx.clock.now(),
        );
      }
    },
  });
  if (!result?.ok) {
    if (result?.reason === 'over-quota') {
      throw new AppError(
        'over-quota',
        'mailbox-full',
        text('The mailbox is full: free some space, then release again', 'La boîte est pleine : libérez de la place, puis relâchez à nouveau'),
      );
    }
    throw notFound(NOT_FOUND);
  }
  let allowedSender: string | null = null;
  if (options.allowSender) {
    allowedSender = senderToAllow(row);
    if (allowedSender) await addSenderRule(ctx, row.customer_id, { account: row.account_id }, { pattern: allowedSender, kind: 'allow' });
  }
  if (trained) await learnPending(ctx).catch((error) => ctx.log.warn({ event: 'filter.learn_failed', err: error }, 'filter.learn_failed'));
  ctx.log.info({ event: 'filter.released', id: row.id, account: row.account_id, by: options.actor, allowedSender, trained }, 'filter.released');
  return { entry: quarantineEntry(row), mailboxId: result.mailboxId, uid: result.uid, allowedSender, trained };
}

/** Deletes a held message for good. */
export async function deleteQuarantined(ctx: AppContext, scope: QuarantineScope, id: string, options: ActionOptions): Promise<QuarantineEntry> {
  const row = await getQuarantineRow(ctx, scope, id);
  const removed = await ctx.db.transaction().execute((trx) => removeRows(trx, [row]));
  if (removed === 0) throw notFound(NOT_FOUND); // deleted meanwhile
  await recordTrace(ctx, [traceOf(row, 'deleted', { by: options.actor })]);
  ctx.log.info({ event: 'filter.deleted', id: row.id, account: row.account_id, by: options.actor }, 'filter.deleted');
  return quarantineEntry(row);
}

/** The job: deletes held messages past `filter.quarantineDays` (R-S4), with their blob references. */
export async function expireQuarantine(ctx: AppContext): Promise<{ expired: number }> {
  let expired = 0;
  for (;;) {
    const rows = await ctx.db
      .selectFrom('quarantine')
      .selectAll()
      .where('expires_at', '<=', ctx.clock.now())
      .orderBy('expires_at')
      .limit(EXPIRY_BATCH)
      .execute();
    if (rows.length === 0) break;
    const removed = await ctx.db.transaction().execute(async (trx) => {
      let count = 0;
      for (const row of rows) count += await removeRows(trx, [row]);
      return count;
    });
    expired += removed;
    await recordTrace(
      ctx,
      rows.map((row) => traceOf(row, 'deleted', { by: 'expiry' })),
    );
    if (rows.length < EXPIRY_BATCH) break;
  }
  if (expired > 0) ctx.log.info({ event: 'filter.quarantine_expired', expired }, 'filter.quarantine_expired');
  return { expired };
}
