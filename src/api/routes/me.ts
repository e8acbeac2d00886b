/** Self-service for whoever is logged in: profile, own password, and a user's app passwords. */
import { Type as T } from '@sinclair/typebox';
import { changeOwnPassword, createAppPassword, customerScope, deleteAppPassword, listAppPasswords } from '../../auth/index.ts';
import type { AppContext } from '../../context.ts';
import { notFound, text } from '../../shared/errors.ts';
import { accountView, getAccountRow, loginView } from '../../tenancy/index.ts';
import { principalOf } from '../access.ts';
import { AccountSchema, AppPasswordSchema, CreatedAppPassword, Items, LoginSchema, Role } from '../schemas.ts';
import { Body, IdParams, NoContent, type Router, recorded, replies, Str } from './helpers.ts';

const ALL = ['operator', 'customer_admin', 'user'] as const;

/** Who is calling: a mail user (its account), a login (operator or customer admin), or an API token. */
const MeReply = T.Object(
  {
    role: Role,
    account: T.Optional(AccountSchema),
    login: T.Optional(LoginSchema),
    customerId: T.Optional(T.String({ description: 'With an API token: the customer it acts for' })),
    tokenId: T.Optional(T.String()),
  },
  { additionalProperties: false },
);

export function meRoutes(api: Router, ctx: AppContext): void {
  api.get('/me', { config: { access: [...ALL] }, schema: { tags: ['me'], summary: 'Who am I', response: replies({ 200: MeReply }) } }, async (request) => {
    const principal = principalOf(request);
    if (principal.role === 'user') {
      return { role: 'user' as const, account: accountView(await getAccountRow(ctx.db, principal.customerId, principal.id)) };
    }
    if (principal.via === 'token') return { role: principal.role, customerId: principal.customerId, tokenId: principal.id };
    const login = await ctx.db.selectFrom('logins').selectAll().where('id', '=', principal.id).executeTakeFirst();
    if (!login) throw notFound(text('No such login', 'Identifiant introuvable'));
    return { role: principal.role, login: loginView(login) };
  });

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
