/**
 * Scheduled jobs: each has a name, a schedule and a lease in `job_runs`, so with several workers
 * only one runs a job at a time, and a job that runs twice does no harm (each job is idempotent).
 * `runDueJobs` runs them all once, now (the `facteur jobs run-due` command and the tests).
 */
import { Cron } from 'croner';
import type { AppContext } from '../context.ts';
import { recoverInterruptedOperations } from '../operations/index.ts';
import { renewDueSubscriptions, runDkimRotations } from '../tenancy/index.ts';

export interface Job {
  name: string;
  /** Cron expression (UTC). */
  schedule: string;
  run(ctx: AppContext): Promise<unknown>;
}

export const JOBS: Job[] = [
  { name: 'subscriptions.renew', schedule: '*/5 * * * *', run: renewDueSubscriptions },
  { name: 'operations.recover', schedule: '* * * * *', run: recoverInterruptedOperations },
  { name: 'dkim.rotate', schedule: '*/10 * * * *', run: runDkimRotations },
  // The filter (issue 5): held messages expire (R-S4), digests go out when due (R-S3), the vault is purged (R-V1).
  // Loaded when they run, so the CLI starts without the filter's modules.
  { name: 'quarantine.expire', schedule: '41 * * * *', run: async (ctx) => (await import('../filter/quarantine.ts')).expireQuarantine(ctx) },
  { name: 'digest.send', schedule: '7 * * * *', run: async (ctx) => (await import('../filter/digest.ts')).sendDueDigests(ctx) },
  { name: 'vault.purge', schedule: '53 * * * *', run: async (ctx) => (await import('../filter/vault.ts')).purgeVault(ctx) },
  // Users' judgements not learnt yet (issue 11): normally learnt at once; this finishes what a crash left.
  { name: 'filter.learn', schedule: '* * * * *', run: async (ctx) => (await import('../filter/learning.ts')).learnPending(ctx) },
  // Sort keys and conversations of messages stored before migration 011 (also filled on demand by SORT and THREAD).
  { name: 'messages.keys', schedule: '*/5 * * * *', run: async (ctx) => (await import('../mailstore/threads.ts')).fillMessageKeys(ctx) },
  // Contents nobody references any more (expunged, released, purged), and files a crash left behind.
  { name: 'blobs.collect', schedule: '29 * * * *', run: async (ctx) => (await import('../mailstore/gc.ts')).collectGarbage(ctx) },
  // Searchable text of messages stored before it was extracted at delivery (migration 012); also run at start.
  { name: 'search.index', schedule: '13 * * * *', run: async (ctx) => (await import('../mailstore/search-text.ts')).indexMissingTexts(ctx) },
  // Retention (issue 6): traffic data, finished queue rows, the operations journal, expunge history.
  { name: 'trace.purge', schedule: '11 3 * * *', run: async (ctx) => (await import('../lifecycle/retention.ts')).purgeTrace(ctx) },
  { name: 'queue.purge', schedule: '23 3 * * *', run: async (ctx) => (await import('../lifecycle/retention.ts')).purgeFinishedQueue(ctx) },
  { name: 'operations.purge', schedule: '37 3 * * *', run: async (ctx) => (await import('../lifecycle/retention.ts')).purgeOperations(ctx) },
  { name: 'expunges.trim', schedule: '47 * * * *', run: async (ctx) => (await import('../lifecycle/retention.ts')).trimExpungeHistory(ctx) },
  {
    name: 'sessions.purge',
    schedule: '17 * * * *',
    run: async (ctx) => Number((await ctx.db.deleteFrom('sessions').where('expires_at', '<=', ctx.clock.now()).executeTakeFirst()).numDeletedRows),
  },
];

const LEASE_MS = 10 * 60_000;

/** Takes the job's lease; false when another worker holds it. */
async function takeLease(ctx: AppContext, name: string): Promise<boolean> {
  const now = ctx.clock.now();
  await ctx.db
    .insertInto('job_runs')
    .values({ name, last_started_at: null, last_finished_at: null, lease_until: 0, last_result: null })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const result = await ctx.db
    .updateTable('job_runs')
    .set({ lease_until: now + LEASE_MS, last_started_at: now })
    .where('name', '=', name)
    .where('lease_until', '<=', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function runJob(ctx: AppContext, job: Job): Promise<{ ran: boolean; result?: unknown }> {
  if (!(await takeLease(ctx, job.name))) return { ran: false };
  let result: unknown;
  try {
    result = await job.run(ctx);
    return { ran: true, result };
  } catch (error) {
    result = { error: (error as Error).message };
    ctx.log.error({ event: 'job.failed', job: job.name, err: error }, 'job.failed');
    throw error;
  } finally {
    await ctx.db
      .updateTable('job_runs')
      .set({ lease_until: 0, last_finished_at: ctx.clock.now(), last_result: JSON.stringify(result ?? null) })
      .where('name', '=', job.name)
      .execute();
  }
}

export async function runDueJobs(ctx: AppContext): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {};
  for (const job of JOBS) results[job.name] = (await runJob(ctx, job)).result;
  return results;
}

/** Starts the schedules of every job (the worker role); returns a function that stops them. */
export function startScheduler(ctx: AppContext): () => void {
  const atStart = JOBS.find((job) => job.name === 'search.index');
  if (atStart) void runJob(ctx, atStart).catch(() => {});
  const crons = JOBS.map(
    (job) =>
      new Cron(job.schedule, { timezone: 'UTC', protect: true }, () => {
        void runJob(ctx, job).catch(() => {});
      }),
  );
  return () => {
    for (const cron of crons) cron.stop();
  };
}
