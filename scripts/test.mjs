#!/usr/bin/env node
// `npm test`: type-check, lint and format check, then every test file on SQLite and again on
// PostgreSQL when FACTEUR_TEST_DATABASE_URL is set (CI always sets it). Ends with one line
// "N passed, N failed" summing both passes.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
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

if (only.length === 0) {
  for (const [label, cmd, args] of [
    ['type-check (tsc --noEmit)', 'npx', ['tsc', '--noEmit', '-p', '.']],
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
  if (fail + cancelled > 0 || pass === 0) failures.push(`tests on ${engine}`);
  if (pass === 0 && fail === 0) failed++;
}

console.log(`\n${failures.length ? `FAILED: ${failures.join(', ')}` : 'all checks passed'}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
