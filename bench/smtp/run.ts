/**
 * bench/smtp: Postfix's smtp-source sends 10 KB messages over 20 sessions to Facteur's MX (durable
 * storage: acknowledged only once stored), then the same load to a Postfix → Dovecot LMTP → maildir pair
 * (bench/smtp/baseline.sh), both on loopback in the same run. Each of `--runs` rounds starts both from
 * cold (new data, processes just started, no warm-up) and sends `--cold` messages (2,000 by default);
 * the first round then goes on with `--messages` more on the warm Facteur (the long run). Prints
 * messages/s from the first connect to the last message stored, the ratio, and the WORST round; CPU per
 * message of the whole Facteur process tree (the primary and its workers: one per core by default,
 * `--workers N`), fsync calls per stored message (strace, on a smaller run) and the idle memory (PSS, the
 * shared pages counted once, and the sum of RSS).
 *
 *   node --import tsx bench/smtp/run.ts [--runs 3] [--cold 2000] [--messages 5000] [--sessions 20] [--workers 0]
 *                                       [--facteur-only] [--from-source]
 *
 * BENCH_CPU_PROF=DIR writes CPU profiles of the Facteur processes there (node --cpu-prof), read with
 * `node bench/smtp/profile-top.mjs DIR/*.cpuprofile`. --facteur-only skips the fsync count and the baseline.
 * Facteur runs as `npm start` runs it (node on the bundle made by scripts/bundle.mjs); --from-source
 * runs it through tsx instead.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
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
    cold: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '3' },
    workers: { type: 'string', default: '0' },
    sessions: { type: 'string', default: '20' },
    'facteur-only': { type: 'boolean', default: false },
    'from-source': { type: 'boolean', default: false },
  },
});
const N = Number(values.messages);
const COLD = Number(values.cold);
const RUNS = Number(values.runs);
const SESSIONS = Number(values.sessions);
const root = path.resolve(import.meta.dirname, '../..');

/** The process and its children (a primary and its workers). */
async function tree(pid: number): Promise<number[]> {
  const children = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).split(' ').filter(Boolean).map(Number);
  return [pid, ...(await Promise.all(children.map(tree))).flat()];
}

/** User + system CPU time of a process tree so far, in milliseconds (from /proc, clock ticks of 10 ms). */
async function cpuMs(pid: number): Promise<number> {
  let total = 0;
  for (const p of await tree(pid)) {
    const fields = (await readFile(`/proc/${p}/stat`, 'utf8').catch(() => '')).replace(/^.*\) /s, '').split(' ');
    total += (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) * 10;
  }
  return total;
}

/** Memory of a process tree: PSS (shared pages counted once: what the machine gives it) and the sum of RSS. */
async function memory(pid: number): Promise<{ pss: number; rss: number }> {
  let pss = 0;
  let rss = 0;
  for (const p of await tree(pid)) {
    const rollup = await readFile(`/proc/${p}/smaps_rollup`, 'utf8').catch(() => '');
    pss += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0) * 1024;
    rss += Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0) * 1024;
  }
  return { pss, rss };
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

interface Facteur {
  child: ChildProcess;
  port: number;
  stored(): Promise<number>;
  close(): Promise<void>;
}

