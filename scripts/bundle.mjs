#!/usr/bin/env node
// `npm start` runs this first (prestart): bundles the service's TypeScript into an ES module that
// plain node runs, node_modules/.cache/facteur/facteur.mjs, with chunks for what a role loads on
// demand. Running through tsx instead transforms every module in the process at start and keeps
// esbuild's service and tsx's loader thread around: about 45 MB more resident memory for the same
// service. Dependencies stay in node_modules (not bundled). Tests and the `facteur` command still run
// from source through tsx. Takes well under a second; esbuild comes with tsx (no download of its own).
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
// FACTEUR_BUNDLE_DIR: another folder under the project (packages are found from there upwards), for a
// benchmark whose bundle must not be replaced by another work tree's sharing the same node_modules.
export const BUNDLE = path.join(process.env.FACTEUR_BUNDLE_DIR || path.join(root, 'node_modules/.cache/facteur'), 'facteur.mjs');

// esbuild is tsx's dependency: found from tsx's own location whatever the layout of node_modules.
const require = createRequire(createRequire(path.join(root, 'package.json')).resolve('tsx/package.json'));
const esbuild = require('esbuild');

rmSync(path.dirname(BUNDLE), { recursive: true, force: true }); // no chunks of an older build left behind
await esbuild.build({
  entryPoints: [path.join(root, 'src/cli/index.ts')],
  // What src/main.ts loads on demand (a role's own modules) goes to chunks read only where it runs.
  outdir: path.dirname(BUNDLE),
  entryNames: 'facteur',
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  // Stack traces map back to src/ with NODE_OPTIONS=--enable-source-maps (about 7 MB more memory).
  sourcemap: true,
  logLevel: 'warning',
});

// The browser application, served by the same process (src/web/).
const { buildWeb } = await import('./web-build.mjs');
await buildWeb();
