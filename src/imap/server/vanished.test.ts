import assert from 'node:assert/strict';
import { test } from 'node:test';
import { missingFrom } from './vanished.ts';

test('RFC 7162 §3.2.5.2: the UIDs of the ranges a client may know that are not in the folder', () => {
  const cases: Array<[Array<[number, number]>, number[], Array<[number, number]>]> = [
    [
      [[1, 10]],
      [1, 3, 5, 7, 9, 10],
      [
        [2, 2],
        [4, 4],
        [6, 6],
        [8, 8],
      ],
    ],
    [[[1, 10]], [], [[1, 10]]],
    [[[1, 10]], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], []],
    [
      [
        [3, 5],
        [8, 12],
      ],
      [1, 4, 9, 10, 20],
      [
        [3, 3],
        [5, 5],
        [8, 8],
        [11, 12],
      ],
    ],
    [
      [[1, 4_294_967_295]],
      [2],
      [
        [1, 1],
        [3, 4_294_967_295],
      ],
    ],
    [[], [1, 2], []],
  ];
  for (const [ranges, present, expected] of cases) assert.deepEqual(missingFrom(ranges, present), expected, JSON.stringify({ ranges, present }));
});
