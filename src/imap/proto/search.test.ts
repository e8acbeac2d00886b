import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import { BadCharsetError, type Command, ImapReceiver, ProtocolSyntaxError, parseSearchArgs, type SearchKey } from './index.ts';

function searchOf(line: string | Buffer) {
  const receiver = new ImapReceiver();
  receiver.push(typeof line === 'string' ? Buffer.from(`${line}\r\n`, 'latin1') : line);
  const events = receiver.drain();
  const command = events.find((event) => event.type === 'command') as { command: Command } | undefined;
  assert.ok(command, JSON.stringify(events));
  return parseSearchArgs(command.command.args);
}
const keyOf = (line: string): SearchKey => searchOf(line).key;

test('RFC 3501 §6.4.4: SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"', () => {
  assert.deepEqual(searchOf('A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"'), {
    charset: 'US-ASCII',
    return: null,
    key: {
      type: 'and',
      keys: [
        { type: 'flag', flag: '\\Flagged', present: true },
        { type: 'date', of: 'internal', op: 'since', date: '1994-02-01' },
        { type: 'not', key: { type: 'header', field: 'from', value: 'Smith' } },
      ],
    },
  });
});

test('RFC 3501 §6.4.4: SEARCH TEXT "string not in mailbox"', () => {
  assert.deepEqual(keyOf('A283 SEARCH TEXT "string not in mailbox"'), { type: 'text', value: 'string not in mailbox' });
});

test('RFC 3501 §6.4.4: SEARCH CHARSET UTF-8 TEXT {6} with 8-bit data', () => {
  const search = searchOf(Buffer.concat([Buffer.from('A284 SEARCH CHARSET UTF-8 TEXT {6}\r\n'), Buffer.from('éàç', 'utf8'), Buffer.from('\r\n')]));
  assert.equal(search.charset, 'UTF-8');
  assert.deepEqual(search.key, { type: 'text', value: 'éàç' });
});

test('RFC 3501 §6.4.4: an unsupported CHARSET is NO [BADCHARSET (US-ASCII UTF-8)]', () => {
  assert.throws(
    () => searchOf('a SEARCH CHARSET KOI8-R ALL'),
    (error: unknown) => error instanceof BadCharsetError && error.status === 'NO' && error.code === 'BADCHARSET (US-ASCII UTF-8)',
  );
  assert.equal(searchOf('a SEARCH charset us-ascii ALL').charset, 'US-ASCII');
});

test('RFC 3501 §6.4.4: SEARCH OR with nested NOT and a parenthesized group', () => {
  assert.deepEqual(keyOf('a SEARCH OR NOT (SEEN FLAGGED) NOT OR DRAFT 2:4'), {
    type: 'or',
    left: {
      type: 'not',
      key: {
        type: 'and',
        keys: [
          { type: 'flag', flag: '\\Seen', present: true },
          { type: 'flag', flag: '\\Flagged', present: true },
        ],
      },
    },
    right: { type: 'not', key: { type: 'or', left: { type: 'flag', flag: '\\Draft', present: true }, right: { type: 'seq', set: [{ start: 2, end: 4 }] } } },
  });
});

