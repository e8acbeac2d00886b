/**
 * Secrets kept in the database, sealed (keyring.ts): where they are, the service's own secrets (SRS,
 * digest links: generated once, kept in `settings` so every node shares them, read once per process),
 * the sweep that seals values written before sealing existed, and the re-sealing of a key rotation.
 */
import { randomBytes } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { isSealed, SEALED_PREFIX, type SecretKeyring, type SecretPurpose } from './keyring.ts';
import type { Database } from './schema.ts';

/** The secrets the service makes for itself, kept sealed in `settings`. */
export const SECRET_SETTINGS = ['srs.secret', 'filter.digestLinkSecret'] as const;

interface SealedColumn {
  table: 'domains' | 'dkim_keys' | 'logins' | 'accounts' | 'settings';
  key: 'id' | 'key';
  column: string;
  purpose: (rowKey: string) => SecretPurpose;
  /** Only these rows hold secrets (settings). */
  rows?: readonly string[];
}

/** Every column that holds a secret. A new one goes here, and its reads go through `keyring.open`. */
export const SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: 'domains', key: 'id', column: 'dkim_private_key', purpose: () => 'dkim' },
  { table: 'dkim_keys', key: 'id', column: 'private_key', purpose: () => 'dkim' },
  { table: 'logins', key: 'id', column: 'totp_secret', purpose: () => 'totp' },
  { table: 'accounts', key: 'id', column: 'totp_secret', purpose: () => 'totp' },
  { table: 'settings', key: 'key', column: 'value', purpose: (key) => `setting:${key}`, rows: SECRET_SETTINGS },
];

/** Rows read per query while sealing: bounds memory, whatever the number of accounts. */
const BATCH = 500;

const cache = new WeakMap<Kysely<Database>, Map<string, Promise<string>>>();

/** Settings hold JSON: a sealed secret is stored as a JSON string of its sealed form. */
async function loadOrCreate(db: Kysely<Database>, keyring: SecretKeyring, key: string, now: number): Promise<string> {
  const purpose: SecretPurpose = `setting:${key}`;
  const fresh = JSON.stringify(keyring.seal(purpose, randomBytes(32).toString('base64url')));
  // Two processes starting together: the first insert wins and both read its value.
  await db
    .insertInto('settings')
    .values({ key, value: fresh, updated_at: now })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirstOrThrow();
  return keyring.open(purpose, JSON.parse(row.value) as string);
}

/** The secret named `key` (base64url, 256 bits). Never call it inside a transaction (SQLite has one connection). */
export function storedSecret(db: Kysely<Database>, keyring: SecretKeyring, key: (typeof SECRET_SETTINGS)[number], now: number): Promise<string> {
  let perDb = cache.get(db);
  if (!perDb) {
    perDb = new Map();
    cache.set(db, perDb);
  }
  let secret = perDb.get(key);
  if (!secret) {
    const loading = loadOrCreate(db, keyring, key, now);
    loading.catch(() => perDb.delete(key));
    perDb.set(key, loading);
    secret = loading;
  }
  return secret;
}

/** Settings store JSON; the other columns the value itself. */
function unwrap(spec: SealedColumn, value: string): string {
  return spec.table === 'settings' ? (JSON.parse(value) as string) : value;
}

function wrap(spec: SealedColumn, value: string): string {
  return spec.table === 'settings' ? JSON.stringify(value) : value;
}

/** Rows of a column after `after` (by key), `BATCH` at a time; `plaintextOnly` leaves sealed values out. */
async function readBatch(db: Kysely<Database>, spec: SealedColumn, after: string, plaintextOnly: boolean) {
  const keyRef = sql.ref(spec.key);
  const valueRef = sql.ref(spec.column);
  const rows = spec.rows ? sql`and ${keyRef} in (${sql.join(spec.rows.map((r) => sql`${r}`))})` : sql``;
  const sealed = plaintextOnly ? sql`and ${valueRef} not like ${`${spec.table === 'settings' ? '"' : ''}${SEALED_PREFIX}%`}` : sql``;
  const result = await sql<{ k: string; v: string }>`select ${keyRef} as k, ${valueRef} as v from ${sql.table(spec.table)}
    where ${valueRef} is not null and ${keyRef} > ${after} ${rows} ${sealed} order by ${keyRef} limit ${BATCH}`.execute(db);
  return result.rows;
}

/**
 * Seals again, under the key that seals now, every value that is not sealed under it (`plaintextOnly`:
 * only values not sealed at all, the sweep at start). Each row is updated on the condition that it still
 * holds what was read, so a change made meanwhile is never overwritten (the next run takes it).
 */
