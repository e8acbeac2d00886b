/**
 * The README's Node version is the one the dependencies accept: `npm install` prints no engine warning
 * (EBADENGINE) on Node 20.19, the oldest supported, nor on the Node running the tests.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from './helpers/cli.ts';

const semver = createRequire(import.meta.url)('semver') as {
  satisfies(version: string, range: string): boolean;
  minVersion(range: string): { version: string };
};

test('npm install: every locked package accepts the oldest Node the project supports and the running one (no EBADENGINE warning)', () => {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
  const oldest = semver.minVersion(manifest.engines.node).version;
  assert.ok(semver.satisfies(oldest, '>=20.19'), `the README names Node 20.19 or later (package.json says ${manifest.engines.node})`);
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { engines?: { node?: string } }> };
  const refusing = Object.entries(lock.packages)
    .filter(([name, entry]) => name && entry.engines?.node)
    .filter(([, entry]) => !semver.satisfies(oldest, entry.engines?.node as string) || !semver.satisfies(process.versions.node, entry.engines?.node as string))
    .map(([name, entry]) => `${name} wants node ${entry.engines?.node}`);
  assert.deepEqual(refusing, []);
});
