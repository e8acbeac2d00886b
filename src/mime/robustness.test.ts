import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { MAX_BOUNDARY_LENGTH, MAX_HEADER_FIELDS_CHARS, MAX_NESTING_DEPTH, MAX_PARTS, MAX_STRUCTURE_CHARS } from './limits.ts';
import { listParts, partByNumber } from './parts.ts';
import { assertConsistent, extractInChunks, extractSplitAt, readFixture, text } from './test-support.ts';
import type { BodyStructure, MessageMetadata } from './types.ts';

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'));

async function extractEverywhichWay(raw: Buffer): Promise<MessageMetadata> {
  const whole = await extractInChunks(raw);
  assertConsistent(whole, raw);
  for (const size of [1, 7, 65536]) assert.deepEqual(await extractInChunks(raw, size), whole, `chunks of ${size}`);
  return whole;
}

function depthOf(structure: BodyStructure): { containers: number; leaf: BodyStructure } {
  let containers = 0;
  let node = structure;
  for (;;) {
    if (node.kind === 'multipart') node = node.parts[0]!;
    else if (node.kind === 'message') node = node.body;
    else return { containers, leaf: node };
    containers++;
  }
}

test('empty input: an empty text message', async () => {
  const meta = await extractEverywhichWay(Buffer.alloc(0));
  assert.deepEqual([meta.size, meta.headerSize, meta.lines, meta.bodyStructure.kind, meta.summary.preview], [0, 0, 0, 'text', '']);
  assert.equal(meta.envelope.subject, null);
});

test(`multipart nesting is followed ${MAX_NESTING_DEPTH} levels deep; deeper containers are opaque application/octet-stream`, async () => {
  const levels = MAX_NESTING_DEPTH + 50;
  let message = 'Content-Type: text/plain\r\n\r\ndeepest\r\n';
  // "b1." is no prefix of "b10.": RFC 2046 §5.1.1 forbids a boundary that prefixes a line inside the part.
  for (let i = levels - 1; i >= 0; i--) message = `Content-Type: multipart/mixed; boundary=b${i}.\r\n\r\n--b${i}.\r\n${message}\r\n--b${i}.--\r\n`;
  const raw = Buffer.from(`Subject: deep\r\n${message}`);
  const meta = await extractEverywhichWay(raw);
  const { containers, leaf } = depthOf(meta.bodyStructure);
  assert.equal(containers, MAX_NESTING_DEPTH);
  assert.equal(`${leaf.type}/${leaf.subtype}`, 'application/octet-stream');
  const leafText = text(raw, leaf.bodyStart, leaf.bodyEnd);
  assert.ok(
    leafText.startsWith(`--b${MAX_NESTING_DEPTH}.\r\n`) && leafText.endsWith(`--b${MAX_NESTING_DEPTH}.--\r\n`),
    'the opaque part holds the rest, whole',
  );
  assert.equal(partByNumber(meta.bodyStructure, Array(MAX_NESTING_DEPTH).fill('1').join('.')), leaf);
});

test('message/rfc822 nesting, alone and alternating with multiparts, stops at the same depth', async () => {
  let messages = 'Subject: innermost\r\n\r\ntext\r\n';
  for (let i = 0; i < MAX_NESTING_DEPTH + 20; i++) messages = `Subject: level ${i}\r\nContent-Type: message/rfc822\r\n\r\n${messages}`;
  const onlyMessages = await extractEverywhichWay(Buffer.from(messages));
  assert.equal(depthOf(onlyMessages.bodyStructure).containers, MAX_NESTING_DEPTH);

  let mixed = 'Content-Type: text/plain\r\n\r\nleaf';
  for (let i = 0; i < MAX_NESTING_DEPTH + 20; i++) {
    mixed =
      i % 2 === 0
        ? `Content-Type: message/rfc822\r\n\r\nSubject: ${i}\r\n${mixed}`
        : `Content-Type: multipart/mixed; boundary=m${i}\r\n\r\n--m${i}\r\n${mixed}\r\n--m${i}--`;
  }
  const alternating = await extractEverywhichWay(Buffer.from(mixed));
  assert.equal(depthOf(alternating.bodyStructure).containers, MAX_NESTING_DEPTH);
});

