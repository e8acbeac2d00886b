/**
 * Customers (R-T1): a company's profile, its contact e-mail for notices, and its customer-admin
 * logins. Also the operator logins, which belong to no customer.
 */
import { sql } from 'kysely';
import { checkPasswordRules, generatePassword, hashPassword } from '../auth/passwords.ts';
import type { AppContext } from '../context.ts';
import { addressKey, parseAddress } from '../shared/addresses.ts';
import { AppError, type Language, text } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { CustomersTable, LoginsTable } from '../store/index.ts';
import { claimUnique, ensureFound, requireText, type Scope } from './common.ts';

export interface CustomerView {
  id: string;
  name: string;
  contactEmail: string;
  language: Language;
  phone: string | null;
  address: string | null;
  vatNumber: string | null;
  status: CustomersTable['status'];
  createdAt: string;
}

export function customerView(row: CustomersTable): CustomerView {
  return {
    id: row.id,
    name: row.name,
    contactEmail: row.contact_email,
    language: row.language,
    phone: row.phone,
    address: row.address,
    vatNumber: row.vat_number,
    status: row.status,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

export interface CustomerInput {
  name?: string;
  contactEmail?: string;
  language?: Language;
  phone?: string | null;
  address?: string | null;
  vatNumber?: string | null;
}

function optionalText(value: string | null | undefined, field: string, max: number): string | null {
  if (value === null || value === undefined || value.trim() === '') return null;
  return requireText(value, field, max, text(field, field));
}

export async function createCustomer(ctx: AppContext, input: CustomerInput): Promise<CustomerView> {
  const now = ctx.clock.now();
  const row: CustomersTable = {
    id: newId('cus'),
    name: requireText(input.name, 'name', 200, text('The name', 'Le nom')),
    contact_email: addressKey(parseAddress(input.contactEmail ?? '', 'contactEmail')),
    language: input.language ?? 'fr',
    phone: optionalText(input.phone, 'phone', 40),
    address: optionalText(input.address, 'address', 500),
    vat_number: optionalText(input.vatNumber, 'vatNumber', 40),
    status: 'active',
    created_at: now,
    updated_at: now,
  };
  await ctx.db.insertInto('customers').values(row).execute();
  return customerView(row);
}

export async function getCustomerRow(ctx: AppContext, scope: Scope, id: string): Promise<CustomersTable> {
  const row = scope !== null && scope !== id ? undefined : await ctx.db.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirst();
  return ensureFound(row, text('No such customer', 'Client introuvable'));
}

export async function updateCustomer(ctx: AppContext, scope: Scope, id: string, input: CustomerInput): Promise<CustomerView> {
  const current = await getCustomerRow(ctx, scope, id);
  const next: CustomersTable = {
    ...current,
    name: input.name !== undefined ? requireText(input.name, 'name', 200, text('The name', 'Le nom')) : current.name,
    contact_email: input.contactEmail !== undefined ? addressKey(parseAddress(input.contactEmail, 'contactEmail')) : current.contact_email,
    language: input.language ?? current.language,
    phone: input.phone !== undefined ? optionalText(input.phone, 'phone', 40) : current.phone,
    address: input.address !== undefined ? optionalText(input.address, 'address', 500) : current.address,
    vat_number: input.vatNumber !== undefined ? optionalText(input.vatNumber, 'vatNumber', 40) : current.vat_number,
    updated_at: ctx.clock.now(),
  };
  await ctx.db.updateTable('customers').set(next).where('id', '=', id).execute();
  return customerView(next);
}

export async function listCustomers(ctx: AppContext, page: { limit: number; after?: string; search?: string }): Promise<CustomerView[]> {
  let query = ctx.db.selectFrom('customers').selectAll().orderBy('id').limit(page.limit);
  if (page.after) query = query.where('id', '>', page.after);
  if (page.search) {
    // A part of the name or of the contact address, whatever the case; % and _ are searched as themselves.
    const pattern = `%${page.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) => eb.or([sql<boolean>`lower(name) like ${pattern} escape '\\'`, sql<boolean>`lower(contact_email) like ${pattern} escape '\\'`]));
  }
  return (await query.execute()).map(customerView);
}

export interface LoginView {
  id: string;
  email: string;
  role: LoginsTable['role'];
  customerId: string | null;
  displayName: string;
  language: Language;
  twoFactorEnabled: boolean;
  status: LoginsTable['status'];
  createdAt: string;
}

export function loginView(row: LoginsTable): LoginView {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    customerId: row.customer_id,
    displayName: row.display_name,
    language: row.language,
    twoFactorEnabled: row.totp_enabled === 1,
    status: row.status,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

export interface LoginInput {
  email?: string;
  password?: string;
  displayName?: string;
  language?: Language;
}

/**
 * Creates a portal login: a customer admin (with `customerId`) or an operator (without). A password
 * is generated when none is given and returned once.
 */
export async function createLogin(
  ctx: AppContext,
  customerId: string | null,
  input: LoginInput,
): Promise<{ login: LoginView; generatedPassword: string | undefined }> {
  const email = addressKey(parseAddress(input.email ?? '', 'email'));
  const generatedPassword = input.password === undefined ? generatePassword() : undefined;
  const password = input.password ?? (generatedPassword as string);
  checkPasswordRules(password, ctx.config.auth.minPasswordLength);
  const now = ctx.clock.now();
  const row: LoginsTable = {
    id: newId('adm'),
    customer_id: customerId,
    role: customerId ? 'customer_admin' : 'operator',
    email,
    display_name: input.displayName?.trim() || email,
    language: input.language ?? 'fr',
    password_hash: await hashPassword(password),
    totp_secret: null,
    totp_enabled: 0,
    totp_last_step: null,
    recovery_codes: '[]',
    status: 'active',
    created_at: now,
    updated_at: now,
  };
  // Logins and accounts share the login form, so an e-mail may not be both.
  const account = await ctx.db.selectFrom('accounts').select('id').where('address', '=', email).executeTakeFirst();
  const taken = text(`The login ${email} already exists`, `L'identifiant ${email} existe déjà`);
  if (account) throw new AppError('exists', 'already-exists', taken, { field: 'email' });
  await claimUnique('email', taken, () => ctx.db.insertInto('logins').values(row).execute());
  return { login: loginView(row), generatedPassword };
}

export async function listLogins(ctx: AppContext, customerId: string | null): Promise<LoginView[]> {
  const query = ctx.db.selectFrom('logins').selectAll().orderBy('created_at');
  const rows = await (customerId === null ? query.where('customer_id', 'is', null) : query.where('customer_id', '=', customerId)).execute();
  return rows.map(loginView);
}

/** First start: the operator login from settings, or a generated one whose password is printed once. */
export async function ensureOperator(ctx: AppContext): Promise<{ email: string; password: string } | undefined> {
  const existing = await ctx.db.selectFrom('logins').select('id').where('role', '=', 'operator').limit(1).executeTakeFirst();
  if (existing) return undefined;
  const email = ctx.config.operator.email || `operator@${ctx.config.hostname.includes('.') ? ctx.config.hostname : 'facteur.localhost'}`;
  const password = ctx.config.operator.password || generatePassword();
  await createLogin(ctx, null, { email, password, displayName: 'Operator', language: 'en' });
  return { email: addressKey(parseAddress(email)), password };
}
