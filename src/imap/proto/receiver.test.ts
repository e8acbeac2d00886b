import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import { type Command, ImapReceiver, LITERAL_MINUS_MAX_BYTES, MAX_LINE_BYTES, type ReceiverEvent, type ReceiverOptions, type Value } from './index.ts';

const bytes = (text: string) => Buffer.from(text, 'latin1');

function receive(input: string | Buffer, options?: ReceiverOptions): ReceiverEvent[] {
  const receiver = new ImapReceiver(options);
  receiver.push(typeof input === 'string' ? bytes(input) : input);
  return receiver.drain();
}

function commands(events: ReceiverEvent[]): Command[] {
  return events.flatMap((event) => (event.type === 'command' ? [event.command] : []));
}

function only(input: string, options?: ReceiverOptions): Command {
  const events = receive(input, options);
  assert.equal(events.length, 1, JSON.stringify(events));
  assert.equal(events[0]!.type, 'command');
  return (events[0] as { command: Command }).command;
}

const atom = (value: string): Value => ({ type: 'atom', value });
const quoted = (value: string): Value => ({ type: 'string', value: bytes(value), literal: false });
const lit = (value: string): Value => ({ type: 'string', value: bytes(value), literal: true });
const list = (...items: Value[]): Value => ({ type: 'list', items });

/** A seeded PRNG (mulberry32): the fuzz cases are the same on every run. */
function randomFrom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function feedInChunks(input: Buffer, sizes: () => number, options?: ReceiverOptions): ReceiverEvent[] {
  const receiver = new ImapReceiver(options);
  const events: ReceiverEvent[] = [];
  for (let offset = 0; offset < input.length; ) {
    const size = Math.max(1, sizes());
    receiver.push(input.subarray(offset, offset + size));
    offset += size;
    events.push(...receiver.drain());
  }
  return events;
}

test('RFC 3501 §8: the commands of the sample connection', () => {
  const transcript = [
    'a001 login mrc secret',
    'a002 select inbox',
    'a003 fetch 12 full',
    'a004 fetch 12 body[header]',
    'a005 store 12 +flags \\deleted',
    'a006 logout',
  ];
  const received = commands(receive(transcript.map((line) => `${line}\r\n`).join('')));
  assert.deepEqual(received, [
    { tag: 'a001', name: 'LOGIN', uid: false, args: [atom('mrc'), atom('secret')] },
    { tag: 'a002', name: 'SELECT', uid: false, args: [atom('inbox')] },
    { tag: 'a003', name: 'FETCH', uid: false, args: [atom('12'), atom('full')] },
    { tag: 'a004', name: 'FETCH', uid: false, args: [atom('12'), { type: 'atom', value: 'body', section: [atom('header')] }] },
    { tag: 'a005', name: 'STORE', uid: false, args: [atom('12'), atom('+flags'), atom('\\deleted')] },
    { tag: 'a006', name: 'LOGOUT', uid: false, args: [] },
  ]);
});

test('RFC 3501 §6.4.5: FETCH sections and partials are kept in the atom', () => {
  const command = only('A654 FETCH 2:4 (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100> BINARY[1.2] BODY[]<5> BINARY.SIZE[1])\r\n');
  assert.deepEqual(command.args[1], {
    type: 'list',
    items: [
      atom('FLAGS'),
      { type: 'atom', value: 'BODY.PEEK', section: [atom('HEADER.FIELDS'), list(atom('From'), atom('To'))], partial: { start: 0, length: 100 } },
      { type: 'atom', value: 'BINARY', section: [atom('1.2')] },
      { type: 'atom', value: 'BODY', section: [], partial: { start: 5 } },
      { type: 'atom', value: 'BINARY.SIZE', section: [atom('1')] },
    ],
  });
});

test('RFC 3501 §9: brackets outside fetch attributes are atom characters (mailbox names)', () => {
  assert.deepEqual(only('a SELECT foo[bar]\r\n').args, [atom('foo[bar]')]);
});

