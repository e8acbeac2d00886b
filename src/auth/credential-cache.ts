/**
 * A short cache of verified mail credentials, as Dovecot's auth cache: a client that logs in again
 * and again (a phone polling, a client opening a connection per folder) costs one argon2 verification
 * a minute instead of one per login, each a few milliseconds of a core (bench/imap heavy mix, with logins).
 *
 * The key is an HMAC, under a key of this process drawn at random, of the account, the password and the
 * source address: the cache holds no password nor a fast hash of one, and a password verified from one
 * address is not taken from another. An entry names the stored hash it was verified against; a login
 * that finds it checks that the account (or the app password) still has that very hash, so a changed
 * password, a deleted app password or 2FA turned on (whatever process did it) makes it miss at once.
 * Only successes are kept: a wrong password always costs a verification.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { normalizeSource } from './throttle.ts';

/** How long a verified credential is believed (Dovecot's auth_cache_ttl, shortened: a minute). */
export const CREDENTIAL_CACHE_TTL_MS = 60_000;
/** Entries kept at most; the oldest go first (a bound on memory, not an LRU). */
export const CREDENTIAL_CACHE_MAX_ENTRIES = 10_000;

export interface VerifiedCredential {
  accountId: string;
  /** The account password, or one of its app passwords (its id). */
  appPasswordId: string | null;
  /** The stored argon2 hash the password was verified against. */
  passwordHash: string;
}

interface Entry extends VerifiedCredential {
  expiresAt: number;
}

export class CredentialCache {
  private readonly secret = randomBytes(32);
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs = CREDENTIAL_CACHE_TTL_MS,
    private readonly maxEntries = CREDENTIAL_CACHE_MAX_ENTRIES,
  ) {}

  private key(accountKey: string, password: string, ip: string): string {
    return createHmac('sha256', this.secret)
      .update(`${accountKey}\0${normalizeSource(ip)}\0${password}`)
      .digest('base64');
  }

  /** The credential verified for this account name, password and source within the TTL, if any. */
  get(accountKey: string, password: string, ip: string, now: number): VerifiedCredential | undefined {
    const key = this.key(accountKey, password, ip);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  set(accountKey: string, password: string, ip: string, now: number, credential: VerifiedCredential): void {
    const key = this.key(accountKey, password, ip);
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      // Expired entries first; if none, the oldest.
      for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    }
    this.entries.set(key, { ...credential, expiresAt: now + this.ttlMs });
  }

  /** Forgets an entry that no longer holds (its password changed). */
  delete(accountKey: string, password: string, ip: string): void {
    this.entries.delete(this.key(accountKey, password, ip));
  }

  get size(): number {
    return this.entries.size;
  }
}

const caches = new WeakMap<object, CredentialCache>();

/** The cache of one service (one AppContext): tests and processes that share nothing get their own. */
export function credentialCacheOf(owner: object): CredentialCache {
  let cache = caches.get(owner);
  if (!cache) {
    cache = new CredentialCache();
    caches.set(owner, cache);
  }
  return cache;
}
