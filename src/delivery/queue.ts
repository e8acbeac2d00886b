/**
 * The persistent outbound queue (R-M2). `enqueueOutbound` writes one row per recipient, durably,
 * before the caller acknowledges anything; workers take due rows with a lease (a conditional UPDATE
 * that works alike on SQLite and PostgreSQL, so two workers never take the same row), deliver them
 * per destination domain through the MX loop (remote.ts), and settle each row: delivered on a 2xx
 * (recorded right after the reply), deferred with exponential back-off on a 4xx, a timeout or a
 * connection failure, bounced on a 5xx, expired after `delivery.maxQueueDays`. Bounced and expired
 * recipients are reported to the sender in one DSN per message (dsn.ts), never for a null sender.
 *
 * While taken, a row's `next_attempt_at` equals its `lease_until`: a row whose worker died (SIGKILL)
 * is simply due again once its lease has run out. Each row holds a reference on its blob (`blobs`),
 * released when the row is final.
 *
 * A message whose envelope sender is not at a domain of ours (an alias forwarding mail from outside)
 * is queued with the SRS address of that sender (srs.ts), so SPF passes at the next hop.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Transaction } from 'kysely';
import type { AppContext } from '../context.ts';
import { type Delivery, deliverMessage, type IncomingMessage, persistContent, readContent, receiveMessage, releaseContents } from '../mailstore/index.ts';
import { normalizeAddress } from '../shared/addresses.ts';
import { invalid } from '../shared/errors.ts';
import type { BlobRef, Database, OutboundQueueTable } from '../store/index.ts';
import { bareMessageId, recordTrace, recordTraceIn, type TraceStep } from '../trace/index.ts';
import { buildDsn, type DsnRecipient, readHeaderBlock } from './dsn.ts';
import { loadListOfMail, recordListBounce } from './list-mail.ts';
import { type DeliveryFailure, MAX_RECIPIENTS_PER_TRANSACTION, RemoteSession, resolveDestination, type SessionOptions } from './remote.ts';
import { isHostedDomain, routeRecipient } from './routing.ts';
import { forwardingSender } from './srs.ts';

/** Destination domains served at once by one worker round. */
const MAX_PARALLEL_DOMAINS = 50;

const DAY_MS = 24 * 60 * 60_000;

export type QueueRow = OutboundQueueTable;

export interface OutboundMessage {
  customerId: string | null;
  /** The envelope sender; '' for the null sender (a bounce). */
  sender: string;
  recipients: string[];
  /** A sender per recipient instead (a list's bounce address per member, VERP); used as given. */
  recipientSenders?: string[];
  blob: BlobRef;
  /** The Message-ID of the content, kept on the rows so every step of their delivery is traced with it (R-M6). */
  messageId?: string | null;
  /** For the trace: the SMTP session the message came in by, and the alias or list that sent it on. */
  origin?: { sessionId?: string; via?: string };
}

export interface DeliveryRunSummary {
  taken: number;
  delivered: number;
  deferred: number;
  bounced: number;
  expired: number;
}

/** Queue ids: `oq_` and 20 random base-32 characters, like shared/ids.ts. */
function newQueueId(): string {
  const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';
  let out = 'oq_';
  for (const byte of randomBytes(20)) out += alphabet[byte & 31];
  return out;
}

/** Wakes the workers of this process when new rows are queued. */
const wakers = new WeakMap<AppContext, Set<() => void>>();

function wakeWorkers(ctx: AppContext): void {
  for (const wake of wakers.get(ctx) ?? []) wake();
}

