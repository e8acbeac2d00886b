/**
 * bench/api: requests/s and latency of the portal API on SQLite (or PostgreSQL with
 * FACTEUR_DATABASE_URL), driven by autocannon at 200 concurrent connections against `facteur serve`
 * running as its own process, as `npm start` runs it (node on the bundle of src/, built into a folder of
 * this run). Each of `--runs` rounds starts from cold (new data, the service just started, no warm-up)
 * and measures the routes below one after the other; the worst round is reported (issue 16's goal: the
 * authenticated read's p99 at most twice the health route's, in the same round). Figures:
 *   - baseline: GET /api/health (no authentication, one trivial query): the floor of this stack;
 *   - an authenticated read: GET /api/subscriptions/:id (details: licences, domains, labels, limits);
 *   - listing 10,000 accounts page by page: one walk through every page (pages of 100), and
 *     autocannon on a page in the middle.
 * Targets: p99 under 20 ms at 200 connections on SQLite (issue 2); authenticated p99 <= 2x health p99 (issue 16).
 *
 *   node --import tsx bench/api/run.ts [--runs 3] [--seconds 10] [--connections 200] [--accounts 10000]
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import autocannon from 'autocannon';
import { createApiToken } from '../../src/auth/index.ts';
import { hashPassword } from '../../src/auth/passwords.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createContext } from '../../src/context.ts';
import { createLogger } from '../../src/log/index.ts';
import { prepareData } from '../../src/main.ts';
import { newId } from '../../src/shared/ids.ts';
import type { AccountsTable } from '../../src/store/index.ts';
import { addDomain, createCustomer, createSubscription } from '../../src/tenancy/index.ts';
import { freePort } from '../../test/helpers/ports.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '200' },
    accounts: { type: 'string', default: '10000' },
  },
});
const RUNS = Number(values.runs);
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const ACCOUNTS = Number(values.accounts);
const root = path.resolve(import.meta.dirname, '../..');

/** Seeds one customer with ACCOUNTS accounts straight into the store (argon2 once, not 10,000 times). */
async function seed(env: Record<string, string>) {
  const config = loadConfig({ env });
  const ctx = await createContext(config, { log: createLogger('warn') });
  await prepareData(ctx);
  const customer = await createCustomer(ctx, { name: 'Bench SA', contactEmail: 'it@bench.test' });
  const subscription = await createSubscription(ctx, { customerId: customer.id, licences: { basic: ACCOUNTS, premium: 10 }, months: 12 });
  const domain = await addDomain(ctx, subscription.id, 'bench.test');
  const hash = await hashPassword('bench-password-1');
  const now = Date.now();
  for (let i = 0; i < ACCOUNTS; i += 500) {
    const rows: AccountsTable[] = [];
    for (let j = i; j < Math.min(i + 500, ACCOUNTS); j++) {
      rows.push({
        customer_id: customer.id,
        id: newId('acc'),
        subscription_id: subscription.id,
        domain_id: domain.id,
        address: `user${String(j).padStart(5, '0')}@bench.test`,
        class_id: 'basic',
        display_name: `User ${j}`,
        language: 'fr',
        password_hash: hash,
        totp_secret: null,
        totp_enabled: 0,
        totp_last_step: null,
        recovery_codes: '[]',
        status: 'active',
        created_at: now,
        updated_at: now,
        password_changed_at: now,
        last_uid_validity: 0,
      });
    }
    await ctx.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('addresses')
        .values(rows.map((r) => ({ address: r.address, customer_id: r.customer_id, kind: 'account' as const, owner_id: r.id })))
        .execute();
      await trx.insertInto('accounts').values(rows).execute();
    });
  }
  // The licence counter is kept by account changes; the rows above went straight to the store.
  await ctx.db.updateTable('licences').set({ used: ACCOUNTS }).where('subscription_id', '=', subscription.id).where('class_id', '=', 'basic').execute();
  const { secret } = await createApiToken(ctx, { customerId: customer.id, name: 'bench', createdBy: 'bench' });
  await ctx.close();
  return { subscriptionId: subscription.id, token: secret };
}

/**
 * The bundle of this run, in a folder of its own under the project (its packages are found upwards from
 * there): node_modules/.cache may be shared by several work trees (a link).
 */
const bundleDir = path.join(root, `.bench-bundle-${process.pid}`);

function startServer(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : []), path.join(bundleDir, 'facteur.mjs'), 'serve'],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('API:')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`facteur serve exited with ${code}`)));
  });
}

