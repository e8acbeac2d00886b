/**
 * bench/smtp: Postfix's smtp-source sends N messages of 10 KB over 20 sessions to Facteur's MX (durable
 * storage: acknowledged only once stored), then the same load to a Postfix → Dovecot LMTP → maildir pair
 * (bench/smtp/baseline.sh), both on loopback in the same run. Prints messages/s from the first connect
 * to the last message stored, the ratio, fsync calls per stored message (strace, on a second smaller
 * run), and the idle RSS of the Facteur process.
 *
 *   node --import tsx bench/smtp/run.ts [--messages 5000] [--sessions 20] [--facteur-only] [--from-source]
 *
 * BENCH_CPU_PROF=DIR writes a CPU profile of the Facteur process there (node --cpu-prof), read with
 * `node bench/smtp/profile-top.mjs DIR/*.cpuprofile`. --facteur-only skips the fsync count and the baseline.
 * Facteur runs as `npm start` runs it (node on the bundle made by scripts/bundle.mjs); --from-source
 * runs it through tsx instead.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { loadConfig } from '../../src/config/index.ts';
import { createContext } from '../../src/context.ts';
import { createLogger } from '../../src/log/index.ts';
import { prepareData } from '../../src/main.ts';
import { addDomain, createAccount, createCustomer, createSubscription } from '../../src/tenancy/index.ts';
import { startDnsServer } from '../../test/helpers/dns-server.ts';
import { freePort } from '../../test/helpers/ports.ts';

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '5000' },
    sessions: { type: 'string', default: '20' },
    'facteur-only': { type: 'boolean', default: false },
    'from-source': { type: 'boolean', default: false },
  },
});
const N = Number(values.messages);
const SESSIONS = Number(values.sessions);
const root = path.resolve(import.meta.dirname, '../..');

/** User + system CPU time of a process so far, in milliseconds (from /proc, clock ticks of 10 ms). */
async function cpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function rss(pid: number): Promise<number> {
  return Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
}

function smtpSource(port: number, count: number): Promise<unknown> {
  return run(
    'smtp-source',
    ['-s', String(SESSIONS), '-m', String(count), '-l', '10240', '-f', 'bench-sender@example.org', '-t', 'u@example.test', `127.0.0.1:${port}`],
    {
      maxBuffer: 1 << 24,
    },
  );
}