export async function resealSecrets(db: Kysely<Database>, keyring: SecretKeyring, options: { plaintextOnly: boolean }): Promise<number> {
  let resealed = 0;
  for (const spec of SEALED_COLUMNS) {
    let after = '';
    for (;;) {
      const batch = await readBatch(db, spec, after, options.plaintextOnly);
      if (batch.length === 0) break;
      after = batch[batch.length - 1]?.k as string;
      for (const row of batch) {
        const stored = unwrap(spec, row.v);
        if (keyring.isCurrent(stored)) continue;
        if (options.plaintextOnly && isSealed(stored)) continue;
        const purpose = spec.purpose(row.k);
        const next = wrap(spec, keyring.seal(purpose, keyring.open(purpose, stored)));
        const result = await sql`update ${sql.table(spec.table)} set ${sql.ref(spec.column)} = ${next}
          where ${sql.ref(spec.key)} = ${row.k} and ${sql.ref(spec.column)} = ${row.v}`.execute(db);
        resealed += Number(result.numAffectedRows ?? 0);
      }
    }
  }
  return resealed;
}

/**
 * After secrets stored in clear were sealed (`resealSecrets` with `plaintextOnly`, once, at the first
 * start of a version that seals): the space that held them is rewritten, so that a copy of the database
 * files, a backup, does not carry them any more. SQLite keeps a deleted value in free space inside its
 * pages and in the WAL: VACUUM rebuilds the file and the checkpoint empties the WAL. PostgreSQL keeps old
 * row versions until a vacuum, and their bytes until a page is rewritten: VACUUM FULL rewrites the
 * tables that held secrets (small ones) into new files. A failure (a busy database, too little disk) is
 * the caller's to report: the data stays sealed, and the operator runs the vacuum when it can.
 */
export async function scrubFreedSecrets(db: Kysely<Database>, engine: 'sqlite' | 'postgres'): Promise<void> {
  if (engine === 'sqlite') {
    await sql`vacuum`.execute(db);
    await sql`pragma wal_checkpoint(truncate)`.execute(db);
    return;
  }
  for (const table of new Set(SEALED_COLUMNS.map((spec) => spec.table))) await sql`vacuum full ${sql.table(table)}`.execute(db);
}

/** How many secrets are stored otherwise than sealed under the key that seals now (0 once a rotation is done). */
export async function countNotCurrent(db: Kysely<Database>, keyring: SecretKeyring): Promise<number> {
  let count = 0;
  for (const spec of SEALED_COLUMNS) {
    let after = '';
    for (;;) {
      const batch = await readBatch(db, spec, after, false);
      if (batch.length === 0) break;
      after = batch[batch.length - 1]?.k as string;
      count += batch.filter((row) => !keyring.isCurrent(unwrap(spec, row.v))).length;
    }
  }
  return count;
}

export interface RotationResult {
  /** The key that seals every secret now. */
  key: string;
  resealed: number;
  /** Keys removed from the key file (none when the keys are configured: the operator removes them). */
  retired: string[];
}

/** Passes over the data before giving up: each catches what changed during the one before. */
const ROTATION_PASSES = 3;

/**
 * `facteur secrets rotate-key`: with a key file, a new key is added first (running services re-read the
 * file and seal with it from then on); every secret is sealed again under it, row by row (an interrupted
 * run is simply run again); only once none is left under an older key are the old keys removed. With
 * configured keys, the first configured key is the new one: the secrets are sealed again under it.
 */
export async function rotateSecretsKey(db: Kysely<Database>, keyring: SecretKeyring): Promise<RotationResult> {
  if (keyring.file) keyring.addSealingKey();
  let resealed = 0;
  for (let pass = 0; pass < ROTATION_PASSES; pass++) {
    resealed += await resealSecrets(db, keyring, { plaintextOnly: false });
    if ((await countNotCurrent(db, keyring)) === 0) {
      return { key: keyring.current().id, resealed, retired: keyring.retireOtherKeys() };
    }
  }
  throw new Error('some secrets changed during every pass and are still sealed under an older key: the old keys are kept; run the rotation again');
}

/**
 * At start: one sealed value of each column must open, else this process was given other keys than
 * the ones that sealed them (a node without the key file, a wrong FACTEUR_SECRETS_KEYS): better to
 * stop with a clear message than to fail at the first DKIM signature or TOTP login.
 */
export async function checkKeyring(db: Kysely<Database>, keyring: SecretKeyring): Promise<void> {
  for (const spec of SEALED_COLUMNS) {
    const valueRef = sql.ref(spec.column);
    const rows = spec.rows ? sql`and ${sql.ref(spec.key)} in (${sql.join(spec.rows.map((r) => sql`${r}`))})` : sql``;
    const prefix = `${spec.table === 'settings' ? '"' : ''}${SEALED_PREFIX}%`;
    const found = await sql<{ k: string; v: string }>`select ${sql.ref(spec.key)} as k, ${valueRef} as v from ${sql.table(spec.table)}
      where ${valueRef} like ${prefix} ${rows} limit 1`.execute(db);
    const row = found.rows[0];
    if (row) keyring.open(spec.purpose(row.k), unwrap(spec, row.v));
  }
}
