import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import {
  astr,
  type Chunk,
  encodeContinuation,
  encodeItems,
  encodeTagged,
  encodeUntagged,
  encodeUntaggedStatus,
  type Item,
  joined,
  literal,
  MAX_QUOTED_BYTES,
  NUL_REPLACEMENT,
  replaceNul,
  str,
  streamed,
} from './index.ts';

const text = (chunks: Chunk[]) =>
  Buffer.concat(chunks.map((chunk) => (Buffer.isBuffer(chunk) ? chunk : Buffer.from(`<stream ${chunk.size}>`)))).toString('utf8');
const one = (item: Item, utf8Accept = false) => text(encodeItems([item], { utf8Accept }));

test('RFC 3501 §8: the FETCH response of the sample session', () => {
  const envelope: Item = [
    str('Wed, 17 Jul 1996 02:23:25 -0700 (PDT)'),
    str('IMAP4rev1 WG mtg summary and minutes'),
    [[str('Terry Gray'), null, str('gray'), str('cac.washington.edu')]],
  ];
  const response = encodeUntagged([
    12,
    'FETCH',
    ['FLAGS', ['\\Seen'], 'INTERNALDATE', str('17-Jul-1996 02:44:25 -0700'), 'RFC822.SIZE', 4286, 'ENVELOPE', envelope],
  ]);
  assert.equal(
    text(response),
    '* 12 FETCH (FLAGS (\\Seen) INTERNALDATE "17-Jul-1996 02:44:25 -0700" RFC822.SIZE 4286 ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" (("Terry Gray" NIL "gray" "cac.washington.edu"))))\r\n',
  );
});

test('RFC 3501 §4.3: strings are quoted when safe, escaped, else literals', () => {
  assert.equal(one(str('plain')), '"plain"');
  assert.equal(one(str('say "hi" \\o/')), '"say \\"hi\\" \\\\o/"');
  assert.equal(one(str('two\r\nlines')), '{10}\r\ntwo\r\nlines');
  assert.equal(one(str('x'.repeat(MAX_QUOTED_BYTES + 1))), `{${MAX_QUOTED_BYTES + 1}}\r\n${'x'.repeat(MAX_QUOTED_BYTES + 1)}`);
  assert.equal(one(str('')), '""');
  assert.equal(one(null), 'NIL');
  assert.equal(one([]), '()');
  assert.equal(one(42n ** 10n), String(42n ** 10n));
});

test('RFC 3501 §9 CHAR8: no NUL in a plain literal (replaced by 0x80, same size); a literal8 keeps it (RFC 3516 §4.2)', () => {
  const bytes = (item: Item) => Buffer.concat(encodeItems([item]) as Buffer[]);
  assert.deepEqual(bytes(str('a\x00b')), Buffer.from('{3}\r\na\x80b', 'latin1'));
  assert.deepEqual(bytes(str(Buffer.from([0x61, 0, 0, 0x62]))), Buffer.from('{4}\r\na\x80\x80b', 'latin1'));
  assert.deepEqual(bytes(literal(Buffer.from([0, 0x41, 0]))), Buffer.from('{3}\r\n\x80A\x80', 'latin1'));
  assert.deepEqual(bytes(literal(Buffer.from([0, 0x41]), true)), Buffer.from('~{2}\r\n\x00A', 'latin1'));
  const clean = Buffer.from('no nul here');
  assert.equal(replaceNul(clean), clean, 'nothing copied when there is no NUL');
  assert.equal(NUL_REPLACEMENT, 0x80);
});

test('RFC 6855 §3: 8-bit UTF-8 goes as a literal, or quoted once UTF8=ACCEPT is enabled', () => {
  assert.equal(one(str('été')), '{5}\r\nété');
  assert.equal(one(str('été'), true), '"été"');
  assert.equal(one(str(Buffer.from([0xff, 0x41])), true), '{2}\r\n\ufffdA');
});

test('RFC 3501 §9: astrings are atoms when they can be', () => {
  assert.equal(one(astr('INBOX')), 'INBOX');
  assert.equal(one(astr('Sent Items')), '"Sent Items"');
  assert.equal(one(astr('NIL')), '"NIL"');
  assert.equal(one(astr('a%b')), '"a%b"');
  assert.equal(one(astr('')), '""');
});

test('RFC 3516 §4.2: literals, literal8 and streamed literals keep their source object', () => {
  const source = { size: 5, open: () => 'the server reads it' };
  const chunks = encodeUntagged<typeof source>([
    1,
    'FETCH',
    ['BODY[]', streamed(source), 'BINARY[1]', literal(Buffer.from([0, 1]), true), 'X', literal(Buffer.from('ab'))],
  ]);
  assert.equal(chunks.length, 3);
  assert.equal(chunks[0]!.toString(), '* 1 FETCH (BODY[] {5}\r\n');
  assert.equal(chunks[1], source);
  assert.deepEqual(chunks[2], Buffer.concat([Buffer.from(' BINARY[1] ~{2}\r\n'), Buffer.from([0, 1]), Buffer.from(' X {2}\r\nab)\r\n')]));
});

test('RFC 3501 §7.1: tagged and untagged status responses with response codes', () => {
  assert.equal(encodeTagged('a002', 'OK', 'SELECT completed', 'READ-WRITE').toString(), 'a002 OK [READ-WRITE] SELECT completed\r\n');
  assert.equal(encodeTagged('a', 'NO', 'charset', ['BADCHARSET', ['US-ASCII', 'UTF-8']]).toString(), 'a NO [BADCHARSET (US-ASCII UTF-8)] charset\r\n');
  assert.equal(encodeUntaggedStatus('OK', 'Predicted next UID', ['UIDNEXT', 5]).toString(), '* OK [UIDNEXT 5] Predicted next UID\r\n');
  assert.equal(encodeUntaggedStatus('OK', 'Limited', ['PERMANENTFLAGS', ['\\Seen', '\\*']]).toString(), '* OK [PERMANENTFLAGS (\\Seen \\*)] Limited\r\n');
  assert.equal(encodeUntaggedStatus('BYE', 'IMAP4rev1 server\r\nterminating').toString(), '* BYE IMAP4rev1 server terminating\r\n');
  assert.equal(encodeTagged('b', 'BAD', '').toString(), 'b BAD done\r\n');
  assert.throws(() => encodeTagged('c', 'OK', 'x', 'BAD]CODE'));
});

test('RFC 3501 §7.5: continuation requests', () => {
  assert.equal(encodeContinuation('Ready for literal data').toString(), '+ Ready for literal data\r\n');
  assert.equal(encodeContinuation().toString(), '+ \r\n');
});

test('raw atoms may not carry CR, LF or NUL; numbers are non-negative integers', () => {
  assert.throws(() => encodeItems(['a\r\nb']));
  assert.throws(() => encodeItems([-1]));
  assert.throws(() => encodeItems([1.5]));
});

test('RFC 3501 §9 body-type-mpart: joined items are written back to back', () => {
  const chunks = encodeItems([[joined([['a'], ['b']]), str('mixed')]]);
  assert.equal(Buffer.concat(chunks as Buffer[]).toString(), '((a)(b) "mixed")');
});
