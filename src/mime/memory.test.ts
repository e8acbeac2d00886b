/**
 * A 20 MB message streamed through extractMetadata in 64 KB chunks keeps heap growth (JS heap and Buffers) under 32 MB.
 * Heap figures need a garbage collection on demand: the test runs this same file in a child process
 * started with --expose-gc, which streams the message, samples the heap while parsing, and reports.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { extractMetadata } from './extract.ts';

const PROBE_ENV = 'FACTEUR_MIME_HEAP_PROBE';
const MESSAGE_BYTES = 20 * 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;
const MAX_HEAP_GROWTH_BYTES = 32 * 1024 * 1024;
/** 32 MB would not notice a parser that holds the whole 20 MB message: growth must also stay under half of it. */
const HOLDS_NO_MESSAGE_BYTES = MESSAGE_BYTES / 2;
/** Heap sampled every this many chunks (about 1 MB). */
const SAMPLE_EVERY_CHUNKS = 16;

const BASE64_LINE = `${'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0'}\r\n`;
const HEAD = [
  'From: big@example.test',
  'Subject: twenty megabytes',
  'Content-Type: multipart/mixed; boundary="big-boundary"',
  '',
  '--big-boundary',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'A large attachment follows.',
  '--big-boundary',
  'Content-Type: application/octet-stream; name="big.bin"',
  'Content-Transfer-Encoding: base64',
  'Content-Disposition: attachment; filename="big.bin"',
  '',
  '',
].join('\r\n');
const TAIL = '--big-boundary--\r\n';
const ATTACHMENT_LINES = Math.floor((MESSAGE_BYTES - HEAD.length - TAIL.length) / BASE64_LINE.length);

interface ProbeReport {
  gc: boolean;
  peakGrowth: number;
  finalGrowth: number;
  size: number;
  expectedSize: number;
  attachmentSize: number;
  lines: number;
  ms: number;
}

function* messagePieces(): Generator<string> {
  yield HEAD;
  for (let i = 0; i < ATTACHMENT_LINES; i++) yield BASE64_LINE;
  yield TAIL;
}

/** Packs the pieces into fresh 64 KB chunks, so boundaries and line breaks fall anywhere in them. */
async function* inChunks(pieces: Iterable<string>, onChunk: (index: number) => void): AsyncGenerator<Buffer> {
  let chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let used = 0;
  let index = 0;
  for (const piece of pieces) {
    const bytes = Buffer.from(piece, 'latin1');
    for (let offset = 0; offset < bytes.length; ) {
      const count = Math.min(CHUNK_BYTES - used, bytes.length - offset);
      bytes.copy(chunk, used, offset, offset + count);
      used += count;
      offset += count;
      if (used === CHUNK_BYTES) {
        onChunk(index++);
        yield chunk;
        chunk = Buffer.allocUnsafe(CHUNK_BYTES);
        used = 0;
      }
    }
  }
  if (used > 0) yield chunk.subarray(0, used);
}

async function runProbe(): Promise<ProbeReport> {
  const gc = (globalThis as { gc?: () => void }).gc;
  // Buffers live outside the JS heap: a parser that kept chunks would show in arrayBuffers, not in heapUsed.
  const collect = () => {
    gc?.();
    const usage = process.memoryUsage();
    return usage.heapUsed + usage.arrayBuffers;
  };
  const before = collect();
  let peakGrowth = 0;
  const started = performance.now();
  const meta = await extractMetadata(
    inChunks(messagePieces(), (index) => {
      if (index % SAMPLE_EVERY_CHUNKS === 0) peakGrowth = Math.max(peakGrowth, collect() - before);
    }),
  );
  const ms = performance.now() - started;
  const finalGrowth = collect() - before;
  const structure = meta.bodyStructure;
  const attachment = structure.kind === 'multipart' ? structure.parts[1] : undefined;
  return {
    gc: gc !== undefined,
    peakGrowth: Math.max(peakGrowth, finalGrowth),
    finalGrowth,
    size: meta.size,
    expectedSize: HEAD.length + ATTACHMENT_LINES * BASE64_LINE.length + TAIL.length,
    attachmentSize: attachment && attachment.kind !== 'multipart' ? attachment.size : -1,
    lines: meta.lines,
    ms,
  };
}

if (process.env[PROBE_ENV]) {
  process.stdout.write(`${JSON.stringify(await runProbe())}\n`);
} else {
  test('a 20 MB message streamed in 64 KB chunks: heap growth stays under 32 MB, and under half the message', (t) => {
    const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, [PROBE_ENV]: '1' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(child.status, 0, child.stderr);
    const report = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as ProbeReport;
    const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
    t.diagnostic(`parsed ${mb(report.size)} in ${report.ms.toFixed(0)} ms; heap growth peak ${mb(report.peakGrowth)}, after ${mb(report.finalGrowth)}`);
    assert.equal(report.size, report.expectedSize);
    assert.equal(report.lines, HEAD.split('\r\n').length - 1 + ATTACHMENT_LINES + 1);
    // Body of the attachment: every line but the CRLF before the closing boundary.
    assert.equal(report.attachmentSize, ATTACHMENT_LINES * BASE64_LINE.length - 2);
    if (!report.gc) {
      t.skip('NOT MEASURED: the child process has no global.gc (--expose-gc refused?); heap growth unchecked');
      return;
    }
    const limit = Math.min(MAX_HEAP_GROWTH_BYTES, HOLDS_NO_MESSAGE_BYTES);
    assert.ok(report.peakGrowth < limit, `peak heap growth ${mb(report.peakGrowth)}, limit ${mb(limit)}`);
    assert.ok(report.finalGrowth < limit, `heap growth after ${mb(report.finalGrowth)}, limit ${mb(limit)}`);
  });
}
