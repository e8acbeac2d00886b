/**
 * App passwords (R-A1): mail clients cannot do TOTP, so an account with two-factor authentication
 * signs in to IMAP, POP3 and SMTP with a generated password per device, revocable one by one.
 */
import type { AppContext } from '../context.ts';
import { addressKey, normalizeAddress } from '../shared/addresses.ts';
import { AppError, invalid, text } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { AccountsTable, AppPasswordsTable } from '../store/index.ts';
import { credentialCacheOf, type VerifiedCredential } from './credential-cache.ts';
import { INVALID_CREDENTIALS } from './login.ts';
import { generatePassword, hashPassword, upgradePasswordHash, verifyDecoy, verifyPassword } from './passwords.ts';

export const MAX_APP_PASSWORDS = 20;

/** An app password as the API and the CLI show it (never its hash). */
export interface AppPasswordView {
  id: string;
  accountId: string;
  customerId: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

function appPasswordView(row: Omit<AppPasswordsTable, 'password_hash'>): AppPasswordView {
  return {
    id: row.id,
    accountId: row.account_id,
    customerId: row.customer_id,
    name: row.name,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    lastUsedAt: row.last_used_at === null ? null : new Date(Number(row.last_used_at)).toISOString(),
  };
}

/** Creates an app password; its value (four groups of four letters) is returned once. */
export async function createAppPassword(ctx: AppContext, account: AccountsTable, name: string): Promise<{ appPassword: AppPasswordView; password: string }> {
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > 64)
    throw invalid('invalid-name', 'name', 'Give the device a name of 1 to 64 characters', "Donnez à l'appareil un nom de 1 à 64 caractères");
  const count = await ctx.db
    .selectFrom('app_passwords')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', account.id)
    .executeTakeFirstOrThrow();
  if (Number(count.n) >= MAX_APP_PASSWORDS) {
    throw new AppError(
      'conflict',
      'too-many-app-passwords',
      text(`At most ${MAX_APP_PASSWORDS} app passwords per account`, `Au plus ${MAX_APP_PASSWORDS} mots de passe d'application par compte`),
    );
  }
  const password = generatePassword(16)
    .toLowerCase()
    .replace(/(.{4})(?!$)/g, '$1-');
  const row: AppPasswordsTable = {
    customer_id: account.customer_id,
    id: newId('apw'),
    account_id: account.id,
    name: trimmed,
    password_hash: await hashPassword(password),
    created_at: ctx.clock.now(),
    last_used_at: null,
  };
  await ctx.db.insertInto('app_passwords').values(row).execute();
  return { appPassword: appPasswordView(row), password };
}

export async function listAppPasswords(ctx: AppContext, accountId: string): Promise<AppPasswordView[]> {
  const rows = await ctx.db
    .selectFrom('app_passwords')
    .select(['customer_id', 'id', 'account_id', 'name', 'created_at', 'last_used_at'])
    .where('account_id', '=', accountId)
    .orderBy('created_at')
    .execute();
  return rows.map(appPasswordView);
}

export async function deleteAppPassword(ctx: AppContext, accountId: string, id: string): Promise<boolean> {
  const result = await ctx.db.deleteFrom('app_passwords').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/**
 * Authenticates a mail client (IMAP, POP3, SMTP AUTH). Accounts with 2FA accept only app passwords;
 * others accept their password or an app password. Throttled like portal logins. Only active accounts
 * get in (`account-not-active` once the credentials are right).
 */
export async function verifyMailLogin(ctx: AppContext, input: { username: string; password: string; ip: string }): Promise<AccountsTable> {
  const address = normalizeAddress(input.username);
  const key = address ? addressKey(address) : input.username.toLowerCase();
  await ctx.throttle.check(key, input.ip);
  const account = address ? await ctx.db.selectFrom('accounts').selectAll().where('address', '=', key).executeTakeFirst() : undefined;
  let ok = false;
  if (!account) await verifyDecoy(input.password);
  else {
    const cache = credentialCacheOf(ctx);
    const now = ctx.clock.now();
    const cached = cache.get(key, input.password, input.ip, now);
    if (cached && cached.accountId === account.id) ok = await stillHolds(ctx, account, cached);
    if (cached && !ok) cache.delete(key, input.password, input.ip);
    if (!ok) {
      let verified: VerifiedCredential | undefined;
      if (account.totp_enabled === 0 && (await verifyPassword(account.password_hash, input.password))) {
        const passwordHash = await upgradePasswordHash(ctx.db, { table: 'accounts', id: account.id, passwordHash: account.password_hash }, input.password);
        verified = { accountId: account.id, appPasswordId: null, passwordHash };
      }
      verified ??= await matchAppPassword(ctx, account.id, input.password);
      if (verified) {
        ok = true;
        cache.set(key, input.password, input.ip, now, verified);
      }
    }
  }
  if (!account || !ok) {
    await ctx.throttle.recordFailure(key, input.ip);
    throw INVALID_CREDENTIALS();
  }
  await ctx.throttle.recordSuccess(key, input.ip);
  // As at the portal: a disabled, suspended or blocked account (or one whose service ended) has no mail access.
  if (account.status !== 'active') {
    throw new AppError(
      'forbidden',
      'account-not-active',
      text('This account is suspended or disabled: contact support', 'Ce compte est suspendu ou désactivé : contactez le support'),
      { details: { status: account.status } },
    );
  }
  return account;
}

/**
 * Whether a cached credential still opens the account: the same stored hash as when it was verified
 * (the password was not changed, the app password not deleted), and no 2FA for the account password.
 */
async function stillHolds(ctx: AppContext, account: AccountsTable, cached: VerifiedCredential): Promise<boolean> {
  if (cached.appPasswordId === null) return account.totp_enabled === 0 && account.password_hash === cached.passwordHash;
  const row = await ctx.db
    .selectFrom('app_passwords')
    .select('password_hash')
    .where('id', '=', cached.appPasswordId)
    .where('account_id', '=', account.id)
    .executeTakeFirst();
  if (row?.password_hash !== cached.passwordHash) return false;
  await ctx.db.updateTable('app_passwords').set({ last_used_at: ctx.clock.now() }).where('id', '=', cached.appPasswordId).execute();
  return true;
}

async function matchAppPassword(ctx: AppContext, accountId: string, password: string): Promise<VerifiedCredential | undefined> {
  if (!/^[a-z0-9]{4}(-[a-z0-9]{4}){3}$/.test(password)) return undefined;
  const rows = await ctx.db.selectFrom('app_passwords').select(['id', 'password_hash']).where('account_id', '=', accountId).execute();
  for (const row of rows) {
    if (await verifyPassword(row.password_hash, password)) {
      await ctx.db.updateTable('app_passwords').set({ last_used_at: ctx.clock.now() }).where('id', '=', row.id).execute();
      return { accountId, appPasswordId: row.id, passwordHash: row.password_hash };
    }
  }
  return undefined;
}
