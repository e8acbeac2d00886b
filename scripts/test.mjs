#!/usr/bin/env node
// `npm test`: type-check, lint and format check, then every test file on SQLite and again on
// PostgreSQL when FACTEUR_TEST_DATABASE_URL is set (CI always sets it). Ends with one line
// "N passed, N failed" summing both passes.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
/**
 * A test that hangs fails after this instead of holding CI until its deadline. Node applies it to each
 * file as a whole too: the CLI walk spawns dozens of `facteur` processes, over two minutes on a loaded machine.
 */
const TEST_TIMEOUT_MS = 300_000;
const only = process.argv.slice(2);

function run(label, command, args, env = {}) {
  console.log(`\n=== ${label}`);
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  process.stdout.write(result.stdout ?? '');
  return { status: result.status ?? 1, stdout: result.stdout ?? '' };
}

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (name === 'node_modules') continue;
    if (statSync(full).isDirectory()) out.push(...findTests(full));
    else if (name.endsWith('.test.ts')) out.push(path.relative(root, full));
  }
  return out.sort();
}

let passed = 0;
let failed = 0;
const failures = [];

/**
 * The failed tests of a TAP report, a few lines each (name, where, why), printed again at the end: in a
 * long CI log the reason of a failure is otherwise far from the summary. Parents that failed only
 * because a subtest did are left out.
 */
function failureDigest(tap) {
  const lines = tap.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const head = /^(\s*)not ok \d+ - (.*)$/.exec(lines[i]);
    if (!head) continue;
    const fields = {};
    const why = [];
    for (let j = i + 1; j < lines.length && !/^\s*\.\.\.$/.test(lines[j]); j++) {
      const field = /^\s*(location|failureType|error): (.*)$/.exec(lines[j]);
      if (field) fields[field[1]] = field[2];
      else if (fields.error === '|-' && why.length < 6 && lines[j].trim()) why.push(lines[j].trim());
    }
    if (fields.failureType === "'subtestsFailed'") continue;
    if (fields.error !== '|-') why.push(fields.error ?? '');
    out.push(`- ${head[2]}\n    at ${fields.location ?? '?'} (${fields.failureType ?? '?'}): ${why.join(' / ').slice(0, 600)}`);
  }
  return out;
}

/** PostgreSQL's own account of lock waits, deadlocks and fatal errors (services.sh sets log_lock_waits). */
function postgresTroubles() {
  const log = process.env.FACTEUR_TEST_PG_LOG;
  if (!log || !existsSync(log)) return [];
  const wanted = /still waiting|acquired .* after|deadlock|lock timeout|FATAL|PANIC|terminat/i;
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => wanted.test(line))
    .slice(-60);
}

const digests = [];

if (only.length === 0) {
  for (const [label, cmd, args] of [
    ['type-check (tsc --noEmit)', 'npx', ['tsc', '--noEmit', '-p', '.']],
    ['type-check of the web application (tsc -p web)', 'npx', ['tsc', '--noEmit', '-p', 'web']],
    ['lint and format (biome check)', 'npx', ['biome', 'check', '.']],
  ]) {
    const { status } = run(label, cmd, args);
    if (status === 0) passed++;
    else {
      failed++;
      failures.push(label);
    }
  }
}

const files = only.length ? only : [...findTests(path.join(root, 'src')), ...findTests(path.join(root, 'test'))];
const engines = ['sqlite'];
if (process.env.FACTEUR_TEST_DATABASE_URL) engines.push('postgres');
else {
  console.log('\n!!! FACTEUR_TEST_DATABASE_URL is not set: the storage and API tests run on SQLite ONLY, PostgreSQL is NOT tested.');
  if (process.env.CI) {
    failed++;
    failures.push('PostgreSQL pass (CI must set FACTEUR_TEST_DATABASE_URL)');
  }
}

// The filter adapters' tests (test/filter-adapters.test.ts) need the real daemons, the change feed's
// between nodes (test/nodes.test.ts) a Redis; they fail in CI without them.
for (const [variable, what] of [
  ['FACTEUR_TEST_RSPAMD_URL', 'the Rspamd adapter'],
  ['FACTEUR_TEST_CLAMD', 'the ClamAV (clamd) adapter'],
  ['FACTEUR_TEST_REDIS_URL', 'the change feed between nodes (Redis)'],
]) {
  if (!process.env[variable]) {
    console.log(`\n!!! ${variable} is not set: ${what} is NOT tested against the real service (bash scripts/services.sh start prints it).`);
  }
}

// The browser tests (test/web/) load the built application: built once here, from the sources under test.
{
  const { status } = run('build of the web application (scripts/web-build.mjs)', process.execPath, ['scripts/web-build.mjs']);
  if (status !== 0) {
    failed++;
    failures.push('build of the web application');
  }
}

for (const engine of engines) {
  const { stdout } = run(
    `tests on ${engine} (${files.length} files)`,
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=2', `--test-timeout=${TEST_TIMEOUT_MS}`, ...files],
    {
      FACTEUR_TEST_ENGINE: engine,
    },
  );
  const pass = Number(/^# pass (\d+)/m.exec(stdout)?.[1] ?? 0);
  const fail = Number(/^# fail (\d+)/m.exec(stdout)?.[1] ?? 0);
  const cancelled = Number(/^# cancelled (\d+)/m.exec(stdout)?.[1] ?? 0);
  passed += pass;
  failed += fail + cancelled;
  if (fail + cancelled > 0 || pass === 0) {
    failures.push(`tests on ${engine}`);
    digests.push(`failed on ${engine}:`, ...failureDigest(stdout));
  }
  if (pass === 0 && fail === 0) failed++;
}

if (digests.length) {
  console.log('\n=== what failed, and why');
  for (const line of digests) console.log(line);
  const troubles = postgresTroubles();
  if (troubles.length) console.log(`\nPostgreSQL log (${process.env.FACTEUR_TEST_PG_LOG}), lock waits and fatal errors:\n${troubles.join('\n')}`);
}
console.log(`\n${failures.length ? `FAILED: ${failures.join(', ')}` : 'all checks passed'}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
