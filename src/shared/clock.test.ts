import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addMonths, clockStartingAt, monthsBetween } from './clock.ts';

const at = (iso: string) => Date.parse(iso);

test('R-T6 periods are calendar months in UTC, clamped to the last day', () => {
  assert.equal(addMonths(at('2026-01-15T10:00:00Z'), 1), at('2026-02-15T10:00:00Z'));
  assert.equal(addMonths(at('2026-01-31T00:00:00Z'), 1), at('2026-02-28T00:00:00Z'));
  assert.equal(addMonths(at('2028-01-31T00:00:00Z'), 1), at('2028-02-29T00:00:00Z'));
  assert.equal(addMonths(at('2026-11-26T10:00:00Z'), 12), at('2027-11-26T10:00:00Z'));
  assert.equal(addMonths(at('2026-12-31T23:59:59Z'), 2), at('2027-02-28T23:59:59Z'));
});

test('R-T6 months between two period boundaries', () => {
  assert.equal(monthsBetween(at('2026-01-31T00:00:00Z'), at('2026-02-28T00:00:00Z')), 1);
  assert.equal(monthsBetween(at('2026-01-31T00:00:00Z'), at('2027-03-31T00:00:00Z')), 14);
  assert.equal(addMonths(at('2026-01-31T00:00:00Z'), monthsBetween(at('2026-01-31T00:00:00Z'), at('2026-02-28T00:00:00Z')) + 1), at('2026-03-31T00:00:00Z'));
});

test('clockStartingAt reads the given instant at the given moment, in whole milliseconds, and runs on', () => {
  let system = 1_000_000;
  const clock = clockStartingAt(Date.parse('2026-11-26T10:00:00Z'), 999_000.4, { now: () => system });
  assert.equal(clock.now(), Date.parse('2026-11-26T10:00:00Z') + 1000);
  system += 5_000;
  assert.equal(clock.now(), Date.parse('2026-11-26T10:00:00Z') + 6000);
  assert.ok(Number.isInteger(clock.now()));
});
