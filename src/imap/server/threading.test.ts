/** RFC 5256 §3 REFERENCES and ORDEREDSUBJECT on hand-built folders, and the §4 THREAD response syntax. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatThreads, type ThreadMessage, threadByOrderedSubject, threadByReferences } from './threading.ts';

let nextSeq = 0;
function msg(id: string | null, refs: string[], subject: string, sentDate: number, isReply = false): ThreadMessage {
  nextSeq++;
  return { seq: nextSeq, uid: nextSeq * 10, messageId: id, references: refs, subject, isReply, sentDate };
}
const bySeq = (m: ThreadMessage) => m.seq;

test('RFC 5256 §4: a thread that splits nests its sub-threads: (2)(3 6 (4 23)(44 7 96))', () => {
  nextSeq = 0;
  // Sequence numbers 1..7 stand for 2, 3, 6, 4, 23, 44, 7, 96 of the RFC's example.
  const m = [
    msg('<2@x>', [], 'TWO', 1),
    msg('<3@x>', [], 'THREE', 2),
    msg('<6@x>', ['<3@x>'], 'THREE', 3, true),
    msg('<4@x>', ['<3@x>', '<6@x>'], 'THREE', 4, true),
    msg('<23@x>', ['<3@x>', '<6@x>', '<4@x>'], 'THREE', 5, true),
    msg('<44@x>', ['<3@x>', '<6@x>'], 'THREE', 6, true),
    msg('<7@x>', ['<3@x>', '<6@x>', '<44@x>'], 'THREE', 7, true),
    msg('<96@x>', ['<3@x>', '<6@x>', '<44@x>', '<7@x>'], 'THREE', 8, true),
  ];
  const names = [2, 3, 6, 4, 23, 44, 7, 96];
  assert.equal(
    formatThreads(threadByReferences(m), (x) => names[x.seq - 1] as number),
    '(2)(3 6 (4 23)(44 7 96))',
  );
});

test('RFC 5256 §4: siblings whose parent was not searched are one thread under a dummy: ((3)(5))', () => {
  nextSeq = 0;
  const m = [msg('<a@x>', ['<gone@x>'], 'A', 1), msg('<b@x>', ['<gone@x>'], 'B', 2)];
  assert.equal(formatThreads(threadByReferences(m), bySeq), '((1)(2))');
});

test('RFC 5256 §3 REFERENCES step 1: a parent delivered after its reply, duplicate ids and loops', () => {
  nextSeq = 0;
  const m = [
    msg('<r@x>', ['<p@x>'], 'P', 2, true), // reply first
    msg('<p@x>', [], 'P', 1), // then its parent
    msg('<p@x>', [], 'OTHER', 3), // a duplicate Message-ID: a unique id of its own
    msg('<l1@x>', ['<l2@x>'], 'L', 4), // l2 becomes l1's parent...
    msg('<l2@x>', ['<l1@x>'], 'L', 5), // ...so l1 cannot become l2's (a loop)
  ];
  assert.equal(formatThreads(threadByReferences(m), bySeq), '(2 1)(3)(5 4)');
});

test('RFC 5256 §3 REFERENCES step 5: threads with one base subject merge; a reply goes under the original', () => {
  nextSeq = 0;
  const m = [
    msg('<a@x>', [], 'LUNCH', 1), // two originals with one subject: siblings under a new dummy
    msg('<b@x>', [], 'LUNCH', 3, true), // "Re: lunch" without References: a child of the subject table's dummy
    msg('<c@x>', [], 'LUNCH', 2),
    msg('<d@x>', [], '', 4), // empty subjects never merge
    msg('<e@x>', [], '', 5),
    msg('<f@x>', [], 'TEA', 6), // an original...
    msg('<g@x>', [], 'TEA', 7, true), // ...and a reply to it that has no References
  ];
  assert.equal(formatThreads(threadByReferences(m), bySeq), '((1)(3)(2))(4)(5)(6 7)');
});

test('RFC 5256 §3 ORDEREDSUBJECT: by base subject, then date; children are siblings of the second message', () => {
  nextSeq = 0;
  const m = [msg(null, [], 'B', 5), msg(null, [], 'A', 3), msg(null, [], 'A', 1), msg(null, [], 'B', 2), msg(null, [], 'A', 4), msg(null, [], 'C', 6)];
  assert.equal(formatThreads(threadByOrderedSubject(m), bySeq), '(3 (2)(5))(4 1)(6)');
});

test('REFERENCES: a chain of 30,000 replies threads without overflowing the stack', () => {
  nextSeq = 0;
  const m: ThreadMessage[] = [];
  for (let i = 0; i < 30_000; i++) m.push(msg(`<c${i}@x>`, i === 0 ? [] : [`<c${i - 1}@x>`], 'CHAIN', i));
  const text = formatThreads(threadByReferences(m), bySeq);
  assert.ok(text.startsWith('(1 2 3 '));
  assert.ok(text.endsWith(' 30000)'));
});
