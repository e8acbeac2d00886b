import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listParts, parsePartNumber, partByNumber } from './parts.ts';
import { extractSplitAt, readFixture } from './test-support.ts';

test('part numbers: only dot-separated positive integers', () => {
  assert.deepEqual(parsePartNumber('1'), [1]);
  assert.deepEqual(parsePartNumber('4.2.2.1'), [4, 2, 2, 1]);
  for (const bad of ['', '0', '1.0', '01', '1.', '.1', '1..2', 'a', '1.HEADER', '-1', '+1', '1 ', '1234567890']) {
    assert.equal(parsePartNumber(bad), undefined, bad);
  }
});

test('RFC 3501 §6.4.5: numbers reach into multiparts and encapsulated messages', () => {
  const { bodyStructure } = extractSplitAt(readFixture('rfc3501-part-numbers.eml'));
  const typeAt = (number: string) => {
    const part = partByNumber(bodyStructure, number);
    return part && `${part.type}/${part.subtype}`;
  };
  assert.equal(typeAt('3'), 'message/rfc822');
  assert.equal(typeAt('3.2'), 'application/octet-stream');
  assert.equal(typeAt('4.2.2.2'), 'text/richtext');
  for (const missing of ['5', '1.1', '2.1', '3.3', '4.1.1', '4.2.3', '4.2.2.3', '4.2.2.1.1', 'x']) assert.equal(typeAt(missing), undefined, missing);
  assert.deepEqual(
    listParts(bodyStructure).map(({ number }) => number),
    ['1', '2', '3', '3.1', '3.2', '4', '4.1', '4.2', '4.2.1', '4.2.2', '4.2.2.1', '4.2.2.2'],
  );
});

test('a message that is not multipart has only part 1, its body; below a message/rfc822 body, 1.1 is the inner body', () => {
  const single = extractSplitAt(Buffer.from('Subject: x\r\n\r\nbody\r\n')).bodyStructure;
  assert.equal(partByNumber(single, '1'), single);
  assert.equal(partByNumber(single, '2'), undefined);
  assert.equal(partByNumber(single, '1.1'), undefined);

  const wrapped = extractSplitAt(Buffer.from('Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n')).bodyStructure;
  assert.equal(wrapped.kind, 'message');
  assert.equal(partByNumber(wrapped, '1'), wrapped);
  assert.equal(partByNumber(wrapped, '1.1'), wrapped.body);
  assert.deepEqual(
    listParts(wrapped).map(({ number }) => number),
    ['1', '1.1'],
  );
});
