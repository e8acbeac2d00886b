/**
 * The typed services handed to every module: configuration, storage, DNS, time and logs. Built once
 * by the composition root (main.ts), by the CLI, and by tests (with a manual clock and a loopback DNS).
 */
import path from 'node:path';
import type { Kysely } from 'kysely';
import { LoginThrottle } from './auth/throttle.ts';
import type { Config } from './config/index.ts';
import { MemoryRateLimiter, openSharedState, type SharedState } from './coordination/index.ts';
import { createResolver, type DnsResolver } from './dns/index.ts';
import { createLogger, type Logger } from './log/index.ts';
import { GroupCommitter, MailChanges } from './mailstore/index.ts';
import { type Clock, clockStartingAt, systemClock } from './shared/clock.ts';
import type { FaultInjector } from './shared/faults.ts';
import { type BlobStore, type Database, type Engine, FsBlobStore, openStore, SecretKeyring } from './store/index.ts';

export interface AppContext {
  config: Config;
  db: Kysely<Database>;
  engine: Engine;
  blobs: BlobStore;
  resolver: DnsResolver;
  clock: Clock;
  log: Logger;
  /** Seals and opens the secrets stored in the database (store/keyring.ts). */
  secrets: SecretKeyring;
  throttle: LoginThrottle;
  /**
   * The mailstore's shared machinery: group commit of deliveries and the change feed; `judged` is
   * called after a commit that recorded a user's judgement of messages (moved to or from Junk, $Junk
   * or $NotJunk): the service sets it to learn them at once (filter/learning.ts).
   */
  mail: { committer: GroupCommitter; changes: MailChanges; judged?: () => void };
  /**
   * What the processes of the service share (change feed, locks, counters of limits and throttles):
   * with the other workers of this machine through the primary, or with every node through Redis.
   */
  shared: SharedState;
  /** Set by tests only: makes the write paths fail at a named point (shared/faults.ts). */
  faults?: FaultInjector;
  close(): Promise<void>;
}

export interface ContextOptions {
  clock?: Clock;
  log?: Logger;
}

export async function createContext(config: Config, options: ContextOptions = {}): Promise<AppContext> {
  // Before the store: a bad key setting stops the start with its message, with nothing opened.
  const secrets = SecretKeyring.open({ configuredKeys: config.secrets.keys, file: config.secrets.keyFile || path.join(config.dataDir, 'secrets.key') });
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const log = options.log ?? createLogger(config.logLevel);
  const clock = options.clock ?? (config.clockStart ? clockStartingAt(Date.parse(config.clockStart)) : systemClock);
  const changes = new MailChanges();
  let shared: SharedState;
  try {
    shared = await openSharedState({ redisUrl: config.redisUrl, redisKeyPrefix: config.redisKeyPrefix, clock, log });
    await changes.shareThrough(shared);
  } catch (error) {
    await store.close();
    throw error;
  }
  return {
    config,
    db: store.db,
    engine: store.engine,
    blobs: new FsBlobStore(path.join(config.dataDir, 'blobs')),
    resolver: createResolver({ servers: config.dns.servers, timeoutMs: config.dns.timeoutMs }),
    clock,
    log,
    secrets,
    throttle: new LoginThrottle(
      {
        failuresPerAccount: config.auth.loginFailuresPerAccount,
        failuresPerIp: config.auth.loginFailuresPerIp,
        failuresPerNetwork: config.auth.loginFailuresPerNetwork,
        windowSeconds: config.auth.loginWindowSeconds,
      },
      shared,
      new MemoryRateLimiter(clock),
    ),
    mail: { committer: new GroupCommitter(store.db), changes },
    shared,
    async close() {
      changes.close();
      await shared.close();
      await store.close();
    },
  };
}
