import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { extractMetadata } from './extract.ts';
import { paramValue } from './params.ts';
import { listParts, partByNumber } from './parts.ts';
import { assertConsistent, extractInChunks, extractSplitAt, readFixture, text } from './test-support.ts';
import type { Address, BodyStructure, Envelope, MessageMetadata, MessageSummary } from './types.ts';

const a = (name: string | null, mailbox: string | null, host: string | null): Address => ({ name, mailbox, host });
const groupStart = (name: string): Address => a(null, name, null);
const groupEnd: Address = a(null, null, null);

interface PartCase {
  number: string;
  /** type/subtype */
  type: string;
  /** BODY[n.MIME]: the part's header, exactly. */
  mime?: string;
  /** BODY[n]: the part's body, exactly. */
  body?: string;
  /** Other fields of the structure, compared one by one. */
  fields?: Record<string, unknown>;
}

interface FixtureCase {
  file: string;
  headerSize?: number;
  envelope?: Partial<Envelope>;
  summary?: Partial<MessageSummary>;
  /** Every part, in order. */
  parts: PartCase[];
  check?: (meta: MessageMetadata, raw: Buffer) => void;
}

const terryGray = [a('Terry Gray', 'gray', 'cac.washington.edu')];

const CASES: FixtureCase[] = [
  {
    // RFC 3501 §7.4.2, the FETCH response example: ENVELOPE and BODY.
    file: 'rfc3501-fetch-example.eml',
    envelope: {
      date: 'Wed, 17 Jul 1996 02:23:25 -0700 (PDT)',
      subject: 'IMAP4rev1 WG mtg summary and minutes',
      from: terryGray,
      sender: terryGray,
      replyTo: terryGray,
      to: [a(null, 'imap', 'cac.washington.edu')],
      cc: [a(null, 'minutes', 'CNRI.Reston.VA.US'), a('John Klensin', 'KLENSIN', 'MIT.EDU')],
      bcc: null,
      inReplyTo: null,
      messageId: '<B27397-0100000@cac.washington.edu>',
    },
    summary: { date: Date.UTC(1996, 6, 17, 9, 23, 25), messageId: '<B27397-0100000@cac.washington.edu>', hasAttachments: false },
    parts: [
      {
        number: '1',
        type: 'text/plain',
        fields: { kind: 'text', params: [['charset', 'US-ASCII']], id: null, description: null, encoding: '7bit', size: 3028, lines: 92 },
      },
    ],
  },
  {
    // RFC 3501 §7.4.2, the BODYSTRUCTURE example.
    file: 'rfc3501-bodystructure-example.eml',
    parts: [
      { number: '1', type: 'text/plain', fields: { params: [['charset', 'US-ASCII']], id: null, description: null, encoding: '7bit', size: 1152, lines: 23 } },
      {
        number: '2',
        type: 'text/plain',
        fields: {
          params: [
            ['charset', 'US-ASCII'],
            ['name', 'cc.diff'],
          ],
          id: '<960723163407.20117h@cac.washington.edu>',
          description: 'Compiler diff',
          encoding: 'base64',
          size: 4554,
          lines: 73,
        },
      },
    ],
    check: (meta) => {
      assert.equal(meta.bodyStructure.kind, 'multipart');
      assert.equal(meta.bodyStructure.subtype, 'mixed');
      assert.equal(meta.summary.hasAttachments, true);
    },
  },
  {
    // RFC 3501 §6.4.5, the part numbering example.
    file: 'rfc3501-part-numbers.eml',
    parts: [
      { number: '1', type: 'text/plain', body: 'part 1', mime: 'Content-Type: TEXT/PLAIN\r\n\r\n' },
      { number: '2', type: 'application/octet-stream', body: 'part 2' },
      { number: '3', type: 'message/rfc822' },
      { number: '3.1', type: 'text/plain', body: 'part 3.1' },
      { number: '3.2', type: 'application/octet-stream', body: 'part 3.2' },
      { number: '4', type: 'multipart/mixed' },
      { number: '4.1', type: 'image/gif', body: 'part 4.1', mime: 'Content-Type: IMAGE/GIF\r\n\r\n' },
      { number: '4.2', type: 'message/rfc822' },
      { number: '4.2.1', type: 'text/plain', body: 'part 4.2.1' },
      { number: '4.2.2', type: 'multipart/alternative' },
      { number: '4.2.2.1', type: 'text/plain', body: 'part 4.2.2.1' },
      { number: '4.2.2.2', type: 'text/richtext', body: 'part 4.2.2.2' },
    ],
  },
  {
    file: 'simple-text.eml',
    envelope: {
      date: 'Mon, 2 Mar 2026 10:00:00 +0100',
      subject: 'Lunch tomorrow?',
      from: [a('Alice Example', 'alice', 'example.org')],
      to: [a('Bob', 'bob', 'example.net')],
      cc: null,
      inReplyTo: '<lunch-0@example.net>',
      messageId: '<lunch-1@example.org>',
    },
    summary: {
      subject: 'Lunch tomorrow?',
      from: 'Alice Example <alice@example.org>',
      to: ['Bob <bob@example.net>'],
      cc: [],
      date: Date.UTC(2026, 2, 2, 9, 0, 0),
      messageId: '<lunch-1@example.org>',
      hasAttachments: false,
      preview: 'Hi Bob, Lunch tomorrow at noon? Alice',
    },
    parts: [
      {
        number: '1',
        type: 'text/plain',
        body: 'Hi Bob,\r\n\r\nLunch tomorrow at noon?\r\n\r\nAlice\r\n',
        fields: { params: [['charset', 'us-ascii']], lines: 5 },
      },
    ],
    check: (meta) => {
      assert.deepEqual(meta.headerFields['x-long'], ['folded onto the next line']);
      assert.deepEqual(meta.headerFields.received, [
        'from mail.example.org (mail.example.org [192.0.2.1])\tby mx.example.net with ESMTPS id abc123\tfor <bob@example.net>; Mon, 2 Mar 2026 10:00:00 +0100',
      ]);
      assert.deepEqual(Object.keys(meta.headerFields), [
        'return-path',
        'received',
        'from',
        'to',
        'subject',
        'date',
        'message-id',
        'in-reply-to',
        'references',
        'x-long',
      ]);
    },
  },
  {
    file: 'alternative.eml',
    envelope: {
      subject: '=?UTF-8?B?UsOpdW5pb24gZGUgbHVuZGk=?=',
      from: [a('=?UTF-8?Q?Ren=C3=A9e_Dupr=C3=A9?=', 'renee', 'example.fr')],
      to: [a('Martin, Paul', 'paul', 'example.fr'), a('Carole Ledoux', 'carole', 'example.fr')],
      cc: [groupStart('equipe'), a(null, 'anne', 'example.fr'), a(null, 'jean', 'example.fr'), groupEnd, a('Bernard', 'bernard', 'example.fr')],
    },
    summary: {
      subject: 'Réunion de lundi',
      from: 'Renée Dupré <renee@example.fr>',
      to: ['Martin, Paul <paul@example.fr>', 'Carole Ledoux <carole@example.fr>'],
      cc: ['anne@example.fr', 'jean@example.fr', 'Bernard <bernard@example.fr>'],
      date: Date.UTC(2026, 2, 3, 8, 15, 0),
      hasAttachments: false,
      preview: 'La réunion de lundi est déplacée à 14 h. Merci de confirmer.',
    },
    parts: [
      {
        number: '1',
        type: 'text/plain',
        mime: 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
        body: 'La r=C3=A9union de lundi est d=C3=A9plac=C3=A9e =C3=A0 14 h. Merci de confi=\r\nrmer.',
        fields: { encoding: 'quoted-printable', lines: 2 },
      },
      { number: '2', type: 'text/html', fields: { params: [['charset', 'utf-8']], lines: 2 } },
    ],
  },
  {
    file: 'mixed-attachment.eml',
    envelope: { date: '4 Mar 2026 12:00 -0500', subject: 'Your invoice' },
    summary: { date: Date.UTC(2026, 2, 4, 17, 0, 0), hasAttachments: true, preview: 'Please find your invoice attached.' },
    parts: [
      { number: '1', type: 'multipart/alternative', fields: { params: [['boundary', 'alt-1']] } },
      { number: '1.1', type: 'text/plain', body: 'Please find your invoice attached.', fields: { lines: 1 } },
      { number: '1.2', type: 'text/html', body: '<p>Please find your invoice attached.</p>' },
      {
        number: '2',
        type: 'application/pdf',
        fields: {
          kind: 'basic',
          params: [['name', 'invoice.pdf']],
          disposition: {
            type: 'attachment',
            params: [
              ['filename', 'invoice.pdf'],
              ['size', '777'],
            ],
          },
          language: ['en', 'fr'],
          location: 'http://example.com/invoices/42.pdf',
          md5: 'Q2hlY2sgSW50ZWdyaXR5IQ==',
          description: 'Invoice 42',
          encoding: 'base64',
        },
      },
    ],
    check: (meta, raw) => {
      const pdf = partByNumber(meta.bodyStructure, '2')!;
      const decoded = Buffer.from(text(raw, pdf.bodyStart, pdf.bodyEnd), 'base64');
      assert.deepEqual(decoded, Buffer.concat([Buffer.from('%PDF-1.4\n'), ...Array(3).fill(Buffer.from(Array.from({ length: 256 }, (_, i) => i)))]));
    },
  },
  {
    file: 'nested-rfc822.eml',
    summary: { hasAttachments: true, preview: 'See the two messages below.' },
    parts: [
      { number: '1', type: 'text/plain', body: 'See the two messages below.' },
      { number: '2', type: 'message/rfc822', fields: { disposition: { type: 'attachment', params: [['filename', 'first.eml']] } } },
      { number: '2.1', type: 'text/plain', body: 'first, plain', mime: 'Content-Type: text/plain\r\n\r\n' },
      { number: '2.2', type: 'text/html', body: '<b>first, html</b>' },
      {
        number: '3',
        type: 'message/rfc822',
        body: 'Subject: second\r\nSender: agent@example.com\r\nReply-To: replies@example.com\r\n\r\nsecond body\r\nline two',
        fields: { lines: 6 },
      },
      {
        number: '3.1',
        type: 'text/plain',
        mime: 'Subject: second\r\nSender: agent@example.com\r\nReply-To: replies@example.com\r\n\r\n',
        body: 'second body\r\nline two',
        fields: { lines: 2 },
      },
    ],
    check: (meta) => {
      const first = partByNumber(meta.bodyStructure, '2');
      assert.equal(first?.kind, 'message');
      assert.deepEqual(first.envelope, {
        date: 'Sun, 1 Mar 2026 09:00:00 +0000',
        subject: 'first',
        from: [a('First Sender', 'first', 'example.com')],
        sender: [a('First Sender', 'first', 'example.com')],
        replyTo: [a('First Sender', 'first', 'example.com')],
        to: [a(null, 'forwarder', 'example.org')],
        cc: null,
        bcc: null,
        inReplyTo: null,
        messageId: '<first@example.com>',
      });
      const second = partByNumber(meta.bodyStructure, '3');
      assert.equal(second?.kind, 'message');
      // Sender and Reply-To are present: they are not taken from the (absent) From.
      assert.deepEqual(
        [second.envelope.from, second.envelope.sender, second.envelope.replyTo],
        [null, [a(null, 'agent', 'example.com')], [a(null, 'replies', 'example.com')]],
      );
    },
  },
  {
    file: 'encoded-names.eml',
    envelope: {
      date: 'Thu, 05 Mar 26 07:30:00 PST',
      from: [a('=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=', 'keld', 'example.dk')],
      to: [a('=?US-ASCII?Q?Keith_Moore?=', 'moore', 'example.edu'), a('=?utf-8?q?Andr=C3=A9?=', 'andre', 'example.fr')],
      cc: [groupStart('undisclosed-recipients'), groupEnd],
      // RFC 5322 §4.4 obsolete route, kept as RFC 3501 §7.4.2's at-domain-list.
      replyTo: [{ name: null, route: '@relay.example', mailbox: 'replies', host: 'example.dk' }],
    },
    summary: {
      from: 'Keld Jørn Simonsen <keld@example.dk>',
      to: ['Keith Moore <moore@example.edu>', 'André <andre@example.fr>'],
      cc: [],
      date: Date.UTC(2026, 2, 5, 15, 30, 0),
      hasAttachments: true,
      preview: 'Bonjour à tous.',
    },
    parts: [
      { number: '1', type: 'text/plain', body: 'Bonjour =E0 tous.', fields: { params: [['charset', 'iso-8859-1']], encoding: 'quoted-printable' } },
      {
        number: '2',
        type: 'application/octet-stream',
        body: 'AAAA',
        fields: {
          params: [['name*', "utf-8''%E2%82%AC%20rates%20for%202026.txt"]],
          disposition: { type: 'attachment', params: [['filename*', "UTF-8''%E2%82%AC%20rates.txt"]] },
        },
      },
    ],
    check: (meta) => {
      // RFC 2231 continuations of the boundary are joined; the unknown charset of the subject does not break decoding.
      assert.deepEqual(meta.bodyStructure.params, [['boundary', 'split-boundary']]);
      assert.match(meta.summary.subject, /^caf.+ and not base64!broken$/);
      const file = partByNumber(meta.bodyStructure, '2')!;
      assert.equal(paramValue(file.params, 'name'), '€ rates for 2026.txt');
      assert.equal(paramValue(file.disposition!.params, 'filename'), '€ rates.txt');
    },
  },
  {
    // RFC 6532: raw UTF-8 in header fields is kept as UTF-8; bytes that are not UTF-8 are read as Latin-1.
    file: 'utf8-headers.eml',
    envelope: {
      subject: 'Réunion à 14 h — ✓',
      from: [a('Jérôme Lefèvre', 'jérôme', 'exemple.fr')],
      to: [a('山田太郎', 'taro', 'example.jp')],
    },
    summary: { subject: 'Réunion à 14 h — ✓', from: 'Jérôme Lefèvre <jérôme@exemple.fr>', preview: 'Déjà vu.' },
    parts: [{ number: '1', type: 'text/plain', body: 'Déjà vu.\r\n', fields: { encoding: '8bit', size: 12 } }],
    check: (meta) => assert.deepEqual(meta.headerFields['x-latin1'], ['café']),
  },
  {
    file: 'no-headers.eml',
    headerSize: 2,
    envelope: { date: null, subject: null, from: null, sender: null, replyTo: null, to: null, cc: null, bcc: null, inReplyTo: null, messageId: null },
    summary: { subject: '', from: '', to: [], date: null, messageId: null, preview: 'This message has no header at all: the first line is the blank line.' },
    parts: [
      {
        number: '1',
        type: 'text/plain',
        mime: '\r\n',
        body: 'This message has no header at all:\r\nthe first line is the blank line.\r\n',
        fields: { params: [['charset', 'us-ascii']], lines: 2 },
      },
    ],
    check: (meta) => assert.deepEqual({ ...meta.headerFields }, {}),
  },
  {
    // No blank line, no body; the multipart it announces has no part and reads as an empty text.
    file: 'header-only.eml',
    headerSize: 96,
    envelope: { subject: 'only a header', from: [a(null, 'someone', 'example.org')] },
    summary: { preview: '' },
    parts: [{ number: '1', type: 'text/plain', body: '', fields: { size: 0, lines: 0 } }],
  },
  {
    file: 'missing-final-boundary.eml',
    parts: [
      { number: '1', type: 'text/plain', body: 'complete part' },
      { number: '2', type: 'text/plain', body: 'this part never ends\r\n', fields: { lines: 1 } },
    ],
  },
  {
    file: 'boundary-never-present.eml',
    parts: [{ number: '1', type: 'text/plain', body: 'Just text, the boundary never comes.\r\n--not-the-boundary\r\nStill text.\r\n', fields: { lines: 3 } }],
  },
  {
    file: 'multipart-without-boundary.eml',
    summary: { preview: 'Text of a multipart that names no boundary.' },
    parts: [{ number: '1', type: 'text/plain', body: 'Text of a multipart that names no boundary.\r\n' }],
  },
  {
    // RFC 2046 §5.1.5: in a digest, a part without Content-Type is a message/rfc822.
    file: 'digest.eml',
    parts: [
      { number: '1', type: 'message/rfc822', mime: '\r\n', body: 'Subject: one\r\n\r\nfirst digest message' },
      { number: '1.1', type: 'text/plain', mime: 'Subject: one\r\n\r\n', body: 'first digest message' },
      { number: '2', type: 'text/plain', body: 'not a message' },
    ],
  },
  {
    file: 'bare-lf.eml',
    parts: [
      { number: '1', type: 'text/plain', mime: 'Content-Type: text/plain\n\n', body: 'line one\nline two\n', fields: { lines: 2 } },
      { number: '2', type: 'text/plain', body: '', fields: { lines: 0 } },
    ],
  },
  {
    file: 'broken-base64.eml',
    parts: [{ number: '1', type: 'text/plain', body: '!!!! this is not base64 at all ####\r\nSGVsbG8=garbage==\r\n', fields: { encoding: 'base64' } }],
    check: (meta) => {
      assert.ok(meta.summary.preview.length <= 200);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: checking that none is left
      assert.doesNotMatch(meta.summary.preview, /[\u0000-\u001f\uFFFD]/);
    },
  },
];

