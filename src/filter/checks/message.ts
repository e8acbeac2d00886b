/**
 * What the built-in checks read of a message, extracted once per message and shared by every check
 * (memoised per `FilterInput`): the decoded text parts and the leaf parts' decoded bytes.
 *
 * Memory is bounded whatever the message: the content is streamed once, and only the bytes of leaf
 * parts are kept, each up to a cap (`MAX_TEXT_PART_BYTES` for text, `MAX_DEEP_SCAN_BYTES` for other
 * parts); a part over its cap is marked `truncated` (text: its start is analysed; other parts: only
 * their name and type are checked, see attachments.ts). Decoding never throws: broken base64 or
 * charsets give what can be read, and `decodeErrors` counts the parts that did not decode cleanly.
 */
import libmime from 'libmime';
import { decode as decodeCharsetBytes } from 'libmime/lib/charset.js';
import type { AppContext } from '../../context.ts';
import type { BodyStructure, Param } from '../../mime/index.ts';
import { MetadataParser, paramValue } from '../../mime/index.ts';
import { type Text, text } from '../../shared/errors.ts';
import type { FilterInput, FilterSymbol } from '../types.ts';

/** The services a built-in check uses. */
export type FilterContext = Pick<AppContext, 'config' | 'db' | 'resolver' | 'clock' | 'log'>;

/** Encoded octets of one text part kept for analysis: its first megabyte is plenty to judge it (a 20 MB HTML body is cut here). */
export const MAX_TEXT_PART_BYTES = 1024 * 1024;

/** Encoded octets of all text parts kept for analysis. */
export const MAX_TEXT_TOTAL_BYTES = 4 * 1024 * 1024;

/** Encoded octets of one non-text part inspected in depth (EICAR, zip contents); larger parts get the name and type checks only. */
export const MAX_DEEP_SCAN_BYTES = 10 * 1024 * 1024;

/** Encoded octets of all non-text parts kept for deep inspection in one message. */
export const MAX_DEEP_SCAN_TOTAL_BYTES = 20 * 1024 * 1024;

/** Characters of decoded text handed to the checks per part (after HTML is reduced to its text). */
export const MAX_TEXT_CHARS = 512 * 1024;

/** Leaf parts looked at; a message with more is analysed on its first ones. */
export const MAX_LEAVES = 1000;

export interface LeafPart {
  /** Lower-case `type/subtype`. */
  mime: string;
  kind: BodyStructure['kind'];
  encoding: string;
  charset: string | undefined;
  /** Decoded file name (Content-Disposition filename, else Content-Type name), '' when none. */
  filename: string;
  disposition: string | null;
  /** Encoded size as stored. */
  size: number;
  /** Depth of the part below the top-level message (0 for a single-part message). */
  depth: number;
  /** Decoded bytes, or null when the part was over its cap (then `truncated`). Text parts keep their decoded start. */
  bytes: Buffer | null;
  truncated: boolean;
  /** The transfer encoding did not decode cleanly (invalid base64). */
  decodeError: boolean;
}

export interface TextPart {
  subtype: string;
  /** Decoded text (for HTML: the markup as decoded, capped). */
  raw: string;
  /** Visible text (HTML reduced to its text), capped. */
  text: string;
  leaf: LeafPart;
}

export interface MessageView {
  /** Top-level header fields: lower-case name -> raw unfolded values (from the metadata, capped there). */
  headers: Record<string, string[]>;
  leaves: LeafPart[];
  texts: TextPart[];
  /** Deepest container nesting seen. */
  maxDepth: number;
  /** The GTUBE string anywhere in the raw message (it is ASCII, so found even in undecoded parts). */
  rawGtube: boolean;
}

export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

const GTUBE_BYTES = Buffer.from(GTUBE, 'latin1');

const views = new WeakMap<FilterInput, Promise<MessageView>>();

/** The view of a message, read once and shared by the checks that ask for it. */
export function readMessage(input: FilterInput): Promise<MessageView> {
  let view = views.get(input);
  if (!view) {
    view = buildView(input);
    views.set(input, view);
  }
  return view;
}

/** A symbol of a built-in check. */
export function symbol(source: string, name: string, score: number, en: string, fr: string): FilterSymbol {
  return { name, score, reason: text(en, fr), source };
}

