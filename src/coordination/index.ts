/**
 * The state the processes of one service share (DESIGN: "Shared state has one interface"): messages
 * between processes (the change feed that wakes IMAP IDLE), exclusive locks (POP3 maildrops), and
 * counters over sliding windows (sending limits, login throttles). Implementations:
 * - `local`: one process alone (`facteur serve` with one worker, the CLI, tests);
 * - `workers`: the worker processes of one machine, through their primary (workers.ts), no Redis;
 * - `redis`: processes on several machines sharing a Redis (`redisUrl`).
 * Features use this interface, never a transport.
 */
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.ts';
import { connectRedis, type Redis } from '../store/index.ts';
import { type CounterId, type LimitCounter, type LimitVerdict, MemoryRateLimiter, type RateLimiter, RedisRateLimiter } from './counters.ts';
import { MemoryLocks, RedisLocks, type Release } from './locks.ts';

export { MemoryRateLimiter, RedisRateLimiter, WINDOW_BUCKETS } from './counters.ts';
export { MemoryLocks, RedisLocks } from './locks.ts';
export type { CounterId, LimitCounter, LimitVerdict, RateLimiter, Release };

import { isWorkerProcess, WorkerState } from './workers.ts';

export { isWorkerProcess, type PrimaryHub, startPrimaryHub, WORKER_ENV } from './workers.ts';

export interface FeedListener {
  message(text: string): void;
  /** Messages may have been lost (the link to the others came back): look again at what they announce. */
  lost?(): void;
}

export interface SharedState extends RateLimiter {
  readonly kind: 'local' | 'workers' | 'redis';
  /** Sends `text` to the other processes listening on `channel` (not to this one). Never waits. */
  publish(channel: string, text: string): void;
  /** Hears the other processes on `channel`. */
  subscribe(channel: string, listener: FeedListener): Promise<void>;
  /**
   * Takes an exclusive lock: its release, or undefined while another holder has it. A holder that dies
   * loses it: at once between workers (the primary sees the exit), after a lease in Redis.
   */
  lock(name: string): Promise<Release | undefined>;
  close(): Promise<void>;
}

/** The counters' part of a shared state kept by a RateLimiter of this process (in memory, or in Redis). */
abstract class CountingState {
  protected abstract readonly counters: RateLimiter;

  check(counters: readonly LimitCounter[]): Promise<LimitVerdict> {
    return this.counters.check(counters);
  }
  consume(counters: readonly LimitCounter[]): Promise<LimitVerdict> {
    return this.counters.consume(counters);
  }
  reset(counter: CounterId): Promise<void> {
    return this.counters.reset(counter);
  }
}

/** One process alone: nobody to tell, locks and counters in memory. */
export class LocalState extends CountingState implements SharedState {
  readonly kind = 'local';
  private readonly locks = new MemoryLocks();
  protected readonly counters: MemoryRateLimiter;

  constructor(clock: Clock) {
    super();
    this.counters = new MemoryRateLimiter(clock);
  }

  publish(): void {}
  async subscribe(): Promise<void> {}
  async lock(name: string): Promise<Release | undefined> {
    return this.locks.lock(name);
  }
  async close(): Promise<void> {}
}

interface RedisOptions {
  url: string;
  /** Of every key and channel (`redisKeyPrefix`): several services can share one Redis. */
  prefix: string;
  clock: Clock;
  log: Logger;
}

/** Nodes on several machines: pub/sub, `SET NX` locks with leases and Lua-scripted counters in Redis. */
export class RedisState extends CountingState implements SharedState {
  readonly kind = 'redis';
  private readonly locks: RedisLocks;
  protected readonly counters: RedisRateLimiter;

  private constructor(
    /** The commands connection (tests reach it to cut the feed). */
    readonly redis: Redis,
    private readonly feed: import('./redis-feed.ts').RedisFeed,
    options: RedisOptions,
  ) {
    super();
    this.locks = new RedisLocks(redis, `${options.prefix}lock:`, options.log);
    this.counters = new RedisRateLimiter(redis, options.clock, `${options.prefix}limit:`);
  }

  static async connect(options: RedisOptions): Promise<RedisState> {
    const redis = await connectRedis(options.url, options.log);
    try {
      const { connectRedisFeed } = await import('./redis-feed.ts');
      return new RedisState(redis, await connectRedisFeed(redis, options.url, `${options.prefix}feed:`, options.log), options);
    } catch (error) {
      redis.disconnect();
      throw error;
    }
  }

  publish(channel: string, text: string): void {
    this.feed.publish(channel, text);
  }
  subscribe(channel: string, listener: FeedListener): Promise<void> {
    return this.feed.subscribe(channel, listener);
  }
  lock(name: string): Promise<Release | undefined> {
    return this.locks.lock(name);
  }
  async close(): Promise<void> {
    await this.feed.close();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** The shared state this process uses: Redis when configured, else its primary's when it is a worker, else its own. */
export async function openSharedState(options: { redisUrl: string; redisKeyPrefix: string; clock: Clock; log: Logger }): Promise<SharedState> {
  if (options.redisUrl) return RedisState.connect({ url: options.redisUrl, prefix: options.redisKeyPrefix, clock: options.clock, log: options.log });
  if (isWorkerProcess()) return new WorkerState(options.clock);
  return new LocalState(options.clock);
}
