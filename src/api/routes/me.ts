/**
 * Self-service for whoever is logged in: profile and language, own password, second factor (turn off,
 * new recovery codes), and a user's app passwords and mail client settings.
 */
import { Type as T } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import {
  changeOwnPassword,
  createAppPassword,
  customerScope,
  deleteAppPassword,
  disableOwnTotp,
  listAppPasswords,
  regenerateRecoveryCodes,
  setOwnLanguage,
} from '../../auth/index.ts';
import { MAX_PASSWORD_LENGTH } from '../../auth/passwords.ts';
import type { AppContext } from '../../context.ts';
import { notFound, text } from '../../shared/errors.ts';
import { accountView, getAccountRow, loginView } from '../../tenancy/index.ts';
import { principalOf } from '../access.ts';
import { AccountSchema, AppPasswordSchema, CreatedAppPassword, Items, LoginSchema, Role } from '../schemas.ts';
import { Body, IdParams, Lang, NoContent, type Router, recorded, replies, Str } from './helpers.ts';

const ALL = ['operator', 'customer_admin', 'user'] as const;

/** Who is calling: a mail user (its account), a login (operator or customer admin), or an API token. */
const MeReply = T.Object(
  {
    role: Role,
    account: T.Optional(AccountSchema),
    login: T.Optional(LoginSchema),
    customerId: T.Optional(T.String({ description: 'With an API token: the customer it acts for' })),
    tokenId: T.Optional(T.String()),
    passwordRules: T.Optional(
      T.Object(
        { minLength: T.Integer(), maxLength: T.Integer() },
        { additionalProperties: false, description: 'What a new password must be (to show beside the field; the API checks it)' },
      ),
    ),
  },
  { additionalProperties: false },
);

const Security = T.Union([T.Literal('tls'), T.Literal('starttls')], { description: 'tls: TLS from the first byte; starttls: upgraded after connecting' });
/** What a mail client needs to reach the mailbox, from the service's configuration. */
const ClientSettings = T.Object(
  {
    username: T.String({ description: 'The login name in every client: the full address' }),
    useAppPassword: T.Boolean({ description: 'Two-factor authentication is on: mail clients need an app password' }),
    webUrl: T.String(),
    servers: T.Array(
      T.Object(
        { protocol: T.Union([T.Literal('imap'), T.Literal('pop3'), T.Literal('smtp')]), host: T.String(), port: T.Integer(), security: Security },
        { additionalProperties: false },
      ),
      { description: 'Preferred first for each protocol (TLS from the first byte)' },
    ),
  },
  { additionalProperties: false },
);
const RecoveryCodes = T.Object({ recoveryCodes: T.Array(T.String(), { description: 'Shown once' }) }, { additionalProperties: false });

