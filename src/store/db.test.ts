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
