/**
 * The text SEARCH looks into (RFC 3501 §6.4.4 TEXT, BODY, SUBJECT, FROM, TO, CC, BCC), extracted once
 * when a message is stored: header fields with their RFC 2047 encoded-words decoded, and the text/plain
 * and text/html parts (at any depth, attached messages included) with their transfer encoding and
 * charset decoded, HTML reduced to its visible text. Everything is case-folded here, once, so that the
 * database compares folded strings byte for byte (IMAP's substring match ignores case).
 *
 * Bounded: at most MAX_SEARCH_BODY_CHARS of body text and MAX_SEARCH_HEADER_CHARS of header text per
 * message are indexed; a string beyond them is not found (the rest of a 50 MB log file, say).
 */
import { decode as decodeCharsetBytes } from 'libmime/lib/charset.js';
import { decodeEncodedWords, paramValue } from './params.ts';
import { decodeQuotedPrintable } from './preview.ts';
import { Base64Decoder } from './transfer-decoding.ts';
import type { BodyStructure, MessageMetadata } from './types.ts';

/**
 * Body text indexed per message: 256,000 characters, some 80 pages, more than any message a person writes.
 * It bounds what a delivery holds in memory (the encoded part read, 4 bytes a character at most) and what
 * its trigram index costs: at 1,000,000, 20 concurrent 40 MB text APPENDs grew the process by 200 MB.
 */
export const MAX_SEARCH_BODY_CHARS = 256_000;
/** Header text indexed per message (all fields, for TEXT). */
export const MAX_SEARCH_HEADER_CHARS = 256 * 1024;
/** Encoded bytes read per part: enough for MAX_SEARCH_BODY_CHARS in base64 or quoted-printable of UTF-8. */
const MAX_PART_READ_BYTES = 4 * MAX_SEARCH_BODY_CHARS;

export interface SearchText {
  /** Every top-level header field, `name: decoded value` per line. */
  headers: string;
  subject: string;
  from: string;
  to: string;
  cc: string;
  bcc: string;
  body: string;
}

/** Reads bytes [start, end) of the stored message. */
export type ReadRange = (start: number, end: number) => Promise<Buffer>;

/** Case folding of stored text and of searched strings alike: both sides must fold the same way. */
export function foldForSearch(text: string): string {
  return text.toLowerCase();
}

/** Removes NUL, which PostgreSQL's text cannot hold (and no one searches for). */
function clean(text: string): string {
  return text.replaceAll(String.fromCharCode(0), '');
}

function fieldText(metadata: MessageMetadata, name: string): string {
  return foldForSearch(clean((metadata.headerFields[name] ?? []).map(decodeEncodedWords).join('\n')));
}

function headersText(metadata: MessageMetadata): string {
  const lines: string[] = [];
  let size = 0;
  for (const [name, values] of Object.entries(metadata.headerFields)) {
    for (const value of values) {
      const line = `${name}: ${decodeEncodedWords(value)}`;
      lines.push(line);
      size += line.length + 1;
      if (size > MAX_SEARCH_HEADER_CHARS) return foldForSearch(clean(lines.join('\n'))).slice(0, MAX_SEARCH_HEADER_CHARS);
    }
  }
  return foldForSearch(clean(lines.join('\n')));
}

/** The text parts searched, in message order. */
function textParts(structure: BodyStructure, out: Array<Extract<BodyStructure, { kind: 'text' }>> = []) {
  if (structure.kind === 'multipart') for (const part of structure.parts) textParts(part, out);
  else if (structure.kind === 'message') textParts(structure.body, out);
  else if (structure.kind === 'text' && (structure.subtype === 'plain' || structure.subtype === 'html')) out.push(structure);
  return out;
}

function decodeTransfer(bytes: Buffer, encoding: string): Buffer {
  if (encoding === 'base64') {
    const decoder = new Base64Decoder();
    return Buffer.concat([decoder.push(bytes), decoder.end()]);
  }
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(bytes);
  return bytes;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The declared charset; none (or US-ASCII, often wrong in 8-bit mail) reads as UTF-8 when valid, else Latin-1. */
function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  const name = charset?.trim().toLowerCase();
  if (!name || name === 'us-ascii' || name === 'ascii' || name === 'utf-8' || name === 'utf8') {
    try {
      return strictUtf8.decode(bytes);
    } catch {
      if (name === 'utf-8' || name === 'utf8') return bytes.toString('utf8');
      return bytes.toString('latin1');
    }
  }
  try {
    return decodeCharsetBytes(bytes, name);
  } catch {
    return bytes.toString('latin1');
  }
}

/** Tags inside a line of text: removed without a space, so `<b>bon</b>jour` reads `bonjour`. */
const INLINE_TAGS = new Set([
  'a',
  'abbr',
  'b',
  'bdi',
  'bdo',
  'big',
  'cite',
  'code',
  'em',
  'font',
  'i',
  'kbd',
  'mark',
  'q',
  's',
  'small',
  'span',
  'strong',
  'sub',
  'sup',
  'u',
  'wbr',
]);
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** The visible text of an HTML part: no head, style, script or comments; block tags become line breaks. */
export function htmlSearchText(html: string): string {
  return html
    .replace(/<!--[\s\S]*?(-->|$)/g, ' ')
    .replace(/<(head|style|script|title)\b[\s\S]*?(<\/\1\s*>|$)/gi, ' ')
    .replace(/<\/?([a-z][a-z0-9]*)\b[^>]*(>|$)/gi, (_tag, name: string) => (INLINE_TAGS.has(name.toLowerCase()) ? '' : '\n'))
    .replace(/<[^>]*(>|$)/g, ' ')
    .replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,8});/gi, (whole, name: string) => {
      if (name[0] !== '#') return ENTITIES[name.toLowerCase()] ?? whole;
      const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : ' ';
    });
}

/** Extracts a message's searchable text from its metadata and the byte ranges of its text parts. */
export async function extractSearchText(metadata: MessageMetadata, read: ReadRange): Promise<SearchText> {
  const pieces: string[] = [];
  let size = 0;
  for (const part of textParts(metadata.bodyStructure)) {
    if (size >= MAX_SEARCH_BODY_CHARS) break;
    const end = Math.min(part.bodyEnd, part.bodyStart + MAX_PART_READ_BYTES);
    if (end <= part.bodyStart) continue;
    const decoded = decodeCharset(decodeTransfer(await read(part.bodyStart, end), part.encoding), paramValue(part.params, 'charset'));
    const text = part.subtype === 'html' ? htmlSearchText(decoded) : decoded;
    pieces.push(text);
    size += text.length + 1;
  }
  return {
    headers: headersText(metadata),
    subject: fieldText(metadata, 'subject'),
    from: fieldText(metadata, 'from'),
    to: fieldText(metadata, 'to'),
    cc: fieldText(metadata, 'cc'),
    bcc: fieldText(metadata, 'bcc'),
    body: foldForSearch(clean(pieces.join('\n'))).slice(0, MAX_SEARCH_BODY_CHARS),
  };
}
