/**
 * Traffic metadata (R-M6, contract §2 "Métadonnées"): every step of every message's path — received,
 * refused, verdicts, stored, queued, attempted, delivered, deferred, bounced, quarantined, deleted —
 * is recorded with who, what and when, and searchable by the operator and, for its own domains, by the
 * customer. Contents never go here: only envelope addresses, Message-ID, sizes and outcomes.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import type { AppContext } from '../context.ts';
import { addressKey, normalizeAddress } from '../shared/addresses.ts';
import { invalid } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { Database, MessageTraceTable } from '../store/index.ts';

export type TraceStep = MessageTraceTable['step'];

export interface TraceEvent {
  step: TraceStep;
  direction: MessageTraceTable['direction'];
  customerId?: string | null;
  sessionId?: string | null;
  messageId?: string | null;
  sender: string;
  recipient?: string | null;
  detail?: Record<string, unknown>;
}

export interface TraceEntry {
  id: string;
  at: string;
  step: TraceStep;
  direction: MessageTraceTable['direction'];
  customerId: string | null;
  sessionId: string | null;
  messageId: string | null;
  sender: string;
  recipient: string | null;
  detail: Record<string, unknown>;
}

/** The Message-ID without its angle brackets, as it is searched. */
export function bareMessageId(value: string | null | undefined): string | null {
  const trimmed = value?.trim().replace(/^<|>$/g, '');
  return trimmed ? trimmed.slice(0, 500) : null;
}

/**
 * Records steps. A trace write never fails the mail it describes: an error is logged, not thrown
 * (the message itself is already safe when its steps are recorded).
 */
export async function recordTrace(ctx: AppContext, events: TraceEvent[]): Promise<void> {
  const rows = traceRows(ctx, events);
  if (rows) await insertTrace(ctx, ctx.db, rows);
}

/**
 * Records steps inside the caller's transaction, so they commit with the change they describe (the
 * MX's trace shares the group commit of the delivery: no commit of its own). A failed trace write is
 * logged and undone alone, without failing the transaction: on PostgreSQL, where a failed statement
 * aborts its transaction, through a savepoint; SQLite undoes just the failed statement by itself.
 */
export async function recordTraceIn(ctx: AppContext, trx: Transaction<Database>, events: TraceEvent[]): Promise<void> {
  const rows = traceRows(ctx, events);
  if (!rows) return;
  if (ctx.engine === 'sqlite') {
    await insertTrace(ctx, trx, rows);
    return;
  }
  await sql`savepoint trace`.execute(trx);
  if (await insertTrace(ctx, trx, rows)) await sql`release savepoint trace`.execute(trx);
  else {
    await sql`rollback to savepoint trace`.execute(trx);
    await sql`release savepoint trace`.execute(trx);
  }
}

function traceRows(ctx: AppContext, events: TraceEvent[]): MessageTraceTable[] | undefined {
  if (events.length === 0) return undefined;
  const at = ctx.clock.now();
  try {
    return events.map((event) => ({
      id: newId('trc'),
      customer_id: event.customerId ?? null,
      session_id: event.sessionId ?? null,
      message_id: bareMessageId(event.messageId),
      step: event.step,
      direction: event.direction,
      sender: event.sender.toLowerCase().slice(0, 320),
      recipient: event.recipient?.toLowerCase().slice(0, 320) ?? null,
      detail: JSON.stringify(event.detail ?? {}),
      at,
    }));
  } catch (error) {
    ctx.log.error({ err: error, event: 'trace.write_failed', steps: events.length }, 'trace.write_failed');
    return undefined;
  }
}

async function insertTrace(ctx: AppContext, db: Kysely<Database>, rows: MessageTraceTable[]): Promise<boolean> {
  try {
    await db.insertInto('message_trace').values(rows).execute();
    return true;
  } catch (error) {
    ctx.log.error({ err: error, event: 'trace.write_failed', steps: rows.length }, 'trace.write_failed');
    return false;
  }
}

function entryView(row: MessageTraceTable): TraceEntry {
  return {
    id: row.id,
    at: new Date(Number(row.at)).toISOString(),
    step: row.step,
    direction: row.direction,
    customerId: row.customer_id,
    sessionId: row.session_id,
    messageId: row.message_id,
    sender: row.sender,
    recipient: row.recipient,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
  };
}

export interface TraceQuery {
  address?: string;
  messageId?: string;
  limit: number;
}

/**
 * The steps matching an address (as sender or recipient) or a Message-ID, newest first, with every
 * other step of the same transfers. A customer sees only the steps of its own mail.
 */
export async function searchTrace(ctx: AppContext, scope: string | null, query: TraceQuery): Promise<TraceEntry[]> {
  if (!query.address && !query.messageId) {
    throw invalid('missing-criterion', 'address', 'Give an address or a Message-ID', 'Indiquez une adresse ou un Message-ID');
  }
  let base = ctx.db.selectFrom('message_trace').selectAll();
  if (scope !== null) base = base.where('customer_id', '=', scope);
  if (query.address) {
    const parsed = normalizeAddress(query.address);
    if (!parsed)
      throw invalid(
        'invalid-address',
        'address',
        `"${query.address}" is not a valid e-mail address`,
        `« ${query.address} » n'est pas une adresse e-mail valide`,
      );
    const key = addressKey(parsed);
    base = base.where((eb) => eb.or([eb('recipient', '=', key), eb('sender', '=', key)]));
  }
  const messageId = bareMessageId(query.messageId);
  if (messageId) base = base.where('message_id', '=', messageId);
  const matches = await base.orderBy('at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
  // Bring in the other steps of the same sessions (e.g. "received" has no recipient of its own) and of
  // the same messages (a forward's queue entry is a transfer of its own, tied by the Message-ID).
  const sessions = [...new Set(matches.map((m) => m.session_id).filter((s): s is string => s !== null))].slice(0, 500);
  const messages = [...new Set(matches.map((m) => m.message_id).filter((s): s is string => s !== null))].slice(0, 100);
  let related: MessageTraceTable[] = [];
  if (sessions.length > 0 || messages.length > 0) {
    let more = ctx.db
      .selectFrom('message_trace')
      .selectAll()
      .where((eb) => {
        const either = [];
        if (sessions.length > 0) either.push(eb('session_id', 'in', sessions));
        if (messages.length > 0) either.push(eb('message_id', 'in', messages));
        return eb.or(either);
      });
    if (scope !== null) more = more.where('customer_id', '=', scope);
    related = await more.limit(query.limit * 20).execute();
  }
  const byId = new Map([...matches, ...related].map((row) => [row.id, row]));
  return [...byId.values()].sort((a, b) => Number(b.at) - Number(a.at) || (a.id < b.id ? 1 : -1)).map(entryView);
}
