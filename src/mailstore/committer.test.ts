/**
 * Group commit on the real store (SQLite, or PostgreSQL under FACTEUR_TEST_ENGINE=postgres): writes
 * announced in advance share a batch; a lone writer does not wait; a trace write that fails inside
 * the shared transaction fails nothing else.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Kysely } from 'kysely';
import type { AppContext } from '../context.ts';
import { createLogger } from '../log/index.ts';
import { ManualClock } from '../shared/clock.ts';
import { type Database, openStore, type Store } from '../store/index.ts';
import { recordTraceIn, type TraceStep } from '../trace/index.ts';
import { GATHER_MS, GroupCommitter } from './committer.ts';

let dataDir: string;
let store: Store;
let db: Kysely<Database>;
let schema: string | undefined;

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'facteur-committer-'));
  let databaseUrl = '';
  if (process.env.FACTEUR_TEST_ENGINE === 'postgres') {
    const base = process.env.FACTEUR_TEST_DATABASE_URL;
    if (!base) throw new Error('FACTEUR_TEST_ENGINE=postgres needs FACTEUR_TEST_DATABASE_URL');
    schema = `t_committer_${path
      .basename(dataDir)
      .replace(/[^a-z0-9]/gi, '')
      .toLowerCase()}`;
    const url = new URL(base);
    url.searchParams.set('options', `-c search_path=${schema}`);
    databaseUrl = url.toString();
  }
  store = await openStore({ databaseUrl, dataDir });
  db = store.db;
});

after(async () => {
  if (schema) {
    const { sql } = await import('kysely');
    await sql.raw(`drop schema "${schema}" cascade`).execute(db);
  }
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
});

function setting(key: string) {
  return (trx: Kysely<Database>) => trx.insertInto('settings').values({ key, value: '1', updated_at: 0 }).execute();
}

test('writes announced in advance share one commit; the batch starts when the last one comes', async () => {
  const committer = new GroupCommitter(db);
  const done = [committer.announce(), committer.announce(), committer.announce()];
  const writes: Promise<unknown>[] = [];
  for (const [i, arrived] of done.entries()) {
    // A turn of the event loop between arrivals (not a timer: on a loaded CI machine three 1 ms timers
    // took longer than GATHER_MS, and the batch rightly started without the last write).
    await new Promise((resolve) => setImmediate(resolve));
    arrived();
    writes.push(committer.run(setting(`batch-${i}`)));
  }
  const t0 = performance.now();
  await Promise.all(writes);
  assert.deepEqual(committer.stats, { commits: 1, writes: 3 });
  assert.ok(performance.now() - t0 < GATHER_MS * 20, 'no wait once every announced write is in');
  const rows = await db.selectFrom('settings').select('key').where('key', 'like', 'batch-%').execute();
  assert.equal(rows.length, 3);
});

test('a lone writer commits at once; an announced write that never comes delays a batch by GATHER_MS at most', async () => {
  const committer = new GroupCommitter(db);
  await committer.run(setting('lone'));
  assert.deepEqual(committer.stats, { commits: 1, writes: 1 });

  const never = committer.announce();
  const t0 = performance.now();
  await committer.run(setting('waited'));
  const waited = performance.now() - t0;
  assert.ok(waited >= GATHER_MS - 1, `waited ${waited} ms`);
  never();
  never(); // more than once is harmless
  await committer.run(setting('after'));
  assert.deepEqual(committer.stats, { commits: 3, writes: 3 });
});

test('a failing write fails alone; the others of its batch are stored', async () => {
  const committer = new GroupCommitter(db);
  const arrived = [committer.announce(), committer.announce()];
  arrived[0]?.();
  const good = committer.run(setting('good'));
  arrived[1]?.();
  const bad = committer.run(setting('good')); // the same key: a primary key violation
  await good;
  await assert.rejects(bad);
  assert.equal((await db.selectFrom('settings').select('key').where('key', '=', 'good').execute()).length, 1);
});

test('a trace write that fails inside the shared transaction is rolled back alone', async () => {
  const logged: unknown[] = [];
  const log = createLogger('silent');
  log.error = ((entry: unknown) => void logged.push(entry)) as typeof log.error;
  const ctx = { db, engine: store.engine, clock: new ManualClock(1000), log } as unknown as AppContext;
  const committer = new GroupCommitter(db);
  const event = { direction: 'inbound' as const, sender: 'a@example.org', recipient: 'b@example.test', sessionId: 'trace-test' };
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  await committer.run(async (trx) => {
    await setting('traced')(trx);
    await recordTraceIn(ctx, trx, [{ ...event, step: 'stored' }]);
    // Refused by the database (step is NOT NULL), and a detail that cannot be serialized.
    await recordTraceIn(ctx, trx, [{ ...event, step: null as unknown as TraceStep }]);
    await recordTraceIn(ctx, trx, [{ ...event, step: 'verdict', detail: circular }]);
  });
  assert.equal(logged.length, 2);
  assert.equal((await db.selectFrom('settings').select('key').where('key', '=', 'traced').execute()).length, 1);
  const steps = await db.selectFrom('message_trace').select('step').where('session_id', '=', 'trace-test').execute();
  assert.deepEqual(
    steps.map((s) => s.step),
    ['stored'],
  );
});
