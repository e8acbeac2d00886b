/** Logins with a second factor (R-A1), for the portal and the webmail. */
import { Type as T } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { beginTotpEnrolment, confirmTotpEnrolment, deleteSession, loginWithPassword, type NewSession, verifySecondFactor } from '../../auth/index.ts';
import type { AppContext } from '../../context.ts';
import { AppError, text } from '../../shared/errors.ts';
import { SESSION_COOKIE } from '../access.ts';
import { DateTime, Role, Stage } from '../schemas.ts';
import { Body, NoContent, type Router, replies, Str } from './helpers.ts';

const Credentials = Body({ email: Str(320, { minLength: 1 }), password: Str(1024, { minLength: 1 }) });
const Code = Body({ code: Str(32, { minLength: 1 }) });
const LoginReply = T.Object(
  { stage: Stage, role: Role, csrfToken: T.String({ description: 'Send it as x-csrf-token on changes' }), expiresAt: DateTime },
  { additionalProperties: false },
);
const SessionReply = T.Object(
  { stage: Stage, role: Role, id: T.String(), customerId: T.Union([T.String(), T.Null()]), csrfToken: T.String() },
  { additionalProperties: false },
);
const EnrolReply = T.Object(
  { secret: T.String({ description: 'Base32, for the authenticator app' }), uri: T.String({ description: 'otpauth:// URI (QR code)' }) },
  { additionalProperties: false },
);
const ConfirmReply = T.Object({ recoveryCodes: T.Array(T.String(), { description: 'Shown once' }) }, { additionalProperties: false });
const VerifyReply = T.Object({ stage: T.Literal('full') }, { additionalProperties: false });

function secureCookies(ctx: AppContext): boolean {
  const setting = ctx.config.auth.secureCookies;
  return setting === 'auto' ? ctx.config.publicUrl.startsWith('https:') : setting;
}

function setSessionCookie(ctx: AppContext, reply: FastifyReply, session: NewSession): void {
  reply.setCookie(SESSION_COOKIE, session.secret, {
    httpOnly: true,
    sameSite: 'strict', // the pages are ours: no link from elsewhere needs the session (digest links are anonymous)
    secure: secureCookies(ctx),
    path: '/',
    // Max-Age rather than Expires: a relative lifetime does not depend on the browser's clock agreeing with ours.
    maxAge: Math.max(0, Math.floor((session.expiresAt - ctx.clock.now()) / 1000)),
  });
}

export function authRoutes(api: Router, ctx: AppContext): void {
  api.post(
    '/auth/login',
    {
      config: { access: 'public' },
      schema: { tags: ['auth'], summary: 'Log in with e-mail and password', body: Credentials, response: replies({ 200: LoginReply }) },
    },
    async (request, reply) => {
      const { email, password } = request.body;
      const result = await loginWithPassword(ctx, { email, password, ip: request.ip });
      setSessionCookie(ctx, reply, result);
      return { stage: result.stage, role: result.role, csrfToken: result.csrfToken, expiresAt: new Date(result.expiresAt).toISOString() };
    },
  );

  api.get(
    '/auth/session',
    { config: { access: 'partial' }, schema: { tags: ['auth'], summary: 'The current session', response: replies({ 200: SessionReply }) } },
    async (request) => {
      const session = request.session;
      if (!session) throw new AppError('unauthenticated', 'no-session', text('No session', 'Aucune session'));
      return { stage: session.stage, role: session.principal_role, id: session.principal_id, customerId: session.customer_id, csrfToken: session.csrf_token };
    },
  );

  api.post(
    '/auth/totp/enrol',
    {
      config: { access: 'partial' },
      schema: { tags: ['auth'], summary: 'Start two-factor enrolment (TOTP, RFC 6238)', response: replies({ 200: EnrolReply }) },
    },
    async (request) => {
      const session = request.session;
      if (!session || session.stage === 'totp') throw new AppError('forbidden', 'wrong-stage', text('Enter your code first', "Saisissez d'abord votre code"));
      return beginTotpEnrolment(ctx, session);
    },
  );

  api.post(
    '/auth/totp/confirm',
    {
      config: { access: 'partial' },
      schema: { tags: ['auth'], summary: 'Confirm enrolment with a first code; returns recovery codes', body: Code, response: replies({ 200: ConfirmReply }) },
    },
    async (request) => {
      const session = request.session;
      if (!session || session.stage === 'totp') throw new AppError('forbidden', 'wrong-stage', text('Enter your code first', "Saisissez d'abord votre code"));
      return confirmTotpEnrolment(ctx, session, request.body.code);
    },
  );

  api.post(
    '/auth/totp/verify',
    {
      config: { access: 'partial' },
      schema: { tags: ['auth'], summary: 'Second step of a login: a TOTP or recovery code', body: Code, response: replies({ 200: VerifyReply }) },
    },
    async (request) => {
      const session = request.session;
      if (!session || session.stage !== 'totp')
        throw new AppError('forbidden', 'wrong-stage', text('No code is expected now', "Aucun code n'est attendu maintenant"));
      await verifySecondFactor(ctx, session, request.body.code, request.ip);
      return { stage: 'full' as const };
    },
  );

  api.post(
    '/auth/logout',
    { config: { access: 'partial' }, schema: { tags: ['auth'], summary: 'Log out', response: replies({ 204: NoContent }) } },
    async (request, reply) => {
      if (request.session) await deleteSession(ctx, request.session.id);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send();
    },
  );
}
