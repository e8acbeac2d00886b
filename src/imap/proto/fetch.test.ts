import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import { type Command, ImapReceiver, ProtocolSyntaxError, parseFetchArgs } from './index.ts';

function commandOf(line: string): Command {
  const receiver = new ImapReceiver();
  receiver.push(Buffer.from(`${line}\r\n`, 'latin1'));
  const event = receiver.next();
  assert.equal(event?.type, 'command', JSON.stringify(event));
  return (event as { command: Command }).command;
}

const fetchOf = (line: string) => {
  const command = commandOf(line);
  return parseFetchArgs(command.args, { uid: command.uid });
};
const responses = (line: string) => fetchOf(line).items.map((item) => item.response);

test('RFC 3501 §6.4.5: the example FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])', () => {
  const fetch = fetchOf('A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])');
  assert.deepEqual(fetch.sequence, [{ start: 2, end: 4 }]);
  assert.deepEqual(fetch.items, [
    { kind: 'simple', name: 'FLAGS', response: 'FLAGS' },
    { kind: 'section', peek: false, section: { part: [], text: 'HEADER.FIELDS', fields: ['DATE', 'FROM'] }, response: 'BODY[HEADER.FIELDS (DATE FROM)]' },
  ]);
  assert.equal(fetch.marksSeen, true);
});

test('RFC 3501 §6.4.5: macros ALL, FAST and FULL', () => {
  assert.deepEqual(responses('a FETCH 1 ALL'), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE']);
  assert.deepEqual(responses('a FETCH 1 fast'), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE']);
  assert.deepEqual(responses('a003 fetch 12 full'), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY']);
  assert.throws(() => fetchOf('a FETCH 1 (FLAGS ALL)'), /cannot be combined/);
});

test('RFC 3501 §6.4.5: every simple attribute', () => {
  const names = 'UID FLAGS INTERNALDATE RFC822 RFC822.HEADER RFC822.TEXT RFC822.SIZE ENVELOPE BODY BODYSTRUCTURE MODSEQ';
  assert.deepEqual(responses(`a FETCH 1 (${names.toLowerCase()})`), names.split(' '));
  assert.equal(fetchOf('a FETCH 1 RFC822.HEADER').marksSeen, false);
  assert.equal(fetchOf('a FETCH 1 RFC822').marksSeen, true);
  assert.equal(fetchOf('a FETCH 1 RFC822.TEXT').marksSeen, true);
});

test('RFC 3501 §6.4.5, §7.4.2: sections and partials, echoed with the origin only', () => {
  const cases: Array<[string, string]> = [
    ['BODY[]', 'BODY[]'],
    ['BODY[]<0.2048>', 'BODY[]<0>'],
    ['body.peek[header]', 'BODY[HEADER]'],
    ['BODY.PEEK[HEADER.FIELDS (From To)]<0.100>', 'BODY[HEADER.FIELDS (FROM TO)]<0>'],
    ['BODY[HEADER.FIELDS.NOT (Received)]', 'BODY[HEADER.FIELDS.NOT (RECEIVED)]'],
    ['BODY[TEXT]<512.10>', 'BODY[TEXT]<512>'],
    ['BODY[1]', 'BODY[1]'],
    ['BODY[1.2.3]', 'BODY[1.2.3]'],
    ['BODY[1.2.HEADER]', 'BODY[1.2.HEADER]'],
    ['BODY[4.2.2.MIME]', 'BODY[4.2.2.MIME]'],
    ['BODY[3.TEXT]', 'BODY[3.TEXT]'],
    ['BODY[1.HEADER.FIELDS ("X-Odd")]', 'BODY[1.HEADER.FIELDS (X-ODD)]'],
  ];
  for (const [request, response] of cases) assert.deepEqual(responses(`a FETCH 1 (${request})`), [response], request);
  const item = fetchOf('a FETCH 1 BODY.PEEK[1.2.HEADER.FIELDS (Subject)]<10.20>').items[0]!;
  assert.deepEqual(item, {
    kind: 'section',
    peek: true,
    section: { part: [1, 2], text: 'HEADER.FIELDS', fields: ['SUBJECT'] },
    partial: { start: 10, length: 20 },
    response: 'BODY[1.2.HEADER.FIELDS (SUBJECT)]<10>',
  });
  assert.equal(fetchOf('a FETCH 1 BODY.PEEK[]').marksSeen, false);
});

test('RFC 3516 §4.2: BINARY, BINARY.PEEK and BINARY.SIZE', () => {
  const fetch = fetchOf('a FETCH 1 (BINARY[1.2] BINARY.PEEK[]<0.10> BINARY.SIZE[3])');
  assert.deepEqual(fetch.items, [
    { kind: 'binary', peek: false, part: [1, 2], response: 'BINARY[1.2]' },
    { kind: 'binary', peek: true, part: [], partial: { start: 0, length: 10 }, response: 'BINARY[]<0>' },
    { kind: 'binary-size', part: [3], response: 'BINARY.SIZE[3]' },
  ]);
  assert.throws(() => fetchOf('a FETCH 1 BINARY[1.TEXT]'), ProtocolSyntaxError);
  assert.throws(() => fetchOf('a FETCH 1 BINARY.SIZE[1]<0.5>'), /no partial/);
});

test('RFC 7162 §3.1.4.1, §3.2.6: CHANGEDSINCE adds MODSEQ; VANISHED needs UID FETCH and CHANGEDSINCE', () => {
  const fetch = fetchOf('s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)');
  assert.equal(fetch.changedSince, 12345);
  assert.equal(fetch.vanished, true);
  assert.deepEqual(
    fetch.items.map((item) => item.response),
    ['UID', 'FLAGS', 'MODSEQ'],
  );
  assert.throws(() => fetchOf('a FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)'), /UID FETCH/);
  assert.throws(() => fetchOf('a UID FETCH 1:* (FLAGS) (VANISHED)'), /CHANGEDSINCE/);
  assert.throws(() => fetchOf('a FETCH 1 FLAGS (CHANGEDSINCE 0)'), ProtocolSyntaxError);
  assert.throws(() => fetchOf('a FETCH 1 FLAGS (FOO)'), /unknown FETCH modifier/);
});

test('RFC 3501 §6.4.8: UID FETCH answers UID even when not asked, once', () => {
  assert.deepEqual(responses('A999 UID FETCH 4827313:4828442 FLAGS'), ['UID', 'FLAGS']);
  assert.deepEqual(responses('a UID FETCH 1 (FLAGS UID)'), ['FLAGS', 'UID']);
  assert.deepEqual(responses('a FETCH 1 (FLAGS FLAGS)'), ['FLAGS']);
});

test('RFC 3501 §9: invalid FETCH arguments are BAD', () => {
  const bad = [
    'a FETCH 0 FLAGS',
    'a FETCH 1',
    'a FETCH 1 ()',
    'a FETCH 1 FOO',
    'a FETCH 1 BODY[0]',
    'a FETCH 1 BODY[FOO]',
    'a FETCH 1 BODY[MIME]',
    'a FETCH 1 BODY[HEADER.FIELDS]',
    'a FETCH 1 BODY[HEADER.FIELDS ()]',
    'a FETCH 1 BODY[HEADER.FIELDS (a:b)]',
    'a FETCH 1 BODY[1..2]',
    'a FETCH 1 FLAGS extra',
    'a FETCH 1 "FLAGS"',
  ];
  for (const line of bad) assert.throws(() => fetchOf(line), ProtocolSyntaxError, line);
});
