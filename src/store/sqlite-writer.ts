/**
 * SQLite with the durable commit off the event loop: a writer thread (node:worker_threads) owns its own
 * better-sqlite3 connection and runs every write, transactions whole (BEGIN IMMEDIATE ... COMMIT, with
 * their savepoints and the reads inside them); the main thread keeps its connection for reads outside
 * transactions, which WAL lets go on while the writer writes.
 *
 * Why: better-sqlite3 is synchronous, and a COMMIT with synchronous=FULL is an fsync: on the one thread
 * that serves every client it was 20-28 % of the main thread under the SMTP and IMAP benchmarks, the
 * FTS5 indexing the commit's triggers do another 18-24 %, and with two worker processes a busy_timeout
 * wait for the other's write lock blocked the loop as well. With the writer thread, all of that (the
 * statements of a write, the fsync, the lock waits, the automatic checkpoints) runs on the other core
 * while the main thread goes on serving; durability is unchanged (synchronous stays FULL, and a write
 * resolves only once its COMMIT has returned on the writer, so 250 / OK still come after the fsync).
 * Each statement of a transaction costs a message to the thread and back (tens of microseconds of
 * latency, a few of main-thread CPU); the group commit keeps transactions few. PostgreSQL needs none of
 * this: `pg` is asynchronous already, and both engines keep one code path (Kysely transactions).
 *
 * Which connection runs a query: inside a transaction, the writer (its own snapshot and lock); outside,
 * the main connection when the statement only reads (better-sqlite3's `readonly`), else the writer, as
 * one autocommit statement. The main connection is `query_only`, so a write can never take the lock
 * on the main thread. One write at a time goes to the writer (a transaction holds it from BEGIN to
 * COMMIT or ROLLBACK): as before, a write on `db` from inside a transaction would wait for ever.
 */
import { createRequire } from 'node:module';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryCompiler,
  type QueryResult,
  SelectQueryNode,
  SqliteDialect,
  type TransactionSettings,
} from 'kysely';

/** What the writer thread needs to open its connection as the main thread opened its own. */
export interface WriterOptions {
  file: string;
  busyTimeoutMs: number;
  /** PRAGMA statements run on the writer's connection after it opens (synchronous, foreign keys...). */
  pragmas: string[];
  statementCacheSize: number;
  /**
   * Statements run inside each transaction just before its COMMIT, once `table` exists (a migration
   * creates it): work that must commit with the transaction but that nobody waits for statement by
   * statement (the full-text index, migration 020).
   */
  beforeCommit?: { table: string; statements: string[] };
}

/**
 * The writer thread's code. Plain JavaScript run with `eval`, so that it needs no file of its own next
 * to the esbuild bundle that `npm start` runs; better-sqlite3 is loaded from the path the main thread
 * resolved. Errors go back as their message and SQLite code (`SQLITE_CONSTRAINT_UNIQUE`...).
 *
 * BEGIN IMMEDIATE is tried again on SQLITE_BUSY until the busy timeout has passed: with two worker
 * processes each writing through its thread while reading on another connection, SQLite answered
 * "database is locked" to it after 144 ms under bench/smtp, well within the timeout (its busy handler
 * is not called on every path of WAL's locking). It holds no lock when it fails, so trying again is safe.
 */
