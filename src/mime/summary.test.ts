import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writtenDateOf } from './summary.ts';

// RFC 3501 §6.4.4 SENTBEFORE / SENTON / SENTSINCE: the date of the Date header as written, time and zone ignored.
const CASES: Array<[field: string, day: string | null]> = [
  ['Sun, 25 Mar 2007 00:00 +0200', '2007-03-25'], // 24 March in UTC: the written date wins
  ['Sat, 24 Mar 2007 23:30:00 -0500', '2007-03-24'], // 25 March in UTC
  ['25 Mar 2007 00:00:00 GMT', '2007-03-25'],
  ['Thu, 5 Mar 26 07:30:00 PST', '2026-03-05'], // RFC 5322 §4.3 two-digit year
  ['Mon, 1 Jan 99 00:00:00 +0000 (comment)', '1999-01-01'],
  ['1 February 2021', '2021-02-01'], // no time: still a date
  ['2021-02-03T23:00:00-05:00', '2021-02-04'], // not RFC 5322: its UTC date
  ['not a date', null],
];

for (const [field, day] of CASES) {
  test(`RFC 3501 §6.4.4 the written date of "${field}" is ${day}`, () => {
    assert.equal(writtenDateOf(field), day);
  });
}
