/**
 * Sending limits of the submission server (SPEC R-M5, contract §6): counters over sliding windows,
 * keyed per account and recipient (messages per minute) and per account (recipients per hour, per
 * day). `RateLimiter` is what the server uses; `MemoryRateLimiter` holds the counters in this process,
 * and a Redis-backed sibling will implement the same interface so several submission processes share
 * them.
 *
 * Why not rate-limiter-flexible's RateLimiterMemory: its windows are fixed and start at the first hit,
 * so up to twice the limit can pass within one sliding minute, and it reads the wall clock, which
 * tests cannot move. Here a window is cut into WINDOW_BUCKETS buckets (one second for a minute) and
 * time comes from the service's clock.
 */
import type { Clock } from '../../shared/clock.ts';

/** One counter a message would add to: `points` more under `key`, at most `limit` within `windowMs`. */
export interface LimitCounter {
  /** What is counted, for the reply and the log: e.g. `messages-per-minute-per-recipient`. */
  name: string;
  key: string;
  points: number;
  limit: number;
  windowMs: number;
}

export type LimitVerdict = { ok: true } | { ok: false; counter: LimitCounter; retryAfterMs: number };

export interface RateLimiter {
  /** Whether every counter could take its points now; takes nothing. */
  check(counters: readonly LimitCounter[]): Promise<LimitVerdict>;
  /** Takes the points of every counter, or none of them when one would go over its limit. */
  consume(counters: readonly LimitCounter[]): Promise<LimitVerdict>;
}

/** Buckets per window: a sliding minute is counted to the second, an hour to the minute. */
export const WINDOW_BUCKETS = 60;

/** Counters idle for longer than their window are dropped every so many operations. */
const SWEEP_EVERY = 1000;

interface Series {
  bucketMs: number;
  windowMs: number;
  /** Bucket index (time / bucketMs) -> points, oldest first. */
  buckets: Map<number, number>;
  last: number;
}

export class MemoryRateLimiter implements RateLimiter {
  private readonly series = new Map<string, Series>();
  private operations = 0;

  constructor(private readonly clock: Clock) {}

  async check(counters: readonly LimitCounter[]): Promise<LimitVerdict> {
    return this.verdict(counters, this.clock.now());
  }

  async consume(counters: readonly LimitCounter[]): Promise<LimitVerdict> {
    const now = this.clock.now();
    const verdict = this.verdict(counters, now);
    if (!verdict.ok) return verdict;
    for (const counter of counters) {
      const series = this.seriesOf(counter);
      const index = Math.floor(now / series.bucketMs);
      series.buckets.set(index, (series.buckets.get(index) ?? 0) + counter.points);
      series.last = now;
    }
    if (++this.operations % SWEEP_EVERY === 0) this.sweep(now);
    return verdict;
  }

  /** Synchronous, so a check and its consume cannot interleave with another message's in this process. */
  private verdict(counters: readonly LimitCounter[], now: number): LimitVerdict {
    for (const counter of counters) {
      const series = this.series.get(seriesKey(counter));
      const used = series ? this.used(series, now) : 0;
      if (used + counter.points > counter.limit) {
        return { ok: false, counter, retryAfterMs: series ? this.retryAfter(series, now, used + counter.points - counter.limit) : counter.windowMs };
      }
    }
    return { ok: true };
  }

  private seriesOf(counter: LimitCounter): Series {
    const key = seriesKey(counter);
    let series = this.series.get(key);
    if (!series) {
      series = { bucketMs: Math.max(1, Math.ceil(counter.windowMs / WINDOW_BUCKETS)), windowMs: counter.windowMs, buckets: new Map(), last: 0 };
      this.series.set(key, series);
    }
    return series;
  }

  /** Points within the window ending now; older buckets are dropped. */
  private used(series: Series, now: number): number {
    const oldest = Math.floor((now - series.windowMs) / series.bucketMs) + 1;
    let total = 0;
    for (const [index, points] of series.buckets) {
      if (index < oldest) series.buckets.delete(index);
      else total += points;
    }
    return total;
  }

  /** How long until enough old points leave the window for `excess` more to fit. */
  private retryAfter(series: Series, now: number, excess: number): number {
    let freed = 0;
    for (const [index, points] of [...series.buckets].sort((a, b) => a[0] - b[0])) {
      freed += points;
      if (freed >= excess) return Math.max(0, (index + 1) * series.bucketMs + series.windowMs - now);
    }
    return series.windowMs;
  }

  private sweep(now: number): void {
    for (const [key, series] of this.series) if (now - series.last > series.windowMs) this.series.delete(key);
  }
}

function seriesKey(counter: LimitCounter): string {
  return `${counter.name}:${counter.windowMs}:${counter.key}`;
}