const WRITER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.sqlitePath);
const { file, busyTimeoutMs, pragmas, statementCacheSize } = workerData.options;
const BEGIN_RETRY_MS = 5;
const db = new SQLite(file, { timeout: busyTimeoutMs });
for (const pragma of pragmas) db.pragma(pragma);
const cache = new Map();
function prepare(sql) {
  let statement = cache.get(sql);
  if (statement) cache.delete(sql);
  else {
    statement = db.prepare(sql);
    if (cache.size >= statementCacheSize) cache.delete(cache.keys().next().value);
  }
  cache.set(sql, statement);
  return statement;
}
function revive(value) {
  return value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value;
}
const { syncPort, signal } = workerData;
const flag = new Int32Array(signal);
const pause = new Int32Array(new SharedArrayBuffer(4));
function execute(request) {
  const statement = prepare(request.sql);
  const parameters = request.parameters.map(revive);
  if (statement.reader) return { id: request.id, rows: statement.all(parameters) };
  const { changes, lastInsertRowid } = statement.run(parameters);
  return { id: request.id, changes, lastInsertRowid };
}
const beforeCommit = workerData.options.beforeCommit;
let beforeCommitReady = false;
function runBeforeCommit() {
  if (!beforeCommit) return;
  if (!beforeCommitReady) {
    beforeCommitReady = prepare("select 1 from sqlite_master where type = 'table' and name = ?").get(beforeCommit.table) !== undefined;
    if (!beforeCommitReady) return;
  }
  for (const sql of beforeCommit.statements) prepare(sql).run();
}
function run(request) {
  if (request.sql === 'commit') {
    try {
      runBeforeCommit();
    } catch (error) {
      return { id: request.id, error: { name: error.name, message: error.message, code: error.code } };
    }
  }
  const deadline = Date.now() + busyTimeoutMs;
  for (;;) {
    try {
      return execute(request);
    } catch (error) {
      const busy = typeof error.code === 'string' && error.code.startsWith('SQLITE_BUSY');
      if (busy && request.sql === 'begin immediate' && Date.now() < deadline) {
        Atomics.wait(pause, 0, 0, BEGIN_RETRY_MS);
        continue;
      }
      return { id: request.id, error: { name: error.name, message: error.message, code: error.code } };
    }
  }
}
parentPort.on('message', (request) => {
  if (request.close) {
    if (db.inTransaction) db.exec('rollback');
    db.close();
    parentPort.postMessage({ id: request.id, closed: true });
    parentPort.close();
    syncPort.close();
    return;
  }
  const reply = run(request);
  if (!request.sync) return parentPort.postMessage(reply);
  syncPort.postMessage(reply);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;

interface Reply {
  id: number;
  rows?: Record<string, unknown>[];
  changes?: number;
  lastInsertRowid?: number | bigint;
  error?: { name: string; message: string; code?: string };
  closed?: boolean;
}

/** How often a synchronous wait checks that the thread is still there (it has no timeout of its own). */
const SYNC_CHECK_MS = 1000;

/** An error of the writer's connection, with better-sqlite3's name and SQLite code (dialect.ts reads `code`). */
export class SqliteWriterError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'SqliteError';
  }
}

/** Blobs come back from the thread as Uint8Array: Buffers again, as better-sqlite3 gives them (no copy). */
function reviveRows(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  for (const row of rows)
    for (const key in row) {
      const value = row[key];
      if (value instanceof Uint8Array && !Buffer.isBuffer(value)) row[key] = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    }
  return rows;
}

