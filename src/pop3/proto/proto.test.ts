/** The POP3 syntax layer, table-driven, with input split at every byte boundary. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { parseCommand, parseLineCount, parseMessageNumber } from './command.ts';
import { MAX_COMMAND_OCTETS } from './limits.ts';
import { type LineEvent, LineReader } from './line-reader.ts';
import { DotStuffer, TopFilter } from './message-stream.ts';
import { formatErr, formatMultiline, formatOk } from './responses.ts';
import { decodeBase64Strict, parsePlain } from './sasl-plain.ts';

function show(events: LineEvent[]): string[] {
  return events.map((e) => (e.kind === 'line' ? e.line.toString('latin1') : '<overlong>'));
}

/** Feeds `input` split into pieces of `size` bytes. */
function readAll(input: string, size: number, max = MAX_COMMAND_OCTETS): string[] {
  const reader = new LineReader(max);
  const bytes = Buffer.from(input, 'latin1');
  const out: LineEvent[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...reader.push(bytes.subarray(i, i + size)));
  return show(out);
}

test('RFC 1939 §3 lines end at CRLF (a bare LF is tolerated), whatever the chunk boundaries', () => {
  const input = 'USER a\r\nPASS b c\r\nSTAT\nQUIT\r\npartial';
  for (let size = 1; size <= input.length; size++) assert.deepEqual(readAll(input, size), ['USER a', 'PASS b c', 'STAT', 'QUIT'], `size ${size}`);
});

test('RFC 2449 §4 a line over 255 octets is reported once and skipped up to its end', () => {
  const long = `USER ${'x'.repeat(300)}\r\nNOOP\r\n`;
  for (const size of [1, 7, 64, 1000]) assert.deepEqual(readAll(long, size), ['<overlong>', 'NOOP'], `size ${size}`);
  const exact = `${'y'.repeat(MAX_COMMAND_OCTETS - 2)}\r\n`;
  assert.deepEqual(readAll(exact, 10), ['y'.repeat(MAX_COMMAND_OCTETS - 2)]);
  assert.deepEqual(readAll(`${'y'.repeat(MAX_COMMAND_OCTETS - 1)}\r\n`, 10), ['<overlong>']);
});

test('RFC 2595 §4 reset drops buffered plaintext', () => {
  const reader = new LineReader(100);
  assert.deepEqual(show(reader.push(Buffer.from('STLS\r\nUSER evil'))), ['STLS']);
  reader.reset();
  assert.deepEqual(show(reader.push(Buffer.from('NOOP\r\n'))), ['NOOP']);
});

test('RFC 1939 §3 commands: case-insensitive keywords of 3-4 letters, space-separated arguments', () => {
  const ok = (line: string) => {
    const r = parseCommand(Buffer.from(line));
    assert.ok(r.ok, line);
    return r.command;
  };
  assert.deepEqual(ok('retr 1'), { name: 'RETR', args: ['1'], rest: '1' });
  assert.deepEqual(ok('TOP 1 10'), { name: 'TOP', args: ['1', '10'], rest: '1 10' });
  assert.deepEqual(ok('PASS my secret pass'), { name: 'PASS', args: ['my', 'secret', 'pass'], rest: 'my secret pass' });
  assert.deepEqual(ok('STAT'), { name: 'STAT', args: [], rest: '' });
  assert.deepEqual(parseCommand(Buffer.from('US\0ER a')), { ok: false, reason: 'nul' });
  assert.deepEqual(parseCommand(Buffer.from([0x55, 0x53, 0x45, 0x52, 0x20, 0xff])), { ok: false, reason: 'encoding' });
  for (const bad of ['', '<html>', 'LONGER', 'R3TR 1']) assert.deepEqual(parseCommand(Buffer.from(bad)), { ok: false, reason: 'keyword' }, bad);
});

test('RFC 1939 §3 message numbers are positive decimals; TOP line counts may be 0', () => {
  const cases: Array<[string | undefined, number | undefined, number | undefined]> = [
    ['1', 1, 1],
    ['42', 42, 42],
    ['0', undefined, 0],
    ['01', undefined, undefined],
    ['-1', undefined, undefined],
    ['+1', undefined, undefined],
    ['1e3', undefined, undefined],
    ['12345678901', undefined, undefined],
    [undefined, undefined, undefined],
  ];
  for (const [arg, number, lines] of cases) {
    assert.equal(parseMessageNumber(arg), number, `number ${arg}`);
    assert.equal(parseLineCount(arg), lines, `lines ${arg}`);
  }
});

