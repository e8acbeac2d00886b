/**
 * bench/imap (issue 4): Facteur's IMAP server against Dovecot (Debian's dovecot-imapd), both started
 * here on loopback with the same messages, in the same run. Facteur runs as its own process
 * (`facteur serve`, role imap, SQLite) so that its CPU and RSS are its own; the load generator is this
 * process. Plain IMAP on loopback for both (Facteur: FACTEUR_ALLOW_PLAINTEXT_LOOPBACK=true; Dovecot:
 * ssl = no): what is compared is the IMAP work, not TLS.
 *
 *  1. seed: `--accounts` accounts × `--messages` messages of 2–20 KB (bench/imap/messages.ts) into
 *     Facteur through the mailstore (receiveMessage + deliverMessage) and into Dovecot's maildirs;
 *  2. mixed load (bench/imap/load.ts): `--clients` imapflow connections doing SELECT, FETCH (envelopes
 *     of 50, one full message), UID SEARCH (subject, flags), STORE, APPEND back to back, plus
 *     `--idlers` connections in IDLE timing the news of each APPEND; `--seconds` per server, after a
 *     short warm-up of each, repeated `--rounds` times; operations/s, p50/p99 per operation, the
 *     ratio, and server CPU per operation (Facteur's process; Dovecot's master and every child);
 *  3. `--idle-connections` raw-socket connections (LOGIN, SELECT INBOX, IDLE) on `--idle-accounts`
 *     accounts held by one fresh Facteur process: its RSS (target < 200 MB), and one APPEND's news
 *     reaching the IDLE connections of its account;
 *  4. a `--big`-message folder (rows inserted directly, one shared blob: see seed.ts): SELECT (target
 *     < 200 ms), FETCH 1:* (FLAGS), UID SEARCH; the same folder in Dovecot (maildir files) unless
 *     --no-dovecot-big.
 *
 *   node --import tsx bench/imap/run.ts [--seconds 30] [--clients 40] [--idlers 10] [--rounds 2]
 *
 * BENCH_CPU_PROF=DIR writes CPU profiles of the Facteur processes there (node --cpu-prof), read with
 * `node bench/smtp/profile-top.mjs DIR/<phase>/<file>.cpuprofile` (phases load, idle, big; the largest
 * file of a phase is the main thread, the others are tsx's loader thread).
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../../test/helpers/ports.ts';
import { DOVECOT_PASSWORD, type Dovecot, startDovecot } from './dovecot.ts';
import { HEAVY_COMMANDS, type HeavyCommand, type HeavyResult, runHeavy } from './heavy.ts';
import { type LoadResult, percentile, runLoad } from './load.ts';
import { makeMessage } from './messages.ts';
import { RawImap } from './raw.ts';
import { BIG_USER, idleUser, loadUser, PASSWORD, seedFacteur } from './seed.ts';

const { values } = parseArgs({
  options: {
    /** heavy (default): the stress mix of issue 16 (bench/imap/heavy.ts); light: the mixed load, IDLE and big-folder phases below. */
    mix: { type: 'string', default: 'heavy' },
    seconds: { type: 'string' },
    'warmup-seconds': { type: 'string', default: '5' },
    clients: { type: 'string' },
    idlers: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    /** Heavy mix: cold runs per variant (fresh processes each), the worst one reported. */
    runs: { type: 'string', default: '3' },
    /** `facteur serve`'s worker processes (FACTEUR_WORKERS): 1, a single process, measures the cost per command; 0 is one per core. */
    workers: { type: 'string', default: '1' },
    /** Heavy mix: which variants, comma-separated: stay (logged in, logout=0), logins (LOGIN/LOGOUT per cycle). */
    variants: { type: 'string', default: 'stay,logins' },
    accounts: { type: 'string' },
    messages: { type: 'string' },
    'idle-connections': { type: 'string', default: '10000' },
    'idle-accounts': { type: 'string', default: '1000' },
    'idle-inbox': { type: 'string', default: '20' },
    big: { type: 'string', default: '100000' },
    'no-dovecot': { type: 'boolean', default: false },
    timeout: { type: 'string', default: '900' },
    'no-dovecot-big': { type: 'boolean', default: false },
    /** Which parts to run, comma-separated: load, idle, big (all by default; the seeding always runs). */
    phases: { type: 'string', default: 'load,idle,big' },
  },
});
const HEAVY = values.mix === 'heavy';
if (!HEAVY && values.mix !== 'light') throw new Error(`--mix heavy or light, not ${values.mix}`);
const SECONDS = Number(values.seconds ?? (HEAVY ? 20 : 30));
const WARMUP = Number(values['warmup-seconds']);
const CLIENTS = Number(values.clients ?? (HEAVY ? 10 : 40));
const IDLERS = Number(values.idlers);
const ROUNDS = Number(values.rounds);
const RUNS = Number(values.runs);
const VARIANTS = values.variants.split(',').filter((v): v is 'stay' | 'logins' => v === 'stay' || v === 'logins');
const ACCOUNTS = Number(values.accounts ?? (HEAVY ? 10 : 4));
const MESSAGES = Number(values.messages ?? (HEAVY ? 1000 : 2000));
const IDLE_CONNECTIONS = Number(values['idle-connections']);
const IDLE_ACCOUNTS = Number(values['idle-accounts']);
const IDLE_INBOX = Number(values['idle-inbox']);
const BIG = Number(values.big);
const PHASES = new Set(HEAVY ? [] : values.phases.split(','));
const root = path.resolve(import.meta.dirname, '../..');
const MB = 1048576;

