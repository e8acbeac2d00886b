import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import {
  type Command,
  contains,
  decodeMailboxName,
  decodeModifiedUtf7,
  encodeModifiedUtf7,
  expandSequenceSet,
  formatDateTime,
  formatSequenceSet,
  ImapReceiver,
  InvalidMailboxNameError,
  isWithin,
  matchesPattern,
  ProtocolSyntaxError,
  parseAppendArgs,
  parseDateTime,
  parseListArgs,
  parseSelectArgs,
  parseSequenceSet,
  parseStatusArgs,
  parseStoreArgs,
  type Value,
} from './index.ts';

function argsOf(line: string | Buffer): Value[] {
  const receiver = new ImapReceiver({ maxLiteralBytes: 1e6 });
  receiver.push(typeof line === 'string' ? Buffer.from(`${line}\r\n`, 'latin1') : line);
  const command = receiver.drain().find((event) => event.type === 'command') as { command: Command } | undefined;
  assert.ok(command, String(line));
  return command.command.args;
}

test('RFC 3501 §9: sequence sets with *, ranges in either order', () => {
  assert.deepEqual(parseSequenceSet('1,3:5,7:*'), [
    { start: 1, end: 1 },
    { start: 3, end: 5 },
    { start: 7, end: '*' },
  ]);
  const set = parseSequenceSet('4:2,*,10:8');
  assert.equal(contains(set, 3, 20), true);
  assert.equal(contains(set, 20, 20), true);
  assert.equal(contains(set, 9, 20), true);
  assert.equal(contains(set, 5, 20), false);
  assert.deepEqual(expandSequenceSet(set, 20), [
    [2, 4],
    [8, 10],
    [20, 20],
  ]);
  // `*` is the largest number in use: 5:* with 3 messages is 3:5, of which 3 exists.
  assert.deepEqual(expandSequenceSet(parseSequenceSet('5:*'), 3), [[3, 3]]);
  assert.deepEqual(expandSequenceSet(parseSequenceSet('1:*'), 0), []);
  assert.deepEqual(expandSequenceSet(parseSequenceSet('1:3,2:6,7'), 100), [[1, 7]]);
  assert.equal(isWithin(parseSequenceSet('1:4,*'), 4), true);
  assert.equal(isWithin(parseSequenceSet('1:5'), 4), false);
  assert.equal(
    formatSequenceSet([
      [1, 3],
      [5, 5],
    ]),
    '1:3,5',
  );
});

test('RFC 3501 §9: invalid sequence sets are BAD', () => {
  for (const text of ['', '0', '1:0', '1,,2', '1:', ':2', 'a', '1:2:3', '$', '4294967296', '-1', '1.5']) {
    assert.throws(() => parseSequenceSet(text), ProtocolSyntaxError, text);
  }
  assert.throws(() => parseSequenceSet('1:*', { allowStar: false }), /\*/);
});

test('RFC 3501 §6.4.6: STORE +FLAGS, -FLAGS.SILENT, FLAGS with a list or single flags', () => {
  assert.deepEqual(parseStoreArgs(argsOf('A003 STORE 2:4 +FLAGS (\\Deleted)')), {
    sequence: [{ start: 2, end: 4 }],
    action: 'add',
    silent: false,
    flags: ['\\Deleted'],
  });
  assert.deepEqual(parseStoreArgs(argsOf('a005 store 12 +flags \\deleted')).flags, ['\\Deleted']);
  const silent = parseStoreArgs(argsOf('a STORE 1 -FLAGS.SILENT \\Seen $Label'));
  assert.equal(silent.action, 'remove');
  assert.equal(silent.silent, true);
  assert.deepEqual(silent.flags, ['\\Seen', '$Label']);
  assert.deepEqual(parseStoreArgs(argsOf('a STORE 1 FLAGS ()')).flags, []);
  assert.equal(parseStoreArgs(argsOf('a STORE 1 FLAGS ()')).action, 'set');
});

test('RFC 7162 §3.1.3: STORE (UNCHANGEDSINCE n)', () => {
  const store = parseStoreArgs(argsOf('d105 STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)'));
  assert.equal(store.unchangedSince, 320162338);
  assert.equal(parseStoreArgs(argsOf('a STORE 1 (UNCHANGEDSINCE 0) FLAGS ()')).unchangedSince, 0);
});

