/** Self-service for whoever is logged in: profile, own password, and a user's app passwords. */
import { createAppPassword, deleteAppPassword, listAppPasswords } from '../../auth/index.ts';
import { checkPasswordRules, hashPassword, verifyPassword } from '../../auth/passwords.ts';
import { deleteSessionsOf } from '../../auth/sessions.ts';
import type { AppContext } from '../../context.ts';
import { AppError, notFound, text } from '../../shared/errors.ts';
import { accountView, getAccountRow, loginView } from '../../tenancy/index.ts';
import { principalOf } from '../access.ts';
import { Body, type Router, Str } from './helpers.ts';

const ALL = ['operator', 'customer_admin', 'user'] as const;

export function meRoutes(api: Router, ctx: AppContext): void {
  api.get('/me', { config: { access: [...ALL] }, schema: { tags: ['me'], summary: 'Who am I' } }, async (request) => {
    const principal = principalOf(request);
    if (principal.role === 'user') {
      return { role: 'user', account: accountView(await getAccountRow(ctx.db, principal.customerId, principal.id)) };
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
      schema: { tags: ['me'], summary: 'Change my password (ends my other sessions)', body: Body({ currentPassword: Str(1024), newPassword: Str(1024) }) },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { currentPassword, newPassword } = request.body as { currentPassword: string; newPassword: string };
      if (principal.via === 'token')
        throw new AppError('forbidden', 'forbidden', text('API tokens have no password', "Les jetons d'API n'ont pas de mot de passe"));
      const table = principal.role === 'user' ? 'accounts' : 'logins';
      const row = await ctx.db.selectFrom(table).select(['id', 'password_hash']).where('id', '=', principal.id).executeTakeFirstOrThrow();
      if (!(await verifyPassword(row.password_hash, currentPassword))) {
        throw new AppError('invalid', 'wrong-password', text('The current password is wrong', 'Le mot de passe actuel est incorrect'), {
          field: '/currentPassword',
        });
      }
      checkPasswordRules(newPassword, ctx.config.auth.minPasswordLength, '/newPassword');
      const now = ctx.clock.now();
      const hash = await hashPassword(newPassword);
      if (table === 'accounts')
        await ctx.db.updateTable('accounts').set({ password_hash: hash, password_changed_at: now, updated_at: now }).where('id', '=', row.id).execute();
      else await ctx.db.updateTable('logins').set({ password_hash: hash, updated_at: now }).where('id', '=', row.id).execute();
      await deleteSessionsOf(ctx, principal.id);
      return reply.code(204).send();
    },
  );

  api.get('/me/app-passwords', { config: { access: ['user'] }, schema: { tags: ['me'], summary: 'My app passwords for mail clients' } }, async (request) => {
    return { items: await listAppPasswords(ctx, principalOf(request).id) };
  });

  api.post(
    '/me/app-passwords',
    { config: { access: ['user'] }, schema: { tags: ['me'], summary: 'Create an app password (shown once)', body: Body({ name: Str(64) }) } },
    async (request, reply) => {
      const principal = principalOf(request);
      const account = await getAccountRow(ctx.db, principal.role === 'user' ? principal.customerId : null, principal.id);
      const created = await createAppPassword(ctx, account, (request.body as { name: string }).name);
      return reply.code(201).send({ ...created.appPassword, password: created.password });
    },
  );

  api.delete('/me/app-passwords/:id', { config: { access: ['user'] }, schema: { tags: ['me'], summary: 'Revoke an app password' } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!(await deleteAppPassword(ctx, principalOf(request).id, id))) throw notFound(text('No such app password', "Mot de passe d'application introuvable"));
    return reply.code(204).send();
  });
}