test('RFC 3501 §6.4.8: UID commands carry uid: true and their own name', () => {
  const command = only('A999 UID FETCH 4827313:4828442 FLAGS\r\n');
  assert.equal(command.name, 'FETCH');
  assert.equal(command.uid, true);
  assert.deepEqual(command.args, [atom('4827313:4828442'), atom('FLAGS')]);
});

test('RFC 3501 §4.3, §4.5: quoted strings with escapes, NIL, nested lists', () => {
  const command = only('t1 X "a \\"b\\" \\\\c" nil ((a) ()) ""\r\n');
  assert.deepEqual(command.args, [quoted('a "b" \\c'), { type: 'nil' }, list(list(atom('a')), list()), quoted('')]);
});

test('RFC 3501 §7.5: a synchronizing literal asks for a continuation, then waits for its bytes', () => {
  const receiver = new ImapReceiver();
  receiver.push(bytes('A001 LOGIN {11}\r\n'));
  assert.deepEqual(receiver.next(), { type: 'continue', tag: 'A001', size: 11 });
  assert.equal(receiver.next(), null);
  receiver.push(bytes('FRED FOOBAR {7}\r\n'));
  assert.deepEqual(receiver.next(), { type: 'continue', tag: 'A001', size: 7 });
  receiver.push(bytes('fat man\r\n'));
  assert.deepEqual(receiver.next(), { type: 'command', command: { tag: 'A001', name: 'LOGIN', uid: false, args: [lit('FRED FOOBAR'), lit('fat man')] } });
  assert.equal(receiver.next(), null);
});

test('RFC 3501 §6.4.4: SEARCH CHARSET UTF-8 TEXT {6} carries 8-bit bytes in the literal', () => {
  const events = receive(Buffer.concat([bytes('A284 SEARCH CHARSET UTF-8 TEXT {6}\r\n'), Buffer.from('café!', 'utf8'), bytes('\r\n')]));
  assert.equal(events[0]!.type, 'continue');
  assert.deepEqual(commands(events)[0]!.args[3], { type: 'string', value: Buffer.from('café!', 'utf8'), literal: true });
});

test('RFC 7888 §3: LITERAL+ {n+} needs no continuation; literals may hold CRLF and parentheses', () => {
  const events = receive('a APPEND INBOX (\\Seen) {9+}\r\n(x)\r\n")\r\n\r\nb NOOP\r\n');
  assert.deepEqual(
    events.map((event) => event.type),
    ['command', 'command'],
  );
  assert.deepEqual(commands(events)[0]!.args, [atom('INBOX'), list(atom('\\Seen')), lit('(x)\r\n")\r\n')]);
});

test('RFC 3516 §4.2: literal8 ~{n} is binary and may contain NUL', () => {
  const command = commands(receive(Buffer.concat([bytes('a APPEND INBOX ~{3+}\r\n'), Buffer.from([0, 1, 2]), bytes('\r\n')])))[0]!;
  assert.deepEqual(command.args[1], { type: 'string', value: Buffer.from([0, 1, 2]), literal: true, binary: true });
});

test('RFC 7888 §5: with LITERAL-, {n+} over 4096 bytes is refused with BAD [TOOBIG] and its bytes discarded', () => {
  const big = 'x'.repeat(LITERAL_MINUS_MAX_BYTES + 1);
  const events = receive(`a APPEND INBOX {${big.length}+}\r\n${big}\r\nb NOOP\r\n`, { literalMode: 'literal-', maxLiteralBytes: 1e6 });
  assert.deepEqual(events[0], {
    type: 'error',
    tag: 'a',
    kind: 'non-sync-literal-refused',
    status: 'BAD',
    code: 'TOOBIG',
    message: events[0]!.type === 'error' ? events[0]!.message : '',
    literal: { size: big.length, sync: false },
  });
  assert.deepEqual(commands(events), [{ tag: 'b', name: 'NOOP', uid: false, args: [] }]);
  assert.equal(events.length, 2);
  const small = receive(`a APPEND INBOX {4096+}\r\n${'y'.repeat(4096)}\r\n`, { literalMode: 'literal-', maxLiteralBytes: 1e6 });
  assert.equal(small[0]!.type, 'command');
});