async function waitFor(count: () => Promise<number>, target: number, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await count()) < target) {
    if (Date.now() > deadline) throw new Error(`only ${await count()} of ${target} stored`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const dns = await startDnsServer({});
const dataDir = await mkdtemp(path.join(tmpdir(), 'facteur-bench-smtp-'));
const baseDir = await mkdtemp(path.join(tmpdir(), 'facteur-bench-baseline-'));
const port = await freePort();
const env = {
  FACTEUR_DATA_DIR: dataDir,
  FACTEUR_DATABASE_URL: '',
  FACTEUR_ROLES: 'mx',
  FACTEUR_MX_PORT: String(port),
  FACTEUR_LISTEN_HOST: '127.0.0.1',
  FACTEUR_HOSTNAME: 'mx.facteur.test',
  FACTEUR_DNS_SERVERS: dns.address,
  FACTEUR_LOG_LEVEL: 'warn',
  FACTEUR_OPERATOR_EMAIL: 'operator@bench.test',
  FACTEUR_OPERATOR_PASSWORD: 'operator-password-1',
};
let child: ChildProcess | undefined;
try {
  // Facteur: one account u@example.test, seeded straight into the store.
  const ctx = await createContext(loadConfig({ env }), { log: createLogger('warn') });
  await prepareData(ctx);
  const customer = await createCustomer(ctx, { name: 'Bench', contactEmail: 'it@example.test' });
  const subscription = await createSubscription(ctx, { customerId: customer.id, licences: { premium: 1 }, months: 12 });
  await addDomain(ctx, subscription.id, 'example.test');
  await createAccount(ctx, null, subscription.id, { address: 'u@example.test', classId: 'premium', password: 'bench-password-1' });
  const stored = async () =>
    Number(
      (
        await ctx.db
          .selectFrom('messages')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  // Started as `npm start` does: node on the bundle of src/ (scripts/bundle.mjs); --from-source runs it through tsx.
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  if (!values['from-source']) await run(process.execPath, [path.join(root, 'scripts/bundle.mjs')]);
  const entry = values['from-source'] ? path.join(root, 'bin/facteur.js') : path.join(root, 'node_modules/.cache/facteur/facteur.mjs');
  child = spawn(process.execPath, [...profile, entry, 'serve'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child?.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('MX:') && resolve());
    child?.once('exit', (code) => reject(new Error(`facteur serve exited with ${code}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const idleRss = await rss(child.pid as number);

  const t0 = performance.now();
  const cpu0 = await cpuMs(child.pid as number);
  await smtpSource(port, N);
  await waitFor(stored, N);
  const facteurSeconds = (performance.now() - t0) / 1000;
  const cpuPerMessage = ((await cpuMs(child.pid as number)) - cpu0) / N;

  if (values['facteur-only']) {
    console.log(
      `Facteur MX (SQLite, durable): ${(N / facteurSeconds).toFixed(0)} msg/s (${facteurSeconds.toFixed(2)} s), ${cpuPerMessage.toFixed(2)} ms CPU/message, idle RSS ${(idleRss / 1048576).toFixed(0)} MB`,
    );
    const byType = new Map<string, number>();
    for (const q of dns.queries) byType.set(`${q.type} ${q.name}`, (byType.get(`${q.type} ${q.name}`) ?? 0) + 1);
    console.log(`DNS queries per message: ${(dns.queries.length / N).toFixed(2)}`, Object.fromEntries(byType));
    await ctx.close();
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    await exited; // lets --cpu-prof write its profile
    child = undefined;
  } else {
    // fsync calls per stored message, counted by strace on a second, smaller run (strace slows it down).
    const straceOut = path.join(dataDir, 'strace.txt');
    const strace = spawn('strace', ['-f', '-y', '-e', 'trace=fsync,fdatasync', '-p', String(child.pid), '-o', straceOut], { stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const fsyncRun = Math.min(1000, N);
    const before = await stored();
    await smtpSource(port, fsyncRun);
    await waitFor(stored, before + fsyncRun);
    strace.kill('SIGINT');
    await new Promise((resolve) => strace.once('exit', resolve));
    const straceText = await readFile(straceOut, 'utf8').catch(() => '');
    // One line per call, with the file (-y): the syncs of SQLite's WAL are its commits (and checkpoints).
    const syncs = [...straceText.matchAll(/\b(?:fsync|fdatasync)\(\d+<([^>]*)>\)/g)].map((m) => m[1] ?? '');
    const fsyncCalls = syncs.length;
    const walSyncs = syncs.filter((file) => file.endsWith('-wal')).length;
    await ctx.close();

    // Baseline: Postfix → Dovecot LMTP → maildir.
    await run('bash', [path.join(root, 'bench/smtp/baseline.sh'), 'start', baseDir]);
    const baselineCount = async () => Number((await run('bash', [path.join(root, 'bench/smtp/baseline.sh'), 'count', baseDir, 'u'])).stdout.trim());
    const b0 = performance.now();
    await smtpSource(12526, N);
    await waitFor(baselineCount, N);
    const baselineSeconds = (performance.now() - b0) / 1000;

    const facteurRate = N / facteurSeconds;
    const baselineRate = N / baselineSeconds;
    console.log(`${N} messages of 10 KB over ${SESSIONS} sessions (smtp-source), first connect to last message stored:`);
    console.log(
      `  Facteur MX (SQLite, durable):        ${facteurRate.toFixed(0)} msg/s (${facteurSeconds.toFixed(2)} s, ${cpuPerMessage.toFixed(2)} ms CPU/message)`,
    );
    console.log(`  Postfix -> Dovecot LMTP -> maildir:  ${baselineRate.toFixed(0)} msg/s (${baselineSeconds.toFixed(2)} s)`);
    console.log(`  ratio Facteur / baseline:            ${(facteurRate / baselineRate).toFixed(2)}x (target 1.2x)`);
    console.log(`  fsync+fdatasync per stored message:  ${(fsyncCalls / fsyncRun).toFixed(2)} (${fsyncCalls} calls for ${fsyncRun} messages, strace)`);
    console.log(
      `  messages per WAL sync (batch size):  ${(fsyncRun / Math.max(1, walSyncs)).toFixed(2)} (${walSyncs} syncs of the WAL: commits and checkpoints)`,
    );
    console.log(`  idle RSS of facteur serve (mx):      ${(idleRss / 1048576).toFixed(0)} MB (target < 150 MB)`);
  }
} finally {
  child?.kill('SIGTERM');
  await run('bash', [path.join(root, 'bench/smtp/baseline.sh'), 'stop', baseDir]).catch(() => {});
  await dns.close();
  await rm(dataDir, { recursive: true, force: true });
  await rm(baseDir, { recursive: true, force: true });
}
