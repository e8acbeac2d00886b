/** Password hashing (argon2id, RFC 9106 parameters of @node-rs/argon2's defaults) and password rules. */
import { hash, verify } from '@node-rs/argon2';

/** @node-rs/argon2's `Algorithm.Argon2id` (a const enum, which isolated modules cannot import). */
const ARGON2ID = 2;

import { invalid } from '../shared/errors.ts';

/** Longest password we hash: argon2 takes any length, but a 1 MB "password" is a denial of service. */
export const MAX_PASSWORD_LENGTH = 256;

export function hashPassword(password: string): Promise<string> {
  return hash(password, { algorithm: ARGON2ID });
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