function typeOf(part: BodyStructure): string {
  return `${part.type}/${part.subtype}`;
}

for (const fixture of CASES) {
  test(`fixture ${fixture.file}: envelope, structure and offsets`, async () => {
    const raw = readFixture(fixture.file);
    const meta = await extractInChunks(raw);
    assertConsistent(meta, raw);
    assert.deepEqual(
      listParts(meta.bodyStructure).map(({ number, part }) => [number, typeOf(part)]),
      fixture.parts.map((part) => [part.number, part.type]),
    );
    for (const expected of fixture.parts) {
      const part = partByNumber(meta.bodyStructure, expected.number)!;
      if (expected.mime !== undefined) assert.equal(text(raw, part.headerStart, part.bodyStart), expected.mime, `${expected.number}.MIME`);
      if (expected.body !== undefined) assert.equal(text(raw, part.bodyStart, part.bodyEnd), expected.body, `body of ${expected.number}`);
      for (const [key, value] of Object.entries(expected.fields ?? {})) {
        assert.deepEqual((part as unknown as Record<string, unknown>)[key], value, `${key} of ${expected.number}`);
      }
    }
    if (fixture.headerSize !== undefined) assert.equal(meta.headerSize, fixture.headerSize);
    for (const [key, value] of Object.entries(fixture.envelope ?? {})) assert.deepEqual(meta.envelope[key as keyof Envelope], value, `envelope ${key}`);
    for (const [key, value] of Object.entries(fixture.summary ?? {})) assert.deepEqual(meta.summary[key as keyof MessageSummary], value, `summary ${key}`);
    fixture.check?.(meta, raw);
  });

  test(`fixture ${fixture.file}: the same result in chunks of 1, 7 and 65536 bytes`, async () => {
    const raw = readFixture(fixture.file);
    const whole = await extractInChunks(raw);
    for (const size of [1, 7, 65536]) assert.deepEqual(await extractInChunks(raw, size), whole, `chunks of ${size}`);
  });
}

