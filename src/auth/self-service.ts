/** What anyone logged in may do to their own credentials. */
import type { AppContext } from '../context.ts';
import { AppError, text } from '../shared/errors.ts';
import { checkPasswordRules, hashPassword, verifyPassword } from './passwords.ts';
import type { Principal } from './principal.ts';

/**
 * Changes one's own password after checking the current one (wrong guesses are throttled like
 * logins), then ends every other session of the principal; `keepSessionId` stays logged in.
 */
export async function changeOwnPassword(
  ctx: AppContext,
  principal: Principal,
  input: { currentPassword: string; newPassword: string; ip: string; keepSessionId: string | null },
): Promise<void> {
  if (principal.via === 'token' || principal.via === 'cli') {
    throw new AppError('forbidden', 'forbidden', text('API tokens have no password', "Les jetons d'API n'ont pas de mot de passe"));
  }
  const table = principal.role === 'user' ? 'accounts' : 'logins';
  const row = await ctx.db.selectFrom(table).select(['id', 'password_hash']).where('id', '=', principal.id).executeTakeFirstOrThrow();
  const throttleKey = `password-change:${principal.id}`;
  await ctx.throttle.check(throttleKey, input.ip);
  if (!(await verifyPassword(row.password_hash, input.currentPassword))) {
    await ctx.throttle.recordFailure(throttleKey, input.ip);
    throw new AppError('invalid', 'wrong-password', text('The current password is wrong', 'Le mot de passe actuel est incorrect'), {
      field: 'currentPassword',
    });
  }
  checkPasswordRules(input.newPassword, ctx.config.auth.minPasswordLength, 'newPassword');
  const now = ctx.clock.now();
  const hash = await hashPassword(input.newPassword);
  if (table === 'accounts') {
    await ctx.db.updateTable('accounts').set({ password_hash: hash, password_changed_at: now, updated_at: now }).where('id', '=', row.id).execute();
  } else {
    await ctx.db.updateTable('logins').set({ password_hash: hash, updated_at: now }).where('id', '=', row.id).execute();
  }
  let others = ctx.db.deleteFrom('sessions').where('principal_id', '=', principal.id);
  if (input.keepSessionId) others = others.where('id', '!=', input.keepSessionId);
  await others.execute();
  ctx.log.info({ event: 'auth.password_changed', principal: principal.id }, 'auth.password_changed');
}
