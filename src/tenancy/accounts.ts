/**
 * Mail accounts (R-T2, R-T4, R-A1): an address at one of the subscription's domains, a class within
 * the licences bought, a password set or generated. Creating or re-classing beyond the licences of
 * a class fails with a clear error and changes nothing. Callers run these inside an operation, which
 * serialises changes per subscription; the licence counter is also taken conditionally, so it cannot race.
 */
import { checkPasswordRules, generatePassword, hashPassword } from '../auth/passwords.ts';
import { deleteSessionsOf } from '../auth/sessions.ts';
import type { AppContext } from '../context.ts';
import { addressKey, parseAddress } from '../shared/addresses.ts';
import { AppError, type Language, text } from '../shared/errors.ts';
import { toUnicodeDomain } from '../shared/idn.ts';
import { newId } from '../shared/ids.ts';
import { type AccountsTable, escapeLike } from '../store/index.ts';
import { getClassRow } from './classes.ts';
import { claimAddress, type Db, ensureFound, releaseAddress, type Scope } from './common.ts';
import { getSubscriptionRow, licenceUsage } from './subscriptions.ts';

export interface AccountView {
  id: string;
  address: string;
  displayAddress: string;
  customerId: string;
  subscriptionId: string;
  domainId: string;
  classId: string;
  displayName: string;
  language: Language;
  status: AccountsTable['status'];
  twoFactorEnabled: boolean;
  createdAt: string;
  passwordChangedAt: string;
}

/** The stored address with its domain in Unicode (only IDN domains need decoding). */
function displayAddress(address: string): string {
  if (!address.includes('xn--')) return address;
  const at = address.lastIndexOf('@');
  return `${address.slice(0, at)}@${toUnicodeDomain(address.slice(at + 1))}`;
}

/** What a view needs: never the password hash or the TOTP secret. */
const VIEW_COLUMNS = [
  'customer_id',
  'id',
  'address',
  'subscription_id',
  'domain_id',
  'class_id',
  'display_name',
  'language',
  'status',
  'totp_enabled',
  'created_at',
  'password_changed_at',
] as const;

export function accountView(row: Pick<AccountsTable, (typeof VIEW_COLUMNS)[number]>): AccountView {
  return {
    id: row.id,
    address: row.address,
    displayAddress: displayAddress(row.address),
    customerId: row.customer_id,
    subscriptionId: row.subscription_id,
    domainId: row.domain_id,
    classId: row.class_id,
    displayName: row.display_name,
    language: row.language,
    status: row.status,
    twoFactorEnabled: row.totp_enabled === 1,
    createdAt: new Date(row.created_at).toISOString(),
    passwordChangedAt: new Date(row.password_changed_at).toISOString(),
  };
}

const NOT_FOUND = text('No such account', 'Compte introuvable');

export async function getAccountRow(db: Db, scope: Scope, idOrAddress: string): Promise<AccountsTable> {
  let query = db.selectFrom('accounts').selectAll();
  query = idOrAddress.startsWith('acc_') ? query.where('id', '=', idOrAddress) : query.where('address', '=', addressKeyOrEmpty(idOrAddress));
  if (scope !== null) query = query.where('customer_id', '=', scope);
  return ensureFound(await query.executeTakeFirst(), NOT_FOUND);
}

function addressKeyOrEmpty(input: string): string {
  try {
    return addressKey(parseAddress(input));
  } catch {
    return '';
  }
}

/** The domain of `address` must be a domain (not a domain alias) of the subscription. */
export async function domainOfSubscription(db: Db, subscriptionId: string, domain: string, field = 'address'): Promise<string> {
  const row = await db.selectFrom('domains').select('id').where('subscription_id', '=', subscriptionId).where('name', '=', domain).executeTakeFirst();
  if (!row) {
    throw new AppError(
      'invalid',
      'domain-not-in-subscription',
      text(`The domain ${domain} is not a domain of this subscription`, `Le domaine ${domain} n'est pas un domaine de cet abonnement`),
      {
        field,
      },
    );
  }
  return row.id;
}

