import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestCounter } from './core.ts';

test('RFC 8620 §2 maxConcurrentRequests: the request past the limit is refused per account; leaving makes room again', () => {
  const counter = new RequestCounter(2);
  assert.equal(counter.enter('a'), true);
  assert.equal(counter.enter('a'), true);
  assert.equal(counter.enter('a'), false);
  assert.equal(counter.enter('b'), true, 'another account has its own count');
  counter.leave('a');
  assert.equal(counter.enter('a'), true);
  counter.leave('a');
  counter.leave('a');
  counter.leave('b');
  assert.equal(counter.size(), 0, 'nothing is kept for accounts with no request under way');
});