/** Writes the rows and their blob references; the content is already persisted in `trx` by the caller. */
async function insertRows(trx: Transaction<Database>, message: OutboundMessage, now: number, lifetimeMs: number): Promise<string[]> {
  const rows = message.recipients.map((recipient, i) => {
    const address = normalizeAddress(recipient);
    if (!address)
      throw invalid('invalid-address', 'recipients', `"${recipient}" is not a valid e-mail address`, `« ${recipient} » n'est pas une adresse e-mail valide`);
    return {
      id: newQueueId(),
      customer_id: message.customerId,
      sender: (message.recipientSenders?.[i] ?? message.sender).trim(),
      recipient: recipient.trim(),
      domain: address.domain,
      blob_id: message.blob.id,
      size: message.blob.size,
      status: 'queued' as const,
      attempts: 0,
      next_attempt_at: now,
      lease_until: null,
      lease_owner: null,
      last_error: null,
      created_at: now,
      expires_at: now + lifetimeMs,
      dsn_sent: 0 as const,
      message_id: bareMessageId(message.messageId),
    };
  });
  if (rows.length === 0) return [];
  await trx.insertInto('outbound_queue').values(rows).execute();
  await trx
    .insertInto('blobs')
    .values({ id: message.blob.id, size: message.blob.size, refcount: rows.length, created_at: now })
    .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ refcount: eb('blobs.refcount', '+', rows.length) })))
    .execute();
  return rows.map((row) => row.id);
}

function lifetimeOf(ctx: AppContext): number {
  return Math.round(ctx.config.delivery.maxQueueDays * DAY_MS);
}

/** A message ready to be queued: its envelope sender rewritten (SRS) when it is not at a domain of ours. */
export interface PlannedOutbound extends OutboundMessage {
  /** The sender as given, when SRS rewrote it. */
  originalSender: string;
}

/** Prepares a message for the queue, with the reads it needs done outside any transaction. */
export async function planOutbound(ctx: AppContext, input: OutboundMessage): Promise<PlannedOutbound> {
  const originalSender = input.sender.trim();
  const sender = input.recipients.length === 0 ? originalSender : await forwardingSender(ctx, originalSender, (domain) => isHostedDomain(ctx, domain));
  return { ...input, sender, originalSender };
}

/**
 * Queues a planned message in the caller's transaction, where its content is already persisted: one row
 * per recipient, their blob references and their `queued` trace steps. Once it has committed, the caller
 * calls `outboundQueued` (log, wake the workers). Returns the rows' ids.
 */
export async function queueOutboundIn(ctx: AppContext, trx: Transaction<Database>, plan: PlannedOutbound): Promise<string[]> {
  const ids = await insertRows(trx, plan, ctx.clock.now(), lifetimeOf(ctx));
  const detail = plan.sender === plan.originalSender ? { size: plan.blob.size } : { size: plan.blob.size, originalSender: plan.originalSender };
  await recordTraceIn(
    ctx,
    trx,
    ids.map((id, i) => ({
      step: 'queued' as const,
      direction: 'outbound' as const,
      customerId: plan.customerId,
      sessionId: id,
      messageId: plan.messageId ?? null,
      sender: plan.recipientSenders?.[i] ?? plan.sender,
      recipient: plan.recipients[i] ?? null,
      detail: {
        ...detail,
        ...(plan.origin?.sessionId ? { session: plan.origin.sessionId } : {}),
        ...(plan.origin?.via ? { via: plan.origin.via } : {}),
      },
    })),
  );
  ctx.faults?.reached('outbound.queued');
  return ids;
}

/** After the commit of `queueOutboundIn`: logs the rows and wakes this process's workers. */
export function outboundQueued(ctx: AppContext, plan: PlannedOutbound, ids: string[]): void {
  if (ids.length === 0) return;
  ctx.log.info({ event: 'delivery.queued', ids, sender: plan.sender, recipients: plan.recipients.length, blob: plan.blob.id }, 'delivery.queued');
  wakeWorkers(ctx);
}

/**
 * Queues a message for remote recipients in a commit of its own (shared group commit), done before
 * this resolves, so the caller may then acknowledge. Returns the rows' ids. A message with other
 * effects (local copies) queues with `queueOutboundIn` inside their delivery instead: one commit.
 */
