/**
 * Portal operations (R-T5): every change a customer or the operator makes runs as a recorded
 * operation (who, what, when, parameters, result, duration). Changes to one subscription are
 * serialised by a lock row: a long operation running in the background makes any other change to
 * the same subscription fail at once with `busy` (HTTP 409, naming what runs); a quick one makes
 * others wait a moment. Locks carry a lease renewed by a heartbeat, so a crash leaves the operation
 * marked failed once its lease runs out, never locked forever.
 */
import type { Principal } from '../auth/principal.ts';
import type { AppContext } from '../context.ts';
import { AppError, isAppError, text } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { isUniqueViolation, type OperationsTable } from '../store/index.ts';

export type Operation = OperationsTable;

export interface OperationSpec {
  kind: string;
  actor: Principal;
  customerId: string | null;
  /** The subscription the operation changes, which it locks; null for changes outside any subscription. */
  subscriptionId: string | null;
  params: Record<string, unknown>;
}

export interface Progress {
  /** Records progress (0..100) and what is being done; also renews the lease. */
  report(percent: number, message: string): Promise<void>;
}

/** How long a quick operation waits for another quick one on the same subscription. */
const QUICK_WAIT_MS = 5_000;
const HEARTBEAT_FRACTION = 3;

function leaseMs(ctx: AppContext): number {
  return ctx.config.operations.leaseSeconds * 1000;
}

async function insertOperation(ctx: AppContext, spec: OperationSpec): Promise<Operation> {
  const now = ctx.clock.now();
  const op: Operation = {
    id: newId('op'),
    customer_id: spec.customerId,
    subscription_id: spec.subscriptionId,
    kind: spec.kind,
    actor_role: spec.actor.role,
    actor_id: spec.actor.id,
    params: JSON.stringify(redactParams(spec.params)),
    status: 'running',
    progress: 0,
    progress_message: null,
    result: null,
    error: null,
    created_at: now,
    finished_at: null,
    lease_until: now + leaseMs(ctx),
  };
  await ctx.db.insertInto('operations').values(op).execute();
  return op;
}

/**
 * Passwords and secrets never reach the journal, at any depth of the parameters or of the result
 * (a created account's generated password, a new API token's secret are shown to the caller once).
 */
/** Keys whose values are secrets: passwords (given or generated), token secrets, TOTP secrets. */
const SECRET_KEY = /^(password|.*Password|secret|.*Secret|token|recoveryCodes|.*_hash)$/;

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = SECRET_KEY.test(key) && item !== undefined ? '[redacted]' : redact(item);
  return out;
}

function redactParams(params: Record<string, unknown>): Record<string, unknown> {
  return redact(params) as Record<string, unknown>;
}

function busyError(holder: Operation | undefined): AppError {
  const what = holder ? ` (${holder.kind}, ${holder.progress} %)` : '';
  return new AppError(
    'busy',
    'operation-running',
    text(
      `Another operation is running on this subscription${what}: try again when it has finished`,
      `Une autre opération est en cours sur cet abonnement${what} : réessayez lorsqu'elle sera terminée`,
    ),
    holder ? { details: { operation: { id: holder.id, kind: holder.kind, progress: holder.progress, progressMessage: holder.progress_message } } } : {},
  );
}

/** Takes the subscription's lock for `op`, or throws `busy`. Expired locks are taken over. */
async function acquireLock(ctx: AppContext, subscriptionId: string, op: Operation, background: boolean): Promise<void> {
  const deadline = Date.now() + (background ? 0 : QUICK_WAIT_MS);
  for (let attempt = 0; ; attempt++) {
    const now = ctx.clock.now();
    try {
      await ctx.db
        .insertInto('operation_locks')
        .values({ subscription_id: subscriptionId, operation_id: op.id, background: background ? 1 : 0, lease_until: now + leaseMs(ctx) })
        .execute();
      return;
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
    }
    const lock = await ctx.db.selectFrom('operation_locks').selectAll().where('subscription_id', '=', subscriptionId).executeTakeFirst();
    if (!lock) continue; // released meanwhile
    if (lock.lease_until <= now) {
      await failInterrupted(ctx, lock.operation_id);
      continue;
    }
    if (lock.background === 1 || Date.now() >= deadline) {
      const holder = await ctx.db.selectFrom('operations').selectAll().where('id', '=', lock.operation_id).executeTakeFirst();
      throw busyError(holder);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(5 * 2 ** attempt, 100)));
  }
}