test('RFC 2449 §8 responses: status, response code, no line breaks smuggled into the text', () => {
  assert.equal(formatOk(), '+OK\r\n');
  assert.equal(formatOk('2 320'), '+OK 2 320\r\n');
  assert.equal(formatErr('Do you have another POP session running?', 'IN-USE'), '-ERR [IN-USE] Do you have another POP session running?\r\n');
  assert.equal(formatErr('a\r\n+OK b'), '-ERR a +OK b\r\n');
  assert.equal(formatMultiline('', ['1 a', '.hidden']), '+OK\r\n1 a\r\n..hidden\r\n.\r\n');
});

/** Stuffs `input` fed in pieces of `size` bytes. */
function stuff(input: string, size: number, top?: number): string {
  const stuffer = new DotStuffer();
  const filter = top === undefined ? undefined : new TopFilter(top);
  const bytes = Buffer.from(input, 'latin1');
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length && !filter?.done; i += size) {
    const piece = bytes.subarray(i, i + size);
    out.push(stuffer.push(filter ? filter.push(piece) : piece));
  }
  out.push(stuffer.end());
  return Buffer.concat(out).toString('latin1');
}

test('RFC 1939 §3 byte-stuffing: a dot at the start of any line is doubled, at any chunk boundary', () => {
  const cases: Array<[string, string]> = [
    ['a\r\nb\r\n', 'a\r\nb\r\n.\r\n'],
    ['.\r\n', '..\r\n.\r\n'],
    ['x\r\n.\r\n..y\r\nz.\r\n', 'x\r\n..\r\n...y\r\nz.\r\n.\r\n'],
    ['no final newline', 'no final newline\r\n.\r\n'],
    ['', '.\r\n'],
  ];
  for (const [input, expected] of cases) {
    for (let size = 1; size <= Math.max(1, input.length); size++) assert.equal(stuff(input, size), expected, `${JSON.stringify(input)} size ${size}`);
  }
});

test('RFC 1939 §7 TOP: the header, the blank line, then n body lines', () => {
  const message = 'Subject: a\r\nFrom: b\r\n\r\nline 1\r\n.line 2\r\nline 3\r\n';
  const cases: Array<[number, string]> = [
    [0, 'Subject: a\r\nFrom: b\r\n\r\n.\r\n'],
    [2, 'Subject: a\r\nFrom: b\r\n\r\nline 1\r\n..line 2\r\n.\r\n'],
    [10, 'Subject: a\r\nFrom: b\r\n\r\nline 1\r\n..line 2\r\nline 3\r\n.\r\n'],
  ];
  for (const [lines, expected] of cases) {
    for (let size = 1; size <= message.length; size++) assert.equal(stuff(message, size, lines), expected, `n=${lines} size ${size}`);
  }
  assert.equal(stuff('Subject: only a header\r\n', 3, 5), 'Subject: only a header\r\n.\r\n');
});

test('byte-stuffing a large message keeps its bytes (checked by hash after un-stuffing)', () => {
  const lines = Array.from({ length: 20_000 }, (_, i) => (i % 7 === 0 ? `.${i}` : `line ${i}`));
  const input = `${lines.join('\r\n')}\r\n`;
  const output = stuff(input, 4093);
  const unstuffed = output
    .slice(0, -3)
    .split('\r\n')
    .map((l) => (l.startsWith('..') ? l.slice(1) : l))
    .join('\r\n');
  assert.equal(createHash('sha256').update(unstuffed).digest('hex'), createHash('sha256').update(input).digest('hex'));
});

test('RFC 5034 §4 and RFC 4616 §2 PLAIN: strict base64, three fields', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  assert.deepEqual(parsePlain(decodeBase64Strict(b64('\0tim\0tanstaaftanstaaf')) as Buffer), { authzid: '', authcid: 'tim', password: 'tanstaaftanstaaf' });
  assert.deepEqual(parsePlain(decodeBase64Strict(b64('Ursel\0Kurt\0xipj3plmq')) as Buffer), { authzid: 'Ursel', authcid: 'Kurt', password: 'xipj3plmq' });
  assert.equal(decodeBase64Strict('=AAA'), undefined);
  assert.equal(decodeBase64Strict('AAA=BBB'), undefined);
  assert.equal(decodeBase64Strict('AA*A'), undefined);
  assert.deepEqual(decodeBase64Strict('='), Buffer.alloc(0));
  for (const bad of ['tim\0pw', '\0\0pw', '\0tim\0', 'a\0b\0c\0d']) assert.equal(parsePlain(Buffer.from(bad)), undefined, JSON.stringify(bad));
  assert.equal(parsePlain(Buffer.from([0, 0x61, 0, 0xff])), undefined);
});