/** A class the subscription has no licence of: not "all 0 licences are in use", but which classes it does have. */
function classNotInSubscription(classId: string, usages: { classId: string; quantity: number }[]): AppError {
  const classes = usages.filter((u) => u.quantity > 0).map((u) => u.classId);
  const listed = classes.length > 0 ? classes.join(', ') : '-';
  return new AppError(
    'conflict',
    'class-not-in-subscription',
    text(
      `This subscription has no licence of class ${classId}: choose one of its classes (${listed}) or ask for licences of class ${classId}`,
      `Cet abonnement n'a aucune licence de la classe ${classId} : choisissez l'une de ses classes (${listed}) ou demandez des licences de la classe ${classId}`,
    ),
    { field: 'classId', details: { classId, classes } },
  );
}

function licencesExhausted(classId: string, quantity: number, used: number, wanted = 1): AppError {
  return new AppError(
    'conflict',
    'licences-exhausted',
    wanted === 1
      ? text(
          `All ${quantity} licences of class ${classId} are in use: buy more licences or choose another class`,
          `Les ${quantity} licences de la classe ${classId} sont toutes utilisées : achetez des licences ou choisissez une autre classe`,
        )
      : text(
          `${wanted} accounts to move but only ${Math.max(0, quantity - used)} free licences of class ${classId}`,
          `${wanted} comptes à déplacer mais seulement ${Math.max(0, quantity - used)} licences libres de la classe ${classId}`,
        ),
    { field: 'classId', details: { classId, quantity, used } },
  );
}

/**
 * Takes `count` licences of a class, or throws `licences-exhausted`. The update is conditional on
 * the licences left, so two concurrent takers can never both get the last one.
 */
async function takeLicences(db: Db, subscriptionId: string, classId: string, count = 1): Promise<void> {
  if (count === 0) return;
  const result = await db
    .updateTable('licences')
    .set((eb) => ({ used: eb('used', '+', count) }))
    .where('subscription_id', '=', subscriptionId)
    .where('class_id', '=', classId)
    .where((eb) => eb('used', '<=', eb('quantity', '-', count)))
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) {
    const usages = await licenceUsage(db, subscriptionId);
    const usage = usages.find((u) => u.classId === classId);
    if (!usage || usage.quantity === 0) throw classNotInSubscription(classId, usages);
    throw licencesExhausted(classId, usage.quantity, usage.used, count);
  }
}

async function releaseLicences(db: Db, subscriptionId: string, classId: string, count = 1): Promise<void> {
  await db
    .updateTable('licences')
    .set((eb) => ({ used: eb('used', '-', count) }))
    .where('subscription_id', '=', subscriptionId)
    .where('class_id', '=', classId)
    .execute();
}

function requireSubscriptionUsable(status: string): void {
  if (status === 'ended') throw new AppError('conflict', 'subscription-ended', text('The subscription has ended', "L'abonnement est terminé"));
}

export interface AccountInput {
  address?: string;
  classId?: string;
  password?: string;
  displayName?: string;
  language?: Language;
}

export async function createAccount(
  ctx: AppContext,
  scope: Scope,
  subscriptionId: string,
  input: AccountInput,
): Promise<{ account: AccountView; generatedPassword: string | undefined }> {
  const subscription = await getSubscriptionRow(ctx.db, scope, subscriptionId);
  requireSubscriptionUsable(subscription.status);
  const address = parseAddress(input.address ?? '', 'address');
  const key = addressKey(address);
  const domainId = await domainOfSubscription(ctx.db, subscriptionId, address.domain);
  const classId = input.classId ?? '';
  await getClassRow(ctx, classId).catch(() => {
    throw new AppError('invalid', 'unknown-class', text(`No class ${classId}`, `Aucune classe ${classId}`), { field: 'classId' });
  });
  const generatedPassword = input.password === undefined ? generatePassword() : undefined;
  const password = input.password ?? (generatedPassword as string);
  checkPasswordRules(password, ctx.config.auth.minPasswordLength);
  const displayName = (input.displayName ?? '').trim().slice(0, 200) || address.local;
  const taken = await ctx.db.selectFrom('logins').select('id').where('email', '=', key).executeTakeFirst();
  if (taken)
    throw new AppError('exists', 'already-exists', text(`The address ${key} is already in use`, `L'adresse ${key} est déjà utilisée`), { field: 'address' });
  const now = ctx.clock.now();
  const row: AccountsTable = {
    customer_id: subscription.customer_id,
    id: newId('acc'),
    subscription_id: subscriptionId,
    domain_id: domainId,
    address: key,
    class_id: classId,
    display_name: displayName,
    language: input.language ?? 'fr',
    password_hash: await hashPassword(password),
    totp_secret: null,
    totp_enabled: 0,
    totp_last_step: null,
    recovery_codes: '[]',
    status: 'active',
    created_at: now,
    updated_at: now,
    password_changed_at: now,
    last_uid_validity: 0,
  };
  await ctx.db.transaction().execute(async (trx) => {
    await takeLicences(trx, subscriptionId, classId);
    await claimAddress(trx, { address: key, customer_id: row.customer_id, kind: 'account', owner_id: row.id });
    await trx.insertInto('accounts').values(row).execute();
  });
  ctx.log.info({ event: 'account.created', account: row.id, subscription: subscriptionId }, 'account.created');
  return { account: accountView(row), generatedPassword };
}

