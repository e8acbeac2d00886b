/**
 * The typed services handed to every module: configuration, storage, DNS, time and logs. Built once
 * by the composition root (main.ts), by the CLI, and by tests (with a manual clock and a loopback DNS).
 */
import path from 'node:path';
import type { Kysely } from 'kysely';
import { LoginThrottle } from './auth/throttle.ts';
import type { Config } from './config/index.ts';
import { createResolver, type DnsResolver } from './dns/index.ts';
import { createLogger, type Logger } from './log/index.ts';
import { GroupCommitter, MailChanges } from './mailstore/index.ts';
import { type Clock, clockStartingAt, systemClock } from './shared/clock.ts';
import type { FaultInjector } from './shared/faults.ts';
import { type BlobStore, connectRedis, type Database, type Engine, FsBlobStore, openStore, type Redis, SecretKeyring } from './store/index.ts';

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
  /** The mailstore's shared machinery: group commit of deliveries and the change feed. */
  mail: { committer: GroupCommitter; changes: MailChanges };
  /** Shared by the nodes when `redisUrl` is set: change feed, POP3 maildrop locks. */
  redis: Redis | undefined;
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
  const changes = new MailChanges();
  let redis: Redis | undefined;
  if (config.redisUrl) {
    // Loaded only when configured: a single node needs no Redis client.
    try {
      redis = await connectRedis(config.redisUrl, log);
      const { connectRedisChanges } = await import('./mailstore/redis-changes.ts');
      changes.connect(await connectRedisChanges(redis, config.redisUrl, changes, log));
    } catch (error) {
      redis?.disconnect();
      await store.close();
      throw error;
    }
  }
  return {
    config,
    db: store.db,
    engine: store.engine,
    blobs: new FsBlobStore(path.join(config.dataDir, 'blobs')),
    resolver: createResolver({ servers: config.dns.servers, timeoutMs: config.dns.timeoutMs }),
    clock: options.clock ?? (config.clockStart ? clockStartingAt(Date.parse(config.clockStart)) : systemClock),
    log,
    secrets,
    throttle: new LoginThrottle(
      {
        failuresPerAccount: config.auth.loginFailuresPerAccount,
        failuresPerIp: config.auth.loginFailuresPerIp,
        failuresPerNetwork: config.auth.loginFailuresPerNetwork,
        windowSeconds: config.auth.loginWindowSeconds,
      },
      redis,
    ),
    mail: { committer: new GroupCommitter(store.db), changes },
    redis,
    async close() {
      await changes.close();
      await redis?.quit().catch(() => redis?.disconnect());
      await store.close();
    },
  };
}