export async function enqueueOutbound(ctx: AppContext, input: OutboundMessage): Promise<string[]> {
  if (input.recipients.length === 0) return [];
  const plan = await planOutbound(ctx, input);
  const ids = await ctx.mail.committer.run(async (trx) => {
    await persistContent(ctx, trx, plan.blob);
    return queueOutboundIn(ctx, trx, plan);
  });
  outboundQueued(ctx, plan, ids);
  return ids;
}

/** The trace of queue rows (R-M6): the row id ties the steps of one recipient's delivery together. */
function traceRows(ctx: AppContext, rows: QueueRow[], step: TraceStep, detail: (row: QueueRow) => Record<string, unknown>): Promise<void> {
  return recordTrace(
    ctx,
    rows.map((row) => ({
      step,
      direction: 'outbound' as const,
      customerId: row.customer_id,
      sessionId: row.id,
      messageId: row.message_id ?? null,
      sender: row.sender,
      recipient: row.recipient,
      detail: detail(row),
    })),
  );
}

/** Back-off after the n-th failed attempt: `delivery.retryMinutes` (the last value repeats) plus jitter. */
export function retryDelayMs(ctx: AppContext, attempts: number): number {
  const schedule = ctx.config.delivery.retryMinutes;
  const minutes = schedule[Math.min(Math.max(attempts, 1), schedule.length) - 1] ?? 1;
  return Math.round(minutes * 60_000 * (1 + Math.random() * ctx.config.delivery.retryJitter));
}

/**
 * Takes up to `limit` due rows for `owner` (queued and due, or taken by a worker whose lease ran out).
 * The UPDATE re-checks that each row is still free, so of two workers only one gets a row.
 */
export async function claimDueRows(ctx: AppContext, owner: string, limit = ctx.config.delivery.batchSize): Promise<QueueRow[]> {
  const now = ctx.clock.now();
  const leaseUntil = now + ctx.config.delivery.leaseSeconds * 1000;
  const due = await ctx.db
    .selectFrom('outbound_queue')
    .select('id')
    .where('status', 'in', ['queued', 'sending'])
    .where('next_attempt_at', '<=', now)
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  if (due.length === 0) return [];
  await ctx.db
    .updateTable('outbound_queue')
    .set((eb) => ({ status: 'sending', lease_owner: owner, lease_until: leaseUntil, next_attempt_at: leaseUntil, attempts: eb('attempts', '+', 1) }))
    .where(
      'id',
      'in',
      due.map((row) => row.id),
    )
    .where('status', 'in', ['queued', 'sending'])
    .where('next_attempt_at', '<=', now)
    .execute();
  const rows = await ctx.db.selectFrom('outbound_queue').selectAll().where('lease_owner', '=', owner).where('status', '=', 'sending').orderBy('id').execute();
  return rows.map((row) => ({ ...row, size: Number(row.size), attempts: Number(row.attempts) }));
}

/** Extends the lease of the rows an owner is still working on. */
async function renewLeases(ctx: AppContext, owner: string): Promise<void> {
  const leaseUntil = ctx.clock.now() + ctx.config.delivery.leaseSeconds * 1000;
  await ctx.db
    .updateTable('outbound_queue')
    .set({ lease_until: leaseUntil, next_attempt_at: leaseUntil })
    .where('lease_owner', '=', owner)
    .where('status', '=', 'sending')
    .execute();
}

/** Settles rows that are final (delivered, bounced, expired): still ours, and their blob references released. */
async function finalizeRows(
  trx: Transaction<Database>,
  owner: string,
  rows: QueueRow[],
  status: 'delivered' | 'bounced' | 'expired',
  lastError: string | null,
  dsnSent: boolean,
  now: number,
): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await trx
    .updateTable('outbound_queue')
    .set({ status, lease_owner: null, lease_until: null, last_error: lastError, dsn_sent: dsnSent ? 1 : 0, finished_at: now })
    .where(
      'id',
      'in',
      rows.map((row) => row.id),
    )
    .where('lease_owner', '=', owner)
    .where('status', '=', 'sending')
    .executeTakeFirst();
  const settled = Number(result.numUpdatedRows);
  if (settled > 0) await releaseContents(trx, Array<string>(settled).fill(rows[0]?.blob_id as string));
  return settled;
}