export function reasonText(en: string, fr: string): Text {
  return text(en, fr);
}

interface Span {
  leaf: LeafPart;
  start: number;
  end: number;
  cap: number;
  chunks: Buffer[];
  kept: number;
}

function leafOf(part: Exclude<BodyStructure, { kind: 'multipart' }>, depth: number): LeafPart {
  const filename = fileNameOf(part.disposition?.params ?? [], part.params);
  return {
    mime: `${part.type}/${part.subtype}`.toLowerCase(),
    kind: part.kind,
    encoding: part.encoding.toLowerCase(),
    charset: paramValue(part.params, 'charset'),
    filename,
    disposition: part.disposition?.type ?? null,
    size: part.bodyEnd - part.bodyStart,
    depth,
    bytes: null,
    truncated: false,
    decodeError: false,
  };
}

function fileNameOf(dispositionParams: readonly Param[], typeParams: readonly Param[]): string {
  const name = paramValue(dispositionParams, 'filename', true) ?? paramValue(typeParams, 'name', true) ?? '';
  return name.slice(0, 1024);
}

/** Leaves in message order, with the container depth. Iterative: 100 levels of nesting cost no stack. */
function collectLeaves(root: BodyStructure): { leaves: Array<{ part: Exclude<BodyStructure, { kind: 'multipart' }>; depth: number }>; maxDepth: number } {
  const leaves: Array<{ part: Exclude<BodyStructure, { kind: 'multipart' }>; depth: number }> = [];
  let maxDepth = 0;
  const stack: Array<{ part: BodyStructure; depth: number }> = [{ part: root, depth: 0 }];
  while (stack.length > 0 && leaves.length < MAX_LEAVES) {
    const { part, depth } = stack.pop() as { part: BodyStructure; depth: number };
    if (depth > maxDepth) maxDepth = depth;
    if (part.kind === 'multipart') {
      for (let i = part.parts.length - 1; i >= 0; i--) stack.push({ part: part.parts[i] as BodyStructure, depth: depth + 1 });
    } else if (part.kind === 'message') {
      stack.push({ part: part.body, depth: depth + 1 });
    } else {
      leaves.push({ part, depth });
    }
  }
  return { leaves, maxDepth };
}

async function buildView(input: FilterInput): Promise<MessageView> {
  const { leaves: found, maxDepth } = collectLeaves(input.metadata.bodyStructure);
  const spans: Span[] = [];
  let textBudget = MAX_TEXT_TOTAL_BYTES;
  let deepBudget = MAX_DEEP_SCAN_TOTAL_BYTES;
  const leaves: LeafPart[] = [];
  for (const { part, depth } of found) {
    const leaf = leafOf(part, depth);
    leaves.push(leaf);
    const isText = part.kind === 'text' && !isAttachment(leaf);
    if (isText) {
      const cap = Math.min(MAX_TEXT_PART_BYTES, textBudget);
      textBudget -= Math.min(cap, leaf.size);
      if (cap > 0) spans.push({ leaf, start: part.bodyStart, end: part.bodyEnd, cap, chunks: [], kept: 0 });
      else leaf.truncated = true;
    } else if (leaf.size <= MAX_DEEP_SCAN_BYTES && leaf.size <= deepBudget) {
      deepBudget -= leaf.size;
      spans.push({ leaf, start: part.bodyStart, end: part.bodyEnd, cap: leaf.size, chunks: [], kept: 0 });
    } else {
      leaf.truncated = true;
    }
  }
  spans.sort((a, b) => a.start - b.start);
  const rawGtube = await captureSpans(input, spans);
  const texts: TextPart[] = [];
  for (const span of spans) {
    const encoded = span.chunks.length === 1 ? (span.chunks[0] as Buffer) : Buffer.concat(span.chunks);
    if (span.kept < span.end - span.start) span.leaf.truncated = true;
    const { bytes, error } = decodeTransfer(encoded, span.leaf.encoding, span.leaf.truncated);
    span.leaf.bytes = bytes;
    span.leaf.decodeError = error;
  }
  for (const leaf of leaves) {
    if (leaf.kind !== 'text' || isAttachment(leaf) || !leaf.bytes) continue;
    const subtype = leaf.mime.slice(5);
    const decoded = clip(decodeCharset(leaf.bytes, leaf.charset), MAX_TEXT_CHARS);
    texts.push({ subtype, raw: decoded, text: subtype === 'html' ? htmlToText(decoded) : decoded, leaf });
  }
  return { headers: input.metadata.headerFields, leaves, texts, maxDepth, rawGtube };
}

