/**
 * The summary's preview: the first characters of the message's text, from the bytes the scanner captured
 * (the start of the first text/plain part, else of the first text/html part). Decoding is best effort:
 * broken base64, quoted-printable or charsets give what can be read, never an error.
 */
import { decode as decodeCharsetBytes } from 'libmime/lib/charset.js';
import { clipChars, PREVIEW_CHARS } from './limits.ts';
import type { PreviewCapture } from './scanner.ts';

/** RFC 2045 §6.8, on a prefix of the body: whole 4-character groups only; characters outside the alphabet are ignored. */
function decodeBase64Prefix(bytes: Buffer): Buffer {
  const alphabet = bytes.toString('latin1').replace(/[^A-Za-z0-9+/]/g, '');
  return Buffer.from(alphabet.slice(0, alphabet.length - (alphabet.length % 4)), 'base64');
}

/** RFC 2045 §6.7: `=XX` octets and soft line breaks; a malformed `=` is kept as it is. */
export function decodeQuotedPrintable(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(bytes.length);
  let length = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte !== 0x3d) {
      out[length++] = byte;
      continue;
    }
    const hex = bytes.toString('latin1', i + 1, i + 3);
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      out[length++] = Number.parseInt(hex, 16);
      i += 2;
    } else {
      const softBreak = /^[ \t]*\r?\n/.exec(bytes.toString('latin1', i + 1, Math.min(bytes.length, i + 80)));
      if (softBreak) i += softBreak[0].length;
      else if (i + 1 < bytes.length) out[length++] = byte;
    }
  }
  return out.subarray(0, length);
}

function decodeTransfer(bytes: Buffer, encoding: string): Buffer {
  if (encoding === 'base64') return decodeBase64Prefix(bytes);
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(bytes);
  return bytes;
}

function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  try {
    return decodeCharsetBytes(bytes, charset || 'us-ascii');
  } catch {
    return bytes.toString('latin1');
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decodeHtmlEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,8});/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : ' ';
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** Visible text of (the start of) an HTML document: no head, styles, scripts, comments or tags. */
export function htmlToText(html: string): string {
  const text = html
    .replace(/<!--[\s\S]*?(-->|$)/g, ' ')
    .replace(/<(head|style|script|title)\b[\s\S]*?(<\/\1\s*>|$)/gi, ' ')
    .replace(/<[^>]*(>|$)/g, ' ');
  return decodeHtmlEntities(text);
}

/** Drops control and replacement characters (undecodable input) and collapses white space. */
function collapse(text: string): string {
  return (
    text
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
      .replace(/[\u0000-\u0008\u000e-\u001f\u007f-\u009f\uFFFD]+/g, '')
      .replace(/[\s\u00a0]+/g, ' ')
      .trim()
  );
}

/** Drops control and replacement characters (undecodable input), collapses white space and keeps the first characters. */
export function toPreview(text: string): string {
  return clipChars(collapse(text), PREVIEW_CHARS).trimEnd();
}

/**
 * Bytes of a capture decoded first: the preview is taken from them when they give enough text.
 * Decoding the whole capture (16 KB of text, 128 KB of HTML) for 200 characters was a few percent
 * of the MX's time per message.
 */
export const PREVIEW_FIRST_BYTES = 2048;
/**
 * Characters beyond the preview that the first bytes must give for their preview to be the whole
 * capture's: what a cut at their end can spoil (a split `=XX`, entity or character, an unclosed tag)
 * stays past the preview.
 */
const CUT_MARGIN_CHARS = 32;

function collapsedText(bytes: Buffer, capture: PreviewCapture): string {
  const text = decodeCharset(decodeTransfer(bytes, capture.encoding), capture.charset);
  return collapse(capture.subtype === 'html' ? htmlToText(text) : text);
}

function previewOf(capture: PreviewCapture | null): string {
  if (!capture) return '';
  const bytes = capture.bytes.bytes();
  let text: string | undefined;
  if (bytes.length > PREVIEW_FIRST_BYTES) {
    const first = collapsedText(bytes.subarray(0, PREVIEW_FIRST_BYTES), capture);
    if (first.length >= PREVIEW_CHARS + CUT_MARGIN_CHARS) text = first;
  }
  return clipChars(text ?? collapsedText(bytes, capture), PREVIEW_CHARS).trimEnd();
}

/** The text/plain part's preview, or the text/html part's when there is no plain text. */
export function buildPreview(captures: { plain: PreviewCapture | null; html: PreviewCapture | null }): string {
  return previewOf(captures.plain) || previewOf(captures.html);
}