interface Round {
  ctx: AppContext;
  owner: string;
  summary: DeliveryRunSummary;
}

async function markDelivered(round: Round, rows: QueueRow[], reply: string): Promise<void> {
  const { ctx, owner } = round;
  for (const group of groupBy(rows, (row) => row.blob_id)) {
    const settled = await ctx.mail.committer.run((trx) => finalizeRows(trx, owner, group, 'delivered', null, false, ctx.clock.now()));
    if (settled < group.length) ctx.log.warn({ event: 'delivery.lease_lost', ids: group.map((r) => r.id) }, 'delivery.lease_lost');
  }
  round.summary.delivered += rows.length;
  for (const row of rows) ctx.log.info({ event: 'delivery.delivered', id: row.id, recipient: row.recipient, reply }, 'delivery.delivered');
  await traceRows(ctx, rows, 'delivered', () => ({ reply }));
}

async function markDeferred(round: Round, rows: QueueRow[], failure: DeliveryFailure): Promise<void> {
  const { ctx, owner } = round;
  const now = ctx.clock.now();
  const lastError = failure.diagnostic.slice(0, 1000);
  for (const row of rows) {
    const next = Math.min(now + retryDelayMs(ctx, row.attempts), row.expires_at);
    await ctx.db
      .updateTable('outbound_queue')
      .set({ status: 'queued', next_attempt_at: Math.max(next, now), lease_owner: null, lease_until: null, last_error: lastError })
      .where('id', '=', row.id)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'sending')
      .execute();
    ctx.log.info({ event: 'delivery.deferred', id: row.id, recipient: row.recipient, attempts: row.attempts, error: lastError }, 'delivery.deferred');
  }
  round.summary.deferred += rows.length;
  await traceRows(ctx, rows, 'deferred', (row) => ({ attempts: row.attempts, error: lastError }));
}

/**
 * Bounces or expires rows, with one DSN per original message (sender and content) to its sender:
 * into the mailstore when the sender is an account here, else queued with the null sender. The DSN
 * and the settled rows commit together: a failure leaves the rows taken (retried once their lease
 * runs out) and no DSN, never a DSN without its settlement.
 */
async function markFailed(round: Round, items: { row: QueueRow; failure: DeliveryFailure }[], status: 'bounced' | 'expired'): Promise<void> {
  const { ctx, owner } = round;
  for (const group of groupBy(items, (item) => `${item.row.sender}\u0000${item.row.blob_id}\u0000${item.row.customer_id ?? ''}`)) {
    const first = group[0]?.row as QueueRow;
    const now = ctx.clock.now();
    let dsn: Dsn | undefined;
    let dsnSent = false; // handled: built, or dropped for a sender that cannot receive one
    if (first.sender !== '') {
      try {
        dsn = await buildDsnFor(ctx, first, now, group);
        dsnSent = true;
      } catch (error) {
        ctx.log.error({ event: 'delivery.dsn_failed', sender: first.sender, err: error }, 'delivery.dsn_failed');
      }
    }
    const rows = group.map((item) => item.row);
    const settle = async (trx: Transaction<Database>) => {
      for (const item of group) await finalizeRows(trx, owner, [item.row], status, item.failure.diagnostic.slice(0, 1000), dsnSent, now);
      if (dsn?.remote) await insertRows(trx, dsn.remote, now, lifetimeOf(ctx));
    };
    if (dsn && dsn.local.length > 0) {
      const results = await deliverMessage(ctx, dsn.message, dsn.local, { within: settle });
      for (const result of results)
        if (!result.ok) ctx.log.warn({ event: 'delivery.dsn_dropped', account: result.accountId, reason: result.reason }, 'delivery.dsn_dropped');
    } else {
      const message = dsn?.message;
      await ctx.mail.committer.run(async (trx) => {
        if (message) await persistContent(ctx, trx, message.blob);
        await settle(trx);
      });
    }
    if (dsn) ctx.log.info({ event: 'delivery.dsn', sender: first.sender, recipients: group.length }, 'delivery.dsn');
    if (dsn?.remote) wakeWorkers(ctx);
    round.summary[status] += rows.length;
    const failureOf = new Map(group.map((item) => [item.row.id, item.failure]));
    await traceRows(ctx, rows, status, (row) => ({ status: failureOf.get(row.id)?.status, error: failureOf.get(row.id)?.diagnostic, dsn: dsnSent }));
    for (const item of group) {
      ctx.log.info(
        {
          event: `delivery.${status}`,
          id: item.row.id,
          recipient: item.row.recipient,
          status: item.failure.status,
          error: item.failure.diagnostic,
          dsn: dsnSent,
        },
        `delivery.${status}`,
      );
    }
  }
}

