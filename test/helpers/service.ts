/**
 * Starts the real service for a test: HTTP on a random loopback port, storage on the engine chosen by
 * FACTEUR_TEST_ENGINE (SQLite in a temporary directory, or PostgreSQL in a schema of its own on
 * FACTEUR_TEST_DATABASE_URL), and the one resolver pointed at a DNS server on loopback.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../src/config/index.ts';
import type { AppContext } from '../../src/context.ts';
import { startService } from '../../src/main.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { type DnsServer, startDnsServer, type Zone } from './dns-server.ts';

export const engine = process.env.FACTEUR_TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite';

export const OPERATOR = { email: 'operator@provider.test', password: 'operator-password-1' };

export interface TestService {
  url: string;
  /** The MX port, when the test asked for the mx role (`overrides: { roles: ['web', 'mx'], ports: { http: 0, mx: 0 } }`). */
  mxPort: number | undefined;
  /** The submission ports (STARTTLS, implicit TLS), when the test asked for the submission role. */
  submissionPort: number | undefined;
  submissionsPort: number | undefined;
  /** The IMAP ports (STARTTLS, implicit TLS), when the test asked for the imap role. */
  imapPort: number | undefined;
  imapsPort: number | undefined;
  /** The POP3 ports (STLS, implicit TLS), when the test asked for the pop3 role. */
  pop3Port: number | undefined;
  pop3sPort: number | undefined;
  /** The service's TLS certificate (PEM) and its file, for clients to pin. */
  tlsCert: string;
  tlsCertFile: string;
  ctx: AppContext;
  dns: DnsServer;
  clock: ManualClock;
  dataDir: string;
  /** Environment for a `facteur` CLI process on the same data. */
  env: Record<string, string>;
  /** The time on the clock of the processes the test spawns (the test's clock plus the real time since start). */
  processNow(): number;
  close(): Promise<void>;
}

export function testDatabaseUrl(): string {
  const url = process.env.FACTEUR_TEST_DATABASE_URL;
  if (!url) throw new Error('FACTEUR_TEST_ENGINE=postgres needs FACTEUR_TEST_DATABASE_URL');
  return url;
}

export async function startTestService(options: { zone?: Zone; overrides?: Record<string, unknown> } = {}): Promise<TestService> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'facteur-test-'));
  const dns = await startDnsServer(options.zone ?? {});
  const pgSchema =
    engine === 'postgres'
      ? `t_${path
          .basename(dataDir)
          .replace(/[^a-z0-9]/gi, '')
          .toLowerCase()}`
      : undefined;
  const databaseUrl = pgSchema ? withSearchPath(testDatabaseUrl(), pgSchema) : '';
  const clock = new ManualClock(Date.parse('2026-11-26T10:00:00Z'));
  const startedAt = Date.now();
  const processNow = () => clock.now() + (Date.now() - startedAt);
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      databaseUrl,
      hostname: 'mail.provider.test',
      listenHost: '127.0.0.1',
      roles: ['web'],
      ports: { http: 0 },
      logLevel: process.env.FACTEUR_TEST_LOG ?? 'silent',
      operator: OPERATOR,
      dns: { servers: [dns.address], timeoutMs: 300, dkimKeyBits: 1024 },
      // Keys of its own in a shared Redis: counts of other test services (and earlier runs, at the same
      // test time) never reach this one.
      redisKeyPrefix: `facteur-test-${randomBytes(6).toString('hex')}:`,
      ...options.overrides,
    },
  });
  const service = await startService(config, { clock }).catch(async (error) => {
    await dns.close(); // an open socket would keep the test process alive for ever
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  });
  return {
    url: service.httpUrl as string,
    mxPort: service.mxPort,
    submissionPort: service.submissionPort,
    submissionsPort: service.submissionsPort,
    imapPort: service.imapPort,
    imapsPort: service.imapsPort,
    pop3Port: service.pop3Port,
    pop3sPort: service.pop3sPort,
    tlsCert: service.tls.cert,
    tlsCertFile: service.tls.certFile,
    ctx: service.ctx,
    dns,
    clock,
    dataDir,
    processNow,
    /** Read at each spawn: the test's clock as it is then (a process a test starts never runs on the date of the run). */
    get env() {
      return {
        FACTEUR_DATA_DIR: dataDir,
        FACTEUR_DATABASE_URL: databaseUrl,
        FACTEUR_DNS_SERVERS: dns.address,
        FACTEUR_HOSTNAME: 'mail.provider.test',
        FACTEUR_DKIM_KEY_BITS: '1024',
        FACTEUR_LOG_LEVEL: 'silent',
        FACTEUR_REDIS_KEY_PREFIX: config.redisKeyPrefix,
        // `facteur serve` as one process, whose memory and signals the tests measure; the worker processes
        // (the default: one per core) are tested by test/workers.test.ts and test/serve.test.ts.
        FACTEUR_WORKERS: '1',
        // The test's clock plus the real time since the service started: processes spawned one after
        // the other (a restart after SIGKILL) see time go on, never back to the same instant.
        FACTEUR_CLOCK_START: new Date(processNow()).toISOString(),
      };
    },
    async close() {
      await service.close();
      await dns.close();
      if (pgSchema) await dropSchema(testDatabaseUrl(), pgSchema);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A PostgreSQL schema per test service: the URL's `options` set search_path on every connection. A
 * lock awaited for a minute fails its statement with "lock timeout" instead of holding every test that
 * waits behind it until the file's deadline, which says nothing of the cause.
 */
function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema} -c lock_timeout=60s`);
  return u.toString();
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}