interface Figures {
  label: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function load(label: string, url: string, headers: Record<string, string>): Promise<Figures> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, headers });
  return {
    label,
    requestsPerSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

async function walkAllPages(base: string, subscriptionId: string, headers: Record<string, string>, limit: number) {
  const started = performance.now();
  let after = '';
  let count = 0;
  let pages = 0;
  const pageTimes: number[] = [];
  for (;;) {
    const t0 = performance.now();
    const response = await fetch(`${base}/api/subscriptions/${subscriptionId}/accounts?limit=${limit}${after ? `&after=${encodeURIComponent(after)}` : ''}`, {
      headers,
    });
    const body = (await response.json()) as { items: unknown[]; next: string | null };
    pageTimes.push(performance.now() - t0);
    count += body.items.length;
    pages++;
    if (!body.next) break;
    after = body.next;
  }
  pageTimes.sort((a, b) => a - b);
  return {
    count,
    pages,
    totalMs: Math.round(performance.now() - started),
    p99PageMs: Number((pageTimes[Math.floor(pageTimes.length * 0.99)] ?? 0).toFixed(2)),
  };
}

/** One round from cold: new data, seeded, the service just started, then each route in turn. */
async function round(n: number): Promise<{ figures: Figures[]; ratio: number }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'facteur-bench-api-'));
  const port = await freePort();
  const env: Record<string, string> = {
    FACTEUR_DATA_DIR: dataDir,
    FACTEUR_DATABASE_URL: process.env.FACTEUR_DATABASE_URL ?? '',
    FACTEUR_HTTP_PORT: String(port),
    FACTEUR_LISTEN_HOST: '127.0.0.1',
    FACTEUR_ROLES: 'web',
    FACTEUR_LOG_LEVEL: 'warn',
    FACTEUR_OPERATOR_EMAIL: 'operator@bench.test',
    FACTEUR_OPERATOR_PASSWORD: 'operator-password-1',
    FACTEUR_DNS_SERVERS: '127.0.0.1:9', // nothing answers: the domain check reports errors fast enough
  };
  let child: ChildProcess | undefined;
  try {
    const seedStart = performance.now();
    const { subscriptionId, token } = await seed(env);
    const seeded = Math.round(performance.now() - seedStart);
    child = await startServer(env);
    const base = `http://127.0.0.1:${port}`;
    const auth = { authorization: `Bearer ${token}` };
    const middle = `user${String(Math.floor(ACCOUNTS / 2)).padStart(5, '0')}@bench.test`;
    const figures = [
      await load('baseline: GET /api/health (no auth)', `${base}/api/health`, {}),
      await load('GET /api/subscriptions/:id (token)', `${base}/api/subscriptions/${subscriptionId}`, auth),
      await load(
        'GET accounts page of 100 (token)',
        `${base}/api/subscriptions/${subscriptionId}/accounts?limit=100&after=${encodeURIComponent(middle)}`,
        auth,
      ),
    ];
    const health = figures[0] as Figures;
    const ratio = (figures[1] as Figures).p99 / Math.max(1, health.p99);
    console.log(`\nround ${n} from cold (seeded ${ACCOUNTS} accounts in ${seeded} ms, load average ${loadavg()[0]?.toFixed(1)}):`);
    console.table(figures);
    if (n === 1) {
      const walk = await walkAllPages(base, subscriptionId, auth, 100);
      console.log(`walk: ${walk.count} accounts in ${walk.pages} pages of 100: ${walk.totalMs} ms, p99 per page ${walk.p99PageMs} ms`);
    }
    console.log(`authenticated read p99 / health p99: ${ratio.toFixed(2)}x`);
    return { figures, ratio };
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      await exited; // lets --cpu-prof write its profiles
    }
    await rm(dataDir, { recursive: true, force: true });
  }
}

try {
  await promisify(execFile)(process.execPath, [path.join(root, 'scripts/bundle.mjs')], { env: { ...process.env, FACTEUR_BUNDLE_DIR: bundleDir } });
  console.log(
    `bench/api: ${CONNECTIONS} connections, ${SECONDS} s per route, ${RUNS} rounds from cold (${process.env.FACTEUR_DATABASE_URL ? 'PostgreSQL' : 'SQLite'}), load average ${loadavg()[0]?.toFixed(1)}`,
  );
  const rounds: Array<{ figures: Figures[]; ratio: number }> = [];
  for (let n = 1; n <= RUNS; n++) rounds.push(await round(n));
  const worstAuthP99 = Math.max(...rounds.flatMap((r) => r.figures.slice(1).map((f) => f.p99)));
  const worstRatio = Math.max(...rounds.map((r) => r.ratio));
  console.log(
    `\nWORST over ${RUNS} rounds: authenticated p99 ${worstAuthP99} ms (target < 20 ms: ${worstAuthP99 < 20 ? 'met' : 'NOT met'}); ` +
      `authenticated / health p99 ${worstRatio.toFixed(2)}x (target <= 2x: ${worstRatio <= 2 ? 'met' : 'NOT met'}; all: ${rounds.map((r) => r.ratio.toFixed(2)).join(', ')})`,
  );
} finally {
  await rm(bundleDir, { recursive: true, force: true });
}
