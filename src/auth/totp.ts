/**
 * Time-based one-time passwords (RFC 6238, 30-second steps, 6 digits, HMAC-SHA1 as every
 * authenticator app expects) and single-use recovery codes.
 */
import { createHash } from 'node:crypto';
import { generateSecret, generateURI, verify } from 'otplib';

/** RFC 6238 §5.2: accept one step either side for clock drift. */
const TOLERANCE_SECONDS = 30;

export function newTotpSecret(): string {
  return generateSecret();
}

export function totpUri(secret: string, accountName: string, issuer = 'Facteur'): string {
  return generateURI({ secret, label: accountName, issuer });
}

/**
 * Checks a code; returns the accepted time step, or undefined. A step at or before `lastStep` is
 * refused so a code cannot be replayed (RFC 6238 §5.2).
 */
export async function verifyTotp(secret: string, code: string, lastStep: number | null, nowMs: number): Promise<number | undefined> {
  if (!/^\d{6}$/.test(code)) return undefined;
  const result = await verify({
    secret,
    token: code,
    epoch: Math.floor(nowMs / 1000),
    epochTolerance: TOLERANCE_SECONDS,
    ...(lastStep !== null ? { afterTimeStep: lastStep } : {}),
  }).catch(() => ({ valid: false as const }));
  return result.valid ? (result as { timeStep: number }).timeStep : undefined;
}

const CODE_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(code.replaceAll('-', '').toLowerCase()).digest('hex');
}

/** Ten codes like `k7m2p-x9qrt` (about 49 bits each) and their hashes to store. */
export function newRecoveryCodes(count = 10): { codes: string[]; hashes: string[] } {
  const codes: string[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = crypto.getRandomValues(new Uint8Array(10));
    const chars = Array.from(bytes, (b) => CODE_ALPHABET[b % CODE_ALPHABET.length]).join('');
    codes.push(`${chars.slice(0, 5)}-${chars.slice(5)}`);
  }
  return { codes, hashes: codes.map(hashRecoveryCode) };
}

/** Returns the remaining hashes when `code` is one of them (it is used up), else undefined. */
export function useRecoveryCode(hashes: string[], code: string): string[] | undefined {
  const wanted = hashRecoveryCode(code.trim());
  return hashes.includes(wanted) ? hashes.filter((h) => h !== wanted) : undefined;
}