export function meRoutes(api: Router, ctx: AppContext): void {
  async function me(request: FastifyRequest) {
    const principal = principalOf(request);
    const passwordRules = { minLength: ctx.config.auth.minPasswordLength, maxLength: MAX_PASSWORD_LENGTH };
    if (principal.role === 'user') {
      return { role: 'user' as const, account: accountView(await getAccountRow(ctx.db, principal.customerId, principal.id)), passwordRules };
    }
    if (principal.via === 'token') return { role: principal.role, customerId: principal.customerId, tokenId: principal.id };
    const login = await ctx.db.selectFrom('logins').selectAll().where('id', '=', principal.id).executeTakeFirst();
    if (!login) throw notFound(text('No such login', 'Identifiant introuvable'));
    return { role: principal.role, login: loginView(login), passwordRules };
  }

  api.get('/me', { config: { access: [...ALL] }, schema: { tags: ['me'], summary: 'Who am I', response: replies({ 200: MeReply }) } }, me);

  api.patch(
    '/me',
    {
      config: { access: [...ALL] },
      schema: {
        tags: ['me'],
        summary: 'Change my language (notices and digests are sent in it)',
        body: Body({ language: Lang }),
        response: replies({ 200: MeReply }),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { language } = request.body;
      await recorded(ctx, request, { kind: 'me.language', customerId: customerScope(principal), subscriptionId: null, params: { language } }, () =>
        setOwnLanguage(ctx, principal, language),
      );
      return me(request);
    },
  );

  api.post(
    '/me/totp/recovery-codes',
    {
      config: { access: [...ALL] },
      schema: {
        tags: ['me'],
        summary: 'New recovery codes (the old ones stop working), after a current authenticator code',
        body: Body({ code: Str(32, { minLength: 1 }) }),
        response: replies({ 200: RecoveryCodes }),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return recorded(ctx, request, { kind: 'me.totp.recovery-codes', customerId: customerScope(principal), subscriptionId: null, params: {} }, () =>
        regenerateRecoveryCodes(ctx, principal, { code: request.body.code, ip: request.ip }),
      );
    },
  );

  api.post(
    '/me/totp/disable',
    {
      config: { access: [...ALL] },
      schema: {
        tags: ['me'],
        summary: 'Turn two-factor authentication off (mail users only), after the password and a current code',
        body: Body({ currentPassword: Str(1024), code: Str(32, { minLength: 1 }) }),
        response: replies({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { currentPassword, code } = request.body;
      await recorded(ctx, request, { kind: 'me.totp.disable', customerId: customerScope(principal), subscriptionId: null, params: {} }, () =>
        disableOwnTotp(ctx, principal, { currentPassword, code, ip: request.ip }),
      );
      return reply.code(204).send();
    },
  );

  api.get(
    '/me/client-settings',
    {
      config: { access: ['user'] },
      schema: {
        tags: ['me'],
        summary: 'What my mail clients need: host names, ports and TLS for IMAP, POP3 and SMTP submission',
        response: replies({ 200: ClientSettings }),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const account = await getAccountRow(ctx.db, principal.role === 'user' ? principal.customerId : null, principal.id);
      const { hostname, ports } = ctx.config;
      const candidates = [
        { protocol: 'imap', port: ports.imaps, security: 'tls' },
        { protocol: 'imap', port: ports.imap, security: 'starttls' },
        { protocol: 'pop3', port: ports.pop3s, security: 'tls' },
        { protocol: 'pop3', port: ports.pop3, security: 'starttls' },
        { protocol: 'smtp', port: ports.submissions, security: 'tls' },
        { protocol: 'smtp', port: ports.submission, security: 'starttls' },
      ] as const;
      return {
        username: account.address,
        useAppPassword: account.totp_enabled === 1,
        webUrl: ctx.config.publicUrl || `http://${hostname}:${ports.http}`,
        // A port of 0 is not listened on (or given by the system, unknown to clients): not shown.
        servers: candidates.filter((server) => server.port > 0).map((server) => ({ ...server, host: hostname })),
      };
    },
  );

  api.post(
    '/me/password',
    {
      config: { access: [...ALL] },
      schema: {
        tags: ['me'],
        summary: 'Change my password (ends my other sessions; wrong guesses are throttled)',
        body: Body({ currentPassword: Str(1024), newPassword: Str(1024) }),
        response: replies({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { currentPassword, newPassword } = request.body;
      await recorded(ctx, request, { kind: 'me.password', customerId: customerScope(principal), subscriptionId: null, params: {} }, () =>
        changeOwnPassword(ctx, principal, { currentPassword, newPassword, ip: request.ip, keepSessionId: request.session?.id ?? null }),
      );
      return reply.code(204).send();
    },
  );

  api.get(
    '/me/app-passwords',
    {
      config: { access: ['user'] },
      schema: { tags: ['me'], summary: 'My app passwords for mail clients', response: replies({ 200: Items(AppPasswordSchema) }) },
    },
    async (request) => {
      return { items: await listAppPasswords(ctx, principalOf(request).id) };
    },
  );

  api.post(
    '/me/app-passwords',
    {
      config: { access: ['user'] },
      schema: {
        tags: ['me'],
        summary: 'Create an app password (shown once)',
        body: Body({ name: Str(64) }),
        response: replies({ 201: CreatedAppPassword }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const account = await getAccountRow(ctx.db, principal.role === 'user' ? principal.customerId : null, principal.id);
      const { name } = request.body;
      const created = await recorded(
        ctx,
        request,
        { kind: 'me.app-password.create', customerId: account.customer_id, subscriptionId: null, params: { name } },
        () => createAppPassword(ctx, account, name),
      );
      return reply.code(201).send({ ...created.appPassword, password: created.password });
    },
  );

  api.delete(
    '/me/app-passwords/:id',
    { config: { access: ['user'] }, schema: { tags: ['me'], summary: 'Revoke an app password', params: IdParams, response: replies({ 204: NoContent }) } },
    async (request, reply) => {
      const { id } = request.params;
      const principal = principalOf(request);
      const deleted = await recorded(
        ctx,
        request,
        { kind: 'me.app-password.delete', customerId: customerScope(principal), subscriptionId: null, params: { id } },
        () => deleteAppPassword(ctx, principal.id, id),
      );
      if (!deleted) throw notFound(text('No such app password', "Mot de passe d'application introuvable"));
      return reply.code(204).send();
    },
  );
}
