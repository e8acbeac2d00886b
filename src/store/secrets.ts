/**
 * Secrets the service makes for itself (SRS, digest links): generated once, kept in `settings` so every
 * node shares them, and read once per process.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

const cache = new WeakMap<Kysely<Database>, Map<string, Promise<string>>>();

async function loadOrCreate(db: Kysely<Database>, key: string, now: number): Promise<string> {
  const fresh = JSON.stringify(randomBytes(32).toString('base64url'));
  // Two processes starting together: the first insert wins and both read its value.
  await db
    .insertInto('settings')
    .values({ key, value: fresh, updated_at: now })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirstOrThrow();
  return JSON.parse(row.value) as string;
}

/** The secret named `key` (base64url, 256 bits). Never call it inside a transaction (SQLite has one connection). */
export function storedSecret(db: Kysely<Database>, key: string, now: number): Promise<string> {
  let perDb = cache.get(db);
  if (!perDb) {
    perDb = new Map();
    cache.set(db, perDb);
  }
  let secret = perDb.get(key);
  if (!secret) {
    const loading = loadOrCreate(db, key, now);
    loading.catch(() => perDb.delete(key));
    perDb.set(key, loading);
    secret = loading;
  }
  return secret;
}