test('RFC 3501 §6.4.6: invalid STORE arguments are BAD', () => {
  const bad = [
    'a STORE 1 FLAGS',
    'a STORE 1 +FLAG (\\Seen)',
    'a STORE 1 FLAGS (\\Recent)',
    'a STORE 1 FLAGS (\\Foo)',
    'a STORE 1 FLAGS ("x")',
    'a STORE 1 (FOO 1) FLAGS ()',
    'a STORE 1 FLAGS () extra',
    'a STORE 1 FLAGS (a%b)',
  ];
  for (const line of bad) assert.throws(() => parseStoreArgs(argsOf(line)), ProtocolSyntaxError, line);
});

test('RFC 3501 §6.3.10: STATUS items, RFC 7162 HIGHESTMODSEQ, RFC 8438 SIZE', () => {
  assert.deepEqual(parseStatusArgs(argsOf('A042 STATUS blurdybloop (UIDNEXT MESSAGES)')), { mailbox: 'blurdybloop', items: ['UIDNEXT', 'MESSAGES'] });
  assert.deepEqual(parseStatusArgs(argsOf('a STATUS inbox (messages recent uidnext uidvalidity unseen highestmodseq size)')).items, [
    'MESSAGES',
    'RECENT',
    'UIDNEXT',
    'UIDVALIDITY',
    'UNSEEN',
    'HIGHESTMODSEQ',
    'SIZE',
  ]);
  assert.equal(parseStatusArgs(argsOf('a STATUS inbox (MESSAGES)')).mailbox, 'INBOX');
  for (const line of ['a STATUS INBOX ()', 'a STATUS INBOX (FOO)', 'a STATUS INBOX', 'a STATUS INBOX MESSAGES']) {
    assert.throws(() => parseStatusArgs(argsOf(line)), ProtocolSyntaxError, line);
  }
});

test('RFC 3501 §6.3.8 and RFC 5258 §6: LIST and LIST-EXTENDED arguments', () => {
  const plain = parseListArgs(argsOf('A01 LIST "" "*"'));
  assert.equal(plain.extended, false);
  assert.equal(plain.reference, '');
  assert.deepEqual(plain.patterns, ['*']);
  const extended = parseListArgs(argsOf('C04 LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (CHILDREN)'));
  assert.equal(extended.extended, true);
  assert.deepEqual(extended.selection, { subscribed: true, remote: false, recursiveMatch: true, specialUse: false });
  assert.equal(extended.return.children, true);
  assert.deepEqual(parseListArgs(argsOf('BBB LIST "" ("INBOX" "Drafts" "Sent/%")')).patterns, ['INBOX', 'Drafts', 'Sent/%']);
  assert.deepEqual(parseListArgs(argsOf('a3.1 LIST "" (% music/rock)')).patterns, ['%', 'music/rock']);
  assert.equal(parseListArgs(argsOf('A03 LIST () "" "%" RETURN (CHILDREN)')).extended, true);
  assert.equal(parseListArgs(argsOf('a LIST (SPECIAL-USE) "" *')).selection.specialUse, true);
  // RFC 5819 LIST-STATUS, RFC 6154 SPECIAL-USE return option
  const status = parseListArgs(argsOf('A02 LIST "" % RETURN (STATUS (MESSAGES UNSEEN) SPECIAL-USE SUBSCRIBED)'));
  assert.deepEqual(status.return, { subscribed: true, children: false, specialUse: true, status: ['MESSAGES', 'UNSEEN'] });
  assert.equal(parseListArgs(argsOf('a LIST "" &AOk-t&AOk-/%')).patterns[0], 'été/%');
  // RFC 5258 §3.1 and §6: RECURSIVEMATCH needs SUBSCRIBED; REMOTE and SPECIAL-USE (RFC 6154 §6) are independent options.
  assert.equal(parseListArgs(argsOf('a LIST (SUBSCRIBED SPECIAL-USE RECURSIVEMATCH) "" *')).selection.recursiveMatch, true);
  const bad = [
    'a LIST (RECURSIVEMATCH) "" *',
    'a LIST (REMOTE RECURSIVEMATCH) "" *',
    'a LIST (SPECIAL-USE RECURSIVEMATCH) "" *',
    'a LIST (FOO) "" *',
    'a LIST "" * RETURN (FOO)',
    'a LIST "" * EXTRA (X)',
    'a LIST ""',
    'a LIST "" ()',
  ];
  for (const line of bad) assert.throws(() => parseListArgs(argsOf(line)), ProtocolSyntaxError, line);
});

