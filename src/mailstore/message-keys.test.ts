/** The pure keys of SORT and THREAD: RFC 5256 §2.1 base subject, RFC 5051 folding, RFC 5256 §3 message ids. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractBaseSubject } from './base-subject.ts';
import { compareFolded, foldCasemap, octetOrderKey } from './collation.ts';
import { MAX_REFERENCES, ownMessageId, parseMessageIds, threadReferences } from './message-ids.ts';

const BASE_SUBJECTS: Array<[subject: string, base: string, replyOrForward: boolean]> = [
  ['Meeting', 'Meeting', false],
  ['Re: Meeting', 'Meeting', true],
  ['RE: re: Re:Meeting', 'Meeting', true],
  ['Fw: Meeting', 'Meeting', true],
  ['Fwd: Re: Meeting', 'Meeting', true],
  ['fwd : Meeting', 'Meeting', true],
  ['Re [2]: Meeting', 'Meeting', true], // subj-refwd = "re" *WSP [subj-blob] ":"
  ['[list] Re: Meeting', 'Meeting', true], // subj-leader = *subj-blob subj-refwd
  ['Re: [list] Meeting', 'Meeting', true], // (4) a blob prefix leaving a non-empty base
  ['[a] [b] Meeting', 'Meeting', false],
  ['[only a blob]', '[only a blob]', false], // (4) not when it would leave nothing
  ['Re: [only a blob]', '[only a blob]', true],
  ['Meeting (fwd)', 'Meeting', true], // (2) subj-trailer
  ['Meeting (FWD) (fwd)  ', 'Meeting', true],
  ['[Fwd: Meeting]', 'Meeting', true], // (6) subj-fwd-hdr and subj-fwd-trl
  ['Re: [fwd: Re: Meeting (fwd)] (fwd)', 'Meeting', true],
  ['[fwd: [list] Meeting]', 'Meeting', true],
  ['  Meeting \t about\t\tthings  ', 'Meeting about things', false], // (1) blanks
  ['Re:', '', true],
  ['', '', false],
  ['Reply to all', 'Reply to all', false], // "re" must be followed by ":"
  ['Fwdx: Meeting', 'Fwdx: Meeting', false],
  ['Réunion: Re: ordre du jour', 'Réunion: Re: ordre du jour', false],
];

for (const [subject, base, replyOrForward] of BASE_SUBJECTS) {
  test(`RFC 5256 §2.1 base subject of ${JSON.stringify(subject)} is ${JSON.stringify(base)}`, () => {
    assert.deepEqual(extractBaseSubject(subject), { base, replyOrForward });
  });
}

test('RFC 5051 i;unicode-casemap: case and compatibility forms fold to one key', () => {
  assert.equal(foldCasemap('Hello World'), 'HELLO WORLD');
  assert.equal(foldCasemap('réunion'), foldCasemap('RÉUNION'));
  assert.equal(foldCasemap('ﬁle'), foldCasemap('FILE')); // NFKD: the ligature is f + i
  assert.equal(foldCasemap('Straße'), 'STRASSE'.normalize('NFKD').replace('SS', 'ß')); // ß has no simple titlecase
  assert.notEqual(foldCasemap('e'), foldCasemap('é'));
});

test('RFC 5051 §2: folded keys compare as UTF-8 octets (code points), not UTF-16 units', () => {
  assert.ok(compareFolded('A', 'B') < 0);
  assert.ok(compareFolded('', 'A') < 0); // RFC 5256 §3: the empty string collates first
  assert.ok(compareFolded('AB', 'A') > 0);
  // U+FF21 (a BMP character above the surrogates) sorts before U+1F600 as in UTF-8, though its UTF-16 unit is larger.
  assert.ok(compareFolded('\uff21', '\u{1f600}') < 0);
  assert.equal(compareFolded('X', 'X'), 0);
});

test('RFC 5256 §3: message ids are normalized (quoting removed) and compared as they are', () => {
  assert.deepEqual(parseMessageIds('<"01KF8JCEOCBS0045PS"@xxx.yyy.com>'), ['<01KF8JCEOCBS0045PS@xxx.yyy.com>']);
  assert.deepEqual(parseMessageIds('<a@b> (comment) <c@d>\t<not-an-id> <e@f>'), ['<a@b>', '<c@d>', '<e@f>']);
  assert.equal(ownMessageId('<"a b"@host>'), '<ab@host>'.replace('ab', 'a b'));
  assert.equal(ownMessageId('no id here'), null);
  assert.equal(ownMessageId(undefined), null);
});

test('RFC 5256 §3: references are References, else the first id of In-Reply-To, else none', () => {
  assert.deepEqual(threadReferences('<a@x> <b@x>', '<c@x>'), ['<a@x>', '<b@x>']);
  assert.deepEqual(threadReferences('garbage', '<c@x> <d@x>'), ['<c@x>']);
  assert.deepEqual(threadReferences(undefined, 'Your message of Monday <c@x>'), ['<c@x>']);
  assert.deepEqual(threadReferences(undefined, undefined), []);
  const long = Array.from({ length: 150 }, (_, i) => `<m${i}@x>`).join(' ');
  const kept = threadReferences(long, undefined);
  assert.equal(kept.length, MAX_REFERENCES);
  assert.equal(kept[0], '<m0@x>');
  assert.equal(kept.at(-1), '<m149@x>');
});

test('octetOrderKey: native comparison of rewritten keys agrees with compareFolded', () => {
  const keys = ['A', '', 'AB', '\uff21', '\u{1f600}', 'Z\ue000', 'Z\u{10000}', 'É'.normalize('NFKD'), 'E'];
  const native = [...keys].sort((a, b) => {
    const x = octetOrderKey(a);
    const y = octetOrderKey(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  assert.deepEqual(native, [...keys].sort(compareFolded));
});
