import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readContentFields } from './content-fields.ts';
import { parseHeaderBlock } from './header-block.ts';
import { CharBudget, MAX_PARAMS } from './limits.ts';
import { decodeEncodedWords, paramValue, parseParameterizedValue } from './params.ts';
import type { Param } from './types.ts';

const CASES: Array<[input: string, value: string, params: Param[]]> = [
  ['text/plain', 'text/plain', []],
  ['TEXT/PLAIN; CHARSET=US-ASCII', 'TEXT/PLAIN', [['charset', 'US-ASCII']]],
  [
    'text/plain ; charset = "utf-8" ; format=flowed',
    'text/plain',
    [
      ['charset', 'utf-8'],
      ['format', 'flowed'],
    ],
  ],
  // RFC 2045 §5.1 allows comments; quoted strings keep what looks like one.
  ['text/plain (plain text); charset=us-ascii (ascii)', 'text/plain', [['charset', 'us-ascii']]],
  ['multipart/mixed; boundary="=_(1);x \\"y\\""', 'multipart/mixed', [['boundary', '=_(1);x "y"']]],
  ['multipart/mixed; boundary==_abc', 'multipart/mixed', [['boundary', '=_abc']]],
  // What clients accept from broken senders.
  ['application/pdf; name=Invoice(1).pdf', 'application/pdf', [['name', 'Invoice(1).pdf']]],
  ['application/pdf; name=my file.pdf', 'application/pdf', [['name', 'my file.pdf']]],
  ['application/pdf; name="unterminated', 'application/pdf', [['name', 'unterminated']]],
  ['text/plain;; ;charset=utf-8;', 'text/plain', [['charset', 'utf-8']]],
  ['text/plain; charset=a; charset=b', 'text/plain', [['charset', 'a']]],
  ['text/plain; novalue; =nokey; bad key=x', 'text/plain', []],
  // RFC 2231 §3: continuations are joined.
  [
    'message/external-body; URL*0="ftp://"; URL*1="cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar"',
    'message/external-body',
    [['url', 'ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar']],
  ],
  // RFC 2231 §4: an extended value keeps its form (as Dovecot reports it), segments out of order are put in order.
  [
    "application/x-stuff; title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A",
    'application/x-stuff',
    [['title*', "us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A"]],
  ],
  [
    `application/x-stuff; title*2="isn't it!"; title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*0*=us-ascii'en'This%20is%20even%20more%20`,
    'application/x-stuff',
    [['title*', "us-ascii'en'This%20is%20even%20more%20%2A%2A%2Afun%2A%2A%2A%20isn%27t%20it!"]],
  ],
];

test('structured field values: value and parameters', () => {
  for (const [input, value, params] of CASES) assert.deepEqual(parseParameterizedValue(input), { value, params }, input);
});

test('parameter values are decoded on request: RFC 2231 charsets, RFC 2047 words in plain values', () => {
  const { params } = parseParameterizedValue(
    `application/x-stuff; title*2="isn't it!"; title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*0*=us-ascii'en'This%20is%20even%20more%20`,
  );
  assert.equal(paramValue(params, 'title'), "This is even more ***fun*** isn't it!");
  const latin = parseParameterizedValue(`attachment; filename*=iso-8859-1''caf%E9.txt; filename="cafe.txt"`).params;
  assert.equal(paramValue(latin, 'filename'), 'café.txt');
  const encodedWord = parseParameterizedValue('attachment; filename="=?UTF-8?B?w6l0w6kucGRm?="').params;
  assert.equal(paramValue(encodedWord, 'filename'), '=?UTF-8?B?w6l0w6kucGRm?=');
  assert.equal(paramValue(encodedWord, 'filename', true), 'été.pdf');
  assert.equal(paramValue(encodedWord, 'name'), undefined);
  // Broken percent-encoding and an unknown charset do not throw.
  assert.equal(typeof paramValue(parseParameterizedValue("a; n*=x-nope''%ZZ%E9").params, 'n'), 'string');
});

test('RFC 2047 decoding never throws on broken words', () => {
  for (const input of ['=?utf-8?B?####?=', '=?x-unknown?Q?caf=E9?=', '=?utf-8?Q?unterminated', '=??Q?x?=', '=?utf-8?X?abc?=']) {
    assert.equal(typeof decodeEncodedWords(input), 'string', input);
  }
  assert.equal(decodeEncodedWords('=?utf-8?q?a?= =?utf-8?q?b?='), 'ab');
});

test('parameters per field are capped', () => {
  const many = Array.from({ length: MAX_PARAMS + 10 }, (_, i) => `p${i}=${i}`).join('; ');
  assert.equal(parseParameterizedValue(`text/plain; ${many}`).params.length, MAX_PARAMS);
});

const contentOf = (header: string, defaultType: 'text/plain' | 'message/rfc822' = 'text/plain') =>
  readContentFields(parseHeaderBlock(Buffer.from(header)), defaultType, new CharBudget(1 << 20));

test('RFC 2045 §5.2 defaults: no Content-Type is text/plain in US-ASCII, an invalid one too; 7bit when no encoding', () => {
  for (const header of ['Subject: x\r\n', 'Content-Type: text\r\n', 'Content-Type: /plain\r\n', 'Content-Type: te xt/plain\r\n', 'Content-Type:\r\n']) {
    const content = contentOf(header);
    assert.deepEqual([content.type, content.subtype, content.params, content.encoding], ['text', 'plain', [['charset', 'us-ascii']], '7bit'], header);
  }
  const digestPart = contentOf('\r\n', 'message/rfc822');
  assert.deepEqual([digestPart.type, digestPart.subtype, digestPart.params], ['message', 'rfc822', []]);
});

test('Content-* fields: tokens lower-cased, values as written, first field wins', () => {
  const content = contentOf(
    [
      'Content-Type: Image/GIF; Name="x.gif"',
      'Content-Type: text/plain',
      'Content-Transfer-Encoding: BASE64 (because)',
      'Content-ID: <part1@example.test>',
      'Content-Description: =?utf-8?q?caf=C3=A9?=',
      'Content-Disposition: INLINE; FILENAME=x.gif',
      'Content-Language: en-US (English), fr',
      'Content-Location: http://example.test/a',
      '  /b.gif',
      'Content-MD5: abc==',
      '',
    ].join('\r\n'),
  );
  assert.deepEqual(content, {
    type: 'image',
    subtype: 'gif',
    params: [['name', 'x.gif']],
    boundary: undefined,
    id: '<part1@example.test>',
    description: '=?utf-8?q?caf=C3=A9?=',
    encoding: 'base64',
    md5: 'abc==',
    disposition: { type: 'inline', params: [['filename', 'x.gif']] },
    language: ['en-US', 'fr'],
    location: 'http://example.test/a/b.gif',
  });
});

test('header blocks: unfolding, obsolete space before the colon, lines that are not fields', () => {
  const fields = parseHeaderBlock(
    Buffer.from(
      'From bob@example.test Mon Jan  1 12:00:00 2024\r\nSubject : a\r\n\tb\r\n  c\r\nnot a field\r\n continuation of nothing\r\nX: 1\r\n\r\nBody: no\r\n',
    ),
  );
  assert.deepEqual(fields, [
    { name: 'subject', value: 'a\tb  c' },
    { name: 'x', value: '1' },
  ]);
});