test('RFC 7162 §3.1.8, §3.2.5: SELECT (CONDSTORE) and (QRESYNC (...))', () => {
  assert.deepEqual(parseSelectArgs(argsOf('a002 select inbox')), { mailbox: 'INBOX', condstore: false });
  assert.equal(parseSelectArgs(argsOf('A142 SELECT INBOX (CONDSTORE)')).condstore, true);
  assert.deepEqual(parseSelectArgs(argsOf('A03 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))')).qresync, {
    uidValidity: 67890007,
    modseq: Number.MAX_SAFE_INTEGER, // 20050715194045000 is over 2^53: clamped (see MAX_MODSEQ)
    knownUids: [
      { start: 41, end: 41 },
      { start: 43, end: 211 },
      { start: 214, end: 541 },
    ],
  });
  const withMatch = parseSelectArgs(
    argsOf(
      'B04 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997)))',
    ),
  );
  assert.deepEqual(withMatch.qresync?.sequenceMatch?.sequences[0], { start: 5000, end: 5000 });
  assert.deepEqual(parseSelectArgs(argsOf('a SELECT INBOX (QRESYNC (1 2))')).qresync, { uidValidity: 1, modseq: 2 });
  const bad = [
    'a SELECT',
    'a SELECT INBOX (FOO)',
    'a SELECT INBOX (QRESYNC (0 1))',
    'a SELECT INBOX (QRESYNC (1 2 1:*))',
    'a SELECT INBOX (QRESYNC (1))',
    'a SELECT INBOX x',
  ];
  for (const line of bad) assert.throws(() => parseSelectArgs(argsOf(line)), ProtocolSyntaxError, line);
});

test('RFC 3501 §6.3.11: APPEND with flags, date-time and a literal; RFC 3516 literal8', () => {
  const message = 'Date: Mon, 7 Feb 1994 21:52:25 -0800\r\nSubject: hi\r\n\r\nHello\r\n';
  const append = parseAppendArgs(
    argsOf(`A003 APPEND saved-messages (\\Seen) "17-Jul-1996 02:44:25 -0700" {${message.length}+}\r\n${message}\r\n`.slice(0, -2)),
  );
  assert.equal(append.mailbox, 'saved-messages');
  assert.deepEqual(append.flags, ['\\Seen']);
  assert.equal(append.internalDate, Date.UTC(1996, 6, 17, 9, 44, 25));
  assert.equal(append.message.toString('latin1'), message);
  assert.equal(append.binary, false);
  const plain = parseAppendArgs(argsOf('a APPEND INBOX {3+}\r\nabc'));
  assert.deepEqual(plain.flags, []);
  assert.equal(plain.internalDate, undefined);
  const binary = parseAppendArgs(argsOf(Buffer.concat([Buffer.from('a APPEND INBOX ~{2+}\r\n'), Buffer.from([0, 1]), Buffer.from('\r\n')])));
  assert.equal(binary.binary, true);
  const bad = ['a APPEND INBOX "abc"', 'a APPEND INBOX', 'a APPEND INBOX (\\Seen) "31-Feb-2024 00:00:00 +0000" {1+}\r\nx', 'a APPEND INBOX {1+}\r\nx extra'];
  for (const line of bad) assert.throws(() => parseAppendArgs(argsOf(line)), ProtocolSyntaxError, line);
  assert.throws(() => parseAppendArgs(argsOf(Buffer.concat([Buffer.from('a APPEND INBOX {1+}\r\n'), Buffer.from([0]), Buffer.from('\r\n')]))), /NUL/);
});

test('RFC 3501 §9: date-time parsing and formatting', () => {
  assert.equal(parseDateTime('17-Jul-1996 02:44:25 -0700'), Date.UTC(1996, 6, 17, 9, 44, 25));
  assert.equal(parseDateTime(' 1-Jan-2000 00:00:00 +0100'), Date.UTC(1999, 11, 31, 23, 0, 0));
  assert.equal(formatDateTime(Date.UTC(1996, 6, 17, 9, 44, 25), -420), '17-Jul-1996 02:44:25 -0700');
  assert.equal(formatDateTime(Date.UTC(2000, 0, 1, 0, 0, 0)), '01-Jan-2000 00:00:00 +0000');
  for (const text of ['17-Jul-1996 02:44:25', '17-Foo-1996 02:44:25 -0700', '17-Jul-1996 24:00:00 +0000', '17-Jul-1996 02:44:25 +0075', '']) {
    assert.throws(() => parseDateTime(text), ProtocolSyntaxError, text);
  }
});