async function releaseLock(ctx: AppContext, op: Operation): Promise<void> {
  if (op.subscription_id) {
    await ctx.db.deleteFrom('operation_locks').where('subscription_id', '=', op.subscription_id).where('operation_id', '=', op.id).execute();
  }
}

async function finish(ctx: AppContext, op: Operation, outcome: { result: unknown } | { error: unknown }): Promise<void> {
  const now = ctx.clock.now();
  if ('result' in outcome) {
    await ctx.db
      .updateTable('operations')
      .set({ status: 'succeeded', progress: 100, result: JSON.stringify(redact(outcome.result ?? null)), finished_at: now })
      .where('id', '=', op.id)
      .where('status', '=', 'running') // an operation already failed as interrupted stays failed
      .execute();
    ctx.log.info({ event: 'operation.succeeded', operation: op.id, kind: op.kind, ms: now - op.created_at }, 'operation.succeeded');
  } else {
    const error = outcome.error;
    const publicError = isAppError(error)
      ? { code: error.code, kind: error.kind, en: error.text.en, fr: error.text.fr, field: error.field }
      : { code: 'internal', kind: 'temp', en: 'Internal error', fr: 'Erreur interne' };
    await ctx.db
      .updateTable('operations')
      .set({ status: 'failed', error: JSON.stringify(publicError), finished_at: now })
      .where('id', '=', op.id)
      .where('status', '=', 'running')
      .execute();
    ctx.log[isAppError(error) ? 'info' : 'error']({ event: 'operation.failed', operation: op.id, kind: op.kind, err: error }, 'operation.failed');
  }
  await releaseLock(ctx, op);
}

function progressOf(ctx: AppContext, op: Operation): Progress {
  return {
    async report(percent, message) {
      const now = ctx.clock.now();
      const progress = Math.max(0, Math.min(99, Math.round(percent)));
      await ctx.db
        .updateTable('operations')
        .set({ progress, progress_message: message, lease_until: now + leaseMs(ctx) })
        .where('id', '=', op.id)
        .execute();
      if (op.subscription_id) {
        await ctx.db
          .updateTable('operation_locks')
          .set({ lease_until: now + leaseMs(ctx) })
          .where('operation_id', '=', op.id)
          .execute();
      }
    },
  };
}

async function start(ctx: AppContext, spec: OperationSpec, background: boolean): Promise<Operation> {
  const op = await insertOperation(ctx, spec);
  if (spec.subscriptionId) {
    try {
      await acquireLock(ctx, spec.subscriptionId, op, background);
    } catch (error) {
      await finish(ctx, { ...op, subscription_id: null }, { error });
      throw error;
    }
  }
  return op;
}

/** Runs a quick operation to its end and returns its result; failures are recorded and rethrown. */
export async function runOperation<T>(ctx: AppContext, spec: OperationSpec, work: (progress: Progress) => Promise<T>): Promise<T> {
  const op = await start(ctx, spec, false);
  try {
    const result = await work(progressOf(ctx, op));
    await finish(ctx, op, { result });
    return result;
  } catch (error) {
    await finish(ctx, op, { error });
    throw error;
  }
}

/** Background operations still running in this process, so shutdown and tests can wait for them. */
const running = new Set<Promise<unknown>>();

/**
 * Starts a long operation and returns it at once, running; the work goes on in the background with a
 * heartbeat renewing its lease. Its progress and outcome are read with `getOperation`.
 */
export async function startOperation(ctx: AppContext, spec: OperationSpec, work: (progress: Progress) => Promise<unknown>): Promise<Operation> {
  const op = await start(ctx, spec, true);
  const progress = progressOf(ctx, op);
  const heartbeat = setInterval(() => {
    const now = ctx.clock.now();
    void ctx.db
      .updateTable('operations')
      .set({ lease_until: now + leaseMs(ctx) })
      .where('id', '=', op.id)
      .where('status', '=', 'running')
      .execute();
    void ctx.db
      .updateTable('operation_locks')
      .set({ lease_until: now + leaseMs(ctx) })
      .where('operation_id', '=', op.id)
      .execute();
  }, leaseMs(ctx) / HEARTBEAT_FRACTION);
  heartbeat.unref();
  const task = (async () => {
    try {
      await finish(ctx, op, { result: await work(progress) });
    } catch (error) {
      await finish(ctx, op, { error }).catch((e) => ctx.log.error({ err: e }, 'operation.finish_failed'));
    } finally {
      clearInterval(heartbeat);
    }
  })();
  running.add(task);
  void task.finally(() => running.delete(task));
  return op;
}