test('RFC 3501 §7.5: without LITERAL+, {n+} is refused and exactly n bytes are skipped', () => {
  const events = receive('a LOGIN {10+}\r\nb NOOP\r\nxx\r\nc NOOP\r\n', { literalMode: 'none' });
  assert.equal(events[0]!.type, 'error');
  assert.deepEqual(
    commands(events).map((command) => command.tag),
    ['c'],
  );
});

test('RFC 7888 §4: a synchronizing literal over the limit is refused before any continuation', () => {
  const events = receive('a APPEND INBOX {100}\r\nb NOOP\r\n', { maxLiteralBytes: 99 });
  assert.equal(events[0]!.type, 'error');
  const error = events[0] as Extract<ReceiverEvent, { type: 'error' }>;
  assert.equal(error.tag, 'a');
  assert.equal(error.kind, 'literal-too-big');
  assert.equal(error.status, 'NO');
  assert.equal(error.code, 'TOOBIG');
  assert.ok(!events.some((event) => event.type === 'continue'));
  assert.deepEqual(
    commands(events).map((command) => command.tag),
    ['b'],
  );
});

test('RFC 7888 §4: a non-synchronizing literal over the limit is refused with BAD and skipped, even if it looks like commands', () => {
  const payload = 'x1 NOOP\r\nx2 NOOP\r\n';
  const events = receive(`a APPEND INBOX {${payload.length}+}\r\n${payload} more ( args\r\nb NOOP\r\n`, { maxLiteralBytes: 5 });
  assert.equal(events[0]!.type === 'error' && events[0]!.kind, 'literal-too-big');
  assert.equal(events[0]!.type === 'error' && events[0]!.status, 'BAD');
  assert.deepEqual(
    commands(events).map((command) => command.tag),
    ['b'],
  );
});

test('RFC 7888 §4: the literal limit may depend on the command (APPEND gets more)', () => {
  const maxLiteralBytes = (name: string) => (name === 'APPEND' ? 100 : 10);
  assert.equal(receive(`a APPEND INBOX {50+}\r\n${'m'.repeat(50)}\r\n`, { maxLiteralBytes })[0]!.type, 'command');
  assert.equal(receive(`a LOGIN {50+}\r\n${'m'.repeat(50)} x\r\n`, { maxLiteralBytes })[0]!.type, 'error');
});

test('limits: the literals of one command may not exceed maxCommandBytes', () => {
  const events = receive(`a X {40+}\r\n${'a'.repeat(40)} {40+}\r\n${'b'.repeat(40)}\r\nb NOOP\r\n`, { maxCommandBytes: 60 });
  assert.equal(events[0]!.type === 'error' && events[0]!.kind, 'command-too-big');
  assert.deepEqual(
    commands(events).map((command) => command.tag),
    ['b'],
  );
});

test('limits: an overlong line is refused with a tagged BAD and the rest of it is discarded', () => {
  const long = `a SEARCH ${'1,'.repeat(MAX_LINE_BYTES)}1\r\nb NOOP\r\n`;
  for (const events of [receive(long), feedInChunks(bytes(long), () => 1000)]) {
    assert.equal(events.length, 2);
    assert.deepEqual({ ...events[0], message: '' }, { type: 'error', tag: 'a', kind: 'line-too-long', status: 'BAD', message: '' });
    assert.equal(commands(events)[0]!.tag, 'b');
  }
});

test('limits: an overlong line that announces a non-synchronizing literal has the literal skipped too', () => {
  const events = receive(`a X ${'y'.repeat(MAX_LINE_BYTES)} {10+}\r\nc NOOP\r\nzz\r\nb NOOP\r\n`);
  assert.equal(events[0]!.type, 'error');
  assert.deepEqual(
    commands(events).map((command) => command.tag),
    ['b'],
  );
});

