/**
 * Logins to the portal and the webmail: password first, then the second factor (R-A1). Operators and
 * customer admins must enrol TOTP at their first login; users may enable it. Every failure answers the
 * same way whether or not the account exists, and is throttled per name and per IP.
 */
import type { AppContext } from '../context.ts';
import { addressKey, normalizeAddress } from '../shared/addresses.ts';
import { AppError, text } from '../shared/errors.ts';
import type { SessionsTable } from '../store/index.ts';
import { upgradePasswordHash, verifyDecoy, verifyPassword } from './passwords.ts';
import { createSession, type NewSession, type SessionStage, setSessionStage } from './sessions.ts';
import { newRecoveryCodes, newTotpSecret, totpUri, useRecoveryCode, verifyTotp } from './totp.ts';

type HolderTable = 'logins' | 'accounts';

interface Holder {
  table: HolderTable;
  id: string;
  role: SessionsTable['principal_role'];
  customerId: string | null;
  name: string;
  passwordHash: string;
  status: string;
  totpSecret: string | null;
  totpEnabled: boolean;
  totpLastStep: number | null;
  recoveryCodes: string[];
}

export const INVALID_CREDENTIALS = () =>
  new AppError('unauthenticated', 'invalid-credentials', text('Invalid e-mail address or password', 'Adresse e-mail ou mot de passe incorrect'));

const INVALID_CODE = () => new AppError('unauthenticated', 'invalid-code', text('Invalid or expired code', 'Code invalide ou expiré'));

/** Portal logins are kept lower-case; account addresses by their address key. */
export function loginKey(email: string): string {
  const address = normalizeAddress(email);
  return address ? addressKey(address) : email.trim().toLowerCase();
}

async function findHolder(ctx: AppContext, key: string): Promise<Holder | undefined> {
  const login = await ctx.db.selectFrom('logins').selectAll().where('email', '=', key).executeTakeFirst();
  if (login) {
    return {
      table: 'logins',
      id: login.id,
      role: login.role,
      customerId: login.customer_id,
      name: login.email,
      passwordHash: login.password_hash,
      status: login.status,
      totpSecret: login.totp_secret === null ? null : ctx.secrets.open('totp', login.totp_secret),
      totpEnabled: login.totp_enabled === 1,
      totpLastStep: login.totp_last_step,
      recoveryCodes: JSON.parse(login.recovery_codes) as string[],
    };
  }
  const account = await ctx.db.selectFrom('accounts').selectAll().where('address', '=', key).executeTakeFirst();
  if (!account) return undefined;
  return {
    table: 'accounts',
    id: account.id,
    role: 'user',
    customerId: account.customer_id,
    name: account.address,
    passwordHash: account.password_hash,
    status: account.status,
    totpSecret: account.totp_secret === null ? null : ctx.secrets.open('totp', account.totp_secret),
    totpEnabled: account.totp_enabled === 1,
    totpLastStep: account.totp_last_step,
    recoveryCodes: JSON.parse(account.recovery_codes) as string[],
  };
}

async function holderOfSession(ctx: AppContext, session: SessionsTable): Promise<Holder> {
  const table: HolderTable = session.principal_role === 'user' ? 'accounts' : 'logins';
  const column = table === 'accounts' ? 'address' : 'email';
  const row = await ctx.db.selectFrom(table).select(column).where('id', '=', session.principal_id).executeTakeFirst();
  const holder = row ? await findHolder(ctx, (row as Record<string, string>)[column] as string) : undefined;
  if (!holder) throw INVALID_CREDENTIALS();
  return holder;
}

async function updateHolder(
  ctx: AppContext,
  holder: Holder,
  values: { totp_secret?: string | null; totp_enabled?: 0 | 1; totp_last_step?: number | null; recovery_codes?: string },
): Promise<void> {
  await ctx.db
    .updateTable(holder.table)
    .set({ ...values, updated_at: ctx.clock.now() })
    .where('id', '=', holder.id)
    .execute();
}

export interface LoginResult extends NewSession {
  stage: SessionStage;
  role: SessionsTable['principal_role'];
}

