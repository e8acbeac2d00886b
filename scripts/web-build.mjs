// The browser application (web/): bundled by esbuild into hashed files that the service serves with
// long-lived cache headers, and a manifest.json naming them. `npm start` (through bundle.mjs) and
// `npm test` (through test.mjs) build it; it takes well under a second. Each area of the portal is
// a chunk loaded on demand, so the login page downloads only the shell and the operator console
// never reaches a customer's browser unless they are an operator.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const root = path.resolve(import.meta.dirname, '..');
/** Where the service looks for the built application unless FACTEUR_WEB_DIR says otherwise. */
export const WEB_DIR = path.join(root, 'node_modules/.cache/facteur-web');

const require = createRequire(createRequire(path.join(root, 'package.json')).resolve('tsx/package.json'));
const esbuild = require('esbuild');

/** Builds web/ into `outdir` and returns the manifest (entry files and the gzipped weight of each file). */
export async function buildWeb(outdir = process.env.FACTEUR_WEB_DIR || WEB_DIR) {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const result = await esbuild.build({
    entryPoints: { app: path.join(root, 'web/portal/main.tsx') },
    outdir: path.join(outdir, 'assets'),
    entryNames: '[name]-[hash]',
    chunkNames: 'chunks/[name]-[hash]',
    assetNames: '[name]-[hash]',
    splitting: true,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: 'linked',
    metafile: true,
    write: true,
    logLevel: 'warning',
    legalComments: 'linked',
  });
  // A warning here is a mistake in the sources (an unbalanced brace in a stylesheet): fail, do not ship it.
  if (result.warnings.length > 0) throw new Error(`web build: ${result.warnings.length} warning(s), see above`);
  const files = {};
  let script;
  let style;
  for (const [file, meta] of Object.entries(result.metafile.outputs)) {
    const name = path.relative(path.join(outdir, 'assets'), file);
    if (name.endsWith('.map') || name.endsWith('.LEGAL.txt')) continue;
    files[name] = { bytes: meta.bytes, gzip: gzipSync(readFileSync(file)).length };
    // The entry's own files (pages imported on demand are entry points of chunks too).
    if (name.startsWith('app-') && name.endsWith('.js')) script = name;
    if (name.startsWith('app-') && name.endsWith('.css')) style = name;
  }
  // What the first page loads: the entry, its stylesheet, and the chunks it imports statically.
  const firstLoad = new Set([script, style]);
  const entryOutput = Object.entries(result.metafile.outputs).find(([file]) => path.relative(path.join(outdir, 'assets'), file) === script)?.[1];
  for (const imported of entryOutput?.imports ?? []) {
    if (imported.kind === 'import-statement') firstLoad.add(path.relative(path.join(outdir, 'assets'), imported.path));
  }
  const manifest = { script, style, firstLoad: [...firstLoad], files };
  writeFileSync(path.join(outdir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return manifest;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const manifest = await buildWeb();
  const first = manifest.firstLoad.reduce((sum, name) => sum + (manifest.files[name]?.gzip ?? 0), 0);
  console.log(`web: ${Object.keys(manifest.files).length} files, first load ${(first / 1024).toFixed(1)} KiB gzipped`);
}