/** A DSN ready to commit: its content, the sender's accounts here, and the message to queue for a sender outside. */
interface Dsn {
  message: IncomingMessage;
  local: Delivery[];
  remote: OutboundMessage | undefined;
}

/**
 * Builds the DSN for a bounced or expired group and routes it to the original sender (an account here,
 * or outside, queued with the null sender). Undefined when the sender cannot receive one.
 */
async function buildDsnFor(ctx: AppContext, original: QueueRow, now: number, items: { row: QueueRow; failure: DeliveryFailure }[]): Promise<Dsn | undefined> {
  const route = await routeRecipient(ctx, original.sender, { sender: null });
  // A list's copy: the bounce is counted for the member (list-mail.ts), and no report goes anywhere.
  if (route.kind === 'list-bounce') {
    const list = await loadListOfMail(ctx, route.listId);
    for (const { row, failure } of items) {
      await recordListBounce(ctx, {
        listId: route.listId,
        member: route.member,
        customerId: list?.customerId ?? original.customer_id,
        sessionId: row.id,
        messageId: row.message_id ?? null,
        detail: { status: failure.status, error: failure.diagnostic },
      });
    }
    return undefined;
  }
  const recipients: DsnRecipient[] = items.map(({ row, failure }) => ({
    recipient: row.recipient,
    action: 'failed',
    status: failure.status,
    diagnostic: failure.diagnostic,
    diagnosticFromRemote: failure.fromRemote,
    ...(failure.remoteMta ? { remoteMta: failure.remoteMta } : {}),
    lastAttemptAt: now,
  }));
  const dsn = buildDsn({
    reportingMta: ctx.config.hostname,
    to: original.sender,
    arrivalDate: original.created_at,
    now,
    recipients,
    originalHeaders: await readHeaderBlock(readContent(ctx, original.blob_id)),
  });
  let external: string[] = [];
  if (route.kind === 'local') external = route.external;
  else if (route.kind === 'unknown') {
    const domain = normalizeAddress(original.sender)?.domain;
    if (!domain || (await isHostedDomain(ctx, domain))) {
      ctx.log.warn({ event: 'delivery.dsn_dropped', sender: original.sender, reason: 'unknown-sender' }, 'delivery.dsn_dropped');
      return undefined;
    }
    external = [original.sender];
  } else if (route.kind === 'refused') {
    ctx.log.warn({ event: 'delivery.dsn_dropped', sender: original.sender, reason: route.reason }, 'delivery.dsn_dropped');
    return undefined;
  }
  const message = await receiveMessage(
    ctx,
    (async function* () {
      yield dsn;
    })(),
    { maxBytes: Math.max(ctx.config.limits.maxMessageBytes, dsn.length) },
  );
  return {
    message,
    local: route.kind === 'local' ? route.accounts.map((account) => ({ accountId: account.accountId })) : [],
    remote: external.length > 0 ? { customerId: original.customer_id, sender: '', recipients: external, blob: message.blob } : undefined,
  };
}

