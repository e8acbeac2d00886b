/** RFC 2045 §6.7 and §6.8 decoding, chunk by chunk at every possible cut. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Base64Decoder, QuotedPrintableDecoder, type TransferDecoder, transferDecoder } from './transfer-decoding.ts';

/** Decodes `input` cut into chunks at the given offsets. */
function decodeInChunks(decoder: TransferDecoder, input: Buffer, cuts: number[]): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (const cut of [...cuts, input.length]) {
    out.push(decoder.push(input.subarray(at, cut)));
    at = cut;
  }
  out.push(decoder.end());
  return Buffer.concat(out);
}

/** A seeded generator: the same cases every run. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x7fffffff;
  };
}

function wrapped(text: string, width: number): string {
  return (text.match(new RegExp(`.{1,${width}}`, 'g')) ?? []).join('\r\n');
}

test('RFC 2045 §6.8 base64: any bytes, wrapped at 76, cut anywhere, decode to themselves', () => {
  const next = random(3516);
  for (let round = 0; round < 200; round++) {
    const bytes = Buffer.from(Array.from({ length: Math.floor(next() * 300) }, () => Math.floor(next() * 256)));
    const encoded = Buffer.from(`${wrapped(bytes.toString('base64'), 76)}\r\n`);
    const cuts = Array.from({ length: 4 }, () => Math.floor(next() * encoded.length)).sort((a, b) => a - b);
    assert.deepEqual(decodeInChunks(new Base64Decoder(), encoded, cuts), bytes);
  }
});

test('RFC 2045 §6.8 base64: characters outside the alphabet are skipped, padding ends a group', () => {
  assert.equal(decodeInChunks(new Base64Decoder(), Buffer.from('SGVs\r\n bG8*!'), []).toString(), 'Hello');
  assert.equal(decodeInChunks(new Base64Decoder(), Buffer.from('SGk=SGk='), [3]).toString(), 'HiHi');
});

/** A small quoted-printable encoder for the round trip: escapes what it must, soft breaks at 76. */
function encodeQp(text: Buffer): string {
  const lines: string[] = [];
  let line = '';
  for (const byte of text) {
    const piece =
      (byte >= 33 && byte <= 126 && byte !== 61) || byte === 32 ? String.fromCharCode(byte) : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    if (line.length + piece.length > 75) {
      lines.push(`${line}=`);
      line = '';
    }
    line += piece;
  }
  lines.push(line.endsWith(' ') ? `${line.slice(0, -1)}=20` : line);
  return lines.join('\r\n');
}

test('RFC 2045 §6.7 quoted-printable: escapes and soft line breaks, cut anywhere, decode to the bytes', () => {
  const next = random(2045);
  for (let round = 0; round < 200; round++) {
    const bytes = Buffer.from(Array.from({ length: Math.floor(next() * 400) }, () => Math.floor(next() * 256)));
    const encoded = Buffer.from(encodeQp(bytes));
    const cuts = Array.from({ length: 5 }, () => Math.floor(next() * encoded.length)).sort((a, b) => a - b);
    assert.deepEqual(decodeInChunks(new QuotedPrintableDecoder(), encoded, cuts), bytes);
  }
});

test('RFC 2045 §6.7 quoted-printable: hard breaks become CRLF, trailing white space goes, bad escapes stay', () => {
  const decode = (text: string, cuts: number[] = []) => decodeInChunks(new QuotedPrintableDecoder(), Buffer.from(text, 'latin1'), cuts).toString('latin1');
  assert.equal(decode('Bonjour =E0 tous.  \nLigne =\r\ncontinu=E9e\r\n'), 'Bonjour \xe0 tous.\r\nLigne continu\xe9e\r\n');
  assert.equal(decode('a=3d=3D b =ZZ c=\r\n', [2, 4]), 'a== b =ZZ c');
  assert.equal(decode('no line break at the end='), 'no line break at the end');
});

test('quoted-printable: a line without a break is decoded in pieces, an escape at a cut kept whole', () => {
  const long = `${'x'.repeat(9000)}=41${'y'.repeat(9000)}=42`;
  const decoded = decodeInChunks(new QuotedPrintableDecoder(), Buffer.from(long), [9001, 9002, 12000]).toString();
  assert.equal(decoded, `${'x'.repeat(9000)}A${'y'.repeat(9000)}B`);
});

test('transferDecoder: identity encodings, the two decoders, and unknown ones', () => {
  for (const name of ['', '7bit', '8BIT', 'binary']) assert.equal(transferDecoder(name), null);
  assert.ok(transferDecoder('Base64') instanceof Base64Decoder);
  assert.ok(transferDecoder('quoted-printable') instanceof QuotedPrintableDecoder);
  assert.equal(transferDecoder('x-uuencode'), undefined);
});
