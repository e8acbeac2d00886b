/** Logins with a second factor (R-A1), for the portal and the webmail. */
import type { FastifyReply } from 'fastify';
import { beginTotpEnrolment, confirmTotpEnrolment, deleteSession, loginWithPassword, type NewSession, verifySecondFactor } from '../../auth/index.ts';
import type { AppContext } from '../../context.ts';
import { AppError, text } from '../../shared/errors.ts';
import { SESSION_COOKIE } from '../access.ts';
import { Body, type Router, Str } from './helpers.ts';

const Credentials = Body({ email: Str(320, { minLength: 1 }), password: Str(1024, { minLength: 1 }) });
const Code = Body({ code: Str(32, { minLength: 1 }) });

function secureCookies(ctx: AppContext): boolean {
  const setting = ctx.config.auth.secureCookies;
  return setting === 'auto' ? ctx.config.publicUrl.startsWith('https:') : setting;
}

function setSessionCookie(ctx: AppContext, reply: FastifyReply, session: NewSession): void {
  reply.setCookie(SESSION_COOKIE, session.secret, {
    httpOnly: true,
    sameSite: 'lax',
    secure: secureCookies(ctx),
    path: '/',
    expires: new Date(session.expiresAt),
  });
}

export function authRoutes(api: Router, ctx: AppContext): void {
  api.post(
    '/auth/login',
    { config: { access: 'public' }, schema: { tags: ['auth'], summary: 'Log in with e-mail and password', body: Credentials } },
    async (request, reply) => {
      const { email, password } = request.body as { email: string; password: string };
      const result = await loginWithPassword(ctx, { email, password, ip: request.ip });
      setSessionCookie(ctx, reply, result);
      return { stage: result.stage, role: result.role, csrfToken: result.csrfToken, expiresAt: new Date(result.expiresAt).toISOString() };
    },
  );

  api.get('/auth/session', { config: { access: 'partial' }, schema: { tags: ['auth'], summary: 'The current session' } }, async (request) => {
    const session = request.session;
    if (!session) throw new AppError('unauthenticated', 'no-session', text('No session', 'Aucune session'));
    return { stage: session.stage, role: session.principal_role, id: session.principal_id, customerId: session.customer_id, csrfToken: session.csrf_token };
  });

  api.post(
    '/auth/totp/enrol',
    { config: { access: 'partial' }, schema: { tags: ['auth'], summary: 'Start two-factor enrolment (TOTP, RFC 6238)' } },
    async (request) => {
      const session = request.session;
      if (!session || session.stage === 'totp') throw new AppError('forbidden', 'wrong-stage', text('Enter your code first', "Saisissez d'abord votre code"));
      return beginTotpEnrolment(ctx, session);
    },
  );

  api.post(
    '/auth/totp/confirm',
    { config: { access: 'partial' }, schema: { tags: ['auth'], summary: 'Confirm enrolment with a first code; returns recovery codes', body: Code } },
    async (request) => {
      const session = request.session;
      if (!session || session.stage === 'totp') throw new AppError('forbidden', 'wrong-stage', text('Enter your code first', "Saisissez d'abord votre code"));
      return confirmTotpEnrolment(ctx, session, (request.body as { code: string }).code);
    },
  );

  api.post(
    '/auth/totp/verify',
    { config: { access: 'partial' }, schema: { tags: ['auth'], summary: 'Second step of a login: a TOTP or recovery code', body: Code } },
    async (request) => {
      const session = request.session;
      if (!session || session.stage !== 'totp')
        throw new AppError('forbidden', 'wrong-stage', text('No code is expected now', "Aucun code n'est attendu maintenant"));
      await verifySecondFactor(ctx, session, (request.body as { code: string }).code, request.ip);
      return { stage: 'full' };
    },
  );

  api.post('/auth/logout', { config: { access: 'partial' }, schema: { tags: ['auth'], summary: 'Log out' } }, async (request, reply) => {
    if (request.session) await deleteSession(ctx, request.session.id);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send();
  });
}