export async function listAccounts(
  ctx: AppContext,
  scope: Scope,
  subscriptionId: string,
  page: { limit: number; after?: string; search?: string },
): Promise<AccountView[]> {
  await getSubscriptionRow(ctx.db, scope, subscriptionId);
  let query = ctx.db.selectFrom('accounts').select(VIEW_COLUMNS).where('subscription_id', '=', subscriptionId).orderBy('address').limit(page.limit);
  if (page.after) query = query.where('address', '>', page.after);
  if (page.search) query = query.where('address', 'like', `%${escapeLike(page.search.toLowerCase())}%`);
  return (await query.execute()).map(accountView);
}

/** An account's storage: bytes used, its class's quota and its message count (R-M4), for the portal's meter. */
export interface AccountUsage {
  usedBytes: number;
  quotaBytes: number;
  messages: number;
}

/** The storage of each of `accounts` in two reads, whatever their number (a page of the list shows them all). */
export async function accountUsage(ctx: AppContext, accounts: readonly { id: string; classId: string }[]): Promise<Map<string, AccountUsage>> {
  const out = new Map<string, AccountUsage>();
  if (accounts.length === 0) return out;
  const classIds = [...new Set(accounts.map((a) => a.classId))];
  const [usage, classes] = await Promise.all([
    ctx.db
      .selectFrom('mail_usage')
      .select(['account_id', 'used_bytes', 'message_count'])
      .where(
        'account_id',
        'in',
        accounts.map((a) => a.id),
      )
      .execute(),
    ctx.db.selectFrom('classes').select(['id', 'quota_bytes']).where('id', 'in', classIds).execute(),
  ]);
  const used = new Map(usage.map((u) => [u.account_id, u]));
  const quota = new Map(classes.map((c) => [c.id, Number(c.quota_bytes)]));
  for (const account of accounts) {
    const row = used.get(account.id);
    out.set(account.id, { usedBytes: Number(row?.used_bytes ?? 0), quotaBytes: quota.get(account.classId) ?? 0, messages: Number(row?.message_count ?? 0) });
  }
  return out;
}

export async function getAccount(ctx: AppContext, scope: Scope, idOrAddress: string): Promise<AccountView> {
  return accountView(await getAccountRow(ctx.db, scope, idOrAddress));
}

export interface AccountChanges {
  classId?: string;
  password?: string;
  displayName?: string;
  language?: Language;
  status?: 'active' | 'disabled' | 'suspended';
}

/**
 * Changes an account. A new class needs a free licence of that class; a new password ends the
 * account's sessions. Suspension is the operator's (R-A3); customers may only disable and enable.
 */