function groupBy<T>(items: T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return [...groups.values()];
}

async function runPool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const runners = Array.from({ length: Math.min(limit, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  });
  await Promise.all(runners);
}

/** Settles one transaction's rows from the per-recipient outcome. */
async function settle(round: Round, rows: QueueRow[], outcome: Map<string, DeliveryFailure | null>, reply: string): Promise<void> {
  const delivered: QueueRow[] = [];
  const bounced: { row: QueueRow; failure: DeliveryFailure }[] = [];
  const deferred = new Map<DeliveryFailure, QueueRow[]>();
  for (const row of rows) {
    const failure = outcome.get(row.recipient);
    if (failure === null) delivered.push(row);
    else if (failure === undefined) deferred.set(NO_REPLY, [...(deferred.get(NO_REPLY) ?? []), row]);
    else if (failure.permanent) bounced.push({ row, failure });
    else deferred.set(failure, [...(deferred.get(failure) ?? []), row]);
  }
  if (delivered.length > 0) await markDelivered(round, delivered, reply);
  for (const [failure, group] of deferred) await markDeferred(round, group, failure);
  if (bounced.length > 0) await markFailed(round, bounced, 'bounced');
}

const NO_REPLY: DeliveryFailure = { permanent: false, status: '4.0.0', diagnostic: 'No reply for this recipient', fromRemote: false };

/** Delivers the taken rows of one domain: one connection per runner, up to `concurrencyPerDomain`. */
async function deliverDomain(round: Round, domain: string, rows: QueueRow[]): Promise<void> {
  const { ctx } = round;
  const destination = await resolveDestination(ctx, domain);
  if (!destination.ok) {
    if (destination.failure.permanent)
      await markFailed(
        round,
        rows.map((row) => ({ row, failure: destination.failure })),
        'bounced',
      );
    else await markDeferred(round, rows, destination.failure);
    return;
  }
  const transactions: QueueRow[][] = [];
  for (const message of groupBy(rows, (row) => `${row.sender}\u0000${row.blob_id}`)) {
    for (let i = 0; i < message.length; i += MAX_RECIPIENTS_PER_TRANSACTION) transactions.push(message.slice(i, i + MAX_RECIPIENTS_PER_TRANSACTION));
  }
  const options: SessionOptions = {
    port: ctx.config.delivery.smtpPort,
    heloName: ctx.config.hostname,
    connectTimeoutMs: ctx.config.delivery.connectTimeoutMs,
    responseTimeoutMs: ctx.config.delivery.responseTimeoutMs,
  };
  let unreachable: DeliveryFailure | undefined;
  const runners = Array.from({ length: Math.min(ctx.config.delivery.concurrencyPerDomain, transactions.length) }, async () => {
    let session: RemoteSession | undefined;
    try {
      for (let rowsOf = transactions.shift(); rowsOf !== undefined; rowsOf = transactions.shift()) {
        if (!session?.usable) {
          session = undefined;
          if (!unreachable) {
            let lastFailure: DeliveryFailure | undefined;
            for (const host of destination.hosts) {
              try {
                session = await RemoteSession.open(host, options);
                break;
              } catch (error) {
                const failure = connectionFailure(error, host.name);
                lastFailure = failure;
                ctx.log.info({ event: 'delivery.connect_failed', domain, host: host.name, ip: host.ip, error: failure.diagnostic }, 'delivery.connect_failed');
              }
            }
            if (!session) unreachable = lastFailure;
          }
        }
        if (!session) {
          await markDeferred(round, rowsOf, unreachable ?? NO_REPLY);
          continue;
        }
        const first = rowsOf[0] as QueueRow;
        const outcome = await session.send(
          first.sender,
          rowsOf.map((row) => row.recipient),
          first.size,
          readContent(ctx, first.blob_id),
        );
        await settle(round, rowsOf, outcome, session.host.name);
      }
    } finally {
      session?.close();
    }
  });
  await Promise.all(runners);
}