test('limits: a stream without line ends stays bounded in memory', () => {
  const receiver = new ImapReceiver();
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const events: ReceiverEvent[] = [];
  for (let index = 0; index < 32; index++) {
    receiver.push(chunk);
    events.push(...receiver.drain());
    assert.ok(receiver.bufferedBytes <= MAX_LINE_BYTES);
  }
  assert.equal(events.length, 1);
  receiver.push(bytes('\r\nb NOOP\r\n'));
  assert.equal(commands(receiver.drain())[0]!.tag, 'b');
});

const ERROR_CASES: Array<[string, string, string | null, RegExp]> = [
  ['RFC 3501 §9: unbalanced "("', 'a1 FETCH 1 (FLAGS\r\n', 'a1', /missing "\)"/],
  ['RFC 3501 §9: unbalanced ")"', 'a2 FETCH 1 FLAGS)\r\n', 'a2', /unexpected "\)"/],
  ['RFC 3501 §9: bad quoting', 'a3 LOGIN "a\\b" c\r\n', 'a3', /bad quoting/],
  ['RFC 3501 §9: unterminated quoted string', 'a4 LOGIN "abc\r\n', 'a4', /unterminated/],
  ['RFC 3501 §9: 8-bit byte in an atom', 'a5 SELECT caf\xe9\r\n', 'a5', /8-bit/],
  ['RFC 3501 §9: NUL in a command', 'a6 SELECT a\x00b\r\n', 'a6', /NUL/],
  ['RFC 3501 §9: missing tag', ' NOOP\r\n', null, /missing tag/],
  ['RFC 3501 §9: empty line', '\r\n', null, /empty/],
  ['RFC 3501 §9: missing command name', 'a7\r\n', 'a7', /missing command name/],
  ['RFC 3501 §9: "+" is not a tag character', 'a+8 NOOP\r\n', null, /tag/],
  ['RFC 3501 §6.4.8: UID alone', 'a9 UID\r\n', 'a9', /UID/],
  ['RFC 3501 §9: a literal announcement ends the line', 'b1 LOGIN {5}x\r\n', 'b1', /end the line/],
  ['RFC 3501 §9: tokens are separated by spaces', 'b2 LOGIN "a""b"\r\n', 'b2', /space/],
  ['RFC 3501 §9: bad partial', 'b3 FETCH 1 BODY[]<1.0>\r\n', 'b3', /partial/],
  ['RFC 3501 §9: unclosed section', 'b4 FETCH 1 BODY[TEXT\r\n', 'b4', /missing "\]"/],
  ['RFC 3501 §9: bare CR inside a line', 'b5 NOOP a\rb\r\n', 'b5', /control character/],
  ['limits: lists nested too deep', `b6 X ${'('.repeat(40)}${')'.repeat(40)}\r\n`, 'b6', /nested/],
];

for (const [name, input, tag, message] of ERROR_CASES) {
  test(`${name}: error with the tag, then resync at the next line`, () => {
    const events = receive(`${input}z1 NOOP\r\n`);
    assert.equal(events.length, 2, JSON.stringify(events));
    const error = events[0]!;
    assert.equal(error.type, 'error');
    if (error.type !== 'error') return;
    assert.equal(error.tag, tag);
    assert.equal(error.status, 'BAD');
    assert.match(error.message, message);
    assert.deepEqual(events[1], { type: 'command', command: { tag: 'z1', name: 'NOOP', uid: false, args: [] } });
  });
}

test('RFC 7888 §4: a syntax error before a non-synchronizing literal skips the literal and the rest of the command', () => {
  const events = receive('a LOGIN ) {9+}\r\nb2 NOOP\r\n rest {3+}\r\nabc\r\nb NOOP\r\n');
  assert.equal(events.length, 2);
  assert.equal(events[0]!.type === 'error' && events[0]!.tag, 'a');
  assert.equal(commands(events)[0]!.tag, 'b');
});

