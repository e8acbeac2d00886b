/** The header block found from a message's first bytes ends where the MIME scanner ends the header. */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { extractMetadata } from '../mime/index.ts';
import { headerBlockOf, MAX_HEADER_BLOCK_BYTES } from './headers.ts';

const SAMPLES: Record<string, string> = {
  crlf: 'From: a@b.test\r\nSubject: hi\r\n\r\nbody\r\n',
  'bare LF': 'From: a@b.test\nSubject: hi\n\nbody\n',
  'CR LF LF': 'From: a@b.test\r\n\nbody\r\n',
  folded: 'Subject: a\r\n long one\r\nTo: c@d.test\r\n\r\n\r\nbody after an empty line\r\n',
  'empty header': '\r\nbody only\r\n',
  'no blank line': 'From: a@b.test\r\nSubject: all header',
  'no body': 'From: a@b.test\r\nSubject: x\r\n\r\n',
};

for (const [name, raw] of Object.entries(SAMPLES)) {
  test(`RFC 5322 §2.1 header block of a message (${name}) is BODY[HEADER] as the metadata says`, async () => {
    const bytes = Buffer.from(raw, 'latin1');
    const metadata = await extractMetadata(Readable.from([bytes]));
    assert.deepEqual(headerBlockOf(bytes), bytes.subarray(0, metadata.headerSize));
  });
}

test('a header longer than the bytes read is left to the caller', () => {
  const long = Buffer.from(`X-Long: ${'a'.repeat(MAX_HEADER_BLOCK_BYTES)}\r\n\r\nbody`);
  assert.equal(headerBlockOf(long.subarray(0, MAX_HEADER_BLOCK_BYTES)), undefined);
});
