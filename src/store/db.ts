/**
 * Opens the metadata database: SQLite (better-sqlite3, WAL, synchronous=FULL) by default, PostgreSQL
 * when a postgres:// URL is given. One schema and one set of migrations, applied on open.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, type Migration, type MigrationProvider, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import * as m001 from './migrations/001-initial.ts';
import * as m002 from './migrations/002-mailstore.ts';
import * as m003 from './migrations/003-trace.ts';
import * as m004 from './migrations/004-queue.ts';
import * as m005 from './migrations/005-blob-contents.ts';
import * as m006 from './migrations/006-dkim-rotation.ts';
import * as m007 from './migrations/007-imap.ts';
import * as m008 from './migrations/008-filter.ts';
import * as m009 from './migrations/009-message-index.ts';
import * as m010 from './migrations/010-recent.ts';
import * as m011 from './migrations/011-threads.ts';
import * as m012 from './migrations/012-search-text.ts';
import * as m013 from './migrations/013-retention.ts';
import * as m014 from './migrations/014-trace-lists.ts';
import * as m015 from './migrations/015-blob-reservations.ts';
import * as m016 from './migrations/016-lost-subscriptions.ts';
import * as m017 from './migrations/017-status-index.ts';
import * as m018 from './migrations/018-expunged-ids.ts';
import * as m019 from './migrations/019-filter-lessons.ts';
import * as m020 from './migrations/020-deferred-fts.ts';
import type { Database } from './schema.ts';
import { SplitSqliteDialect } from './sqlite-writer.ts';

export type Engine = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  engine: Engine;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** postgres://… or empty for SQLite. */
  databaseUrl: string;
  /** Directory of the SQLite file (ignored for PostgreSQL). */
  dataDir: string;
  /** Apply pending migrations (default true). */
  migrate?: boolean;
}

const MIGRATIONS: Record<string, Migration> = {
  '001-initial': m001,
  '002-mailstore': m002,
  '003-trace': m003,
  '004-queue': m004,
  '005-blob-contents': m005,
  '006-dkim-rotation': m006,
  '007-imap': m007,
  '008-filter': m008,
  '009-message-index': m009,
  '010-recent': m010,
  '011-threads': m011,
  '012-search-text': m012,
  '013-retention': m013,
  '014-trace-lists': m014,
  '015-blob-reservations': m015,
  '016-lost-subscriptions': m016,
  '017-status-index': m017,
  '018-expunged-ids': m018,
  '019-filter-lessons': m019,
  '020-deferred-fts': m020,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

// int8 (bigint) columns carry epoch milliseconds and counts: well inside Number's exact range.
pg.types.setTypeParser(20, (value) => Number(value));

/** Prepared statements kept per SQL text; the queries of an API are few, so this stays small. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely's SQLite driver prepares every query anew, and parsing SQL was a third of the CPU time of
 * an API read; the same SQL text gets the same prepared statement instead (least recently used out).
 */
function withStatementCache(sqlite: SQLite.Database) {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (statement) cache.delete(sql);
      else {
        statement = sqlite.prepare(sql);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      }
      cache.set(sql, statement);
      return statement;
    },
  };
}

/**
 * How long a write waits for another process's write lock (a `facteur` CLI next to the service)
 * before failing with SQLITE_BUSY. Write transactions are short: this is many of them.
 */
const SQLITE_BUSY_TIMEOUT_MS = 10_000;

/**
 * Run by the writer thread in each transaction just before its COMMIT, while the main thread goes on
 * (migration 020): the texts filed in the transaction get their full-text index entries.
 */
const FTS_AT_COMMIT = {
  table: 'message_texts_pending',
  statements: [
    `insert into message_texts_fts(rowid, headers, body)
       select t.id, t.headers, t.body from message_texts_pending p cross join message_texts t on t.id = p.id`,
    'delete from message_texts_pending',
  ],
};

/** SQLite's page cache, in KiB (its default is 2 MiB). */
const SQLITE_CACHE_KIB = 64 * 1024;