test('RFC 3501 §7.5: a syntax error after a synchronizing literal ends the command at that line', () => {
  const events = receive('a LOGIN {3}\r\nabc )\r\nb NOOP\r\n');
  assert.deepEqual(
    events.map((event) => event.type),
    ['continue', 'error', 'command'],
  );
});

test('RFC 3501 §2.2: a bare LF ends a line too (lenient input)', () => {
  assert.deepEqual(commands(receive('a NOOP\nb LOGIN {1}\nx y\n')), [
    { tag: 'a', name: 'NOOP', uid: false, args: [] },
    { tag: 'b', name: 'LOGIN', uid: false, args: [lit('x'), atom('y')] },
  ]);
});

test("RFC 2177 §3: line mode returns IDLE's DONE raw, even when pipelined in the same chunk", () => {
  const receiver = new ImapReceiver();
  receiver.push(bytes('a IDLE\r\nDONE\r\nb NOOP\r\n'));
  assert.equal(receiver.next()?.type, 'command');
  receiver.expectLine();
  assert.deepEqual(receiver.next(), { type: 'line', line: bytes('DONE') });
  assert.deepEqual(receiver.next(), { type: 'command', command: { tag: 'b', name: 'NOOP', uid: false, args: [] } });
});

test('RFC 3501 §6.2.2: line mode returns AUTHENTICATE responses raw, including "*" and base64', () => {
  const receiver = new ImapReceiver();
  receiver.push(bytes('a AUTHENTICATE PLAIN\r\n'));
  assert.equal(receiver.next()?.type, 'command');
  receiver.expectLine();
  assert.equal(receiver.next(), null);
  receiver.push(bytes('AGFsaWNlAHNlY3JldA==\r'));
  assert.equal(receiver.next(), null);
  receiver.push(bytes('\n'));
  assert.deepEqual(receiver.next(), { type: 'line', line: bytes('AGFsaWNlAHNlY3JldA==') });
  receiver.expectLine();
  receiver.push(bytes('*\r\n'));
  assert.deepEqual(receiver.next(), { type: 'line', line: bytes('*') });
});

test('line mode may only be entered between commands', () => {
  const receiver = new ImapReceiver();
  receiver.push(bytes('a LOGIN {3}\r\n'));
  assert.equal(receiver.next()?.type, 'continue');
  assert.throws(() => receiver.expectLine());
});

const TRANSCRIPT = Buffer.concat([
  bytes('a001 LOGIN {5}\r\nalice {6+}\r\nsecret\r\n'),
  bytes('a002 SELECT INBOX (CONDSTORE)\r\n'),
  bytes('a003 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100> BINARY[1.2]) (CHANGEDSINCE 12345)\r\n'),
  bytes('garbage ( \r\n'),
  bytes('a004 APPEND Drafts (\\Draft) "17-Jul-1996 02:44:25 -0700" ~{4+}\r\n'),
  Buffer.from([0, 0xff, 0x0d, 0x0a]),
  bytes('\r\n\r\na005 SEARCH CHARSET UTF-8 OR (FROM "x") NOT SEEN\n'),
  bytes(`a006 APPEND INBOX {40+}\r\n${'refused '.repeat(4)}123456\r\n\r\n`),
  bytes('a007 LOGOUT\r\n'),
]);

test('resumption: a transcript gives the same events whole, one byte at a time, and in random chunks', () => {
  const options: ReceiverOptions = { maxLiteralBytes: 30 };
  const whole = receive(TRANSCRIPT, options);
  assert.deepEqual(
    whole.map((event) => (event.type === 'command' ? event.command.tag : event.type)),
    ['continue', 'a001', 'a002', 'a003', 'error', 'a004', 'error', 'a005', 'error', 'a007'],
  );
  assert.deepEqual(
    feedInChunks(TRANSCRIPT, () => 1, options),
    whole,
  );
  const random = randomFrom(3501);
  for (let round = 0; round < 50; round++) {
    assert.deepEqual(
      feedInChunks(TRANSCRIPT, () => Math.floor(random() * 40), options),
      whole,
    );
  }
});

