/**
 * SQLite transactions take the write lock when they begin (BEGIN IMMEDIATE): another process writing
 * to the same file (a `facteur` CLI next to the service) waits its turn within the busy timeout, and
 * neither side fails with "database is locked". With a deferred BEGIN the transaction below reads,
 * the other process writes past its snapshot, and its own write then fails at once (SQLITE_BUSY_SNAPSHOT).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openStore } from './db.ts';

/** Another process inserting one setting (autocommit, as a CLI write would), saying when it starts. */
function writeFromAnotherProcess(file: string, key: string): { started: Promise<void>; exited: Promise<number | null> } {
  const script = `
    const SQLite = require('better-sqlite3');
    const db = new SQLite(process.argv[1], { timeout: 10000 });
    process.stdout.write('writing\\n');
    db.prepare("insert into settings (key, value, updated_at) values (?, '1', 0)").run(process.argv[2]);
    db.close();`;
  const child = spawn(process.execPath, ['-e', script, file, key], { cwd: path.resolve(import.meta.dirname, '../..'), stdio: ['ignore', 'pipe', 'inherit'] });
  const started = new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the other process exited with ${code} before writing`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { started, exited };
}

test('SQLite: a transaction that read, then writes, while another process writes, waits its turn instead of "database is locked"', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'facteur-db-'));
  const store = await openStore({ databaseUrl: '', dataDir });
  try {
    let other: ReturnType<typeof writeFromAnotherProcess> | undefined;
    await store.db.transaction().execute(async (trx) => {
      await trx.selectFrom('settings').selectAll().execute();
      other = writeFromAnotherProcess(path.join(dataDir, 'facteur.db'), 'other');
      await other.started;
      await new Promise((resolve) => setTimeout(resolve, 300)); // the other process's write is under way
      await trx.insertInto('settings').values({ key: 'ours', value: '1', updated_at: 0 }).execute();
    });
    assert.equal(await other?.exited, 0, 'the other process waited for our commit, then wrote');
    const keys = (await store.db.selectFrom('settings').select('key').where('key', 'in', ['ours', 'other']).execute()).map((r) => r.key).sort();
    assert.deepEqual(keys, ['other', 'ours']);
  } finally {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

/** A row of message_texts (migration 012) with the given body. */
function textRow(blobId: string, body: string) {
  return { blob_id: blobId, headers: 'subject: x', subject: 'x', from_field: '', to_field: '', cc_field: '', bcc_field: '', body };
}

test('SQLite: a text filed is in the full-text index once its transaction commits; one filed and removed in the same transaction leaves the index whole', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'facteur-db-'));
  const store = await openStore({ databaseUrl: '', dataDir });
  const matches = async (needle: string) =>
    (await sql<{ n: number }>`select count(*) as n from message_texts_fts where message_texts_fts match ${`body : "${needle}"`}`.execute(store.db)).rows[0]?.n;
  try {
    await store.db.transaction().execute(async (trx) => {
      await trx.insertInto('message_texts').values(textRow('blob-kept', 'the invoice of october')).execute();
      await trx.insertInto('message_texts').values(textRow('blob-gone', 'a quarterly budget')).execute();
      await trx.deleteFrom('message_texts').where('blob_id', '=', 'blob-gone').execute();
    });
    assert.equal(await matches('invoice of oct'), 1);
    assert.equal(await matches('quarterly'), 0);
    const pending = await sql<{ n: number }>`select count(*) as n from message_texts_pending`.execute(store.db);
    assert.equal(pending.rows[0]?.n, 0, 'the queue is emptied by the commit');
    await store.db.deleteFrom('message_texts').where('blob_id', '=', 'blob-kept').execute();
    assert.equal(await matches('invoice of oct'), 0);
    // FTS5 checks its index against the content table: fails if an entry was removed that was never added.
    await sql`insert into message_texts_fts(message_texts_fts, rank) values ('integrity-check', 1)`.execute(store.db);
  } finally {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