async function procStat(pid: number): Promise<{ cpuMs: number } | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  const fields = stat.replace(/^.*\) /s, '').split(' ');
  return { cpuMs: (Number(fields[11]) + Number(fields[12])) * 10 };
}

async function rss(pid: number): Promise<number> {
  return Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
}

/** RSS split into anonymous memory (heaps) and file pages (the node binary, mapped libraries): BENCH_SMAPS=1. */
async function rssSplit(pid: number): Promise<string> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return `anon ${(kb('Anonymous') / 1024).toFixed(0)} MB, file ${((kb('Rss') - kb('Anonymous')) / 1024).toFixed(0)} MB`;
}

/** CPU time of a set of processes, by pid (processes that come and go count from when first seen). */
async function cpuOf(pids: number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const s = await procStat(pid);
    if (s) out.set(pid, s.cpuMs);
  }
  return out;
}

function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, ms] of after) sum += ms - (before.get(pid) ?? 0);
  return sum;
}

/**
 * Facteur runs as `npm start` runs it: plain node on the bundle of src/ (scripts/bundle.mjs), built once
 * into a folder of this run: node_modules/.cache may be shared by several work trees (a link), and a
 * bundle of another one could replace this one's between two runs.
 */
const bundleDir = path.join(root, `.bench-bundle-${process.pid}`);
let bundled = false;
function startFacteur(env: Record<string, string>, label: string): Promise<ChildProcess> {
  if (!bundled) {
    execFileSync(process.execPath, [path.join(root, 'scripts/bundle.mjs')], { stdio: 'inherit', env: { ...process.env, FACTEUR_BUNDLE_DIR: bundleDir } });
    bundled = true;
  }
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', path.join(process.env.BENCH_CPU_PROF, label)] : [];
  // BENCH_HEAP_SNAPSHOT=DIR: SIGUSR2 writes a heap snapshot there (the idle phase sends it at start and with every connection held).
  if (process.env.BENCH_HEAP_SNAPSHOT) mkdirSync(path.join(process.env.BENCH_HEAP_SNAPSHOT, label), { recursive: true });
  if (process.env.BENCH_HEAP_SNAPSHOT) profile.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${path.join(process.env.BENCH_HEAP_SNAPSHOT, label)}`);
  if (process.env.BENCH_NODE_FLAGS) profile.push(...process.env.BENCH_NODE_FLAGS.split(' ').filter(Boolean));
  const child = spawn(process.execPath, [...profile, path.join(bundleDir, 'facteur.mjs'), 'serve'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Facteur is running')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`facteur serve exited with ${code}: ${out}`)));
  });
}

async function stopFacteur(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

interface RoundFigures {
  label: string;
  result: LoadResult;
  serverCpuMs: number;
  generatorCpuMs: number;
}

function opsPerSecond(f: RoundFigures): number {
  return f.result.ops / f.result.seconds;
}

async function measure(label: string, port: number, password: string, pids: () => Promise<number[]>, seconds: number, seed: number): Promise<RoundFigures> {
  let before = new Map<number, number>();
  let after = new Map<number, number>();
  let gen0 = process.cpuUsage();
  let gen1 = process.cpuUsage(gen0);
  const result = await runLoad({
    port,
    users: Array.from({ length: ACCOUNTS }, (_, i) => loadUser(i)),
    password,
    clients: CLIENTS,
    idlers: IDLERS,
    seconds,
    seed,
    onStart: async () => {
      before = await cpuOf(await pids());
      gen0 = process.cpuUsage();
    },
    onEnd: async () => {
      gen1 = process.cpuUsage(gen0);
      after = await cpuOf(await pids());
    },
  });
  return { label, result, serverCpuMs: cpuDelta(before, after), generatorCpuMs: (gen1.user + gen1.system) / 1000 };
}

function printRound(round: number, figures: RoundFigures[]): void {
  console.log(`\nround ${round}: ${CLIENTS} clients + ${IDLERS} in IDLE, ${SECONDS} s each, ${ACCOUNTS} accounts × ${MESSAGES} messages`);
  const ops = [...(figures[0]?.result.latencies.keys() ?? [])];
  const rows: Record<string, Record<string, string | number>> = {};
  for (const op of ops) {
    const row: Record<string, string | number> = {};
    for (const f of figures) {
      const sorted = [...(f.result.latencies.get(op) ?? [])].sort((a, b) => a - b);
      row[`${f.label} n`] = sorted.length;
      row[`${f.label} p50 ms`] = percentile(sorted, 0.5).toFixed(2);
      row[`${f.label} p99 ms`] = percentile(sorted, 0.99).toFixed(2);
    }
    rows[op] = row;
  }
  const idle: Record<string, string | number> = {};
  for (const f of figures) {
    const sorted = [...f.result.idleLatencies].sort((a, b) => a - b);
    idle[`${f.label} n`] = f.result.idleNotified;
    idle[`${f.label} p50 ms`] = percentile(sorted, 0.5).toFixed(2);
    idle[`${f.label} p99 ms`] = percentile(sorted, 0.99).toFixed(2);
  }
  rows['IDLE news of APPEND'] = idle;
  console.table(rows);
  for (const f of figures) {
    console.log(
      `  ${f.label.padEnd(8)} ${opsPerSecond(f).toFixed(0).padStart(6)} ops/s (${f.result.ops} ops in ${f.result.seconds.toFixed(1)} s, ${f.result.errors} errors), ` +
        `server CPU ${(f.serverCpuMs / f.result.ops).toFixed(3)} ms/op (${((100 * f.serverCpuMs) / (f.result.seconds * 1000)).toFixed(0)}% of a core), ` +
        `generator CPU ${((100 * f.generatorCpuMs) / (f.result.seconds * 1000)).toFixed(0)}% of a core, IDLE flag updates heard ${f.result.idleFlagEvents}`,
    );
    if (f.result.firstErrors.length) console.log(`    first errors: ${f.result.firstErrors.join(' | ')}`);
  }
  const [a, b] = figures;
  if (a && b)
    console.log(
      `  ratio Facteur / Dovecot: ${(opsPerSecond(a) / opsPerSecond(b)).toFixed(2)}x ops/s, ${(b.serverCpuMs / b.result.ops / (a.serverCpuMs / a.result.ops)).toFixed(2)}x CPU efficiency`,
    );
}

/** Asks the Facteur process for a heap snapshot (BENCH_HEAP_SNAPSHOT) and gives it time to write it. */
async function heapSnapshot(child: ChildProcess): Promise<void> {
  child.kill('SIGUSR2');
  await new Promise((resolve) => setTimeout(resolve, 8000));
}

/** 10,000 IDLE connections on one fresh Facteur process: its RSS, and one change's news. */
async function idleFigures(env: Record<string, string>, port: number) {
  const child = await startFacteur(env, 'idle');
  try {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const pid = child.pid as number;
    const startRss = await rss(pid);
    if (process.env.BENCH_SMAPS) console.log(`  at start: ${await rssSplit(pid)}`);
    if (process.env.BENCH_HEAP_SNAPSHOT) await heapSnapshot(child);
    const connections: RawImap[] = [];
    const perAccount = Math.ceil(IDLE_CONNECTIONS / IDLE_ACCOUNTS);
    const t0 = performance.now();
    let next = 0;
    let failures = 0;
    const heard = new Map<number, number>();
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        while (next < IDLE_CONNECTIONS) {
          const i = next++;
          try {
            const imap = await RawImap.open(port);
            const login = await imap.command(`LOGIN ${idleUser(Math.floor(i / perAccount))} ${PASSWORD}`);
            if (login.status !== 'OK') throw new Error(login.lines.join(' | '));
            const select = await imap.command('SELECT INBOX');
            if (select.status !== 'OK') throw new Error(select.lines.join(' | '));
            await imap.command('IDLE', { untilContinuation: true });
            imap.onUntagged = (line) => {
              if (/^\* \d+ EXISTS/.test(line) && !heard.has(i)) heard.set(i, performance.now());
            };
            connections[i] = imap;
          } catch (error) {
            if (++failures <= 3) console.log(`  IDLE connection ${i} failed: ${(error as Error).message}`);
          }
        }
      }),
    );
    const openMs = performance.now() - t0;
    const open = connections.filter(Boolean).length;
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const heldRss = await rss(pid);
    if (process.env.BENCH_SMAPS) console.log(`  held: ${await rssSplit(pid)}`);
    if (process.env.BENCH_HEAP_SNAPSHOT) await heapSnapshot(child);
    // One APPEND to the first account: its IDLE connections hear EXISTS.
    const writer = await RawImap.open(port);
    await writer.command(`LOGIN ${idleUser(0)} ${PASSWORD}`);
    const message = makeMessage(5, idleUser(0), 3).raw;
    const a0 = performance.now();
    await writer.command(`APPEND INBOX {${message.length}+}\r\n${message.toString('latin1')}`);
    const appendMs = performance.now() - a0;
    const deadline = performance.now() + 5000;
    while (heard.size < Math.min(perAccount, open) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    const newsMs = Math.max(...[...heard.values()].map((t) => t - a0));
    writer.close();
    for (const c of connections) c?.close();
    return { open, failures, openMs, startRss, heldRss, perAccount, heard: heard.size, appendMs, newsMs };
  } finally {
    await stopFacteur(child);
  }
}

interface BigFigures {
  selects: number[];
  fetchMs: number;
  fetchBytes: number;
  searches: Array<{ query: string; ms: number; hits: number }>;
  exists: number;
}

async function bigFolder(port: number, user: string, password: string, label: string): Promise<BigFigures> {
  const imap = await RawImap.open(port);
  const login = await imap.command(`LOGIN ${user} ${password}`);
  if (login.status !== 'OK') throw new Error(`${label} login: ${login.lines.join(' | ')}`);
  const selects: number[] = [];
  let exists = 0;
  for (let i = 0; i < 5; i++) {
    const r = await imap.command('SELECT INBOX', { keep: true });
    if (r.status !== 'OK') throw new Error(`${label} SELECT: ${r.lines.join(' | ')}`);
    exists = Number(/^\* (\d+) EXISTS/m.exec(r.lines.join('\n'))?.[1] ?? 0);
    selects.push(r.ms);
  }
  const fetch = await imap.command('FETCH 1:* (FLAGS)');
  const searches: BigFigures['searches'] = [];
  for (const query of ['UNSEEN', 'FLAGGED', 'SUBJECT "nothing-matches-this"', `UID ${Math.floor(BIG / 2)}:*`]) {
    const r = await imap.command(`UID SEARCH ${query}`, { keep: true });
    const line = r.lines.find((l) => l.startsWith('* SEARCH')) ?? '';
    searches.push({ query, ms: r.ms, hits: line.split(' ').length - 2 });
  }
  imap.close();
  return { selects, fetchMs: fetch.ms, fetchBytes: fetch.bytes, searches, exists };
}

/** What Thunderbird asks when it syncs a folder: sizes, flags and a set of header fields of every message. */
const HEADER_SYNC =
  'UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO CC BCC SUBJECT DATE MESSAGE-ID PRIORITY X-PRIORITY REFERENCES NEWSGROUPS IN-REPLY-TO CONTENT-TYPE REPLY-TO)])';

/** The header sync of a load account's INBOX (MESSAGES real messages), twice: cold, then warm. */
async function headerSync(port: number, user: string, password: string, label: string): Promise<{ ms: number[]; bytes: number }> {
  const imap = await RawImap.open(port);
  const login = await imap.command(`LOGIN ${user} ${password}`);
  if (login.status !== 'OK') throw new Error(`${label} login: ${login.lines.join(' | ')}`);
  await imap.command('EXAMINE INBOX');
  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 2; i++) {
    const r = await imap.command(HEADER_SYNC);
    if (r.status !== 'OK') throw new Error(`${label} header sync: ${r.status}`);
    ms.push(r.ms);
    bytes = r.bytes;
  }
  imap.close();
  return { ms, bytes };
}

function printHeaderSync(label: string, f: { ms: number[]; bytes: number }): string {
  const line = `${label}: header sync of ${MESSAGES} messages (Thunderbird's UID FETCH of sizes, flags and 14 header fields) ${f.ms.map((m) => m.toFixed(0)).join(' ms, then ')} ms (${(f.bytes / MB).toFixed(1)} MB)`;
  console.log(line);
  return line;
}

function printBig(label: string, f: BigFigures): string {
  const warm = [...f.selects.slice(1)].sort((a, b) => a - b);
  const line =
    `${label}: ${f.exists} messages: SELECT first ${f.selects[0]?.toFixed(0)} ms, then median ${percentile(warm, 0.5).toFixed(0)} ms (${f.selects.map((s) => s.toFixed(0)).join(', ')}); ` +
    `FETCH 1:* (FLAGS) ${f.fetchMs.toFixed(0)} ms (${(f.fetchBytes / MB).toFixed(1)} MB); ` +
    f.searches.map((s) => `UID SEARCH ${s.query} ${s.ms.toFixed(0)} ms (${s.hits} hits)`).join('; ');
  console.log(line);
  return line;
}

// ---------------------------------------------------------------------------------------------------
// The heavy mix (issue 16): cold runs, Facteur and Dovecot in the same run, the worst run reported.

interface HeavyFigures {
  result: HeavyResult;
  cpuMs: number;
  load: string;
}

/** CPU time of a process and of its children that ended and were waited for (Dovecot's imap processes come and go). */
async function treeCpu(pid: number, children: number[]): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return 0;
  const f = stat.replace(/^.*\) /s, '').split(' ');
  let ms = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 10;
  for (const child of children) ms += (await procStat(child))?.cpuMs ?? 0;
  return ms;
}