/** A new Facteur from cold: new data (one account u@example.test, seeded straight into the store), `facteur serve` just started. */
async function startFacteur(): Promise<Facteur> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'facteur-bench-smtp-'));
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
    FACTEUR_WORKERS: values.workers as string,
    FACTEUR_OPERATOR_EMAIL: 'operator@bench.test',
    FACTEUR_OPERATOR_PASSWORD: 'operator-password-1',
  };
  const ctx = await createContext(loadConfig({ env }), { log: createLogger('warn') });
  await prepareData(ctx);
  const customer = await createCustomer(ctx, { name: 'Bench', contactEmail: 'it@example.test' });
  const subscription = await createSubscription(ctx, { customerId: customer.id, licences: { premium: 1 }, months: 12 });
  await addDomain(ctx, subscription.id, 'example.test');
  await createAccount(ctx, null, subscription.id, { address: 'u@example.test', classId: 'premium', password: 'bench-password-1' });
  // Started as `npm start` does: node on the bundle of src/ (scripts/bundle.mjs); --from-source runs it through tsx.
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const entry = values['from-source'] ? path.join(root, 'bin/facteur.js') : path.join(bundleDir, 'facteur.mjs');
  const child = spawn(process.execPath, [...profile, entry, 'serve'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('MX:') && resolve());
    child.once('exit', (code) => reject(new Error(`facteur serve exited with ${code}`)));
  });
  return {
    child,
    port,
    stored: async () =>
      Number(
        (
          await ctx.db
            .selectFrom('messages')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      ),
    async close() {
      await ctx.close();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited; // lets --cpu-prof write its profiles
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Sends `count` messages to Facteur and waits until all are stored: messages/s and CPU ms per message of its processes. */
async function loadFacteur(facteur: Facteur, count: number): Promise<{ rate: number; cpu: number }> {
  const before = await facteur.stored();
  const t0 = performance.now();
  const cpu0 = await cpuMs(facteur.child.pid as number);
  await smtpSource(facteur.port, count);
  await waitFor(facteur.stored, before + count);
  const seconds = (performance.now() - t0) / 1000;
  return { rate: count / seconds, cpu: ((await cpuMs(facteur.child.pid as number)) - cpu0) / count };
}

const BASELINE = path.join(root, 'bench/smtp/baseline.sh');

/**
 * The bundle of this run, in a folder of its own under the project (its packages are found upwards from
 * there): node_modules/.cache may be shared by several work trees (a link), and another's bundle there
 * would be the one measured.
 */
const bundleDir = path.join(root, `.bench-bundle-${process.pid}`);

/** Postfix → Dovecot LMTP → maildir from cold, `counts` messages one load after the other: messages/s of each. */
async function loadBaseline(counts: number[]): Promise<number[]> {
  const baseDir = await mkdtemp(path.join(tmpdir(), 'facteur-bench-baseline-'));
  try {
    await run('bash', [BASELINE, 'start', baseDir]);
    const stored = async () => Number((await run('bash', [BASELINE, 'count', baseDir, 'u'])).stdout.trim());
    const rates: number[] = [];
    let total = 0;
    for (const count of counts) {
      const t0 = performance.now();
      await smtpSource(12526, count);
      total += count;
      await waitFor(stored, total);
      rates.push(count / ((performance.now() - t0) / 1000));
    }
    return rates;
  } finally {
    await run('bash', [BASELINE, 'stop', baseDir]).catch(() => {});
    await rm(baseDir, { recursive: true, force: true });
  }
}

/** fsync calls per stored message, counted by strace on a smaller run (strace slows it down). */
async function countSyncs(facteur: Facteur, count: number): Promise<{ perMessage: number; perWalSync: number }> {
  const pids = await tree(facteur.child.pid as number);
  const out = path.join(tmpdir(), `facteur-strace-${process.pid}.txt`);
  const strace = spawn('strace', ['-f', '-y', '-e', 'trace=fsync,fdatasync', '-o', out, ...pids.flatMap((pid) => ['-p', String(pid)])], { stdio: 'ignore' });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const before = await facteur.stored();
  await smtpSource(facteur.port, count);
  await waitFor(facteur.stored, before + count);
  strace.kill('SIGINT');
  await new Promise((resolve) => strace.once('exit', resolve));
  const text = await readFile(out, 'utf8').catch(() => '');
  await rm(out, { force: true });
  // One line per call, with the file (-y): the syncs of SQLite's WAL are its commits (and checkpoints).
  const syncs = [...text.matchAll(/\b(?:fsync|fdatasync)\(\d+<([^>]*)>\)/g)].map((m) => m[1] ?? '');
  const walSyncs = syncs.filter((file) => file.endsWith('-wal')).length;
  return { perMessage: syncs.length / count, perWalSync: count / Math.max(1, walSyncs) };
}

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;
try {
  await run('bash', [BASELINE, 'install', '-']);
  if (!values['from-source']) await run(process.execPath, [path.join(root, 'scripts/bundle.mjs')], { env: { ...process.env, FACTEUR_BUNDLE_DIR: bundleDir } });
  console.log(
    `bench/smtp: 10 KB messages over ${SESSIONS} sessions (smtp-source), first connect to last message stored; ${RUNS} rounds from cold, load average ${loadavg()[0]?.toFixed(1)}`,
  );
  const ratios: number[] = [];
  for (let round = 1; round <= RUNS; round++) {
    const facteur = await startFacteur();
    let idle: { pss: number; rss: number };
    let cold: { rate: number; cpu: number };
    let long: { rate: number; cpu: number } | undefined;
    let syncs: { perMessage: number; perWalSync: number } | undefined;
    let workers: number;
    try {
      idle = await memory(facteur.child.pid as number);
      workers = (await tree(facteur.child.pid as number)).length - 1;
      cold = await loadFacteur(facteur, COLD);
      if (round === 1) {
        long = await loadFacteur(facteur, N);
        if (!values['facteur-only']) syncs = await countSyncs(facteur, Math.min(1000, N));
      }
    } finally {
      await facteur.close();
    }
    const processes = workers > 0 ? `a primary and ${workers} workers` : 'one process';
    console.log(`round ${round}: Facteur MX (SQLite, durable; ${processes}), idle ${mb(idle.pss)} PSS (${mb(idle.rss)} RSS summed)`);
    console.log(`  cold, ${COLD} messages:  Facteur ${cold.rate.toFixed(0)} msg/s, ${cold.cpu.toFixed(2)} ms CPU/message`);
    if (long) console.log(`  then ${N} more (warm): Facteur ${long.rate.toFixed(0)} msg/s, ${long.cpu.toFixed(2)} ms CPU/message`);
    if (syncs) {
      console.log(`  fsync+fdatasync per stored message ${syncs.perMessage.toFixed(2)}; messages per WAL sync (group commit) ${syncs.perWalSync.toFixed(2)}`);
    }
    if (values['facteur-only']) continue;
    const [baselineCold, baselineLong] = await loadBaseline(long ? [COLD, N] : [COLD]);
    const ratio = cold.rate / (baselineCold as number);
    ratios.push(ratio);
    console.log(`  cold, ${COLD} messages:  Postfix -> Dovecot LMTP -> maildir ${(baselineCold as number).toFixed(0)} msg/s; ratio ${ratio.toFixed(2)}x`);
    if (long && baselineLong) {
      console.log(
        `  then ${N} more (warm): Postfix -> Dovecot LMTP -> maildir ${baselineLong.toFixed(0)} msg/s; ratio ${(long.rate / baselineLong).toFixed(2)}x`,
      );
    }
  }
  if (ratios.length > 0) {
    console.log(
      `WORST cold ratio Facteur / Postfix+Dovecot over ${ratios.length} rounds: ${Math.min(...ratios).toFixed(2)}x (target 1.2x; all: ${ratios.map((r) => r.toFixed(2)).join(', ')})`,
    );
  }
} finally {
  await dns.close();
  await rm(bundleDir, { recursive: true, force: true });
}
