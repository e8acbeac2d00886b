/**
 * Password hashing (argon2id) and password rules. The parameters are OWASP's (Password Storage Cheat
 * Sheet: 19 MiB of memory, 2 passes, 1 lane), written here rather than left to the library's defaults;
 * a hash made with others (should they change) is made again at the holder's next successful login,
 * when the password is at hand.
 */
import { hash, verify } from '@node-rs/argon2';

/** @node-rs/argon2's `Algorithm.Argon2id` (a const enum, which isolated modules cannot import). */
const ARGON2ID = 2;

import type { Kysely } from 'kysely';
import { invalid } from '../shared/errors.ts';
import type { Database } from '../store/index.ts';

/** Longest password we hash: argon2 takes any length, but a 1 MB "password" is a denial of service. */
export const MAX_PASSWORD_LENGTH = 256;

export const ARGON2_PARAMETERS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, { algorithm: ARGON2ID, ...ARGON2_PARAMETERS });
}

/**
 * After a successful login with `password`: the holder's hash made again with today's parameters when it
 * was made with others, on the condition that it has not changed meanwhile. Returns the hash stored now.
 */
export async function upgradePasswordHash(
  db: Kysely<Database>,
  holder: { table: 'accounts' | 'logins'; id: string; passwordHash: string },
  password: string,
): Promise<string> {
  if (!needsRehash(holder.passwordHash)) return holder.passwordHash;
  const fresh = await hashPassword(password);
  const updated = await db
    .updateTable(holder.table)
    .set({ password_hash: fresh })
    .where('id', '=', holder.id)
    .where('password_hash', '=', holder.passwordHash)
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0 ? fresh : holder.passwordHash;
}

/** Whether a stored hash was made otherwise than `hashPassword` makes one now. */
export function needsRehash(passwordHash: string): boolean {
  const found = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(passwordHash);
  const { memoryCost, timeCost, parallelism } = ARGON2_PARAMETERS;
  return !found || Number(found[1]) !== memoryCost || Number(found[2]) !== timeCost || Number(found[3]) !== parallelism;
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** A hash of a random password, verified against when the account does not exist, so that
 * "no such account" and "wrong password" take the same time (no user enumeration). */
let decoyHash: Promise<string> | undefined;
export async function verifyDecoy(password: string): Promise<false> {
  decoyHash ??= hashPassword(generatePassword());
  await verifyPassword(await decoyHash, password);
  return false;
}

export function checkPasswordRules(password: string, minLength: number, field = 'password'): void {
  if (password.length < minLength) {
    throw invalid(
      'weak-password',
      field,
      `The password must have at least ${minLength} characters`,
      `Le mot de passe doit comporter au moins ${minLength} caractères`,
    );
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw invalid(
      'invalid-password',
      field,
      `The password must have at most ${MAX_PASSWORD_LENGTH} characters`,
      `Le mot de passe doit comporter au plus ${MAX_PASSWORD_LENGTH} caractères`,
    );
  }
  if (new Set(password).size < 4) {
    throw invalid('weak-password', field, 'The password is too repetitive', 'Le mot de passe est trop répétitif');
  }
}

const PASSWORD_ALPHABET = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A random password without look-alike characters: 20 characters, about 115 bits. */
export function generatePassword(length = 20): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length * 2));
  let out = '';
  for (const byte of bytes) {
    if (byte >= 256 - (256 % PASSWORD_ALPHABET.length)) continue; // no modulo bias
    out += PASSWORD_ALPHABET[byte % PASSWORD_ALPHABET.length];
    if (out.length === length) return out;
  }
  return out + generatePassword(length - out.length);
}