test('RFC 3501 §6.4.4: every search key', () => {
  const cases: Array<[string, SearchKey]> = [
    ['ALL', { type: 'all' }],
    ['ANSWERED', { type: 'flag', flag: '\\Answered', present: true }],
    ['BCC x', { type: 'header', field: 'bcc', value: 'x' }],
    ['BEFORE 1-Feb-1994', { type: 'date', of: 'internal', op: 'before', date: '1994-02-01' }],
    ['BODY "a b"', { type: 'body', value: 'a b' }],
    ['CC x', { type: 'header', field: 'cc', value: 'x' }],
    ['DELETED', { type: 'flag', flag: '\\Deleted', present: true }],
    ['DRAFT', { type: 'flag', flag: '\\Draft', present: true }],
    ['FLAGGED', { type: 'flag', flag: '\\Flagged', present: true }],
    ['FROM x', { type: 'header', field: 'from', value: 'x' }],
    ['HEADER Message-ID "<a@b>"', { type: 'header', field: 'message-id', value: '<a@b>' }],
    ['HEADER X-Spam ""', { type: 'header', field: 'x-spam', value: '' }],
    ['KEYWORD $Label1', { type: 'flag', flag: '$Label1', present: true }],
    ['LARGER 1000', { type: 'size', op: 'larger', size: 1000 }],
    ['NEW', { type: 'and', keys: [{ type: 'recent' }, { type: 'flag', flag: '\\Seen', present: false }] }],
    ['NOT SEEN', { type: 'not', key: { type: 'flag', flag: '\\Seen', present: true } }],
    ['OLD', { type: 'not', key: { type: 'recent' } }],
    ['ON "15-Mar-2024"', { type: 'date', of: 'internal', op: 'on', date: '2024-03-15' }],
    ['OR SEEN DRAFT', { type: 'or', left: { type: 'flag', flag: '\\Seen', present: true }, right: { type: 'flag', flag: '\\Draft', present: true } }],
    ['RECENT', { type: 'recent' }],
    ['SEEN', { type: 'flag', flag: '\\Seen', present: true }],
    ['SENTBEFORE 01-Jan-2000', { type: 'date', of: 'sent', op: 'before', date: '2000-01-01' }],
    ['SENTON 29-Feb-2024', { type: 'date', of: 'sent', op: 'on', date: '2024-02-29' }],
    ['SENTSINCE 1-dec-1999', { type: 'date', of: 'sent', op: 'since', date: '1999-12-01' }],
    ['SINCE 1-Feb-1994', { type: 'date', of: 'internal', op: 'since', date: '1994-02-01' }],
    ['SMALLER 5', { type: 'size', op: 'smaller', size: 5 }],
    ['SUBJECT {5}\r\nhello', { type: 'header', field: 'subject', value: 'hello' }],
    ['TEXT x', { type: 'text', value: 'x' }],
    ['TO x', { type: 'header', field: 'to', value: 'x' }],
    [
      'UID 1:5,7',
      {
        type: 'uid',
        set: [
          { start: 1, end: 5 },
          { start: 7, end: 7 },
        ],
      },
    ],
    ['UNANSWERED', { type: 'flag', flag: '\\Answered', present: false }],
    ['UNDELETED', { type: 'flag', flag: '\\Deleted', present: false }],
    ['UNDRAFT', { type: 'flag', flag: '\\Draft', present: false }],
    ['UNFLAGGED', { type: 'flag', flag: '\\Flagged', present: false }],
    ['UNKEYWORD $Junk', { type: 'flag', flag: '$Junk', present: false }],
    ['UNSEEN', { type: 'flag', flag: '\\Seen', present: false }],
    ['1:*', { type: 'seq', set: [{ start: 1, end: '*' }] }],
    ['(SEEN)', { type: 'flag', flag: '\\Seen', present: true }],
  ];
  for (const [criteria, key] of cases) assert.deepEqual(keyOf(`a SEARCH ${criteria}`), key, criteria);
});

test('RFC 7162 §3.1.5: MODSEQ with and without an entry', () => {
  assert.deepEqual(keyOf('a SEARCH MODSEQ "/flags/\\\\draft" all 620162338'), {
    type: 'modseq',
    modseq: 620162338,
    entry: { flag: '\\Draft', scope: 'all' },
  });
  assert.deepEqual(keyOf('t SEARCH OR NOT MODSEQ 720162338 LARGER 50000'), {
    type: 'or',
    left: { type: 'not', key: { type: 'modseq', modseq: 720162338 } },
    right: { type: 'size', op: 'larger', size: 50000 },
  });
  assert.throws(() => keyOf('a SEARCH MODSEQ "/flags/\\\\draft" mine 5'), /priv, shared or all/);
  assert.throws(() => keyOf('a SEARCH MODSEQ 99999999999999999999'), ProtocolSyntaxError);
});

test('RFC 4731 §3.1: RETURN options, RETURN () meaning ALL', () => {
  assert.deepEqual(searchOf('A282 SEARCH RETURN (MIN COUNT) FLAGGED').return, ['MIN', 'COUNT']);
  assert.deepEqual(searchOf('A283 SEARCH RETURN () FLAGGED').return, ['ALL']);
  assert.deepEqual(searchOf('A285 UID SEARCH RETURN (MIN MAX) 1:5000').return, ['MIN', 'MAX']);
  assert.deepEqual(searchOf('a SEARCH RETURN (SAVE ALL) CHARSET UTF-8 SEEN').return, ['SAVE', 'ALL']);
  assert.deepEqual(searchOf('a1 SEARCH RETURN (MIN) MODSEQ "/flags/\\\\draft" all 5').return, ['MIN']);
  assert.throws(() => searchOf('a SEARCH RETURN (FOO) ALL'), /RETURN option/);
});

