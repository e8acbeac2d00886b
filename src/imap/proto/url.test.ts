import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtocolSyntaxError, parseImapUrl } from './index.ts';

test('RFC 4469 Appendix A / RFC 5092 §11: the relative URLs of CATENATE', () => {
  assert.deepEqual(parseImapUrl('/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER'), {
    mailbox: 'Drafts',
    uidValidity: 385759045,
    uid: 20,
    section: { part: [], text: 'HEADER' },
  });
  assert.deepEqual(parseImapUrl('/Drafts;UIDVALIDITY=385759045/;UID=20/;Section=1.MIME'), {
    mailbox: 'Drafts',
    uidValidity: 385759045,
    uid: 20,
    section: { part: [1], text: 'MIME' },
  });
  assert.deepEqual(parseImapUrl('/INBOX;UIDVALIDITY=785799047/;UID=113330/;section=1.5.9'), {
    mailbox: 'INBOX',
    uidValidity: 785799047,
    uid: 113330,
    section: { part: [1, 5, 9] },
  });
  assert.deepEqual(parseImapUrl('/INBOX;UIDVALIDITY=785799047/;UID=11467'), { mailbox: 'INBOX', uidValidity: 785799047, uid: 11467 });
});

test('RFC 5092: a hierarchy, percent-encoded UTF-8 names, HEADER.FIELDS, ;PARTIAL, and the selected mailbox', () => {
  assert.deepEqual(parseImapUrl('/Archives/2026%20caf%C3%A9/;UID=3/;SECTION=HEADER.FIELDS%20(FROM%20TO)/;PARTIAL=0.1024'), {
    mailbox: 'Archives/2026 café',
    uid: 3,
    section: { part: [], text: 'HEADER.FIELDS', fields: ['FROM', 'TO'] },
    partial: { start: 0, length: 1024 },
  });
  assert.deepEqual(parseImapUrl(';UID=7/;SECTION=2'), { mailbox: null, uid: 7, section: { part: [2] } });
  assert.deepEqual(parseImapUrl(';uid=7/;partial=10'), { mailbox: null, uid: 7, partial: { start: 10 } });
});

test('RFC 4469 §3: absolute URLs, other servers, message lists, URLAUTH and bad syntax are refused', () => {
  const bad = [
    'imap://user@mail.provider.test/INBOX/;UID=1',
    '//mail.provider.test/INBOX/;UID=1',
    '/INBOX',
    '/INBOX?SUBJECT%20x',
    '/INBOX/;UID=0',
    '/INBOX/;UID=1/;URLAUTH=anonymous',
    '/INBOX/;UID=1/;SECTION=1.BOGUS',
    '/INBOX/;UID=1/;PARTIAL=1.0',
    '/IN%ZZBOX/;UID=1',
    '/INBOX/;UID=99999999999',
    '',
  ];
  for (const url of bad) assert.throws(() => parseImapUrl(url), ProtocolSyntaxError, url);
});
