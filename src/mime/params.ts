/**
 * MIME structured fields: `value; name=value; ...` (RFC 2045 §5.1) with RFC 822 comments, quoted strings and
 * RFC 2231 parameter continuations. Lenient: unquoted values with spaces, unterminated quotes and comments,
 * and empty parameters are read the way mail clients read them.
 */
import libmime from 'libmime';
import { decode as decodeCharsetBytes } from 'libmime/lib/charset.js';
import { MAX_PARAMS } from './limits.ts';
import type { Param } from './types.ts';

export interface ParameterizedValue {
  /** The value before the first `;`, without comments and the white space around it or around a `/`. */
  value: string;
  params: Param[];
}

/** RFC 2045 §5.1 token: US-ASCII except SPACE, CTLs and tspecials. */
export const TOKEN = /^[!#$%&'*+\-.^_`{|}~0-9A-Za-z]+$/;

/** Index after a comment that starts at `start` (nested comments and quoted pairs, RFC 5322 §3.2.2); the end of text if unterminated. */
export function skipComment(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  return text.length;
}

/** Reads a quoted string starting at `start` (the opening quote); unterminated ones run to the end of text. */
export function readQuoted(text: string, start: number): { value: string; end: number } {
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) value += text[++i];
    else if (c === '"') return { value, end: i + 1 };
    else value += c;
  }
  return { value, end: text.length };
}

/** Removes comments outside quoted strings. */
export function stripComments(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; ) {
    const c = text[i];
    if (c === '(') {
      i = skipComment(text, i);
      out += ' ';
    } else if (c === '"') {
      const end = readQuoted(text, i).end;
      out += text.slice(i, end);
      i = end;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Splits at `;` outside quoted strings and comments. */
function splitSemicolons(text: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; ) {
    const c = text[i];
    if (c === '"') i = readQuoted(text, i).end;
    else if (c === '(') i = skipComment(text, i);
    else if (c === ';') {
      pieces.push(text.slice(start, i));
      start = ++i;
    } else i++;
  }
  pieces.push(text.slice(start));
  return pieces;
}

/** `name=value`, value quoted or not; an unquoted value keeps inner spaces and parentheses but loses a trailing comment. */
function parseParam(piece: string): Param | undefined {
  const eq = piece.indexOf('=');
  if (eq === -1) return undefined;
  const name = stripComments(piece.slice(0, eq)).trim().toLowerCase();
  if (!name || !TOKEN.test(name)) return undefined;
  let rest = piece.slice(eq + 1).replace(/^[ \t]+/, '');
  while (rest.startsWith('(')) rest = rest.slice(skipComment(rest, 0)).replace(/^[ \t]+/, '');
  if (rest.startsWith('"')) return [name, readQuoted(rest, 0).value];
  return [name, rest.replace(/[ \t]+\([^()]*\)[ \t]*$/, '').trim()];
}

interface Segment {
  index: number;
  extended: boolean;
  value: string;
}

/** RFC 2231 §3-4: `name*` (extended), `name*N` (continuation), `name*N*` (extended continuation). */
function splitRfc2231Name(name: string): { base: string; index: number; extended: boolean } | undefined {
  const match = /^([^*]+)\*(?:(\d{1,4})(\*)?)?$/.exec(name);
  if (!match) return undefined;
  if (match[2] === undefined) return { base: match[1]!, index: 0, extended: true };
  return { base: match[1]!, index: Number(match[2]), extended: match[3] !== undefined };
}

/** RFC 2231 §7 attribute-char: a non-extended segment joined to extended ones is percent-encoded outside these. */
function percentEncodeSegment(value: string): string {
  return Array.from(Buffer.from(value, 'utf8'))
    .map((byte) => {
      const c = String.fromCharCode(byte);
      return byte > 0x20 && byte < 0x7f && !/[*'%()<>@,;:\\"/[\]?=]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

function joinSegments(base: string, segments: Segment[]): Param {
  segments.sort((a, b) => a.index - b.index);
  if (!segments.some((segment) => segment.extended)) return [base, segments.map((segment) => segment.value).join('')];
  // The first segment carries charset'language'; without it the charset is unknown.
  const first = segments[0]!;
  const prefix = first.extended && /^[^']*'[^']*'/.test(first.value) ? '' : "''";
  return [`${base}*`, prefix + segments.map((segment) => (segment.extended ? segment.value : percentEncodeSegment(segment.value))).join('')];
}

/** Joins RFC 2231 continuations in place of their first segment; other parameters are kept as they are. */
function joinContinuations(params: Param[]): Param[] {
  const groups = new Map<string, Segment[]>();
  const order: Array<Param | string> = [];
  for (const [name, value] of params) {
    const split = splitRfc2231Name(name);
    if (!split) {
      order.push([name, value]);
      continue;
    }
    let segments = groups.get(split.base);
    if (!segments) {
      segments = [];
      groups.set(split.base, segments);
      order.push(split.base);
    }
    if (!segments.some((segment) => segment.index === split.index)) segments.push({ index: split.index, extended: split.extended, value });
  }
  const joined = order.map((entry) => (typeof entry === 'string' ? joinSegments(entry, groups.get(entry)!) : entry));
  return joined.filter(([name], index) => joined.findIndex(([other]) => other === name) === index);
}

/** Parses `value; name=value; ...`; keeps the first of duplicate parameters. */
export function parseParameterizedValue(text: string): ParameterizedValue {
  const [head = '', ...rest] = splitSemicolons(text);
  const raw: Param[] = [];
  for (const piece of rest) {
    const param = parseParam(piece);
    if (param && !raw.some(([name]) => name === param[0])) raw.push(param);
    if (raw.length >= MAX_PARAMS) break;
  }
  return {
    value: stripComments(head)
      .trim()
      .replace(/\s*\/\s*/, '/'),
    params: joinContinuations(raw),
  };
}

function percentDecode(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const hex = text[i] === '%' ? text.slice(i + 1, i + 3) : '';
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else bytes.push(...Buffer.from(text[i]!, 'utf8'));
  }
  return Buffer.from(bytes);
}

/** Decodes an RFC 2231 extended value `charset'language'percent-encoded`. */
export function decodeExtendedValue(value: string): string {
  const match = /^([^']*)'[^']*'([\s\S]*)$/.exec(value);
  const charset = match?.[1] || 'utf-8';
  const bytes = percentDecode(match ? match[2]! : value);
  try {
    return decodeCharsetBytes(bytes, charset);
  } catch {
    return bytes.toString('latin1');
  }
}

/**
 * The decoded value of a parameter: the RFC 2231 extended form wins over the plain one; RFC 2047
 * encoded-words in a plain value (not allowed, but common in file names) are decoded when `decodeWords` is set.
 */
export function paramValue(params: readonly Param[], name: string, decodeWords = false): string | undefined {
  const extended = params.find(([key]) => key === `${name}*`);
  if (extended) return decodeExtendedValue(extended[1]);
  const plain = params.find(([key]) => key === name);
  if (!plain) return undefined;
  return decodeWords ? decodeEncodedWords(plain[1]) : plain[1];
}

/** RFC 2047 decoding that never throws: a broken charset or encoding leaves the text as it is. */
export function decodeEncodedWords(text: string): string {
  if (!text.includes('=?')) return text;
  try {
    return libmime.decodeWords(text);
  } catch {
    return text;
  }
}