/** The processes a process started (Facteur's workers when --workers is not 1). */
async function childrenOf(pid: number): Promise<number[]> {
  const out = await new Promise<string>((resolve) => execFile('ps', ['-o', 'pid=', '--ppid', String(pid)], (_error, stdout) => resolve(stdout ?? '')));
  return out.split('\n').filter(Boolean).map(Number);
}

async function heavyRun(
  variant: 'stay' | 'logins',
  port: number,
  password: string,
  cpu: () => Promise<number>,
  seed: number,
  messageBase: number,
): Promise<HeavyFigures> {
  let before = 0;
  let after = 0;
  let load = '';
  const result = await runHeavy({
    port,
    users: Array.from({ length: ACCOUNTS }, (_, i) => loadUser(i)),
    password,
    clients: CLIENTS,
    seconds: SECONDS,
    seed,
    logins: variant === 'logins',
    messageBase,
    onStart: async () => {
      before = await cpu();
    },
    onEnd: async () => {
      after = await cpu();
      load = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
    },
  });
  return { result, cpuMs: after - before, load };
}

const rate = (f: HeavyFigures) => f.result.commands / f.result.seconds;
const perCommand = (f: HeavyFigures, c: HeavyCommand) => (f.result.latencies.get(c)?.length ?? 0) / f.result.seconds;
const meanMs = (f: HeavyFigures, c: HeavyCommand) => {
  const l = f.result.latencies.get(c) ?? [];
  return l.length ? l.reduce((a, b) => a + b, 0) / l.length : Number.NaN;
};