test('resumption: every split point of the transcript in two pushes gives the same events', () => {
  const whole = receive(TRANSCRIPT, { maxLiteralBytes: 30 });
  for (let split = 1; split < TRANSCRIPT.length; split++) {
    const receiver = new ImapReceiver({ maxLiteralBytes: 30 });
    receiver.push(TRANSCRIPT.subarray(0, split));
    const events = receiver.drain();
    receiver.push(TRANSCRIPT.subarray(split));
    events.push(...receiver.drain());
    assert.deepEqual(events, whole, `split at ${split}`);
  }
});

const VALID_COMMANDS = TRANSCRIPT.toString('latin1')
  .split(/(?<=\n)(?=a0)/)
  .map((text) => bytes(text));

function mutate(input: Buffer, random: () => number): Buffer {
  const out = [...input];
  const edits = 1 + Math.floor(random() * 4);
  for (let edit = 0; edit < edits; edit++) {
    const at = Math.floor(random() * (out.length + 1));
    const choice = random();
    const special = [0x28, 0x29, 0x22, 0x5c, 0x7b, 0x7d, 0x2b, 0x7e, 0x0d, 0x0a, 0x20, 0x00, 0x80, 0x5b, 0x5d, 0x3c];
    const byte = random() < 0.5 ? special[Math.floor(random() * special.length)]! : Math.floor(random() * 256);
    if (choice < 0.4) out.splice(at, 0, byte);
    else if (choice < 0.7) out.splice(at, 1);
    else out[Math.min(at, out.length - 1)] = byte;
  }
  // Keep announced literal sizes under 100 bytes so the resync padding below always covers them.
  return bytes(
    Buffer.from(out)
      .toString('latin1')
      .replace(/\{(\d{3,})/g, '{9'),
  );
}

test('fuzz: random bytes and mutated commands never throw, stay bounded, and a CRLF resyncs', () => {
  const random = randomFrom(7888);
  const started = Date.now();
  for (let round = 0; round < 400; round++) {
    let garbage: Buffer;
    if (round % 2 === 0) {
      garbage = mutate(VALID_COMMANDS[Math.floor(random() * VALID_COMMANDS.length)]!, random);
    } else {
      const length = Math.floor(random() * 200);
      garbage = mutate(Buffer.from(Array.from({ length }, () => Math.floor(random() * 256))), random);
    }
    const receiver = new ImapReceiver({ maxLiteralBytes: 64 });
    const events: ReceiverEvent[] = [];
    const input = Buffer.concat([garbage, bytes('\r\n'.repeat(120)), bytes('z9 NOOP\r\n')]);
    for (let offset = 0; offset < input.length; ) {
      const size = 1 + Math.floor(random() * 64);
      receiver.push(input.subarray(offset, offset + size));
      offset += size;
      events.push(...receiver.drain());
      assert.ok(receiver.bufferedBytes <= MAX_LINE_BYTES);
    }
    assert.equal(receiver.bufferedBytes, 0);
    assert.deepEqual(events[events.length - 1], { type: 'command', command: { tag: 'z9', name: 'NOOP', uid: false, args: [] } }, garbage.toString('latin1'));
  }
  assert.ok(Date.now() - started < 5000);
});

test('RFC 3501 §7.5 decideLiterals: a literal waits for the server, which sees the command so far; nothing is read until then', () => {
  const receiver = new ImapReceiver({ decideLiterals: true });
  receiver.push(bytes('a APPEND INBOX (\\Seen) {5}\r\nhello\r\n'));
  const event = receiver.next();
  assert.ok(event?.type === 'literal');
  const { announcement } = event;
  assert.deepEqual(
    { ...announcement, args: announcement.args.length },
    { tag: 'a', commandName: 'APPEND', uid: false, size: 5, sync: true, binary: false, args: 2, openList: null, depth: 0 },
  );
  assert.throws(() => receiver.next(), /waits for acceptLiteral/);
  assert.equal(receiver.acceptLiteral('keep'), null);
  assert.deepEqual(commands(receiver.drain())[0]?.args[2], lit('hello'));
});

test('decideLiterals: a streamed literal comes as literal-data events in order, at any chunk boundary, and leaves a streamed value', () => {
  const input = bytes('a APPEND INBOX CATENATE (TEXT {10+}\r\n0123456789 TEXT {0}\r\n)\r\nb NOOP\r\n');
  for (const size of [1, 2, 3, 7, 64]) {
    const receiver = new ImapReceiver({ decideLiterals: true });
    const data: string[] = [];
    const ends: number[] = [];
    const done: Command[] = [];
    for (let offset = 0; offset < input.length; offset += size) {
      receiver.push(input.subarray(offset, offset + size));
      for (let event = receiver.next(); event; event = receiver.next()) {
        if (event.type === 'literal') {
          assert.equal(event.announcement.depth, 1);
          assert.deepEqual(event.announcement.openList?.at(-1), atom('TEXT'));
          receiver.acceptLiteral('stream');
        } else if (event.type === 'literal-data') {
          data.push(event.data.toString('latin1'));
          if (event.end) ends.push(data.join('').length);
        } else if (event.type === 'command') done.push(event.command);
      }
    }
    assert.equal(data.join(''), '0123456789', `chunks of ${size}`);
    assert.deepEqual(ends, [10, 10], 'an end for each literal, {0} included');
    assert.deepEqual(done[0]?.args, [
      atom('INBOX'),
      atom('CATENATE'),
      list(atom('TEXT'), { type: 'streamed', size: 10, binary: false, index: 0 }, atom('TEXT'), { type: 'streamed', size: 0, binary: false, index: 1 }),
    ]);
    assert.equal(done[1]?.name, 'NOOP');
  }
});

test('RFC 7888 §4 decideLiterals: a refused {n+} is skipped without being kept, a refused {n} ends the command', () => {
  const receiver = new ImapReceiver({ decideLiterals: true });
  receiver.push(bytes(`a LOGIN {20+}\r\n${'x'.repeat(20)} secret\r\nb APPEND INBOX {9}\r\nc NOOP\r\n`));
  assert.equal(receiver.next()?.type, 'literal');
  receiver.refuseLiteral();
  const next = receiver.next();
  assert.ok(next?.type === 'literal' && next.announcement.tag === 'b');
  receiver.refuseLiteral();
  assert.deepEqual(commands(receiver.drain()), [{ tag: 'c', name: 'NOOP', uid: false, args: [] }]);
});

test('decideLiterals: a kept literal still counts against maxCommandBytes; refused, its error says so', () => {
  const receiver = new ImapReceiver({ decideLiterals: true, maxCommandBytes: () => 30 });
  receiver.push(bytes(`a LOGIN {40+}\r\n${'x'.repeat(40)} y\r\nb NOOP\r\n`));
  assert.equal(receiver.next()?.type, 'literal');
  const error = receiver.acceptLiteral('keep');
  assert.equal(error?.kind, 'command-too-big');
  assert.deepEqual(error?.literal, { size: 40, sync: false });
  assert.deepEqual(commands(receiver.drain()), [{ tag: 'b', name: 'NOOP', uid: false, args: [] }]);
});

test('limits: maxLiteralBytes and maxCommandBytes may change between commands (the session logs in)', () => {
  let limit = 8;
  const receiver = new ImapReceiver({ maxLiteralBytes: () => limit });
  receiver.push(bytes('a LOGIN {9}\r\n'));
  assert.equal(receiver.next()?.type, 'error');
  limit = 100;
  receiver.push(bytes('b LOGIN {9}\r\n'));
  assert.equal(receiver.next()?.type, 'continue');
});