test('RFC 5267 §4.2-4.4: RETURN (CONTEXT UPDATE PARTIAL m:n) with the other options', () => {
  // §4.2 example: A01 SEARCH RETURN (CONTEXT COUNT) UNDELETED UNKEYWORD $Junk
  const counted = searchOf('A01 SEARCH RETURN (CONTEXT COUNT) UNDELETED UNKEYWORD $Junk');
  assert.deepEqual(counted.return, ['CONTEXT', 'COUNT']);
  assert.equal(counted.partial, undefined);
  assert.deepEqual(counted.key, {
    type: 'and',
    keys: [
      { type: 'flag', flag: '\\Deleted', present: false },
      { type: 'flag', flag: '$Junk', present: false },
    ],
  });
  // §4.3 example: B01 UID SEARCH RETURN (UPDATE COUNT) DELETED KEYWORD $Junk
  assert.deepEqual(searchOf('B01 UID SEARCH RETURN (UPDATE COUNT) DELETED KEYWORD $Junk').return, ['UPDATE', 'COUNT']);
  // §4.4 example: A02 UID SEARCH RETURN (PARTIAL 23500:24000) UNDELETED UNKEYWORD $Junk
  const partial = searchOf('A02 UID SEARCH RETURN (PARTIAL 23500:24000) UNDELETED UNKEYWORD $Junk');
  assert.deepEqual(partial.return, ['PARTIAL']);
  assert.deepEqual(partial.partial, [23500, 24000]);
  // §5: "A range 500:400 is the same as 400:500".
  assert.deepEqual(searchOf('a SEARCH RETURN (partial 500:400 update min) ALL').partial, [400, 500]);
  assert.deepEqual(searchOf('a SEARCH RETURN (UPDATE MIN UPDATE) ALL').return, ['UPDATE', 'MIN']);
});

test('RFC 5267 §4.4: PARTIAL needs a range of non-zero numbers without *; with ALL or twice it is BAD', () => {
  const bad = [
    'a SEARCH RETURN (PARTIAL) ALL',
    'a SEARCH RETURN (PARTIAL 0:10) ALL',
    'a SEARCH RETURN (PARTIAL 1:*) ALL',
    'a SEARCH RETURN (PARTIAL 5) ALL',
    'a SEARCH RETURN (PARTIAL 1:10,20:30) ALL',
    'a SEARCH RETURN (PARTIAL 1:4294967296) ALL',
    'a SEARCH RETURN (PARTIAL -1:-10) ALL',
    'a SEARCH RETURN (PARTIAL 1:10 ALL) ALL',
    'a SEARCH RETURN (ALL PARTIAL 1:10) ALL',
    'a SEARCH RETURN (PARTIAL 1:10 PARTIAL 11:20) ALL',
    'a SEARCH RETURN (PARTIAL (1:10)) ALL',
  ];
  for (const line of bad) assert.throws(() => searchOf(line), ProtocolSyntaxError, line);
  assert.deepEqual(searchOf('a SEARCH RETURN (PARTIAL 1:4294967295 COUNT) ALL').partial, [1, 4294967295]);
});

test('RFC 3501 §6.4.4: invalid criteria are BAD', () => {
  const bad = [
    'a SEARCH',
    'a SEARCH FOO',
    'a SEARCH SINCE 31-Feb-2024',
    'a SEARCH SINCE 2024-02-01',
    'a SEARCH LARGER x',
    'a SEARCH OR SEEN',
    'a SEARCH NOT',
    'a SEARCH ()',
    'a SEARCH 0:4',
    'a SEARCH $',
    'a SEARCH UID',
    'a SEARCH KEYWORD \\Recent',
    'a SEARCH HEADER Subject',
    'a SEARCH CHARSET',
  ];
  for (const line of bad) assert.throws(() => searchOf(line), ProtocolSyntaxError, line);
});

test('limits: NOT nested deeper than MAX_SEARCH_DEPTH is BAD, not a stack overflow', () => {
  assert.throws(() => searchOf(`a SEARCH ${'NOT '.repeat(10_000)}ALL`), /nested/);
});
