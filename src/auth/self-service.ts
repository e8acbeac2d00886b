/** What anyone logged in may do to their own credentials. */
import type { AppContext } from '../context.ts';
import { AppError, text } from '../shared/errors.ts';
import { checkPasswordRules, hashPassword, verifyPassword } from './passwords.ts';
import type { Principal } from './principal.ts';
import { newRecoveryCodes, verifyTotp } from './totp.ts';

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

const TOTP_TABLE = (principal: Principal) => (principal.role === 'user' ? 'accounts' : 'logins');

function interactiveOnly(principal: Principal): void {
  if (principal.via === 'token' || principal.via === 'cli') {
    throw new AppError(
      'forbidden',
      'interactive-only',
      text('Only a person logged in can change their second factor', 'Seule une personne connectée peut changer son second facteur'),
    );
  }
}

/**
 * Checks a current authenticator code of the principal (not a recovery code: these changes prove that
 * the authenticator is at hand) and claims its time step, so the code cannot serve again (RFC 6238 §5.2).
 */
async function claimTotpCode(ctx: AppContext, principal: Principal, code: string, ip: string): Promise<void> {
  const table = TOTP_TABLE(principal);
  const row = await ctx.db
    .selectFrom(table)
    .select(['id', 'totp_secret', 'totp_enabled', 'totp_last_step'])
    .where('id', '=', principal.id)
    .executeTakeFirstOrThrow();
  if (row.totp_enabled !== 1 || row.totp_secret === null) {
    throw new AppError('conflict', 'totp-not-enabled', text('Two-factor authentication is not on', "L'authentification à deux facteurs n'est pas activée"));
  }
  const throttleKey = `totp-change:${principal.id}`;
  await ctx.throttle.check(throttleKey, ip);
  const step = await verifyTotp(ctx.secrets.open('totp', row.totp_secret), code.replace(/\s+/g, ''), row.totp_last_step, ctx.clock.now());
  const claimed =
    step === undefined
      ? undefined
      : await ctx.db
          .updateTable(table)
          .set({ totp_last_step: step, updated_at: ctx.clock.now() })
          .where('id', '=', row.id)
          .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
          .executeTakeFirst();
  if (!claimed || Number(claimed.numUpdatedRows) === 0) {
    await ctx.throttle.recordFailure(throttleKey, ip);
    throw new AppError('invalid', 'invalid-code', text('Invalid or expired code', 'Code invalide ou expiré'), { field: 'code' });
  }
  await ctx.throttle.recordSuccess(throttleKey, ip);
}

/**
 * Replaces one's recovery codes with ten new ones (the old ones stop working), after a current
 * authenticator code. The new codes are returned once.
 */
export async function regenerateRecoveryCodes(
  ctx: AppContext,
  principal: Principal,
  input: { code: string; ip: string },
): Promise<{ recoveryCodes: string[] }> {
  interactiveOnly(principal);
  await claimTotpCode(ctx, principal, input.code, input.ip);
  const { codes, hashes } = newRecoveryCodes();
  await ctx.db
    .updateTable(TOTP_TABLE(principal))
    .set({ recovery_codes: JSON.stringify(hashes), updated_at: ctx.clock.now() })
    .where('id', '=', principal.id)
    .execute();
  ctx.log.info({ event: 'auth.recovery_codes_regenerated', principal: principal.id }, 'auth.recovery_codes_regenerated');
  return { recoveryCodes: codes };
}

/**
 * Turns two-factor authentication off for a mail user (operators and customer admins must keep it),
 * after the current password and a current authenticator code. Afterwards the account's password
 * opens the mailbox in mail clients again; app passwords keep working until revoked.
 */
export async function disableOwnTotp(ctx: AppContext, principal: Principal, input: { currentPassword: string; code: string; ip: string }): Promise<void> {
  interactiveOnly(principal);
  if (principal.role !== 'user') {
    throw new AppError(
      'forbidden',
      'totp-required',
      text('Your role requires two-factor authentication', 'Votre rôle exige l’authentification à deux facteurs'),
    );
  }
  const row = await ctx.db.selectFrom('accounts').select(['id', 'password_hash']).where('id', '=', principal.id).executeTakeFirstOrThrow();
  const throttleKey = `password-change:${principal.id}`;
  await ctx.throttle.check(throttleKey, input.ip);
  if (!(await verifyPassword(row.password_hash, input.currentPassword))) {
    await ctx.throttle.recordFailure(throttleKey, input.ip);
    throw new AppError('invalid', 'wrong-password', text('The current password is wrong', 'Le mot de passe actuel est incorrect'), {
      field: 'currentPassword',
    });
  }
  await claimTotpCode(ctx, principal, input.code, input.ip);
  await ctx.db
    .updateTable('accounts')
    .set({ totp_enabled: 0, totp_secret: null, totp_last_step: null, recovery_codes: '[]', updated_at: ctx.clock.now() })
    .where('id', '=', principal.id)
    .execute();
  ctx.log.info({ event: 'auth.totp_disabled', principal: principal.id }, 'auth.totp_disabled');
}

/** Changes one's own language (the notices and digests the service sends are in it). */
export async function setOwnLanguage(ctx: AppContext, principal: Principal, language: 'en' | 'fr'): Promise<void> {
  interactiveOnly(principal);
  await ctx.db.updateTable(TOTP_TABLE(principal)).set({ language, updated_at: ctx.clock.now() }).where('id', '=', principal.id).execute();
}
