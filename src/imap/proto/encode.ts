/**
 * The one serializer of responses (RFC 3501 §7, §9). Responses are built from `Item`s and come out
 * as chunks: Buffers for text, and, for message bodies that must never be held whole, the caller's
 * own streamed-literal objects passed through untouched after their `{size}\r\n` announcement. The
 * server writes the chunks in order, reading each streamed literal from its source.
 */
import { Buffer, isUtf8 } from 'node:buffer';

/**
 * What a NUL octet of a message becomes in a plain literal: RFC 3501 §4.3 and §9 (`CHAR8` excludes %x00)
 * allow no NUL there; only a literal8 (RFC 3516 §4.2, BINARY) may carry one. Replaced byte for byte, so
 * sizes (RFC822.SIZE, BODYSTRUCTURE, partial offsets) stay true; 0x80 as Dovecot does, a byte no charset
 * reads as text, so the reader sees that something was there. BINARY[...] gives the NUL itself in a literal8.
 */
export const NUL_REPLACEMENT = 0x80;

/** The bytes with every NUL replaced by NUL_REPLACEMENT; the same Buffer when there is none (the usual case). */
export function replaceNul(bytes: Buffer): Buffer {
  let at = bytes.indexOf(0);
  if (at < 0) return bytes;
  const copy = Buffer.from(bytes);
  while (at >= 0) {
    copy[at] = NUL_REPLACEMENT;
    at = copy.indexOf(0, at + 1);
  }
  return copy;
}

/** Strings longer than this go as literals: long quoted strings are hard on clients' line buffers. */
export const MAX_QUOTED_BYTES = 1024;

/** Anything with a size can be streamed; the server's writer knows how to read its own type. */
export interface SizedSource {
  readonly size: number;
}

export interface StringItem {
  kind: 'string';
  value: string | Buffer;
  /** An astring: written as a bare atom when it can be (mailbox names). */
  astring?: boolean;
}
export interface LiteralItem {
  kind: 'literal';
  value: Buffer;
  /** A literal8 `~{n}` (RFC 3516 §4.2), for BINARY content that may contain NUL. */
  binary?: boolean;
}
export interface StreamItem<S extends SizedSource = SizedSource> {
  kind: 'stream';
  source: S;
  binary?: boolean;
}

/** Items written one after another with no space between: RFC 3501 `body-type-mpart = 1*body SP media-subtype`. */
export interface JoinedItem {
  kind: 'joined';
  items: Item[];
}

/**
 * A response element: a plain JavaScript string is written as is (an atom, a flag, a section echo
 * like `BODY[HEADER]<0>`: the caller's text, which must not contain CR, LF or NUL); a number or a
 * bigint as a number; null as NIL; an array as a parenthesized list; `str()`, `astr()`,
 * `literal()` and `streamed()` for strings.
 */
export type Item = string | number | bigint | null | StringItem | LiteralItem | StreamItem | JoinedItem | Item[];

/** A string value: quoted when safe, otherwise a literal. */
export const str = (value: string | Buffer): StringItem => ({ kind: 'string', value });
/** A string that may go as an atom (mailbox names, RFC 3501 `astring`). */
export const astr = (value: string | Buffer): StringItem => ({ kind: 'string', value, astring: true });
export const literal = (value: Buffer, binary = false): LiteralItem => (binary ? { kind: 'literal', value, binary } : { kind: 'literal', value });
/** A literal whose `source.size` bytes the server streams (a body section from the blob store). */
export const streamed = <S extends SizedSource>(source: S, binary = false): StreamItem<S> =>
  binary ? { kind: 'stream', source, binary } : { kind: 'stream', source };

/** The parts of a multipart BODYSTRUCTURE, written back to back. */
export const joined = (items: Item[]): JoinedItem => ({ kind: 'joined', items });

export type Chunk<S extends SizedSource = SizedSource> = Buffer | S;

