/** SORT and THREAD arguments (RFC 5256 §5, RFC 5957 §5, RFC 5267 §5). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BadCharsetError, type Command, ImapReceiver, ProtocolSyntaxError, parseSortArgs, parseThreadArgs } from './index.ts';

function argsOf(line: string): Command['args'] {
  const receiver = new ImapReceiver();
  receiver.push(Buffer.from(`a ${line}\r\n`, 'latin1'));
  const events = receiver.drain();
  const command = events.find((event) => event.type === 'command') as { command: Command } | undefined;
  assert.ok(command, JSON.stringify(events));
  return command.command.args;
}

test('RFC 5256 §3: SORT (SUBJECT REVERSE DATE) UTF-8 ALL', () => {
  const args = parseSortArgs(argsOf('SORT (SUBJECT REVERSE DATE) UTF-8 ALL'));
  assert.deepEqual(args.criteria, [
    { key: 'SUBJECT', reverse: false },
    { key: 'DATE', reverse: true },
  ]);
  assert.equal(args.charset, 'UTF-8');
  assert.deepEqual(args.key, { type: 'all' });
  assert.equal(args.return, null);
});

test('RFC 5957 §5: DISPLAYFROM and DISPLAYTO are sort keys; search keys follow the charset', () => {
  const args = parseSortArgs(argsOf('SORT (DISPLAYFROM REVERSE DISPLAYTO) "US-ASCII" UNSEEN SUBJECT "x"'));
  assert.deepEqual(args.criteria, [
    { key: 'DISPLAYFROM', reverse: false },
    { key: 'DISPLAYTO', reverse: true },
  ]);
  assert.equal(args.key.type, 'and');
});

test('RFC 5267 §3.3, §4.4: RETURN () is ALL; PARTIAL takes a range in either order; PARTIAL with ALL is BAD', () => {
  assert.deepEqual(parseSortArgs(argsOf('SORT RETURN () (DATE) UTF-8 ALL')).return, { min: false, max: false, count: false, all: true });
  assert.deepEqual(parseSortArgs(argsOf('SORT RETURN (MIN MAX COUNT) (DATE) UTF-8 ALL')).return, { min: true, max: true, count: true, all: false });
  assert.deepEqual(parseSortArgs(argsOf('SORT RETURN (PARTIAL 500:1) (DATE) UTF-8 ALL')).return?.partial, [1, 500]);
  assert.throws(() => parseSortArgs(argsOf('SORT RETURN (PARTIAL 1:5 ALL) (DATE) UTF-8 ALL')), ProtocolSyntaxError);
  assert.throws(() => parseSortArgs(argsOf('SORT RETURN (PARTIAL 0:5) (DATE) UTF-8 ALL')), ProtocolSyntaxError);
  assert.throws(() => parseSortArgs(argsOf('SORT RETURN (UPDATE) (DATE) UTF-8 ALL')), ProtocolSyntaxError);
});

test('RFC 5256 §5: bad sort programs are BAD; an unknown charset is NO [BADCHARSET]', () => {
  for (const line of ['SORT () UTF-8 ALL', 'SORT (SPEED) UTF-8 ALL', 'SORT (REVERSE) UTF-8 ALL', 'SORT (DATE) UTF-8', 'SORT (DATE)', 'SORT DATE UTF-8 ALL']) {
    assert.throws(() => parseSortArgs(argsOf(line)), ProtocolSyntaxError, line);
  }
  assert.throws(() => parseSortArgs(argsOf('SORT (DATE) KOI8-R ALL')), BadCharsetError);
});

test('RFC 5256 §5: THREAD algorithm charset search-key', () => {
  assert.deepEqual(parseThreadArgs(argsOf('THREAD REFERENCES UTF-8 ALL')), { algorithm: 'REFERENCES', charset: 'UTF-8', key: { type: 'all' } });
  assert.equal(parseThreadArgs(argsOf('THREAD orderedsubject US-ASCII SINCE 5-MAR-2000')).algorithm, 'ORDEREDSUBJECT');
  assert.throws(() => parseThreadArgs(argsOf('THREAD JWZ UTF-8 ALL')), ProtocolSyntaxError);
  assert.throws(() => parseThreadArgs(argsOf('THREAD REFERENCES UTF-8')), ProtocolSyntaxError);
});
