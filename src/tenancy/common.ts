/** Small helpers the tenancy modules share: scoping, uniqueness claims, field checks. */
import type { Kysely, Transaction } from 'kysely';
import { AppError, invalid, notFound, type Text, text } from '../shared/errors.ts';
import { type AddressesTable, type Database, isUniqueViolation } from '../store/index.ts';

export type Db = Kysely<Database> | Transaction<Database>;

/** The customer a caller is confined to, or null for the operator. */
export type Scope = string | null;

export const LANGUAGES = ['en', 'fr'] as const;

export function ensureFound<T>(row: T | undefined, what: Text): T {
  if (row === undefined) throw notFound(what);
  return row;
}

export function requireText(value: string | undefined, field: string, max: number, label: Text): string {
  const trimmed = (value ?? '').trim();
  if (trimmed.length === 0 || trimmed.length > max) {
    throw invalid('invalid-field', field, `${label.en} must have 1 to ${max} characters`, `${label.fr} doit comporter de 1 à ${max} caractères`);
  }
  return trimmed;
}

/** Runs an insert that claims a unique name; a violation becomes `exists` naming the field. */
export async function claimUnique<T>(field: string, taken: Text, insert: () => Promise<T>): Promise<T> {
  try {
    return await insert();
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('exists', 'already-exists', taken, { field, cause: error });
    throw error;
  }
}

/** Claims a routable address for an account, alias or list; the same address cannot serve two. */
export async function claimAddress(db: Db, row: AddressesTable, field = 'address'): Promise<void> {
  await claimUnique(field, text(`The address ${row.address} is already in use`, `L'adresse ${row.address} est déjà utilisée`), () =>
    db.insertInto('addresses').values(row).execute(),
  );
}

export async function releaseAddress(db: Db, address: string): Promise<void> {
  await db.deleteFrom('addresses').where('address', '=', address).execute();
}

export function parseJsonArray(value: string): string[] {
  return JSON.parse(value) as string[];
}