export function isAttachment(leaf: LeafPart): boolean {
  return leaf.disposition === 'attachment' || (leaf.filename !== '' && leaf.kind !== 'text');
}

/** One pass over the content, copying the bytes of each span (up to its cap); also looks for GTUBE. */
async function captureSpans(input: FilterInput, spans: Span[]): Promise<boolean> {
  let position = 0;
  let next = 0;
  let gtube = false;
  let tail: Buffer = Buffer.alloc(0);
  for await (const chunk of input.content()) {
    const chunkEnd = position + chunk.length;
    if (!gtube) {
      const seam = Buffer.concat([tail, chunk.subarray(0, GTUBE_BYTES.length - 1)]);
      if (seam.includes(GTUBE_BYTES) || chunk.includes(GTUBE_BYTES)) gtube = true;
      const joined = chunk.length >= GTUBE_BYTES.length - 1 ? chunk : Buffer.concat([tail, chunk]);
      tail = Buffer.from(joined.subarray(Math.max(0, joined.length - (GTUBE_BYTES.length - 1))));
    }
    while (next < spans.length && (spans[next] as Span).end <= position) next++;
    for (let i = next; i < spans.length; i++) {
      const span = spans[i] as Span;
      if (span.start >= chunkEnd) break;
      const from = Math.max(span.start, position);
      const to = Math.min(span.end, chunkEnd, span.start + span.cap);
      if (to > from) {
        span.chunks.push(Buffer.from(chunk.subarray(from - position, to - position)));
        span.kept += to - from;
      }
    }
    position = chunkEnd;
  }
  return gtube;
}

function clip(value: string, max: number): string {
  return value.length > max ? value.slice(0, max) : value;
}

const BASE64_JUNK = /[^A-Za-z0-9+/=]/g;

/** RFC 2045 §6.7 / §6.8, tolerant: a cut (truncated) or broken body gives what decodes, and says so. */
export function decodeTransfer(bytes: Buffer, encoding: string, truncated: boolean): { bytes: Buffer; error: boolean } {
  if (encoding === 'base64') {
    const text = bytes.toString('latin1');
    let clean = text.replace(/[\r\n\t ]/g, '');
    let error = false;
    if (BASE64_JUNK.test(clean)) {
      error = true;
      clean = clean.replace(BASE64_JUNK, '');
    }
    BASE64_JUNK.lastIndex = 0;
    const padAt = clean.indexOf('=');
    if (padAt >= 0 && padAt < clean.length - 2) error = true;
    const body = clean.replace(/=/g, '');
    if (!truncated && body.length % 4 === 1) error = true;
    const usable = truncated ? body.slice(0, body.length - (body.length % 4)) : body;
    return { bytes: Buffer.from(usable, 'base64'), error };
  }
  if (encoding === 'quoted-printable') return { bytes: decodeQuotedPrintable(bytes), error: false };
  return { bytes, error: false };
}

/** RFC 2045 §6.7: `=XX` octets and soft line breaks; a malformed `=` is kept as it is. */
export function decodeQuotedPrintable(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(bytes.length);
  let length = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    if (byte !== 0x3d) {
      out[length++] = byte;
      continue;
    }
    const h = hexValue(bytes[i + 1]);
    const l = hexValue(bytes[i + 2]);
    if (h >= 0 && l >= 0) {
      out[length++] = h * 16 + l;
      i += 2;
      continue;
    }
    let j = i + 1;
    while (j < bytes.length && (bytes[j] === 0x20 || bytes[j] === 0x09)) j++;
    if (bytes[j] === 0x0d && bytes[j + 1] === 0x0a) i = j + 1;
    else if (bytes[j] === 0x0a) i = j;
    else out[length++] = byte;
  }
  return out.subarray(0, length);
}

function hexValue(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return -1;
}

