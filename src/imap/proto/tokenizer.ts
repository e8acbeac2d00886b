/**
 * Turns the lines of one IMAP command into its tag, name and argument values (RFC 3501 §9). A
 * command is fed one line at a time, because a literal (`{n}`, `{n+}`, `~{n}`) ends a line and its
 * bytes come next: `feedLine` then asks for the literal, the receiver reads it and hands it over
 * with `addLiteral`, and the next line continues the same command. Lists and sections stay open
 * across literals. Pure and synchronous; the receiver does the byte framing and the limits.
 */
import { Buffer } from 'node:buffer';
import type { AtomValue, Command, ListValue, Partial, Value } from './values.ts';

/** Nesting of parenthesized lists and sections: deeper is an attack, not mail (keeps parsers' recursion shallow). */
export const MAX_LIST_DEPTH = 32;
/** RFC 3501 §9 `number` is a 32-bit unsigned integer; literal sizes and partial offsets use it. */
export const MAX_NUMBER = 0xffff_ffff;
/** Digits of an RFC 3501 `number` (4294967295). */
const MAX_NUMBER_DIGITS = 10;

const SP = 0x20;
const DQUOTE = 0x22;
const LPAREN = 0x28;
const RPAREN = 0x29;
const BACKSLASH = 0x5c;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const TILDE = 0x7e;
const LT = 0x3c;
const GT = 0x3e;
const DOT = 0x2e;
const PLUS = 0x2b;

/** Fetch attributes whose `[section]<partial>` is parsed into the atom (RFC 3501 §6.4.5, RFC 3516 §4.1). */
const SECTION_ATOMS = new Set(['BODY', 'BODY.PEEK', 'BINARY', 'BINARY.PEEK', 'BINARY.SIZE']);

export type LineResult =
  | { kind: 'done'; command: Command }
  | { kind: 'literal'; size: number; sync: boolean; binary: boolean }
  | { kind: 'error'; message: string };

class TokenError extends Error {}

interface Frame {
  kind: 'root' | 'list' | 'section';
  items: Value[];
  /** The atom that owns a section frame. */
  atom?: AtomValue;
}

const isDigit = (byte: number) => byte >= 0x30 && byte <= 0x39;

/** RFC 3501 ATOM-CHAR, leniently including list-wildcards, `\` (flags) and `]`; the caller stops at `[`/`]` where they mean a section. */
function isAtomByte(byte: number): boolean {
  return byte > SP && byte < 0x7f && byte !== LPAREN && byte !== RPAREN && byte !== LBRACE && byte !== DQUOTE;
}

/** RFC 3501 `tag`: ASTRING-CHAR except "+" (so no wildcards, no quoted-specials). */
function isTagByte(byte: number): boolean {
  return isAtomByte(byte) && byte !== PLUS && byte !== 0x25 && byte !== 0x2a && byte !== BACKSLASH;
}

function describeBadByte(byte: number): string {
  if (byte === 0) return 'NUL byte in command';
  if (byte >= 0x80) return '8-bit byte in atom (send it as a quoted string or literal)';
  if (byte < SP || byte === 0x7f) return `control character 0x${byte.toString(16).padStart(2, '0')} in command`;
  return `unexpected character "${String.fromCharCode(byte)}"`;
}

export class CommandTokenizer {
  private phase: 'tag' | 'name' | 'args' = 'tag';
  private tagValue: string | null = null;
  private name = '';
  private uid = false;
  private readonly stack: Frame[] = [{ kind: 'root', items: [] }];
  /** After a literal, the next line must start with a separator (SP, `)`, end). */
  private afterToken = false;

  /** The tag once read, for error replies. */
  get tag(): string | null {
    return this.tagValue;
  }

  /** The upper-cased command name once read ('' before), for per-command literal limits. */
  get commandName(): string {
    return this.name;
  }

  feedLine(line: Buffer): LineResult {
    try {
      return this.tokenizeLine(line);
    } catch (error) {
      if (error instanceof TokenError) return { kind: 'error', message: error.message };
      throw error;
    }
  }

  /** Whether the command is `UID <name>`. */
  get isUid(): boolean {
    return this.uid;
  }

  /** The top-level arguments complete so far. */
  get args(): readonly Value[] {
    return this.stack[0]!.items;
  }

  /** The values of the innermost open list (or section), null at the top level. */
  get openList(): readonly Value[] | null {
    return this.stack.length > 1 ? this.top().items : null;
  }

  /** How many lists (or sections) are open. */
  get depth(): number {
    return this.stack.length - 1;
  }