test('split anywhere (inside CRLF, inside boundary lines, inside headers): the same result', () => {
  for (const file of ['nested-rfc822.eml', 'bare-lf.eml', 'encoded-names.eml', 'rfc3501-part-numbers.eml']) {
    const raw = readFixture(file);
    const whole = extractSplitAt(raw);
    for (let cut = 1; cut < raw.length; cut++) assert.deepEqual(extractSplitAt(raw, cut), whole, `${file} cut at ${cut}`);
    for (let cut = 1; cut + 2 < raw.length; cut += 3) assert.deepEqual(extractSplitAt(raw, cut, cut + 1, cut + 2), whole, `${file} cut at ${cut}..+2`);
  }
});

test('RFC 3501 §6.4.5: HEADER, TEXT and MIME of encapsulated messages are byte ranges of the stored message', async () => {
  const raw = readFixture('rfc3501-part-numbers.eml');
  const { bodyStructure } = await extractInChunks(raw, 5);
  const three = partByNumber(bodyStructure, '3');
  assert.equal(three?.kind, 'message');
  assert.equal(text(raw, three.body.headerStart, three.body.bodyStart), 'Subject: part 3\r\nContent-Type: MULTIPART/MIXED; boundary=three\r\n\r\n');
  assert.equal(
    text(raw, three.body.bodyStart, three.body.bodyEnd),
    '--three\r\nContent-Type: TEXT/PLAIN\r\n\r\npart 3.1\r\n--three\r\nContent-Type: APPLICATION/OCTET-STREAM\r\n\r\npart 3.2\r\n--three--',
  );
  const fourTwo = partByNumber(bodyStructure, '4.2');
  assert.equal(fourTwo?.kind, 'message');
  assert.equal(fourTwo.envelope.subject, 'part 4.2');
  assert.equal(text(raw, fourTwo.headerStart, fourTwo.bodyStart), 'Content-Type: MESSAGE/RFC822\r\n\r\n');
  assert.equal(text(raw, bodyStructure.headerStart, bodyStructure.bodyStart).split('\r\n')[2], 'Subject: part numbers of RFC 3501 section 6.4.5');
});

test('a Node Readable is accepted as the source', async () => {
  const raw = readFixture('alternative.eml');
  const chunks = Array.from({ length: Math.ceil(raw.length / 100) }, (_, i) => raw.subarray(i * 100, i * 100 + 100));
  assert.deepEqual(await extractMetadata(Readable.from(chunks)), await extractInChunks(raw));
});

test('the metadata is plain JSON: it survives a round trip', async () => {
  const meta = await extractInChunks(readFixture('nested-rfc822.eml'));
  assert.deepEqual(JSON.parse(JSON.stringify(meta)), { ...meta, headerFields: { ...meta.headerFields } });
});