test('boundaries that prefix each other: the longest matching one wins (Dovecot)', async () => {
  for (const [outer, inner] of [
    ['abc', 'abc-1'],
    ['abc-1', 'abc'],
  ]) {
    const raw = crlf([
      `Content-Type: multipart/mixed; boundary=${outer}`,
      '',
      `--${outer}`,
      `Content-Type: multipart/alternative; boundary=${inner}`,
      '',
      `--${inner}`,
      '',
      'inner one',
      `--${inner}`,
      '',
      'inner two',
      `--${inner}--`,
      `--${outer}`,
      '',
      'outer two',
      `--${outer}--`,
      '',
    ]);
    const meta = await extractEverywhichWay(raw);
    const bodies = listParts(meta.bodyStructure).map(({ number, part }) => [number, part.kind === 'multipart' ? '*' : text(raw, part.bodyStart, part.bodyEnd)]);
    // Each line goes to the boundary it spells out in full, whichever is outside.
    const expected = [
      ['1', '*'],
      ['1.1', 'inner one'],
      ['1.2', 'inner two'],
      ['2', 'outer two'],
    ];
    assert.deepEqual(bodies, expected, `outer ${outer}, inner ${inner}`);
  }
});

test('an outer boundary closes an inner multipart whose close delimiter is missing', async () => {
  const raw = crlf([
    'Content-Type: multipart/mixed; boundary=out',
    '',
    '--out',
    'Content-Type: multipart/related; boundary=in',
    '',
    '--in',
    '',
    'inner',
    '--out',
    '',
    'after',
    '--out--',
    '',
  ]);
  const meta = await extractEverywhichWay(raw);
  assert.deepEqual(
    listParts(meta.bodyStructure).map(({ number, part }) => [number, part.kind === 'multipart' ? '*' : text(raw, part.bodyStart, part.bodyEnd)]),
    [
      ['1', '*'],
      ['1.1', 'inner'],
      ['2', 'after'],
    ],
  );
});

test('the same boundary reused inside: the innermost multipart owns it', async () => {
  const raw = crlf([
    'Content-Type: multipart/mixed; boundary=same',
    '',
    '--same',
    'Content-Type: multipart/mixed; boundary=same',
    '',
    '--same',
    '',
    'a',
    '--same--',
    '',
  ]);
  const meta = await extractEverywhichWay(raw);
  assert.deepEqual(
    listParts(meta.bodyStructure).map(({ number, part }) => [number, part.kind]),
    [
      ['1', 'multipart'],
      ['1.1', 'text'],
    ],
  );
});

test('boundary lines with transport padding, a close delimiter followed by junk, no preamble', async () => {
  const raw = crlf(['Content-Type: multipart/mixed; boundary="b"', '', '--b \t', '', 'one', '--b  ', '', 'two', '--b-- and junk', 'epilogue', '']);
  const meta = await extractEverywhichWay(raw);
  assert.deepEqual(
    listParts(meta.bodyStructure).map(({ part }) => text(raw, part.bodyStart, part.bodyEnd)),
    ['one', 'two'],
  );
});

test('a boundary inside a part header ends the part; the line break before it belongs to the boundary (RFC 2046 §5.1.1)', async () => {
  const raw = crlf(['Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/html', '--b--', '']);
  const meta = await extractEverywhichWay(raw);
  const part = partByNumber(meta.bodyStructure, '1')!;
  assert.deepEqual(
    [part.type, part.subtype, text(raw, part.headerStart, part.bodyStart), part.bodyEnd - part.bodyStart],
    ['text', 'html', 'Content-Type: text/html', 0],
  );
});

test(`a boundary longer than ${MAX_BOUNDARY_LENGTH} octets is not followed: the body reads as text`, async () => {
  const boundary = 'x'.repeat(MAX_BOUNDARY_LENGTH + 1);
  const raw = crlf([`Content-Type: multipart/mixed; boundary=${boundary}`, '', `--${boundary}`, '', 'text', `--${boundary}--`, '']);
  const meta = await extractEverywhichWay(raw);
  assert.equal(meta.bodyStructure.kind, 'text');
});

test(`at most ${MAX_PARTS} parts: later boundaries are part of the last part`, async () => {
  const count = MAX_PARTS + 25;
  const lines = ['Content-Type: multipart/mixed; boundary=p', ''];
  for (let i = 0; i < count; i++) lines.push('--p', '', `part ${i}`);
  lines.push('--p--', '');
  const raw = crlf(lines);
  const meta = extractSplitAt(raw);
  assertConsistent(meta, raw);
  assert.equal(meta.bodyStructure.kind, 'multipart');
  assert.equal(meta.bodyStructure.parts.length, MAX_PARTS);
  const last = meta.bodyStructure.parts.at(-1)!;
  assert.ok(text(raw, last.bodyStart, last.bodyEnd).endsWith(`part ${count - 1}\r\n--p--\r\n`));
});

