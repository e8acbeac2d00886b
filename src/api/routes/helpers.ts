/** What the route modules share: scope of the caller, paging, operation wrappers, common schemas. */
import { Type as T, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { customerScope, type Principal } from '../../auth/principal.ts';
import type { AppContext } from '../../context.ts';
import { type Operation, type Progress, runOperation, startOperation } from '../../operations/index.ts';
import type { Scope } from '../../tenancy/index.ts';
import { principalOf } from '../access.ts';

export type Router = FastifyInstance;

export function scopeOf(request: FastifyRequest): Scope {
  return customerScope(principalOf(request));
}

export const IdParams = T.Object({ id: T.String({ maxLength: 100 }) });

export const PageQuery = T.Object(
  {
    limit: T.Optional(T.Integer({ minimum: 1, maximum: 500, default: 100 })),
    after: T.Optional(T.String({ maxLength: 400 })),
  },
  { additionalProperties: false },
);

/** A strict body schema: unknown fields are errors. */
export function Body<P extends Record<string, TSchema>>(properties: P) {
  return T.Object(properties, { additionalProperties: false });
}

export const Str = (maxLength: number, options: { minLength?: number } = {}) => T.String({ maxLength, ...options });
export const Lang = T.Union([T.Literal('en'), T.Literal('fr')]);

export interface OperationTarget {
  kind: string;
  customerId: string | null;
  subscriptionId: string | null;
  params: Record<string, unknown>;
}

/** Runs a quick change as a recorded operation. */
export function recorded<T>(ctx: AppContext, request: FastifyRequest, target: OperationTarget, work: (progress: Progress) => Promise<T>): Promise<T> {
  return runOperation(ctx, { ...target, actor: principalOf(request) }, work);
}

/** Starts a long change in the background; the route answers 202 with the operation to poll. */
export function started(ctx: AppContext, request: FastifyRequest, target: OperationTarget, work: (progress: Progress) => Promise<unknown>): Promise<Operation> {
  return startOperation(ctx, { ...target, actor: principalOf(request) }, work);
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

export function actorOf(request: FastifyRequest): Principal {
  return principalOf(request);
}
