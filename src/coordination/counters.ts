/**
 * Counters over sliding windows, the shared state's third part: the submission server's sending limits
 * (SPEC R-M5, contract §6: per account and recipient, messages per minute; per account, recipients per
 * hour and per day) and the login throttle's failures (R-A1). `MemoryRateLimiter` holds them in one
 * process (alone, or the primary's for its workers), `RedisRateLimiter` in Redis with the same buckets,
 * so that several nodes share them.
 *
 * Why not rate-limiter-flexible's RateLimiterMemory: its windows are fixed and start at the first hit,
 * so up to twice the limit can pass within one sliding minute, and it reads the wall clock, which
 * tests cannot move. Here a window is cut into WINDOW_BUCKETS buckets (one second for a minute) and
 * time comes from the service's clock.
 */
import type { Clock } from '../shared/clock.ts';
// store/redis.ts, not the store index: the primary, which counts for its workers, loads no database driver.
import { type Redis, runScript } from '../store/redis.ts';

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
  /** Forgets a counter's points (a correct login clears the failures of its pair). */
  reset(counter: CounterId): Promise<void>;
}

/** What names a counter's series: its limit and points may differ from one use to the next. */
export type CounterId = Pick<LimitCounter, 'name' | 'key' | 'windowMs'>;

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
    return this.consumeAt(counters, this.clock.now());
  }

  async reset(counter: CounterId): Promise<void> {
    this.series.delete(seriesKey(counter));
  }

  /** `check` at an instant another process's clock gives (the primary counts for its workers). */
  checkAt(counters: readonly LimitCounter[], now: number): LimitVerdict {
    return this.verdict(counters, now);
  }

  /** `consume` at an instant another process's clock gives; synchronous, so nothing interleaves. */
  consumeAt(counters: readonly LimitCounter[], now: number): LimitVerdict {
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
      series = { bucketMs: bucketMsOf(counter), windowMs: counter.windowMs, buckets: new Map(), last: 0 };
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

  private retryAfter(series: Series, now: number, excess: number): number {
    return retryAfter(series.buckets, series.bucketMs, series.windowMs, now, excess);
  }

  private sweep(now: number): void {
    for (const [key, series] of this.series) if (now - series.last > series.windowMs) this.series.delete(key);
  }
}

function seriesKey(counter: CounterId): string {
  return `${counter.name}:${counter.windowMs}:${counter.key}`;
}

function bucketMsOf(counter: LimitCounter): number {
  return Math.max(1, Math.ceil(counter.windowMs / WINDOW_BUCKETS));
}

/** How long until enough old points leave the window for `excess` more to fit. */
function retryAfter(buckets: Iterable<[number, number]>, bucketMs: number, windowMs: number, now: number, excess: number): number {
  let freed = 0;
  for (const [index, points] of [...buckets].sort((a, b) => a[0] - b[0])) {
    freed += points;
    // Bucket `index` leaves the window when `now - windowMs` reaches its start (see `used`).
    if (freed >= excess) return Math.max(0, index * bucketMs + windowMs - now);
  }
  return windowMs;
}

/**
 * Check, and with ARGV[2] = 1 consume, every counter at once, atomically (a script runs alone in Redis).
 * KEYS: one hash per counter, bucket index -> points. ARGV: now, consume, then per counter bucketMs,
 * points, limit, windowMs. Returns {0} when all fit, else {i, field, value, ...} of the first that does not.
 * Buckets older than the window, seen while counting, are deleted when consuming.
 */
const LIMIT_SCRIPT = `
local now = tonumber(ARGV[1])
local function counter(i)
  local b = 2 + (i - 1) * 4
  return tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4])
end
local stale = {}
for i, key in ipairs(KEYS) do
  local bucketMs, points, limit, windowMs = counter(i)
  local oldest = math.floor((now - windowMs) / bucketMs) + 1
  local fields = redis.call('HGETALL', key)
  local used, kept, old = 0, {}, {}
  for j = 1, #fields, 2 do
    if tonumber(fields[j]) >= oldest then
      used = used + tonumber(fields[j + 1])
      table.insert(kept, fields[j])
      table.insert(kept, fields[j + 1])
    else
      table.insert(old, fields[j])
    end
  end
  if used + points > limit then
    local out = { i }
    for _, v in ipairs(kept) do table.insert(out, v) end
    return out
  end
  stale[i] = old
end
if ARGV[2] == '1' then
  for i, key in ipairs(KEYS) do
    local bucketMs, points, _, windowMs = counter(i)
    if #stale[i] > 0 then redis.call('HDEL', key, unpack(stale[i])) end
    redis.call('HINCRBY', key, math.floor(now / bucketMs), points)
    redis.call('PEXPIRE', key, windowMs + bucketMs)
  end
end
return { 0 }
`;

/**
 * The same sliding windows in Redis, shared by every node: time still comes from the service's clock
 * (tests move it). While Redis cannot be reached, sending is refused for a while rather than let
 * through uncounted (the error reaches the SMTP client as a temporary failure).
 */
export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly clock: Clock,
    private readonly prefix = 'facteur:limit:',
  ) {}

  check(counters: readonly LimitCounter[]): Promise<LimitVerdict> {
    return this.run(counters, false);
  }

  consume(counters: readonly LimitCounter[]): Promise<LimitVerdict> {
    return this.run(counters, true);
  }

  async reset(counter: CounterId): Promise<void> {
    await this.redis.del(this.prefix + seriesKey(counter));
  }

  private async run(counters: readonly LimitCounter[], consume: boolean): Promise<LimitVerdict> {
    if (counters.length === 0) return { ok: true };
    const now = this.clock.now();
    const keys = counters.map((counter) => this.prefix + seriesKey(counter));
    const args = [now, consume ? 1 : 0, ...counters.flatMap((c) => [bucketMsOf(c), c.points, c.limit, c.windowMs])];
    const reply = (await runScript(this.redis, LIMIT_SCRIPT, keys, args)) as Array<string | number>;
    const failed = Number(reply[0]);
    if (failed === 0) return { ok: true };
    const counter = counters[failed - 1] as LimitCounter;
    const buckets: Array<[number, number]> = [];
    let used = 0;
    for (let j = 1; j < reply.length; j += 2) {
      const points = Number(reply[j + 1]);
      buckets.push([Number(reply[j]), points]);
      used += points;
    }
    return { ok: false, counter, retryAfterMs: retryAfter(buckets, bucketMsOf(counter), counter.windowMs, now, used + counter.points - counter.limit) };
  }
}