/** The writer thread and the requests waiting for its replies (one at a time from each transaction). */
class WriterThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve(reply: Reply): void; reject(error: unknown): void }>();
  private nextId = 1;
  private failure: Error | undefined;

  /** Replies to the synchronous requests, read with receiveMessageOnPort once `flag` says one is there. */
  private readonly syncPort: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));

  constructor(options: WriterOptions) {
    const sqlitePath = createRequire(import.meta.url).resolve('better-sqlite3');
    const { port1, port2 } = new MessageChannel();
    this.syncPort = port1;
    this.worker = new Worker(WRITER_SOURCE, {
      eval: true,
      workerData: { sqlitePath, options, syncPort: port2, signal: this.flag.buffer },
      transferList: [port2],
    });
    // The thread keeps the process alive only while a reply is awaited (a CLI command ends on its own).
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => {
      const entry = this.waiting.get(reply.id);
      if (!entry) return;
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) this.worker.unref();
      entry.resolve(reply);
    });
    const fail = (error: Error) => {
      this.failure = error;
      for (const entry of this.waiting.values()) entry.reject(error);
      this.waiting.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the SQLite writer thread exited (${code})`)));
  }

  private send(message: object): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...message });
    });
  }

  async execute<R>(sql: string, parameters: readonly unknown[]): Promise<QueryResult<R>> {
    return this.resultOf<R>(await this.send({ sql, parameters }));
  }

  /**
   * Runs a statement and waits for it, blocking this thread (Atomics.wait): for the statements inside a
   * transaction, which already holds the write lock and so never waits for another process. Awaiting
   * each of them through the event loop held the lock (SQLite's, shared by the worker processes) for as
   * long as the loop took to come back to the transaction: the two processes' deliveries then took turns
   * at half the rate. Blocked, the thread waits only for the statement itself, as it did when it ran it.
   */
  executeNow<R>(sql: string, parameters: readonly unknown[]): QueryResult<R> {
    if (this.failure) throw this.failure;
    Atomics.store(this.flag, 0, 0);
    this.worker.postMessage({ id: 0, sync: true, sql, parameters });
    while (Atomics.wait(this.flag, 0, 0, SYNC_CHECK_MS) === 'timed-out') if (this.failure) throw this.failure;
    const received = receiveMessageOnPort(this.syncPort);
    if (!received) throw new Error('the SQLite writer thread gave no reply');
    return this.resultOf<R>(received.message as Reply);
  }

  private resultOf<R>(reply: Reply): QueryResult<R> {
    if (reply.error) throw new SqliteWriterError(reply.error.message, reply.error.code);
    if (reply.rows) return { rows: reviveRows(reply.rows) as R[] };
    return {
      numAffectedRows: reply.changes !== undefined ? BigInt(reply.changes) : undefined,
      insertId: reply.lastInsertRowid !== undefined ? BigInt(reply.lastInsertRowid) : undefined,
      rows: [],
    };
  }

  async close(): Promise<void> {
    if (this.failure) return;
    await this.send({ close: true });
    this.syncPort.close();
    await this.worker.terminate();
  }
}

/** One write at a time on the writer: a transaction from BEGIN to its end, or one autocommit statement. */
class WriteLock {
  private tail: Promise<void> = Promise.resolve();

  /** Resolves, once the lock is ours, to the function that hands it on. */
  acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ready = this.tail.then(() => release);
    this.tail = next;
    return ready;
  }
}

/** What Kysely hands to queries and transactions: the main connection, or the writer once it began one. */
class SplitConnection implements DatabaseConnection {
  /** Set from BEGIN to COMMIT or ROLLBACK: every query goes to the writer, then the lock is handed on. */
  release: (() => void) | undefined;

  constructor(private readonly driver: SplitSqliteDriver) {}

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const { sql, parameters } = compiledQuery;
    if (this.release) {
      // The end of a transaction goes through the loop: the COMMIT's fsync is what must not block it.
      if (sql === 'commit' || sql === 'rollback') return this.driver.writer.execute<R>(sql, parameters);
      return this.driver.writer.executeNow<R>(sql, parameters);
    }
    const statement = this.driver.prepareMain(sql);
    if (statement?.readonly) {
      if (statement.reader) return { rows: statement.all(parameters) as R[] };
      statement.run(parameters);
      return { rows: [] };
    }
    const release = await this.driver.lock.acquire();
    try {
      return await this.driver.writer.execute<R>(sql, parameters);
    } finally {
      release();
    }
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const { sql, parameters, query } = compiledQuery;
    if (!SelectQueryNode.is(query)) throw new Error('Sqlite driver only supports streaming of select queries');
    if (this.release) {
      for (const row of (await this.driver.writer.execute<R>(sql, parameters)).rows) yield { rows: [row] };
      return;
    }
    const statement = this.driver.prepareMain(sql);
    if (!statement) throw new Error('the statement could not be prepared');
    for (const row of statement.iterate(parameters)) yield { rows: [row as R] };
  }
}

export interface MainConnection {
  prepare(sql: string): SQLite.Statement;
  close(): void;
}

export class SplitSqliteDriver implements Driver {
  readonly writer: WriterThread;
  readonly lock = new WriteLock();

  constructor(
    private readonly main: MainConnection,
    writerOptions: WriterOptions,
  ) {
    this.writer = new WriterThread(writerOptions);
  }

  /**
   * The main connection's statement, or undefined when it cannot be prepared there (a table created by
   * a write not visible yet to this connection's schema): the writer then runs it and says what is wrong.
   */
  prepareMain(sql: string): SQLite.Statement | undefined {
    try {
      return this.main.prepare(sql);
    } catch {
      return undefined;
    }
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new SplitConnection(this);
  }

  /**
   * BEGIN IMMEDIATE: the transaction takes SQLite's write lock at once, waiting for another process's
   * within the busy timeout (on the writer thread, not the event loop). A deferred BEGIN starts as a
   * reader, and a reader whose snapshot another process wrote past cannot become a writer: SQLite fails
   * at once with "database is locked" (SQLITE_BUSY_SNAPSHOT).
   */
  async beginTransaction(connection: DatabaseConnection, _settings: TransactionSettings): Promise<void> {
    const split = connection as SplitConnection;
    const release = await this.lock.acquire();
    try {
      await this.writer.execute('begin immediate', []);
    } catch (error) {
      release();
      throw error;
    }
    split.release = release;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    // A failed COMMIT leaves the transaction open: Kysely then rolls back, which hands the lock on.
    await connection.executeQuery(CompiledQuery.raw('commit'));
    this.end(connection as SplitConnection);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await connection.executeQuery(CompiledQuery.raw('rollback'));
    } finally {
      this.end(connection as SplitConnection);
    }
  }

  private end(connection: SplitConnection): void {
    const release = connection.release;
    connection.release = undefined;
    release?.();
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.raw(connection, `savepoint "${name}"`, compile);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.raw(connection, `rollback to "${name}"`, compile);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.raw(connection, `release "${name}"`, compile);
  }

  private async raw(connection: DatabaseConnection, statement: string, _compile: QueryCompiler['compileQuery']): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(statement));
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {
    const release = await this.lock.acquire();
    try {
      await this.writer.close();
    } finally {
      release();
      this.main.close();
    }
  }
}

/** Kysely's SQLite dialect (its adapter, compiler and introspector) with the split driver. */
export class SplitSqliteDialect extends SqliteDialect {
  constructor(
    private readonly main: MainConnection,
    private readonly writerOptions: WriterOptions,
  ) {
    super({ database: main as unknown as SQLite.Database });
  }

  override createDriver(): Driver {
    return new SplitSqliteDriver(this.main, this.writerOptions);
  }
}