test('a header over 1 MB: the rest of it is not kept, the body is still found at the right offset', async () => {
  const junk = `X-Junk: ${'j'.repeat(70)}\r\n`.repeat(Math.ceil((2 * 1024 * 1024) / 80));
  const raw = Buffer.from(`Subject: early\r\n${junk}From: late@example.test\r\n\r\nbody\r\n`);
  const meta = await extractInChunks(raw, 65536);
  assertConsistent(meta, raw);
  assert.equal(meta.headerSize, raw.length - 'body\r\n'.length);
  assert.equal(meta.envelope.subject, 'early');
  assert.equal(meta.envelope.from, null);
  assert.equal(meta.summary.preview, 'body');
  const kept = Object.entries(meta.headerFields).reduce((sum, [name, values]) => sum + values.reduce((n, v) => n + v.length + name.length, 0), 0);
  assert.ok(kept <= MAX_HEADER_FIELDS_CHARS, `header fields kept: ${kept} characters`);
});

test('very long lines: a 3 MB body line, and a message that is one 3 MB line with no line break at all', async () => {
  const long = 'x'.repeat(3 * 1024 * 1024);
  const withBody = Buffer.from(`Subject: long\r\n\r\n${long}\r\nend\r\n`);
  const meta = await extractInChunks(withBody, 65536);
  assertConsistent(meta, withBody);
  assert.equal((meta.bodyStructure as { lines: number }).lines, 2);
  const oneLine = Buffer.from(long);
  const noBreak = await extractInChunks(oneLine, 65536);
  assertConsistent(noBreak, oneLine);
  assert.equal(noBreak.headerSize, oneLine.length);
});

test('the strings of the structure share one budget', async () => {
  const description = 'd'.repeat(8 * 1024);
  const lines = ['Content-Type: multipart/mixed; boundary=p', ''];
  for (let i = 0; i < 800; i++) lines.push('--p', `Content-Description: ${description}`, '', `${i}`);
  lines.push('--p--', '');
  const raw = crlf(lines);
  const meta = await extractInChunks(raw, 65536);
  assertConsistent(meta, raw);
  const kept = listParts(meta.bodyStructure).reduce((sum, { part }) => sum + (part.kind === 'multipart' ? 0 : (part.description?.length ?? 0)), 0);
  assert.ok(kept <= MAX_STRUCTURE_CHARS && kept > MAX_STRUCTURE_CHARS / 2, `descriptions kept: ${kept} characters`);
});

test('message/rfc822 in base64 (not allowed, RFC 2046 §5.2.1) is still read as a message', async () => {
  const raw = crlf(['Content-Type: message/rfc822', 'Content-Transfer-Encoding: base64', '', 'U3ViamVjdDogaGkNCg0KYm9keQ==', '']);
  const meta = await extractEverywhichWay(raw);
  assert.equal(meta.bodyStructure.kind, 'message');
});

test('NUL bytes, bare CRs and 8-bit noise never throw', async () => {
  const raw = Buffer.from('Subject: \0nul\rcr\r\nContent-Type: multipart/mixed; boundary=\0\r\n\r\n--\0\r\n\r\n\xff\xfe\0\r\r\r\n--\0--', 'latin1');
  await extractEverywhichWay(raw);
});

/** A small deterministic generator (mulberry32) so that failures can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('fuzz: mutated fixtures never throw and always give consistent offsets, whatever the chunking', () => {
  const fixtures = readdirSync(new URL('../../test/fixtures/eml/', import.meta.url)).filter((name) => name.endsWith('.eml'));
  const pieces = ['\r\n', '\n', '--', '\r\n--', ':', ' ', '=?', '"', '(', ';', '\0', '\xff'];
  for (let seed = 1; seed <= 300; seed++) {
    const next = random(seed);
    const original = readFixture(fixtures[seed % fixtures.length]!);
    let bytes = Buffer.from(original);
    for (let edits = 1 + Math.floor(next() * 8); edits > 0; edits--) {
      const at = Math.floor(next() * (bytes.length + 1));
      const choice = next();
      if (choice < 0.4) bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + Math.floor(next() * 20))]);
      else if (choice < 0.8)
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(pieces[Math.floor(next() * pieces.length)]!, 'latin1'), bytes.subarray(at)]);
      else bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.floor(next() * bytes.length)), bytes.subarray(at)]);
    }
    const whole = extractSplitAt(bytes);
    assertConsistent(whole, bytes);
    const cuts = [Math.floor(next() * bytes.length), Math.floor(next() * bytes.length)].sort((x, y) => x - y);
    assert.deepEqual(extractSplitAt(bytes, ...cuts), whole, `seed ${seed}`);
  }
});