export interface EncodeOptions {
  /** RFC 6855 UTF8=ACCEPT is enabled: UTF-8 may go in quoted strings. */
  utf8Accept?: boolean;
}

export type Status = 'OK' | 'NO' | 'BAD';
/** A response code: its text (`READ-WRITE`, `COPYUID 1 2:3 4:5`) or items (`['UIDNEXT', 5]`). */
export type ResponseCode = string | Item[];

/** Bytes written into the pending text rather than as chunks of their own, at most. */
const INLINE_BYTES = 4096;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the whole 7-bit range is the point
const ASCII = /^[\x00-\x7f]*$/;

/**
 * Gathers a response as one byte string (a character per byte, latin1) and makes it a Buffer once:
 * a FETCH ENVELOPE is some forty tokens, and a Buffer per token cost more than the encoding itself.
 */
class ChunkBuilder {
  readonly chunks: Chunk[] = [];
  private pending = '';

  /** Text of the protocol or of a value, written as UTF-8. */
  text(text: string): void {
    this.pending += ASCII.test(text) ? text : Buffer.from(text, 'utf8').toString('latin1');
  }

  /** Bytes given as a byte string (a character per byte). */
  byteText(bytes: string): void {
    this.pending += bytes;
  }

  bytes(bytes: Buffer): void {
    if (bytes.length <= INLINE_BYTES) {
      this.pending += bytes.toString('latin1');
      return;
    }
    this.flush();
    this.chunks.push(bytes);
  }

  source(source: SizedSource): void {
    this.flush();
    this.chunks.push(source);
  }