function heavyLine(label: string, f: HeavyFigures): string {
  return (
    `${label.padEnd(8)} ${rate(f).toFixed(0).padStart(5)} commands/s (${f.result.commands} in ${f.result.seconds.toFixed(1)} s, ${f.result.cycles} cycles, ${f.result.errors} errors), ` +
    `server CPU ${(f.cpuMs / Math.max(1, f.result.commands)).toFixed(3)} ms/command (${((100 * f.cpuMs) / (f.result.seconds * 1000)).toFixed(0)}% of a core), load ${f.load}` +
    (f.result.firstErrors.length ? `\n    first errors: ${f.result.firstErrors.join(' | ')}` : '')
  );
}

function heavyTable(facteur: HeavyFigures, dovecot: HeavyFigures | undefined): void {
  const rows: Record<string, Record<string, string>> = {};
  for (const c of HEAVY_COMMANDS) {
    if (!facteur.result.latencies.get(c)?.length && !dovecot?.result.latencies.get(c)?.length) continue;
    rows[c] = {
      'Facteur /s': perCommand(facteur, c).toFixed(1),
      'Facteur mean ms': meanMs(facteur, c).toFixed(1),
      ...(dovecot
        ? {
            'Dovecot /s': perCommand(dovecot, c).toFixed(1),
            'Dovecot mean ms': meanMs(dovecot, c).toFixed(1),
            ratio: `${(perCommand(facteur, c) / perCommand(dovecot, c)).toFixed(2)}x`,
          }
        : {}),
    };
  }
  console.table(rows);
}

