/** Helpers shared by the tests of this module: fixtures, chunked feeding, and the invariants every result must hold. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { extractMetadata, MetadataParser } from './extract.ts';
import type { BodyStructure, MessageMetadata } from './types.ts';

const FIXTURES = new URL('../../test/fixtures/eml/', import.meta.url);

export function readFixture(name: string): Buffer {
  return readFileSync(new URL(name, FIXTURES));
}

export async function* inChunks(raw: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < raw.length; i += size) yield raw.subarray(i, i + size);
}

export function extractInChunks(raw: Uint8Array, size = Math.max(1, raw.length)): Promise<MessageMetadata> {
  return extractMetadata(inChunks(raw, size));
}

/** Synchronous feed, split at the given offsets: for exhaustive split tests. */
export function extractSplitAt(raw: Uint8Array, ...cuts: number[]): MessageMetadata {
  const parser = new MetadataParser();
  let start = 0;
  for (const cut of [...cuts, raw.length]) {
    parser.write(raw.subarray(start, cut));
    start = cut;
  }
  return parser.end();
}

/** Lines as RFC 3501 body-fld-lines counts them here: line feeds, plus one for a last line without one. */
export function countLines(bytes: Uint8Array): number {
  let lines = 0;
  for (const byte of bytes) if (byte === 0x0a) lines++;
  if (bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a) lines++;
  return lines;
}

export function text(raw: Buffer, start: number, end: number): string {
  return raw.subarray(start, end).toString('utf8');
}

/** Offsets nest and tile, sizes and line counts match the bytes they describe. */
export function assertConsistent(meta: MessageMetadata, raw: Buffer): void {
  assert.equal(meta.size, raw.length, 'size');
  assert.equal(meta.lines, countLines(raw), 'lines of the message');
  const root = meta.bodyStructure;
  assert.equal(root.headerStart, 0, 'root header start');
  assert.equal(root.bodyStart, meta.headerSize, 'header size');
  assert.equal(root.bodyEnd, raw.length, 'root body end');
  const visit = (node: BodyStructure, min: number, max: number, path: string): void => {
    const where = `part ${path}`;
    assert.ok(min <= node.headerStart && node.headerStart <= node.bodyStart && node.bodyStart <= node.bodyEnd && node.bodyEnd <= max, `${where} offsets`);
    if (node.kind !== 'multipart') assert.equal(node.size, node.bodyEnd - node.bodyStart, `${where} size`);
    if (node.kind === 'text' || node.kind === 'message') {
      assert.equal(node.lines, countLines(raw.subarray(node.bodyStart, node.bodyEnd)), `${where} lines`);
    }
    if (node.kind === 'multipart') {
      assert.ok(node.parts.length > 0, `${where} has parts`);
      let previousEnd = node.bodyStart;
      node.parts.forEach((part, i) => {
        assert.ok(part.headerStart >= previousEnd, `${where}: parts in order`);
        visit(part, node.bodyStart, node.bodyEnd, `${path}.${i + 1}`);
        previousEnd = part.bodyEnd;
      });
    }
    if (node.kind === 'message') {
      assert.equal(node.body.headerStart, node.bodyStart, `${where}: the message starts with the body`);
      assert.equal(node.body.bodyEnd, node.bodyEnd, `${where}: the message ends with the body`);
      visit(node.body, node.bodyStart, node.bodyEnd, `${path}.msg`);
    }
  };
  visit(root, 0, raw.length, 'root');
}
