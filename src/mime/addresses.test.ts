import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddresses, MISSING_DOMAIN, MISSING_MAILBOX, parseAddressList } from './addresses.ts';
import { MAX_ADDRESSES } from './limits.ts';
import type { Address } from './types.ts';

const a = (name: string | null, mailbox: string | null, host: string | null): Address => ({ name, mailbox, host });

const CASES: Array<[input: string, expected: Address[]]> = [
  // RFC 3501 §7.4.2 example fields.
  ['Terry Gray <gray@cac.washington.edu>', [a('Terry Gray', 'gray', 'cac.washington.edu')]],
  ['minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>', [a(null, 'minutes', 'CNRI.Reston.VA.US'), a('John Klensin', 'KLENSIN', 'MIT.EDU')]],
  // RFC 5322 Appendix A.1.2 and A.1.3.
  ['"Joe Q. Public" <john.q.public@example.com>', [a('Joe Q. Public', 'john.q.public', 'example.com')]],
  [
    'Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>',
    [a('Mary Smith', 'mary', 'x.test'), a(null, 'jdoe', 'example.org'), a('Who?', 'one', 'y.test')],
  ],
  ['<boss@nil.test>, "Giant; \\"Big\\" Box" <sysservices@example.net>', [a(null, 'boss', 'nil.test'), a('Giant; "Big" Box', 'sysservices', 'example.net')]],
  [
    'A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;',
    [a(null, 'A Group', null), a('Ed Jones', 'c', 'a.test'), a(null, 'joe', 'where.test'), a('John', 'jdoe', 'one.test'), a(null, null, null)],
  ],
  ['Undisclosed recipients:;', [a(null, 'Undisclosed recipients', null), a(null, null, null)]],
  // RFC 5322 Appendix A.5 (comments and white space) and A.6.3 (obsolete forms).
  ['Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>', [a('Pete', 'pete', 'silly.test')]],
  ['John Doe <jdoe@machine(comment).  example>', [a('John Doe', 'jdoe', 'machine.example')]],
  // RFC 5322 §4.4 obs-route, kept for RFC 3501 §7.4.2's second field (at-domain-list), commas included.
  ['Mary Smith <@node.test:mary@example.net>', [{ name: 'Mary Smith', route: '@node.test', mailbox: 'mary', host: 'example.net' }]],
  [
    '<@a.example,@b.example:user@c.example>, other@d.example',
    [{ name: null, route: '@a.example,@b.example', mailbox: 'user', host: 'c.example' }, a(null, 'other', 'd.example')],
  ],
  ['Relay <@a.example, @b.example : user@c.example>', [{ name: 'Relay', route: '@a.example,@b.example', mailbox: 'user', host: 'c.example' }]],
  ['Joe Q. Public <john.q.public@example.com>', [a('Joe Q. Public', 'john.q.public', 'example.com')]],
  // Old-style name in a comment.
  ['gray@cac.washington.edu (Terry Gray)', [a('Terry Gray', 'gray', 'cac.washington.edu')]],
  // RFC 2047 encoded-words are left for the client to decode.
  ['=?utf-8?q?Andr=C3=A9?= <andre@example.fr>', [a('=?utf-8?q?Andr=C3=A9?=', 'andre', 'example.fr')]],
  // RFC 6532: UTF-8 everywhere.
  ['Jérôme <jérôme@exemple.fr>', [a('Jérôme', 'jérôme', 'exemple.fr')]],
  ['"john doe"@example.com', [a(null, 'john doe', 'example.com')]],
  ['user@[192.0.2.1]', [a(null, 'user', '[192.0.2.1]')]],
  // Broken input still gives addresses.
  ['just-a-local-part', [a(null, 'just-a-local-part', MISSING_DOMAIN)]],
  ['Name <@example.com>', [a('Name', MISSING_MAILBOX, 'example.com')]],
  ['Name <local>', [a('Name', 'local', MISSING_DOMAIN)]],
  ['"unterminated <x@y.test>', [a(null, 'unterminated <x@y.test>', MISSING_DOMAIN)]],
  ['Broken <a@b.test, c@d.test', [a('Broken', 'a', 'b.test'), a(null, 'c', 'd.test')]],
  ['Group: a@b.test', [a(null, 'Group', null), a(null, 'a', 'b.test'), a(null, null, null)]],
  ['', []],
  [' , ,, ', []],
  ['<>', []],
];

test('address lists become RFC 3501 address structures', () => {
  for (const [input, expected] of CASES) assert.deepEqual(parseAddressList(input), expected, input);
});

test('address lists are capped, and a group cut by the cap is still closed', () => {
  const many = Array.from({ length: MAX_ADDRESSES + 50 }, (_, i) => `u${i}@example.test`);
  assert.equal(parseAddressList(many.join(', ')).length, MAX_ADDRESSES);
  const grouped = parseAddressList(`g: ${many.join(', ')};`);
  assert.equal(grouped.length, MAX_ADDRESSES + 1);
  assert.deepEqual(grouped.at(-1), a(null, null, null));
});

test('addresses are formatted for display with decoded names, without group markers', () => {
  assert.deepEqual(formatAddresses(parseAddressList('=?ISO-8859-1?Q?Keld_J=F8rn?= <k@dk.test>, team: x@y.test;, z')), [
    'Keld Jørn <k@dk.test>',
    'x@y.test',
    'z',
  ]);
  assert.deepEqual(formatAddresses(null), []);
});
