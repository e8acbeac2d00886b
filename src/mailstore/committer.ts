/**
 * Group commit: writes that arrive while a transaction is being committed wait and then share the
 * next one, so under load many deliveries cost one durable commit (one fsync on SQLite) instead of
 * one each. A write is acknowledged only when the transaction holding it has committed.
 *
 * On SQLite the statements of a batch run while the event loop waits for them (store/sqlite-writer.ts;
 * the COMMIT no longer does), so few writes arrive while a batch is built, and batches stayed at one or
 * two writes. So writers may announce themselves early (the MX does once a message is in, before
 * checking it): a batch waits for the writes announced, at most GATHER_MS, and starts at once when none
 * is announced (a lone writer never waits).
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../store/index.ts';

type Work = (trx: Transaction<Database>) => Promise<unknown>;

interface Pending {
  work: Work;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Most writes in one transaction: bounds the time a batch holds the database. */
const MAX_BATCH = 256;
/** Longest wait of a batch for the writes announced. */
export const GATHER_MS = 10;

export class GroupCommitter {
  private queue: Pending[] = [];
  private running = false;
  /** Writes announced and not handed to `run` yet. */
  private coming = 0;
  private gathering: NodeJS.Timeout | undefined;
  /** Commits done and writes carried, for the benchmarks' fsync-per-message figure. */
  readonly stats = { commits: 0, writes: 0 };

  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Says a write will come soon, so the next batch waits for it (at most GATHER_MS). Call the
   * returned function (once is enough, more is harmless) just before `run`, or when it will not come.
   */
  announce(): () => void {
    this.coming++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.coming--;
      if (this.coming === 0 && this.gathering) {
        clearTimeout(this.gathering);
        this.gathering = undefined;
        // Not at once: the caller's write is queued right after this returns.
        setImmediate(() => void this.drain());
      }
    };
  }

  /** Runs `work` inside a shared transaction; resolves after that transaction has committed. */
  run<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.running) return;
      this.running = true;
      if (this.coming > 0)
        this.gathering = setTimeout(() => {
          this.gathering = undefined;
          void this.drain();
        }, GATHER_MS);
      // Still once the current round of I/O callbacks is done, so the writes they bring share the batch.
      else setImmediate(() => void this.drain());
    });
  }

  private async runAlone(item: Pending): Promise<void> {
    try {
      let result: unknown;
      await this.db.transaction().execute(async (trx) => {
        result = await item.work(trx);
      });
      this.stats.commits++;
      this.stats.writes++;
      item.resolve(result);
    } catch (error) {
      item.reject(error);
    }
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
        try {
          await this.db.transaction().execute(async (trx) => {
            if (batch.length === 1) {
              outcomes.push({ ok: true, value: await (batch[0] as Pending).work(trx) });
              return;
            }
            // Each write under a savepoint: one that fails (a lost compare-and-set, a refused release)
            // is undone alone, and the others still commit together.
            for (const item of batch) {
              await sql`savepoint committer_item`.execute(trx);
              try {
                outcomes.push({ ok: true, value: await item.work(trx) });
                await sql`release savepoint committer_item`.execute(trx);
              } catch (error) {
                await sql`rollback to savepoint committer_item`.execute(trx);
                outcomes.push({ ok: false, error });
              }
            }
          });
          this.stats.commits++;
          this.stats.writes += outcomes.filter((outcome) => outcome.ok).length;
          for (const [i, item] of batch.entries()) {
            const outcome = outcomes[i];
            if (outcome?.ok) item.resolve(outcome.value);
            else item.reject(outcome?.error);
          }
        } catch (error) {
          // Nothing of the batch was committed (the commit itself failed). Alone, a failing write fails
          // only itself: the others are retried one transaction each.
          if (batch.length === 1) batch[0]?.reject(error);
          else for (const item of batch) await this.runAlone(item);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