  flush(): void {
    if (this.pending === '') return;
    this.chunks.push(Buffer.from(this.pending, 'latin1'));
    this.pending = '';
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const UNSAFE_RAW = /[\r\n\x00]/;
/** RFC 3501 ATOM-CHAR: printable ASCII except atom-specials. `NIL` is excluded by the caller. */
const ATOM = /^[!#$&'+-[^-z|}~]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: what a quoted string cannot hold
const NOT_QUOTABLE = /[\x00\r\n]/;
const EIGHT_BIT = /[\x80-\xff]/;

/** `bytes` is the value as a byte string (a character per byte). */
function canQuote(bytes: string, options: EncodeOptions): boolean {
  if (bytes.length > MAX_QUOTED_BYTES || NOT_QUOTABLE.test(bytes)) return false;
  return !EIGHT_BIT.test(bytes) || (options.utf8Accept === true && isUtf8(Buffer.from(bytes, 'latin1')));
}

/** A string value as a byte string: its UTF-8 bytes, a character each. */
function byteString(value: string | Buffer): string {
  if (typeof value !== 'string') return value.toString('latin1');
  return ASCII.test(value) ? value : Buffer.from(value, 'utf8').toString('latin1');
}

function writeString(out: ChunkBuilder, item: StringItem, options: EncodeOptions): void {
  const bytes = byteString(item.value);
  if (item.astring && ATOM.test(bytes) && bytes.toUpperCase() !== 'NIL') {
    out.byteText(bytes);
  } else if (canQuote(bytes, options)) {
    // '"' and '\' are ASCII, never inside a UTF-8 sequence: escaping the bytes escapes the text.
    out.byteText(`"${bytes.replace(/["\\]/g, '\\$&')}"`);
  } else {
    out.text(`{${bytes.length}}\r\n`);
    if (typeof item.value === 'string') out.byteText(bytes.replaceAll('\x00', String.fromCharCode(NUL_REPLACEMENT)));
    else out.bytes(replaceNul(item.value));
  }
}

function writeItem(out: ChunkBuilder, item: Item, options: EncodeOptions): void {
  if (item === null) {
    out.text('NIL');
  } else if (typeof item === 'number' || typeof item === 'bigint') {
    if (typeof item === 'number' && !(Number.isInteger(item) && item >= 0)) throw new Error(`IMAP numbers are non-negative integers, got ${item}`);
    out.text(String(item));
  } else if (typeof item === 'string') {
    if (UNSAFE_RAW.test(item)) throw new Error('CR, LF or NUL in a raw response item');
    out.text(item);
  } else if (Array.isArray(item)) {
    out.text('(');
    writeItems(out, item, options);
    out.text(')');
  } else if (item.kind === 'string') {
    writeString(out, item, options);
  } else if (item.kind === 'joined') {
    for (const part of item.items) writeItem(out, part, options);
  } else if (item.kind === 'literal') {
    out.text(`${item.binary ? '~' : ''}{${item.value.length}}\r\n`);
    out.bytes(item.binary ? item.value : replaceNul(item.value));
  } else {
    out.text(`${item.binary ? '~' : ''}{${item.source.size}}\r\n`);
    out.source(item.source);
  }
}

function writeItems(out: ChunkBuilder, items: readonly Item[], options: EncodeOptions): void {
  items.forEach((item, index) => {
    if (index > 0) out.text(' ');
    writeItem(out, item, options);
  });
}

/** Items separated by spaces, no prefix and no CRLF (what goes after `* `). */
export function encodeItems<S extends SizedSource = SizedSource>(items: readonly Item[], options: EncodeOptions = {}): Chunk<S>[] {
  const out = new ChunkBuilder();
  writeItems(out, items, options);
  out.flush();
  return out.chunks as Chunk<S>[];
}

/** `* <items>\r\n`, e.g. `encodeUntagged([12, 'FETCH', ['FLAGS', ['\\Seen']]])`. */
export function encodeUntagged<S extends SizedSource = SizedSource>(items: readonly Item[], options: EncodeOptions = {}): Chunk<S>[] {
  const out = new ChunkBuilder();
  out.text('* ');
  writeItems(out, items, options);
  out.text('\r\n');
  out.flush();
  return out.chunks as Chunk<S>[];
}

/** Response text: one line, never empty (RFC 3501 `text = 1*TEXT-CHAR`). */
function cleanText(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  const clean = text.replace(/[\r\n\x00]+/g, ' ').trim();
  return clean === '' ? 'done' : clean;
}

function codeText(code: ResponseCode | undefined, options: EncodeOptions): string {
  if (code === undefined) return '';
  if (typeof code === 'string') {
    if (UNSAFE_RAW.test(code) || code.includes(']')) throw new Error('invalid response code text');
    return `[${code}] `;
  }
  const chunks = encodeItems(code, options);
  if (!chunks.every((chunk) => Buffer.isBuffer(chunk))) throw new Error('a response code cannot hold a streamed literal');
  return `[${Buffer.concat(chunks as Buffer[]).toString('utf8')}] `;
}

function statusLine(prefix: string, status: string, text: string, code: ResponseCode | undefined, options: EncodeOptions): Buffer {
  return Buffer.from(`${prefix} ${status} ${codeText(code, options)}${cleanText(text)}\r\n`, 'utf8');
}

/** `tag OK|NO|BAD [code] text\r\n` */
export function encodeTagged(tag: string, status: Status, text: string, code?: ResponseCode, options: EncodeOptions = {}): Buffer {
  return statusLine(tag, status, text, code, options);
}

/** `* OK|NO|BAD|BYE|PREAUTH [code] text\r\n` */
export function encodeUntaggedStatus(status: Status | 'BYE' | 'PREAUTH', text: string, code?: ResponseCode, options: EncodeOptions = {}): Buffer {
  return statusLine('*', status, text, code, options);
}

/** `+ text\r\n` (RFC 3501 §7.5); `+ \r\n` for an empty AUTHENTICATE challenge. */
export function encodeContinuation(text = ''): Buffer {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  return Buffer.from(`+ ${text.replace(/[\r\n\x00]+/g, ' ')}\r\n`, 'utf8');
}