  /** In place of the literal the last `feedLine` asked for: its bytes went elsewhere (`streamed`). */
  addStreamed(size: number, binary: boolean, index: number): void {
    this.top().items.push({ type: 'streamed', size, binary, index });
    this.afterToken = true;
  }

  /** Hands over the bytes of the literal that the last `feedLine` asked for. */
  addLiteral(bytes: Buffer, binary: boolean): void {
    this.top().items.push(binary ? { type: 'string', value: bytes, literal: true, binary: true } : { type: 'string', value: bytes, literal: true });
    this.afterToken = true;
  }

  private top(): Frame {
    return this.stack[this.stack.length - 1]!;
  }

  private tokenizeLine(line: Buffer): LineResult {
    let pos = 0;
    if (this.phase === 'tag') pos = this.readTag(line);
    if (this.phase === 'name') pos = this.readName(line, pos);
    while (pos < line.length) {
      const byte = line[pos]!;
      if (this.afterToken && byte !== SP && byte !== RPAREN && !(byte === RBRACKET && this.top().kind === 'section')) {
        throw new TokenError(`expected a space before "${String.fromCharCode(byte)}"`);
      }
      this.afterToken = false;
      if (byte === SP) {
        pos++;
      } else if (byte === LPAREN) {
        this.open({ kind: 'list', items: [] });
        pos++;
      } else if (byte === RPAREN) {
        pos = this.closeList(pos);
      } else if (byte === RBRACKET && this.top().kind === 'section') {
        pos = this.closeSection(line, pos);
      } else if (byte === DQUOTE) {
        pos = this.readQuoted(line, pos);
      } else if (byte === LBRACE || (byte === TILDE && line[pos + 1] === LBRACE)) {
        return this.readLiteralAnnouncement(line, pos);
      } else {
        pos = this.readAtom(line, pos);
      }
    }
    if (this.stack.length > 1) throw new TokenError(this.top().kind === 'section' ? 'missing "]"' : 'unbalanced parentheses: missing ")"');
    return { kind: 'done', command: { tag: this.tagValue!, name: this.name, uid: this.uid, args: this.stack[0]!.items } };
  }

  private readTag(line: Buffer): number {
    if (line.length === 0) throw new TokenError('empty command line');
    let pos = 0;
    while (pos < line.length && line[pos] !== SP) {
      if (!isTagByte(line[pos]!)) throw new TokenError(pos === 0 ? 'missing tag' : `invalid tag: ${describeBadByte(line[pos]!)}`);
      pos++;
    }
    if (pos === 0) throw new TokenError('missing tag');
    this.tagValue = line.toString('latin1', 0, pos);
    this.phase = 'name';
    return pos;
  }