function openSqlite(dataDir: string): Kysely<Database> {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'facteur.db');
  const sqlite = new SQLite(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  sqlite.pragma('journal_mode = WAL');
  // Statement journals of the savepoints (one per write of a group commit) in memory rather than in
  // temporary files, and a page cache that holds the hot folders' indexes (the default 2 MiB did not):
  // together with migration 017, half the SQLite time per command in bench/imap's heavy mix.
  const pragmas = ['synchronous = FULL', 'foreign_keys = ON', 'temp_store = MEMORY', `cache_size = -${SQLITE_CACHE_KIB}`];
  for (const pragma of pragmas) sqlite.pragma(pragma);
  // Writes run on the writer thread's connection (sqlite-writer.ts): this one only reads.
  sqlite.pragma('query_only = ON');
  const dialect = new SplitSqliteDialect(withStatementCache(sqlite), {
    file,
    busyTimeoutMs: SQLITE_BUSY_TIMEOUT_MS,
    pragmas,
    statementCacheSize: STATEMENT_CACHE_SIZE,
    beforeCommit: FTS_AT_COMMIT,
  });
  return new Kysely<Database>({ dialect });
}

/** The schema named by `?options=-c search_path=NAME` in the URL, if any. */
function schemaOf(url: string): string | undefined {
  const options = new URL(url).searchParams.get('options') ?? '';
  return /search_path=([A-Za-z_][A-Za-z0-9_]*)/.exec(options)?.[1];
}

/**
 * PostgreSQL through a pool. A URL may choose a schema with `?options=-c search_path=NAME` (tests
 * isolate themselves this way); it is created when absent.
 */
async function openPostgres(url: string): Promise<Kysely<Database>> {
  const schema = schemaOf(url);
  if (schema) {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`create schema if not exists "${schema}"`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({ connectionString: url, max: 20 });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** Kysely's table of applied migrations (its default name). */
const MIGRATION_TABLE = 'kysely_migration';

/**
 * Whether some migration is not applied yet, read without a lock. Kysely's migrator takes one advisory
 * lock for the whole PostgreSQL database, whichever schema it migrates: every `facteur` command and
 * every process start would wait behind any migration in progress, even with nothing to do.
 */
async function hasPendingMigrations(db: Kysely<Database>, schema?: string): Promise<boolean> {
  try {
    const table = schema ? sql.id(schema, MIGRATION_TABLE) : sql.id(MIGRATION_TABLE);
    const { rows } = await sql<{ name: string }>`select name from ${table}`.execute(db);
    const applied = new Set(rows.map((row) => row.name));
    return Object.keys(MIGRATIONS).some((name) => !applied.has(name));
  } catch {
    return true; // no table yet: a new database
  }
}

export async function migrateToLatest(db: Kysely<Database>, schema?: string): Promise<void> {
  // Kysely's migrator looks for its tables by reading the catalog of every schema; a schema another
  // process drops at that moment (tests drop theirs when done) fails that read with "schema … does not
  // exist" naming the other schema. Nothing was migrated yet: try again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateOnce(db, schema);
    } catch (error) {
      const other = /schema "([^"]+)" does not exist/.exec(String((error as Error).message))?.[1];
      if (!other || other === schema || attempt >= 5) throw error;
    }
  }
}

async function migrateOnce(db: Kysely<Database>, schema?: string): Promise<void> {
  if (!(await hasPendingMigrations(db, schema))) return;
  // With a schema, Kysely's own tables must live there too: by default it looks them up by name in
  // every schema, and another schema's migration tables would pass for this one's.
  // Unordered: work developed side by side lands with numbers out of order (014 before 011); each
  // migration touches its own tables, so one applied later than a higher number is still right.
  const { error, results } = await new Migrator({
    db,
    provider,
    allowUnorderedMigrations: true,
    ...(schema ? { migrationTableSchema: schema } : {}),
  }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${(error as Error).message}`, { cause: error });
  }
}

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const engine: Engine = options.databaseUrl ? 'postgres' : 'sqlite';
  const db = engine === 'postgres' ? await openPostgres(options.databaseUrl) : openSqlite(options.dataDir);
  if (options.migrate !== false) {
    try {
      await migrateToLatest(db, engine === 'postgres' ? schemaOf(options.databaseUrl) : undefined);
    } catch (error) {
      await db.destroy();
      throw error;
    }
  }
  return { db, engine, close: () => db.destroy() };
}