test('RFC 3501 §5.1.3: modified UTF-7 round trips and the RFC example', () => {
  assert.equal(decodeModifiedUtf7('~peter/mail/&U,BTFw-/&ZeVnLIqe-'), '~peter/mail/台北/日本語');
  assert.equal(encodeModifiedUtf7('~peter/mail/台北/日本語'), '~peter/mail/&U,BTFw-/&ZeVnLIqe-');
  for (const name of ['Entwürfe', 'A & B', 'été', '😀 emoji', 'plain', '&', 'Ж/ж']) {
    assert.equal(decodeModifiedUtf7(encodeModifiedUtf7(name)), name, name);
  }
  assert.equal(encodeModifiedUtf7('A & B'), 'A &- B');
});

test('RFC 3501 §5.1.3: invalid modified UTF-7 names no folder: NO [NONEXISTENT], not BAD', () => {
  for (const text of ['&U,BTFw', '&AGE-', '&2D3-', 'caf\xe9', '&U,BTF-', '&*-', '&']) {
    assert.throws(
      () => decodeModifiedUtf7(text),
      (error: unknown) => error instanceof InvalidMailboxNameError && error.status === 'NO',
      text,
    );
  }
});

test('RFC 3501 §6.3.8: a LIST pattern or reference that is not modified UTF-7 matches nothing', () => {
  assert.deepEqual(parseListArgs(argsOf('a LIST "" &Jjo')).patterns, []);
  assert.deepEqual(parseListArgs(argsOf('a LIST "" (&AGE- INBOX)')).patterns, ['INBOX']);
  assert.deepEqual(parseListArgs(argsOf('a LIST &Jjo *')).patterns, []);
});

test('RFC 3501 §5.1, RFC 6855 §3: mailbox names: INBOX case-insensitive, UTF-8 when enabled, no empty levels', () => {
  assert.equal(decodeMailboxName(Buffer.from('inbox')), 'INBOX');
  assert.equal(decodeMailboxName(Buffer.from('Inbox/Sub')), 'INBOX/Sub');
  assert.equal(decodeMailboxName(Buffer.from('Inboxes')), 'Inboxes');
  assert.equal(decodeMailboxName(Buffer.from('&AOk-t&AOk-')), 'été');
  assert.equal(decodeMailboxName(Buffer.from('été', 'utf8'), { utf8Accept: true }), 'été');
  assert.equal(decodeMailboxName(Buffer.from('a/b/')), 'a/b/');
  for (const name of ['', 'a//b', '/a', 'a\tb']) assert.throws(() => decodeMailboxName(Buffer.from(name)), InvalidMailboxNameError, name);
  assert.throws(() => decodeMailboxName(Buffer.from('été', 'utf8')), ProtocolSyntaxError);
  assert.throws(() => decodeMailboxName(Buffer.from([0xff]), { utf8Accept: true }), /UTF-8/);
});

test('RFC 3501 §6.3.8: LIST wildcards * and %, reference prepended, INBOX any case', () => {
  const cases: Array<[string, string, string, boolean]> = [
    ['INBOX', '', '*', true],
    ['a/b/c', '', '*', true],
    ['a/b/c', '', '%', false],
    ['a', '', '%', true],
    ['a/b', '', 'a/%', true],
    ['a/b/c', '', 'a/%', false],
    ['a/b/c', '', 'a/*', true],
    ['a/b/c', 'a/', '%/c', true],
    ['a/b/c', 'a/', '*', true],
    ['b/c', 'a/', '*', false],
    ['INBOX', '', 'inbox', true],
    ['INBOX/Sub', '', 'Inbox/%', true],
    ['Sent', '', 'S%t', true],
    ['Sent', '', 'S*x', false],
    ['été/x', '', 'été/%', true],
    ['abc', '', '**%%*', true],
    ['short', '', 'a'.repeat(10_000), false],
  ];
  for (const [name, reference, pattern, expected] of cases) {
    assert.equal(matchesPattern(name, reference, pattern, '/'), expected, `${name} ${reference} ${pattern.slice(0, 20)}`);
  }
});
