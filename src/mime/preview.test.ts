/**
 * The preview is decoded from the first bytes of a capture when they give enough text: it must be
 * exactly the preview of the whole capture, wherever the cut falls (inside a quoted-printable
 * escape, a base64 group, a UTF-8 character, an entity or a tag), and the whole capture is decoded
 * when the first bytes give too little (white space, a long <style>).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PREVIEW_CHARS } from './limits.ts';
import { decodeQuotedPrintable, htmlToText, PREVIEW_FIRST_BYTES, toPreview } from './preview.ts';
import { extractInChunks } from './test-support.ts';

function message(contentType: string, encoding: string, body: string): Buffer {
  return Buffer.from(
    `From: a@example.org\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: ${contentType}\r\nContent-Transfer-Encoding: ${encoding}\r\n\r\n${body}`,
  );
}

async function previewOf(raw: Buffer): Promise<string> {
  return (await extractInChunks(raw, 997)).summary.preview;
}

const words = Array.from({ length: 600 }, (_, i) => `mot${i} été ✓`).join(' ');

test('plain text, 8bit UTF-8: every cut of the first bytes gives the whole preview', async () => {
  for (let shift = 0; shift < 6; shift++) {
    const body = `${'x'.repeat(shift)} ${words}`;
    assert.equal(await previewOf(message('text/plain; charset=utf-8', '8bit', body)), toPreview(body), `shift ${shift}`);
  }
});

test('quoted-printable and base64 cut anywhere in an escape or a group', async () => {
  const qp = Buffer.from(words)
    .toString('latin1')
    .replace(/[^\x20-\x7e]/g, (c) => `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
    .replace(/(.{70})/g, '$1=\r\n');
  for (let shift = 0; shift < 4; shift++) {
    const body = `${'a'.repeat(shift)}${qp}`;
    const expected = toPreview(decodeQuotedPrintable(Buffer.from(body)).toString('utf8'));
    assert.equal(await previewOf(message('text/plain; charset=utf-8', 'quoted-printable', body)), expected, `qp shift ${shift}`);
  }
  for (let shift = 0; shift < 4; shift++) {
    const text = `${'b'.repeat(shift)}${words}`;
    const body = Buffer.from(text)
      .toString('base64')
      .replace(/(.{76})/g, '$1\r\n');
    assert.equal(await previewOf(message('text/plain; charset=utf-8', 'base64', body)), toPreview(text), `base64 shift ${shift}`);
  }
});

test('HTML: a cut inside a tag or an entity, and a <style> longer than the first bytes', async () => {
  const html = Array.from({ length: 400 }, (_, i) => `<p class="c${i}">Ligne&nbsp;${i} &amp; suite</p>`).join('\n');
  for (let shift = 0; shift < 8; shift++) {
    const body = `<html><body>${' '.repeat(shift)}${html}</body></html>`;
    assert.equal(await previewOf(message('text/html; charset=utf-8', '8bit', body)), toPreview(htmlToText(body)), `shift ${shift}`);
  }
  const styled = `<html><head><style>${'.a{color:red}\n'.repeat(300)}</style></head><body><p>Visible text after a long style.</p></body></html>`;
  assert.ok(styled.indexOf('</style>') > PREVIEW_FIRST_BYTES);
  assert.equal(await previewOf(message('text/html', '7bit', styled)), 'Visible text after a long style.');
});

test('white space and control characters filling the first bytes: the rest of the capture is read', async () => {
  const body = `${' \r\n\t'.repeat(PREVIEW_FIRST_BYTES)}Finally some text.`;
  assert.equal(await previewOf(message('text/plain', '7bit', body)), 'Finally some text.');
  const long = await previewOf(message('text/plain', '7bit', words));
  assert.ok(long.length <= PREVIEW_CHARS && long.length > PREVIEW_CHARS - 20);
});