export async function updateAccount(ctx: AppContext, scope: Scope, idOrAddress: string, changes: AccountChanges): Promise<AccountView> {
  const row = await getAccountRow(ctx.db, scope, idOrAddress);
  const subscription = await getSubscriptionRow(ctx.db, null, row.subscription_id);
  requireSubscriptionUsable(subscription.status);
  const now = ctx.clock.now();
  const next: AccountsTable = { ...row, updated_at: now };
  if (changes.displayName !== undefined) next.display_name = changes.displayName.trim().slice(0, 200) || row.display_name;
  if (changes.language !== undefined) next.language = changes.language;
  if (changes.status !== undefined && changes.status !== row.status) {
    if (scope !== null && (changes.status === 'suspended' || row.status === 'suspended' || row.status === 'blocked')) {
      throw new AppError(
        'forbidden',
        'operator-only',
        text('Only the provider can suspend or lift a suspension', 'Seul le fournisseur peut suspendre ou lever une suspension'),
        {
          field: 'status',
        },
      );
    }
    next.status = changes.status;
  }
  if (changes.password !== undefined) {
    checkPasswordRules(changes.password, ctx.config.auth.minPasswordLength);
    next.password_hash = await hashPassword(changes.password);
    next.password_changed_at = now;
  }
  const newClass = changes.classId !== undefined && changes.classId !== row.class_id ? changes.classId : undefined;
  if (newClass !== undefined) {
    await getClassRow(ctx, newClass).catch(() => {
      throw new AppError('invalid', 'unknown-class', text(`No class ${newClass}`, `Aucune classe ${newClass}`), { field: 'classId' });
    });
    next.class_id = newClass;
  }
  // Inside a transaction only `trx` may be used: SQLite has one connection, ctx.db would wait for ever.
  await ctx.db.transaction().execute(async (trx) => {
    if (newClass !== undefined) {
      await takeLicences(trx, row.subscription_id, newClass);
      await releaseLicences(trx, row.subscription_id, row.class_id);
    }
    await trx.updateTable('accounts').set(next).where('id', '=', row.id).execute();
  });
  if (changes.password !== undefined || (next.status !== 'active' && row.status === 'active')) await deleteSessionsOf(ctx, row.id);
  return accountView(next);
}

/**
 * Moves accounts to another class in one go (the long portal operation): all or nothing, checked
 * against the licences of the target class before anything changes.
 */
export async function reclassAccounts(
  ctx: AppContext,
  scope: Scope,
  subscriptionId: string,
  input: { fromClassId?: string; accountIds?: string[]; toClassId: string },
  report: (percent: number, message: string) => Promise<void> = async () => {},
): Promise<{ moved: number }> {
  await getSubscriptionRow(ctx.db, scope, subscriptionId);
  await getClassRow(ctx, input.toClassId).catch(() => {
    throw new AppError('invalid', 'unknown-class', text(`No class ${input.toClassId}`, `Aucune classe ${input.toClassId}`), { field: 'toClassId' });
  });
  let query = ctx.db.selectFrom('accounts').select(['id', 'class_id']).where('subscription_id', '=', subscriptionId).where('class_id', '!=', input.toClassId);
  if (input.fromClassId) query = query.where('class_id', '=', input.fromClassId);
  if (input.accountIds) query = query.where('id', 'in', input.accountIds.length ? input.accountIds : ['']);
  const rows = await query.orderBy('id').execute();
  const ids = rows.map((r) => r.id);
  const leaving = new Map<string, number>();
  for (const row of rows) leaving.set(row.class_id, (leaving.get(row.class_id) ?? 0) + 1);
  await report(10, `moving ${ids.length} accounts to class ${input.toClassId}`);
  const BATCH = 500; // stays under SQLite's and PostgreSQL's bound-parameter limits
  await ctx.db.transaction().execute(async (trx) => {
    await takeLicences(trx, subscriptionId, input.toClassId, ids.length);
    for (const [classId, count] of leaving) await releaseLicences(trx, subscriptionId, classId, count);
    for (let i = 0; i < ids.length; i += BATCH) {
      await trx
        .updateTable('accounts')
        .set({ class_id: input.toClassId, updated_at: ctx.clock.now() })
        .where('id', 'in', ids.slice(i, i + BATCH))
        .execute();
    }
  });
  return { moved: ids.length };
}

export async function deleteAccount(ctx: AppContext, scope: Scope, idOrAddress: string): Promise<void> {
  const row = await getAccountRow(ctx.db, scope, idOrAddress);
  await ctx.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('app_passwords').where('account_id', '=', row.id).execute();
    await trx.deleteFrom('sessions').where('principal_id', '=', row.id).execute();
    await trx.deleteFrom('accounts').where('id', '=', row.id).execute();
    await releaseLicences(trx, row.subscription_id, row.class_id);
    await releaseAddress(trx, row.address);
  });
  ctx.log.info({ event: 'account.deleted', account: row.id }, 'account.deleted');
}