  private readName(line: Buffer, from: number): number {
    if (line[from] !== SP || from + 1 >= line.length) throw new TokenError('missing command name');
    let pos = from + 1;
    const start = pos;
    while (pos < line.length && line[pos] !== SP) {
      const byte = line[pos]!;
      const isNameByte = (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || isDigit(byte) || byte === 0x2d || byte === 0x5f || byte === DOT;
      if (!isNameByte) throw new TokenError(`invalid command name: ${describeBadByte(byte)}`);
      pos++;
    }
    if (pos === start) throw new TokenError('missing command name');
    const word = line.toString('latin1', start, pos).toUpperCase();
    if (word === 'UID' && !this.uid) {
      this.uid = true;
      if (pos >= line.length) throw new TokenError('UID must be followed by a command');
      return this.readName(line, pos);
    }
    this.name = word;
    this.phase = 'args';
    return pos;
  }

  private open(frame: Frame): void {
    if (this.stack.length > MAX_LIST_DEPTH) throw new TokenError(`lists nested deeper than ${MAX_LIST_DEPTH} levels`);
    this.stack.push(frame);
  }

  private closeList(pos: number): number {
    const frame = this.top();
    if (frame.kind !== 'list') throw new TokenError(frame.kind === 'section' ? 'missing "]" before ")"' : 'unbalanced parentheses: unexpected ")"');
    this.stack.pop();
    const list: ListValue = { type: 'list', items: frame.items };
    this.top().items.push(list);
    this.afterToken = true;
    return pos + 1;
  }

  private closeSection(line: Buffer, pos: number): number {
    const frame = this.stack.pop()!;
    const atom = frame.atom!;
    atom.section = frame.items;
    this.top().items.push(atom);
    this.afterToken = true;
    pos++;
    if (line[pos] === LT) {
      const { partial, end } = readPartial(line, pos);
      atom.partial = partial;
      return end;
    }
    return pos;
  }

  private readQuoted(line: Buffer, from: number): number {
    const bytes: number[] = [];
    let pos = from + 1;
    for (;;) {
      if (pos >= line.length) throw new TokenError('unterminated quoted string');
      const byte = line[pos]!;
      if (byte === DQUOTE) break;
      if (byte === 0 || byte === 0x0d || byte === 0x0a) throw new TokenError('CR, LF or NUL in a quoted string (send a literal)');
      if (byte === BACKSLASH) {
        const next = line[pos + 1];
        if (next !== BACKSLASH && next !== DQUOTE) throw new TokenError('bad quoting: only \\\\ and \\" may follow a backslash');
        bytes.push(next);
        pos += 2;
        continue;
      }
      bytes.push(byte);
      pos++;
    }
    this.top().items.push({ type: 'string', value: Buffer.from(bytes), literal: false });
    this.afterToken = true;
    return pos + 1;
  }

  private readLiteralAnnouncement(line: Buffer, from: number): LineResult {
    const binary = line[from] === TILDE;
    let pos = from + (binary ? 2 : 1);
    const digitsStart = pos;
    while (pos < line.length && isDigit(line[pos]!)) pos++;
    const digits = pos - digitsStart;
    if (digits === 0 || digits > MAX_NUMBER_DIGITS) throw new TokenError('bad literal announcement: expected {number}');
    const size = Number(line.toString('latin1', digitsStart, pos));
    if (size > MAX_NUMBER) throw new TokenError('bad literal announcement: size over 4294967295');
    const sync = line[pos] !== PLUS;
    if (!sync) pos++;
    if (line[pos] !== RBRACE) throw new TokenError('bad literal announcement: missing "}"');
    if (pos + 1 !== line.length) throw new TokenError('a literal announcement must end the line');
    return { kind: 'literal', size, sync, binary };
  }

  private readAtom(line: Buffer, from: number): number {
    const inSection = this.top().kind === 'section';
    let pos = from;
    while (pos < line.length) {
      const byte = line[pos]!;
      if (byte === SP || byte === LPAREN || byte === RPAREN) break;
      if (byte === RBRACKET && inSection) break;
      if (byte === LBRACKET && !inSection && SECTION_ATOMS.has(line.toString('latin1', from, pos).toUpperCase())) break;
      if (!isAtomByte(byte)) {
        if (byte === LBRACE || byte === DQUOTE) throw new TokenError(`expected a space before "${String.fromCharCode(byte)}"`);
        throw new TokenError(describeBadByte(byte));
      }
      pos++;
    }
    if (pos === from) throw new TokenError(describeBadByte(line[pos]!));
    const text = line.toString('latin1', from, pos);
    if (line[pos] === LBRACKET) {
      const atom: AtomValue = { type: 'atom', value: text };
      this.open({ kind: 'section', items: [], atom });
      return pos + 1;
    }
    this.top().items.push(text.toUpperCase() === 'NIL' ? { type: 'nil' } : { type: 'atom', value: text });
    this.afterToken = true;
    return pos;
  }
}

function readNumber(line: Buffer, from: number): { value: number; end: number } {
  let pos = from;
  while (pos < line.length && isDigit(line[pos]!)) pos++;
  if (pos === from || pos - from > MAX_NUMBER_DIGITS) throw new TokenError('bad partial: expected <number> or <number.number>');
  const value = Number(line.toString('latin1', from, pos));
  if (value > MAX_NUMBER) throw new TokenError('bad partial: number over 4294967295');
  return { value, end: pos };
}

/** `<start>` or `<start.length>` (RFC 3501 §6.4.5); length is an nz-number. */
function readPartial(line: Buffer, from: number): { partial: Partial; end: number } {
  const start = readNumber(line, from + 1);
  let pos = start.end;
  const partial: Partial = { start: start.value };
  if (line[pos] === DOT) {
    const length = readNumber(line, pos + 1);
    if (length.value === 0) throw new TokenError('bad partial: length must not be 0');
    partial.length = length.value;
    pos = length.end;
  }
  if (line[pos] !== GT) throw new TokenError('bad partial: missing ">"');
  return { partial, end: pos + 1 };
}

/**
 * The literal announced at the end of a line, if any, read without tokenizing the line: used to
 * skip the rest of a command that has already been refused.
 */
export function literalAnnouncedAtEnd(line: Buffer): { size: number; sync: boolean } | null {
  const tail = line.toString('latin1', Math.max(0, line.length - 16));
  const match = /\{(\d{1,10})(\+?)\}$/.exec(tail);
  if (!match) return null;
  const size = Number(match[1]);
  if (size > MAX_NUMBER) return null;
  return { size, sync: match[2] === '' };
}
