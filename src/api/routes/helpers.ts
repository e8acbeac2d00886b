/** What the route modules share: scope of the caller, paging, operation wrappers, common schemas. */
import { Type as T, type TSchema } from '@sinclair/typebox';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import { customerScope } from '../../auth/principal.ts';
import type { AppContext } from '../../context.ts';
import { type Operation, type Progress, runOperation, startOperation } from '../../operations/index.ts';

export { operationView } from '../../operations/index.ts';

import { AppError, text } from '../../shared/errors.ts';
import type { Scope } from '../../tenancy/index.ts';
import { principalOf } from '../access.ts';
import type { TypeBoxProvider } from '../schemas.ts';

export { NoContent, replies } from '../schemas.ts';

/** The routes' Fastify: request and reply types come from each route's TypeBox schemas. */
export type Router = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxProvider>;

export function scopeOf(request: FastifyRequest): Scope {
  return customerScope(principalOf(request));
}

export const IdParams = T.Object({ id: T.String({ maxLength: 100 }) });

/** A strict query string: unknown parameters are errors (a typo must not widen a listing). */
export function Query<P extends Record<string, TSchema>>(properties: P) {
  return T.Object(properties, { additionalProperties: false });
}

const PAGE = {
  limit: T.Optional(T.Integer({ minimum: 1, maximum: 500, default: 100 })),
  after: T.Optional(T.String({ maxLength: 400 })),
};

/** Paging by cursor (`after` is the last item's key, returned as `next`), plus the given filters. */
export function PageQuery<P extends Record<string, TSchema> = Record<never, never>>(filters: P = {} as P) {
  return Query({ ...PAGE, ...filters });
}

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

/**
 * Credentials (admins, API tokens) are created by people logged in with two factors, not by API
 * tokens: a leaked token must not be able to mint more access that outlives its revocation.
 */
export function requireInteractive(request: FastifyRequest): void {
  if (principalOf(request).via === 'token') {
    throw new AppError(
      'forbidden',
      'interactive-only',
      text('Log in to the portal to create logins or tokens', 'Connectez-vous au portail pour créer des identifiants ou des jetons'),
    );
  }
}