export async function loginWithPassword(ctx: AppContext, input: { email: string; password: string; ip: string }): Promise<LoginResult> {
  const key = loginKey(input.email);
  await ctx.throttle.check(key, input.ip);
  const holder = await findHolder(ctx, key);
  const ok = holder ? await verifyPassword(holder.passwordHash, input.password) : await verifyDecoy(input.password);
  if (!holder || !ok) {
    await ctx.throttle.recordFailure(key, input.ip);
    ctx.log.info({ event: 'auth.login_failed', ip: input.ip }, 'auth.login_failed');
    throw INVALID_CREDENTIALS();
  }
  if (holder.status !== 'active') {
    throw new AppError(
      'forbidden',
      'account-not-active',
      text('This account is suspended or disabled: contact support', 'Ce compte est suspendu ou désactivé : contactez le support'),
    );
  }
  await ctx.throttle.recordSuccess(key, input.ip);
  await upgradePasswordHash(ctx.db, holder, input.password);
  const stage: SessionStage = holder.totpEnabled ? 'totp' : holder.role === 'user' ? 'full' : 'enrol';
  const session = await createSession(ctx, { role: holder.role, id: holder.id, customerId: holder.customerId }, stage);
  ctx.log.info({ event: 'auth.login', principal: holder.id, stage }, 'auth.login');
  return { ...session, stage, role: holder.role };
}

/** Starts (or restarts) TOTP enrolment: a new secret to show as a QR code, not active until confirmed. */
export async function beginTotpEnrolment(ctx: AppContext, session: SessionsTable): Promise<{ secret: string; uri: string }> {
  const holder = await holderOfSession(ctx, session);
  if (holder.totpEnabled) {
    throw new AppError(
      'conflict',
      'totp-already-enabled',
      text('Two-factor authentication is already enabled', "L'authentification à deux facteurs est déjà activée"),
    );
  }
  const secret = newTotpSecret();
  await updateHolder(ctx, holder, { totp_secret: ctx.secrets.seal('totp', secret) });
  return { secret, uri: totpUri(secret, holder.name) };
}

/** Confirms enrolment with a first code; returns the recovery codes, shown once. */
export async function confirmTotpEnrolment(ctx: AppContext, session: SessionsTable, code: string): Promise<{ recoveryCodes: string[] }> {
  const holder = await holderOfSession(ctx, session);
  if (holder.totpEnabled || !holder.totpSecret) {
    throw new AppError('conflict', 'totp-not-pending', text('Start the enrolment first', "Commencez d'abord l'enrôlement"));
  }
  const step = await verifyTotp(holder.totpSecret, code, null, ctx.clock.now());
  if (step === undefined) throw INVALID_CODE();
  const { codes, hashes } = newRecoveryCodes();
  await updateHolder(ctx, holder, { totp_enabled: 1, totp_last_step: step, recovery_codes: JSON.stringify(hashes) });
  await setSessionStage(ctx, session.id, 'full');
  ctx.log.info({ event: 'auth.totp_enrolled', principal: holder.id }, 'auth.totp_enrolled');
  return { recoveryCodes: codes };
}

/** The second step of a login: a TOTP code or one of the recovery codes. */
export async function verifySecondFactor(ctx: AppContext, session: SessionsTable, code: string, ip: string): Promise<void> {
  const holder = await holderOfSession(ctx, session);
  await ctx.throttle.check(holder.name, ip);
  const trimmed = code.trim();
  if (holder.totpSecret && holder.totpEnabled) {
    const step = await verifyTotp(holder.totpSecret, trimmed, holder.totpLastStep, ctx.clock.now());
    // Both updates are conditional on what was read, so that two logins racing with one code (or one
    // recovery code) cannot both get in (RFC 6238 §5.2).
    if (step !== undefined) {
      const stepClaimed = await ctx.db
        .updateTable(holder.table)
        .set({ totp_last_step: step, updated_at: ctx.clock.now() })
        .where('id', '=', holder.id)
        .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
        .executeTakeFirst();
      if (Number(stepClaimed.numUpdatedRows) > 0) {
        await setSessionStage(ctx, session.id, 'full');
        return;
      }
    }
    const remaining = useRecoveryCode(holder.recoveryCodes, trimmed);
    const claimed = remaining
      ? await ctx.db
          .updateTable(holder.table)
          .set({ recovery_codes: JSON.stringify(remaining), updated_at: ctx.clock.now() })
          .where('id', '=', holder.id)
          .where('recovery_codes', '=', JSON.stringify(holder.recoveryCodes))
          .executeTakeFirst()
      : undefined;
    if (remaining && Number(claimed?.numUpdatedRows ?? 0) > 0) {
      await setSessionStage(ctx, session.id, 'full');
      ctx.log.info({ event: 'auth.recovery_code_used', principal: holder.id, remaining: remaining.length }, 'auth.recovery_code_used');
      return;
    }
  }
  await ctx.throttle.recordFailure(holder.name, ip);
  throw INVALID_CODE();
}