function connectionFailure(error: unknown, host: string): DeliveryFailure {
  const e = error as { message?: string; response?: string; code?: string };
  const timeout = e.code === 'ETIMEDOUT' || /timeout/i.test(e.message ?? '');
  const detail = e.response ? e.response.trim() : (e.message ?? String(error));
  // A host that cannot be reached or refuses the session is a reason to try later (RFC 5321 §4.5.4.1).
  return { permanent: false, status: timeout ? '4.4.2' : '4.4.1', diagnostic: `${host}: ${detail}`, fromRemote: Boolean(e.response), remoteMta: host };
}

/**
 * Takes the due rows once and delivers them: the worker's round, and what tests call to drive the
 * queue with a manual clock. `workerId` names the lease owner (default: this process).
 */
export async function runDeliveryOnce(ctx: AppContext, options: { workerId?: string } = {}): Promise<DeliveryRunSummary> {
  const owner = `${options.workerId ?? `${hostname()}:${process.pid}`}:${randomBytes(6).toString('hex')}`;
  const summary: DeliveryRunSummary = { taken: 0, delivered: 0, deferred: 0, bounced: 0, expired: 0 };
  const rows = await claimDueRows(ctx, owner);
  summary.taken = rows.length;
  if (rows.length === 0) return summary;
  const round: Round = { ctx, owner, summary };
  const heartbeat = setInterval(
    () => {
      void renewLeases(ctx, owner).catch((error) => ctx.log.warn({ event: 'delivery.lease_renewal_failed', err: error }, 'delivery.lease_renewal_failed'));
    },
    (ctx.config.delivery.leaseSeconds * 1000) / 3,
  );
  heartbeat.unref();
  try {
    const now = ctx.clock.now();
    const expired = rows.filter((row) => now >= row.expires_at);
    if (expired.length > 0) {
      await markFailed(
        round,
        expired.map((row) => ({
          row,
          failure: {
            permanent: true,
            status: '4.4.7',
            diagnostic: `Delivery time expired after ${ctx.config.delivery.maxQueueDays} days${row.last_error ? `; last error: ${row.last_error}` : ''}`,
            fromRemote: false,
          },
        })),
        'expired',
      );
    }
    const live = rows.filter((row) => now < row.expires_at);
    await runPool(
      groupBy(live, (row) => row.domain),
      MAX_PARALLEL_DOMAINS,
      async (group) => {
        try {
          await deliverDomain(round, group[0]?.domain as string, group);
        } catch (error) {
          // Rows left taken are retried when their lease runs out.
          ctx.log.error({ event: 'delivery.round_failed', domain: group[0]?.domain, err: error }, 'delivery.round_failed');
        }
      },
    );
  } finally {
    clearInterval(heartbeat);
  }
  return summary;
}

/**
 * Runs delivery rounds until stopped (the worker role): at once when a message is queued in this
 * process, else every `delivery.pollSeconds`. The returned function stops it after the round in progress.
 */
export function startDeliveryWorker(ctx: AppContext): () => Promise<void> {
  const workerId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  let stopped = false;
  let woken = false;
  let wake: (() => void) | undefined;
  const onWake = () => {
    woken = true;
    wake?.();
  };
  const set = wakers.get(ctx) ?? new Set();
  set.add(onWake);
  wakers.set(ctx, set);
  const loop = (async () => {
    while (!stopped) {
      woken = false;
      let full = false;
      try {
        const summary = await runDeliveryOnce(ctx, { workerId });
        full = summary.taken >= ctx.config.delivery.batchSize;
      } catch (error) {
        ctx.log.error({ event: 'delivery.worker_failed', err: error }, 'delivery.worker_failed');
      }
      if (stopped || full || woken) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ctx.config.delivery.pollSeconds * 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  })();
  return async () => {
    stopped = true;
    set.delete(onWake);
    wake?.();
    await loop;
  };
}
