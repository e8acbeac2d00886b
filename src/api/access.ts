/**
 * Who may call a route. Every route declares `config.access`: 'anonymous' (credentials are not even
 * looked at: links mailed to users, which must work whoever is logged in in the same browser), 'public', 'partial' (a session still
 * in its second-factor stage may call it), or the roles allowed. A route without a declaration is
 * refused at start-up. Authentication is by API token (Authorization: Bearer fct_…) or session
 * cookie; cookie-authenticated requests that change something must echo the session's CSRF token.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { findApiToken } from '../auth/api-tokens.ts';
import type { Principal, Role } from '../auth/principal.ts';
import { findSession } from '../auth/sessions.ts';
import type { AppContext } from '../context.ts';
import { AppError, text } from '../shared/errors.ts';
import type { SessionsTable } from '../store/index.ts';

export type Access = 'anonymous' | 'public' | 'partial' | Role[];

export const SESSION_COOKIE = 'facteur_session';
export const CSRF_HEADER = 'x-csrf-token';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
    session: SessionsTable | null;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const unauthenticated = () => new AppError('unauthenticated', 'unauthenticated', text('Log in first', "Connectez-vous d'abord"));
/** A session past its password but not its second factor (R-A1): say which step is left, not "log in". */
function secondFactorPending(session: SessionsTable): AppError {
  const message =
    session.stage === 'enrol'
      ? text(
          'Finish setting up two-factor authentication first (POST /api/auth/totp/enrol, then /api/auth/totp/confirm)',
          "Terminez d'abord la configuration de l'authentification à deux facteurs (POST /api/auth/totp/enrol, puis /api/auth/totp/confirm)",
        )
      : text(
          'Enter your two-factor authentication code first (POST /api/auth/totp/verify)',
          "Saisissez d'abord votre code d'authentification à deux facteurs (POST /api/auth/totp/verify)",
        );
  return new AppError('unauthenticated', 'second-factor-required', message, { details: { stage: session.stage } });
}
const forbidden = () => new AppError('forbidden', 'forbidden', text('Your role does not allow this', 'Votre rôle ne permet pas cela'));

function principalOfSession(session: SessionsTable): Principal {
  if (session.principal_role === 'operator') return { role: 'operator', id: session.principal_id, via: 'session' };
  return { role: session.principal_role, id: session.principal_id, customerId: session.customer_id as string, via: 'session' };
}

/** Constant-time comparison, so response timing says nothing about how much of a token was right. */
function sameSecret(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function authenticate(ctx: AppContext, request: FastifyRequest): Promise<void> {
  const authorization = request.headers.authorization;
  if (authorization?.startsWith('Bearer ')) {
    const token = await findApiToken(ctx, authorization.slice(7).trim());
    if (!token) throw new AppError('unauthenticated', 'invalid-token', text('Invalid or expired API token', "Jeton d'API invalide ou expiré"));
    request.principal = { role: 'customer_admin', id: token.id, customerId: token.customer_id, via: 'token' };
    return;
  }
  const cookie = request.cookies[SESSION_COOKIE];
  if (!cookie) return;
  const session = await findSession(ctx, cookie);
  if (!session) return;
  request.session = session;
  if (!SAFE_METHODS.has(request.method) && !sameSecret(request.headers[CSRF_HEADER], session.csrf_token)) {
    throw new AppError('forbidden', 'csrf', text('Missing or wrong CSRF token: reload the page', 'Jeton CSRF absent ou incorrect : rechargez la page'));
  }
  if (session.stage === 'full') request.principal = principalOfSession(session);
}

export function registerAccess(app: FastifyInstance, ctx: AppContext): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('session', null);
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/') && !route.config?.access && !route.url.startsWith('/api/docs')) {
      throw new Error(`route ${route.method} ${route.url} does not declare who may call it (config.access)`);
    }
  });
  // onRequest: who may call is settled before the body is even read or validated.
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    if (!access || access === 'anonymous') return;
    await authenticate(ctx, request);
    if (access === 'public') return;
    if (access === 'partial') {
      if (!request.session && !request.principal) throw unauthenticated();
      return;
    }
    if (!request.principal) throw request.session ? secondFactorPending(request.session) : unauthenticated();
    if (!access.includes(request.principal.role)) throw forbidden();
  });
}

/** The principal of an authenticated route (its access declaration guarantees one). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthenticated();
  return request.principal;
}