/** Seeds Dovecot's maildirs with the same messages and lets it index them (its equivalent of Facteur's rows). */
async function seedDovecot(dir: string): Promise<void> {
  const d = await startDovecot(dir, await freePort());
  try {
    for (let a = 0; a < ACCOUNTS; a++) {
      const messages = Array.from({ length: MESSAGES }, (_, i) => makeMessage(i, loadUser(a), a + 1));
      await d.writeMaildir(`load${a}`, messages);
    }
    await d.fixOwnership();
    for (let a = 0; a < ACCOUNTS; a++) {
      const imap = await RawImap.open(d.port);
      await imap.command(`LOGIN ${loadUser(a)} ${DOVECOT_PASSWORD}`);
      await imap.command('SELECT INBOX');
      imap.close();
    }
  } finally {
    await d.stop();
  }
}

async function heavyBench(): Promise<string[]> {
  const out: string[] = [];
  if (!values['no-dovecot']) {
    const t = performance.now();
    await seedDovecot(dovecotDir);
    console.log(`Dovecot seeded (maildir files, indexed) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  out.push(
    `bench/imap heavy mix (${new Date().toISOString()}): ${CLIENTS} clients over ${ACCOUNTS} users, INBOX of ${MESSAGES} messages each, ${SECONDS} s per server per run, ` +
      `${RUNS} cold runs per variant (fresh processes), worst run reported; Facteur with FACTEUR_WORKERS=${values.workers}`,
  );
  for (const variant of VARIANTS) {
    const runs: Array<{ facteur: HeavyFigures; dovecot?: HeavyFigures }> = [];
    for (let run = 1; run <= RUNS; run++) {
      // New messages in every run of every variant (the same for both servers).
      const messageBase = 3_000_000 + (VARIANTS.indexOf(variant) * RUNS + run) * 100_000;
      const child = await startFacteur(env, `heavy-${variant}-${run}`);
      facteur = child;
      const pid = child.pid as number;
      let figures: { facteur: HeavyFigures; dovecot?: HeavyFigures };
      try {
        figures = { facteur: await heavyRun(variant, imapPort, PASSWORD, async () => treeCpu(pid, await childrenOf(pid)), run, messageBase) };
      } finally {
        await stopFacteur(child);
        facteur = undefined;
      }
      if (!values['no-dovecot']) {
        const d = await startDovecot(dovecotDir, await freePort());
        dovecot = d;
        try {
          const master = Number((await readFile(path.join(d.base, 'run', 'master.pid'), 'utf8')).trim());
          const cpu = async () =>
            treeCpu(
              master,
              (await d.pids()).filter((p) => p !== master),
            );
          figures.dovecot = await heavyRun(variant, d.port, DOVECOT_PASSWORD, cpu, run, messageBase);
        } finally {
          await d.stop();
          dovecot = undefined;
        }
      }
      console.log(`\n${variant === 'stay' ? 'logged in (logout=0)' : 'LOGIN/LOGOUT per cycle'}, run ${run}:`);
      heavyTable(figures.facteur, figures.dovecot);
      console.log(`  ${heavyLine('Facteur', figures.facteur)}`);
      if (figures.dovecot) console.log(`  ${heavyLine('Dovecot', figures.dovecot)}`);
      runs.push(figures);
    }
    // The worst run of each server, by commands per second.
    const worst = (pick: (r: (typeof runs)[number]) => HeavyFigures | undefined) =>
      runs.map(pick).reduce<HeavyFigures | undefined>((w, f) => (f && (!w || rate(f) < rate(w)) ? f : w), undefined);
    const f = worst((r) => r.facteur) as HeavyFigures;
    const d = worst((r) => r.dovecot);
    console.log(`\n${variant}: worst of ${RUNS} runs`);
    heavyTable(f, d);
    out.push(`  ${variant === 'stay' ? 'logged in (logout=0)' : 'LOGIN/LOGOUT per cycle'}, worst of ${RUNS}:`);
    out.push(`    ${heavyLine('Facteur', f)}`);
    if (d) out.push(`    ${heavyLine('Dovecot', d)}`);
    const perCmd = HEAVY_COMMANDS.filter((c) => f.result.latencies.get(c)?.length)
      .map((c) => `${c} ${perCommand(f, c).toFixed(1)}${d ? `/${perCommand(d, c).toFixed(1)} (${(perCommand(f, c) / perCommand(d, c)).toFixed(2)}x)` : ''}`)
      .join(', ');
    out.push(`    per command /s, Facteur${d ? '/Dovecot (ratio)' : ''}: ${perCmd}`);
    const means = HEAVY_COMMANDS.filter((c) => f.result.latencies.get(c)?.length)
      .map((c) => `${c} ${meanMs(f, c).toFixed(1)}${d ? `/${meanMs(d, c).toFixed(1)}` : ''}`)
      .join(', ');
    out.push(`    mean ms, Facteur${d ? '/Dovecot' : ''}: ${means}`);
    if (d)
      out.push(
        `    ratio Facteur / Dovecot: ${(rate(f) / rate(d)).toFixed(2)}x commands/s; CPU per command ${(f.cpuMs / f.result.commands).toFixed(3)} vs ${(d.cpuMs / d.result.commands).toFixed(3)} ms`,
      );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
const dataDir = await mkdtemp(path.join(tmpdir(), 'facteur-bench-imap-'));
const dovecotDir = await mkdtemp(path.join(tmpdir(), 'facteur-bench-imap-dovecot-'));
const imapPort = await freePort();
const env: Record<string, string> = {
  FACTEUR_DATA_DIR: dataDir,
  FACTEUR_DATABASE_URL: '',
  FACTEUR_ROLES: 'imap',
  FACTEUR_IMAP_PORT: String(imapPort),
  FACTEUR_IMAPS_PORT: String(await freePort()),
  FACTEUR_LISTEN_HOST: '127.0.0.1',
  FACTEUR_HOSTNAME: 'imap.bench.test',
  FACTEUR_ALLOW_PLAINTEXT_LOOPBACK: 'true',
  FACTEUR_LOG_LEVEL: 'warn',
  FACTEUR_OPERATOR_EMAIL: 'operator@bench.test',
  FACTEUR_OPERATOR_PASSWORD: 'operator-password-1',
  FACTEUR_DNS_SERVERS: '127.0.0.1:9',
  FACTEUR_WORKERS: values.workers,
};
let facteur: ChildProcess | undefined;
let dovecot: Dovecot | undefined;
const summary: string[] = [];
const benchStart = performance.now();
async function cleanup(): Promise<void> {
  await stopFacteur(facteur);
  await dovecot?.stop();
  await new Promise((resolve) => setTimeout(resolve, 500));
  await rm(dataDir, { recursive: true, force: true });
  await rm(dovecotDir, { recursive: true, force: true });
  await rm(bundleDir, { recursive: true, force: true });
}
// A stuck step must not leave servers behind: give up after --timeout seconds.
setTimeout(() => {
  console.error(`bench/imap: still running after ${values.timeout} s, giving up`);
  void cleanup().finally(() => process.exit(1));
}, Number(values.timeout) * 1000).unref();
try {
  console.log(
    `fd limit ${(await readFile('/proc/self/limits', 'utf8'))
      .match(/Max open files\s+(\d+)\s+(\d+)/)
      ?.slice(1)
      .join('/')} (soft/hard)`,
  );
  const seeded = await seedFacteur(env, {
    loadAccounts: ACCOUNTS,
    messagesPerAccount: MESSAGES,
    idleAccounts: PHASES.has('idle') ? IDLE_ACCOUNTS : 0,
    idleInboxMessages: IDLE_INBOX,
    bigFolderMessages: PHASES.has('big') ? BIG : 0,
  });
  console.log(
    `Facteur seeded: ${ACCOUNTS * MESSAGES} messages through the mailstore in ${(seeded.loadSeedMs / 1000).toFixed(1)} s; ` +
      `${IDLE_ACCOUNTS} IDLE accounts × ${IDLE_INBOX} + a ${BIG}-message folder as rows in ${(seeded.directSeedMs / 1000).toFixed(1)} s`,
  );

  if (HEAVY) summary.push(...(await heavyBench()));

  let dovecotPids: () => Promise<number[]> = async () => [];
  if (!values['no-dovecot'] && (PHASES.has('load') || (PHASES.has('big') && !values['no-dovecot-big']))) {
    dovecot = await startDovecot(dovecotDir, await freePort());
    const d = dovecot;
    dovecotPids = () => d.pids();
    const t = performance.now();
    for (let a = 0; a < ACCOUNTS && PHASES.has('load'); a++) {
      const messages = Array.from({ length: MESSAGES }, (_, i) => makeMessage(i, loadUser(a), a + 1));
      await d.writeMaildir(`load${a}`, messages);
    }
    if (!values['no-dovecot-big'] && PHASES.has('big')) {
      const small = makeMessage(0, idleUser(0), 99);
      const now = Date.now();
      const big = Array.from({ length: BIG }, (_, i) => {
        const uid = i + 1;
        const flags = uid % 10 === 0 ? [] : uid % 50 === 1 ? ['\\Seen', '\\Flagged'] : ['\\Seen'];
        return { raw: small.raw, flags, internalDate: new Date(now - (BIG - uid) * 60_000) };
      });
      await d.writeMaildir('big', big);
    }
    await d.fixOwnership();
    console.log(`Dovecot seeded (maildir files) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }

  // Mixed load: one Facteur process for every round (warm, like a running server).
  const rounds: RoundFigures[][] = [];
  let loadRss = 0;
  if (PHASES.has('load')) {
    facteur = await startFacteur(env, 'load');
    const facteurPid = facteur.pid as number;
    console.log(`\nwarm-up: ${WARMUP} s each (not counted)`);
    await measure('Facteur', imapPort, PASSWORD, async () => [facteurPid], WARMUP, 999);
    if (dovecot) await measure('Dovecot', dovecot.port, DOVECOT_PASSWORD, dovecotPids, WARMUP, 999);
    for (let round = 1; round <= ROUNDS; round++) {
      const figures = [await measure('Facteur', imapPort, PASSWORD, async () => [facteurPid], SECONDS, round)];
      if (dovecot) figures.push(await measure('Dovecot', dovecot.port, DOVECOT_PASSWORD, dovecotPids, SECONDS, round));
      printRound(round, figures);
      rounds.push(figures);
    }
    loadRss = await rss(facteurPid);
    await stopFacteur(facteur);
    facteur = undefined;
  }

  const lines: string[] = [];
  if (PHASES.has('idle')) {
    console.log(`\n${IDLE_CONNECTIONS} IDLE connections (plain IMAP on loopback, raw sockets from this process)`);
    const idle = await idleFigures(env, imapPort);
    const idleLine =
      `${idle.open} IDLE connections open (${idle.failures} failed) in ${(idle.openMs / 1000).toFixed(1)} s on ${IDLE_ACCOUNTS} accounts (${idle.perAccount} each, INBOX of ${IDLE_INBOX}): ` +
      `Facteur RSS ${(idle.heldRss / MB).toFixed(0)} MB (at start ${(idle.startRss / MB).toFixed(0)} MB, ${((idle.heldRss - idle.startRss) / Math.max(1, idle.open) / 1024).toFixed(1)} KB per connection; target < 200 MB: ${idle.heldRss < 200 * MB ? 'met' : 'NOT met'})`;
    const newsLine = `APPEND with ${IDLE_CONNECTIONS} connections open: ${idle.appendMs.toFixed(1)} ms; ${idle.heard}/${idle.perAccount} IDLE connections of that account heard EXISTS within ${idle.newsMs.toFixed(1)} ms`;
    console.log(idleLine);
    console.log(newsLine);
    lines.push(idleLine, newsLine);
  }

  if (PHASES.has('big')) {
    console.log(`\n${BIG}-message folder`);
    const bigChild = await startFacteur(env, 'big');
    facteur = bigChild;
    const bigFacteur = await bigFolder(imapPort, BIG_USER, PASSWORD, 'Facteur');
    const syncFacteur = await headerSync(imapPort, loadUser(0), PASSWORD, 'Facteur');
    const bigRss = await rss(bigChild.pid as number);
    await stopFacteur(bigChild);
    facteur = undefined;
    lines.push(`${printBig('Facteur', bigFacteur)}; RSS after ${(bigRss / MB).toFixed(0)} MB`, printHeaderSync('Facteur', syncFacteur));
    const warmSelect = percentile(
      [...bigFacteur.selects.slice(1)].sort((a, b) => a - b),
      0.5,
    );
    if (dovecot && !values['no-dovecot-big']) {
      lines.push(printBig('Dovecot', await bigFolder(dovecot.port, 'big@bench.test', DOVECOT_PASSWORD, 'Dovecot')));
      lines.push(printHeaderSync('Dovecot', await headerSync(dovecot.port, loadUser(0), DOVECOT_PASSWORD, 'Dovecot')));
    }
    lines.push(`${BIG}-message SELECT target < 200 ms: ${warmSelect < 200 ? 'met' : 'NOT met'} (warm median ${warmSelect.toFixed(0)} ms)`);
  }

  // Summary.
  if (!HEAVY)
    summary.push(
      `bench/imap summary (${new Date().toISOString()}, ${ACCOUNTS}×${MESSAGES} messages, ${CLIENTS} clients + ${IDLERS} IDLE, ${SECONDS} s per server per round)`,
    );
  for (const [i, figures] of rounds.entries()) {
    const [f, d] = figures;
    if (!f) continue;
    summary.push(
      `  round ${i + 1}: Facteur ${opsPerSecond(f).toFixed(0)} ops/s` +
        (d ? `, Dovecot ${opsPerSecond(d).toFixed(0)} ops/s, ratio ${(opsPerSecond(f) / opsPerSecond(d)).toFixed(2)}x (target >= 1)` : '') +
        `; server CPU/op Facteur ${(f.serverCpuMs / f.result.ops).toFixed(3)} ms` +
        (d ? `, Dovecot ${(d.serverCpuMs / d.result.ops).toFixed(3)} ms` : '') +
        `; errors ${f.result.errors}${d ? `/${d.result.errors}` : ''}`,
    );
  }
  if (loadRss > 0) summary.push(`  Facteur RSS after the mixed load: ${(loadRss / MB).toFixed(0)} MB`);
  for (const line of lines) summary.push(`  ${line}`);
  summary.push(`  whole bench: ${((performance.now() - benchStart) / 1000).toFixed(0)} s`);
  console.log(`\n${summary.join('\n')}`);
} finally {
  await cleanup();
}
