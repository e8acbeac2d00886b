/**
 * The shared state between the worker processes of one machine, through their primary (node:cluster's
 * IPC channel): the primary holds the locks and counters in memory and passes each worker's messages
 * to the others. No Redis, no network: a call is a message to the parent and its reply. A worker that
 * exits loses its locks at once. Counters count at the instant the calling worker's clock gives.
 */
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../shared/clock.ts';
import { type CounterId, type LimitCounter, type LimitVerdict, MemoryRateLimiter } from './counters.ts';
import type { FeedListener, SharedState } from './index.ts';
import { MemoryLocks, type Release } from './locks.ts';

/** Set by the primary in each worker's environment: the worker's number (1, 2...). */
export const WORKER_ENV = 'FACTEUR_WORKER';

export function isWorkerProcess(): boolean {
  return cluster.isWorker && Boolean(process.env[WORKER_ENV]);
}

type Call =
  | { method: 'lock'; name: string }
  | { method: 'unlock'; name: string; holder: string }
  | { method: 'check' | 'consume'; counters: LimitCounter[]; now: number }
  | { method: 'reset'; counter: CounterId };

/** What goes through the IPC channel; `facteur: 'shared'` tells it from other messages. */
type Message =
  | { facteur: 'shared'; op: 'publish'; channel: string; text: string }
  | { facteur: 'shared'; op: 'call'; id: number; call: Call }
  | { facteur: 'shared'; op: 'reply'; id: number; result?: unknown; error?: string };

function isShared(value: unknown): value is Message {
  return typeof value === 'object' && value !== null && (value as { facteur?: unknown }).facteur === 'shared';
}

export interface PrimaryHub {
  /** Serves a worker (call it for every worker forked). */
  adopt(worker: Worker): void;
}

/** In the primary: the locks and counters, and the passing of messages between workers. */
export function startPrimaryHub(): PrimaryHub {
  const locks = new MemoryLocks();
  const counters = new MemoryRateLimiter({ now: () => Date.now() });
  const workers = new Set<Worker>();

  function answer(worker: Worker, call: Call): unknown {
    switch (call.method) {
      case 'lock': {
        const holder = `${worker.id}:${randomBytes(8).toString('hex')}`;
        return locks.take(call.name, holder) ? holder : null;
      }
      case 'unlock':
        locks.give(call.name, call.holder);
        return null;
      case 'check':
        return counters.checkAt(call.counters, call.now);
      case 'consume':
        return counters.consumeAt(call.counters, call.now);
      case 'reset':
        void counters.reset(call.counter);
        return null;
    }
  }

  return {
    adopt(worker) {
      workers.add(worker);
      worker.on('message', (message: unknown) => {
        if (!isShared(message)) return;
        if (message.op === 'publish') {
          for (const other of workers) if (other !== worker && other.isConnected()) other.send(message);
        } else if (message.op === 'call') {
          let reply: Message;
          try {
            reply = { facteur: 'shared', op: 'reply', id: message.id, result: answer(worker, message.call) };
          } catch (error) {
            reply = { facteur: 'shared', op: 'reply', id: message.id, error: (error as Error).message };
          }
          if (worker.isConnected()) worker.send(reply);
        }
      });
      worker.on('exit', () => {
        workers.delete(worker);
        locks.releaseHeldBy(`${worker.id}:`);
      });
    },
  };
}

/** In a worker: the shared state is the primary's, asked over the IPC channel. */
export class WorkerState implements SharedState {
  readonly kind = 'workers';
  private readonly listeners = new Map<string, FeedListener[]>();
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private nextId = 1;
  private readonly onMessage = (message: unknown) => {
    if (!isShared(message)) return;
    if (message.op === 'publish') {
      for (const listener of this.listeners.get(message.channel) ?? []) listener.message(message.text);
    } else if (message.op === 'reply') {
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error !== undefined) waiting?.reject(new Error(`shared state: ${message.error}`));
      else waiting?.resolve(message.result);
    }
  };

  constructor(private readonly clock: Clock) {
    process.on('message', this.onMessage);
  }

  private call<T>(call: Call): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      const message: Message = { facteur: 'shared', op: 'call', id, call };
      process.send?.(message, undefined, undefined, (error: Error | null) => {
        if (!error) return;
        this.pending.delete(id);
        reject(error);
      });
    });
  }

  publish(channel: string, text: string): void {
    const message: Message = { facteur: 'shared', op: 'publish', channel, text };
    // A primary gone means this worker is stopping: nothing to tell.
    if (process.connected) process.send?.(message, undefined, undefined, () => {});
  }

  async subscribe(channel: string, listener: FeedListener): Promise<void> {
    this.listeners.set(channel, [...(this.listeners.get(channel) ?? []), listener]);
  }

  async lock(name: string): Promise<Release | undefined> {
    const holder = await this.call<string | null>({ method: 'lock', name });
    if (holder === null) return undefined;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.call({ method: 'unlock', name, holder }).catch(() => {}); // the primary frees it anyway when this worker exits
    };
  }

  check(counters: readonly LimitCounter[]): Promise<LimitVerdict> {
    return this.call({ method: 'check', counters: [...counters], now: this.clock.now() });
  }

  consume(counters: readonly LimitCounter[]): Promise<LimitVerdict> {
    return this.call({ method: 'consume', counters: [...counters], now: this.clock.now() });
  }

  reset(counter: CounterId): Promise<void> {
    return this.call({ method: 'reset', counter: { name: counter.name, key: counter.key, windowMs: counter.windowMs } });
  }

  async close(): Promise<void> {
    process.off('message', this.onMessage);
    for (const waiting of this.pending.values()) waiting.reject(new Error('shared state closed'));
    this.pending.clear();
  }
}