export function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  const name = (charset ?? '').toLowerCase();
  if (name === '' || name === 'us-ascii' || name === 'utf-8' || name === 'utf8' || name === 'ascii') return bytes.toString('utf8');
  try {
    return decodeCharsetBytes(bytes, name);
  } catch {
    return bytes.toString('latin1');
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', euro: '€', eacute: 'é', egrave: 'è' };

export function decodeHtmlEntities(value: string): string {
  if (!value.includes('&')) return value;
  return value.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,8});/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : ' ';
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** Visible text of an HTML document: no head, styles, scripts, comments or tags. Linear-time regexes only. */
export function htmlToText(html: string): string {
  const value = html
    .replace(/<!--[\s\S]*?(?:-->|$)/g, ' ')
    .replace(/<(style|script|title|head)\b[^>]*>[\s\S]*?(?:<\/\1\s*>|$)/gi, ' ')
    .replace(/<[^>]*(?:>|$)/g, ' ');
  return decodeHtmlEntities(value);
}

/** Decoded (RFC 2047) value of the first top-level header field of that name, '' when absent. */
export function headerValue(view: MessageView, name: string): string {
  const value = view.headers[name]?.[0];
  if (value === undefined) return '';
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

/** The domain of the first address in a header value, lower-cased; '' when none. */
export function domainOfAddress(value: string): string {
  const match = /@([A-Za-z0-9.-]+\.[A-Za-z]{2,})/.exec(value.includes('<') ? (value.slice(value.lastIndexOf('<')) as string) : value);
  return match ? (match[1] as string).toLowerCase() : '';
}

/** URLs (http, https, www.) in a text, capped in number. */
export function findUrls(value: string, max = 200): string[] {
  const out: string[] = [];
  const re = /\b(?:https?:\/\/|www\.)[^\s<>"'()]{2,2048}/gi;
  for (let m = re.exec(value); m && out.length < max; m = re.exec(value)) out.push(m[0]);
  return out;
}

/** The host of a URL (lower-cased, no port, no trailing dot), '' when it has none. */
export function hostOfUrl(url: string): string {
  const match = /^(?:https?:\/\/)?(?:[^/@\s]*@)?([^/:?#\s]+)/i.exec(url.trim());
  if (!match) return '';
  const host = (match[1] as string).toLowerCase().replace(/\.$/, '');
  return /^[a-z0-9.-]+$/.test(host) && host.includes('.') ? host : '';
}

/** URL hosts of the message's text parts (HTML: href targets and URLs in the text). */
export function urlHosts(view: MessageView, max = 200): string[] {
  const hosts = new Set<string>();
  for (const part of view.texts) {
    const source = part.subtype === 'html' ? part.raw : part.text;
    for (const url of findUrls(source, max)) {
      const host = hostOfUrl(url);
      if (host) hosts.add(host);
      if (hosts.size >= max) return [...hosts];
    }
  }
  return [...hosts];
}

const TWO_LEVEL_SUFFIXES = /^(?:co|com|net|org|gov|edu|ac|ne|or|go|gouv|asso)$/;

/**
 * The registered domain of a host, approximately (no public suffix list): the last two labels, or three
 * under a country's second level such as `co.uk` or `gouv.fr`.
 */
export function registeredDomain(host: string): string {
  const labels = host.split('.');
  if (labels.length <= 2) return host;
  const tld = labels[labels.length - 1] as string;
  const second = labels[labels.length - 2] as string;
  const keep = tld.length === 2 && TWO_LEVEL_SUFFIXES.test(second) ? 3 : 2;
  return labels.slice(-keep).join('.');
}

/**
 * A FilterInput over a message held in memory (tests, benchmarks, training from a stored corpus).
 * `content()` hands out the bytes in 64 KB chunks, as a spool would.
 */
export async function messageInput(raw: Buffer, fields: Partial<Omit<FilterInput, 'content' | 'metadata' | 'size'>> = {}): Promise<FilterInput> {
  const chunks = function* (): Generator<Buffer> {
    for (let i = 0; i < raw.length; i += 64 * 1024) yield raw.subarray(i, i + 64 * 1024);
  };
  const parser = new MetadataParser();
  for (const chunk of chunks()) parser.write(chunk);
  return {
    direction: 'inbound',
    clientIp: '192.0.2.1',
    helo: 'client.example',
    mailFrom: '',
    recipients: [],
    domainIds: [],
    ...fields,
    size: raw.length,
    metadata: parser.end(),
    content: async function* () {
      yield* chunks();
    },
  };
}