/** Waits for this process's background operations (shutdown, tests). */
export async function settleOperations(): Promise<void> {
  while (running.size > 0) await Promise.allSettled([...running]);
}

async function failInterrupted(ctx: AppContext, operationId: string): Promise<void> {
  const error = {
    code: 'interrupted',
    kind: 'temp',
    en: 'The operation was interrupted (service restart)',
    fr: "L'opération a été interrompue (redémarrage du service)",
  };
  await ctx.db
    .updateTable('operations')
    .set({ status: 'failed', error: JSON.stringify(error), finished_at: ctx.clock.now() })
    .where('id', '=', operationId)
    .where('status', '=', 'running')
    .execute();
  await ctx.db.deleteFrom('operation_locks').where('operation_id', '=', operationId).execute();
  ctx.log.warn({ event: 'operation.interrupted', operation: operationId }, 'operation.interrupted');
}

/** Marks as failed every running operation whose lease has run out (its process died). Safe to run any time. */
export async function recoverInterruptedOperations(ctx: AppContext): Promise<number> {
  const stale = await ctx.db.selectFrom('operations').select('id').where('status', '=', 'running').where('lease_until', '<=', ctx.clock.now()).execute();
  for (const { id } of stale) await failInterrupted(ctx, id);
  return stale.length;
}

/** An operation as the API and the CLI show it. */
/** The cursor of the page that follows `op` in the journal (newest first). */
export function operationCursor(op: Operation): string {
  return `${op.created_at}.${op.id}`;
}

export function parseOperationCursor(cursor: string): { createdAt: number; id: string } | undefined {
  const match = /^(\d{1,16})\.([a-z]+_[A-Za-z0-9]{1,64})$/.exec(cursor);
  return match ? { createdAt: Number(match[1]), id: match[2] as string } : undefined;
}

export function operationView(op: Operation) {
  return {
    id: op.id,
    kind: op.kind,
    status: op.status,
    progress: op.progress,
    progressMessage: op.progress_message,
    customerId: op.customer_id,
    subscriptionId: op.subscription_id,
    actor: { role: op.actor_role, id: op.actor_id },
    params: JSON.parse(op.params) as unknown,
    result: op.result ? (JSON.parse(op.result) as unknown) : null,
    error: op.error ? (JSON.parse(op.error) as unknown) : null,
    createdAt: new Date(op.created_at).toISOString(),
    finishedAt: op.finished_at ? new Date(op.finished_at).toISOString() : null,
    durationMs: op.finished_at ? op.finished_at - op.created_at : null,
  };
}

export async function getOperation(ctx: AppContext, scope: string | null, id: string): Promise<Operation | undefined> {
  let query = ctx.db.selectFrom('operations').selectAll().where('id', '=', id);
  if (scope !== null) query = query.where('customer_id', '=', scope);
  return query.executeTakeFirst();
}

export async function listOperations(
  ctx: AppContext,
  scope: string | null,
  filter: {
    subscriptionId?: string;
    status?: Operation['status'];
    limit: number;
    before?: number;
    /** Only operations after this one in the listing's order (newest first): the cursor of the next page. */
    after?: { createdAt: number; id: string };
  },
): Promise<Operation[]> {
  let query = ctx.db.selectFrom('operations').selectAll();
  if (scope !== null) query = query.where('customer_id', '=', scope);
  if (filter.subscriptionId) query = query.where('subscription_id', '=', filter.subscriptionId);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.before) query = query.where('created_at', '<', filter.before);
  const after = filter.after;
  // Operations started in the same millisecond are told apart by id, the listing's second key: none is skipped.
  if (after)
    query = query.where((eb) => eb.or([eb('created_at', '<', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '<', after.id)])]));
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}
