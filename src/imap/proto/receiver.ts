/**
 * The byte-level IMAP command receiver (RFC 3501 §2.2, §4.3; RFC 7888 LITERAL+/LITERAL-; RFC 3516
 * literal8). It can stop and resume on any byte boundary: the server `push`es whatever the socket
 * gave, then pulls events with `next()` until it returns null. Pulling one event at a time lets the
 * server switch to line mode (`expectLine`, for AUTHENTICATE and IDLE's DONE) right after the command
 * that needs it, even when the client pipelined the next line in the same TCP segment.
 *
 * Input is lenient on line ends: a bare LF ends a line as CRLF does (RFC 3501 asks for CRLF; some
 * clients and test scripts send LF alone). A bare CR inside a line is an error.
 *
 * Backpressure: the receiver never holds more than what was pushed and not yet pulled, plus one
 * line (at most `maxLineBytes`) and the literals of the current command (at most `maxCommandBytes`).
 * The server should pause the socket while a command runs (and whenever `bufferedBytes` exceeds
 * what it is willing to hold), and resume it once `next()` returned null.
 *
 * With `decideLiterals`, the server sees every literal announced before a byte of it is accepted (a
 * `literal` event, RFC 3501 §7.5): it checks the command's state and limits, then keeps the literal in
 * the command, streams it (`literal-data` events, for APPEND's messages: never held whole), or refuses
 * the command. Nothing is read meanwhile.
 */
import { Buffer } from 'node:buffer';
import { CommandTokenizer, literalAnnouncedAtEnd } from './tokenizer.ts';
import type { Command, Value } from './values.ts';

/**
 * Longest line of a command, excluding literal bytes: 64 KiB. The longest honest lines are UID sets
 * of fragmented mailboxes (UID FETCH, SEARCH, QRESYNC); anything longer is refused with BAD.
 */
export const MAX_LINE_BYTES = 64 * 1024;
/** Literal limit when the server gives none: 64 KiB, plenty for LOGIN, SEARCH and mailbox names. APPEND passes its own. */
export const DEFAULT_MAX_LITERAL_BYTES = 64 * 1024;
/** Whole command, lines and literals together: 64 MiB, so many literals in one command stay bounded. */
export const DEFAULT_MAX_COMMAND_BYTES = 64 * 1024 * 1024;
/** RFC 7888 §5: with LITERAL-, a non-synchronizing literal over 4096 bytes is refused. */
export const LITERAL_MINUS_MAX_BYTES = 4096;
/**
 * All the lines of one command together, without literals: 256 KiB. A command may continue over
 * many lines through literals (even `{0+}`); this bounds the tokens one command can create.
 */
export const MAX_COMMAND_TEXT_BYTES = 256 * 1024;
/** The continuation text the server writes after a `continue` event (RFC 3501 §7.5). */
export const LITERAL_CONTINUATION_TEXT = 'Ready for literal data';

const EMPTY = Buffer.alloc(0);
const LF = 0x0a;
const CR = 0x0d;
/** Bytes of an overlong line kept while it is discarded, to see whether it announces a literal. */
const DISCARD_TAIL_BYTES = 16;

/**
 * Which non-synchronizing literals the server advertised: `literal+` (RFC 7888 §3, any size up to
 * the limits), `literal-` (§5, up to 4096 bytes) or `none` (RFC 3501 alone: `{n+}` is refused).
 */
export type LiteralMode = 'literal+' | 'literal-' | 'none';

export interface ReceiverOptions {
  literalMode?: LiteralMode;
  /** Largest literal accepted, in bytes; a function gets the upper-cased command name (APPEND: 50 MB). */
  maxLiteralBytes?: number | ((commandName: string) => number);
  /** Largest command, lines and literals kept together, in bytes (streamed literals do not count); a function gets the command name. */
  maxCommandBytes?: number | ((commandName: string) => number);
  /** Longest line, in bytes, excluding CRLF and literals. */
  maxLineBytes?: number;
  /** Ask the server about every literal within the limits (a `literal` event) instead of accepting it. */
  decideLiterals?: boolean;
}

export type ReceiverErrorKind =
  | 'syntax' // unbalanced parentheses, bad quoting, 8-bit atom, NUL, missing tag or name, empty line
  | 'line-too-long' // a line over maxLineBytes; the rest of the command was discarded
  | 'literal-too-big' // a literal over maxLiteralBytes, refused before it was read
  | 'command-too-big' // the literals of one command add up to more than maxCommandBytes
  | 'non-sync-literal-refused'; // {n+} over 4096 bytes with LITERAL-, or any {n+} without LITERAL+/-

export interface ReceiverError {
  type: 'error';
  /** The command's tag when it could be read: answer `tag BAD ...`; null: answer `* BAD ...`. */
  tag: string | null;
  kind: ReceiverErrorKind;
  /** The status to answer with. */
  status: 'BAD' | 'NO';
  /** Response code to put in the reply, e.g. `TOOBIG` (RFC 4469, RFC 7888 §5). */
  code?: 'TOOBIG';
  /** Text for the reply. */
  message: string;
  /** Set when the refusal is of a literal: a client that sent `{n+}` sends its bytes anyway (RFC 7888 §4). */
  literal?: { size: number; sync: boolean };
}

/** A literal announced, not yet accepted: what the server needs to decide (`acceptLiteral`, `refuseLiteral`). */
export interface LiteralAnnouncement {
  tag: string;
  /** Upper-cased command name, without `UID`. */
  commandName: string;
  uid: boolean;
  size: number;
  sync: boolean;
  binary: boolean;
  /** The command's arguments complete so far, at the top level. */
  args: readonly Value[];
  /** The values of the innermost list still open (the literal goes in it); null at the top level. */
  openList: readonly Value[] | null;
  /** How many lists are open around the literal. */
  depth: number;
}

export type ReceiverEvent =
  /** A complete command, literals included. */
  | { type: 'command'; command: Command }
  /** A synchronizing literal was accepted: write `+ Ready for literal data` (LITERAL_CONTINUATION_TEXT), then keep pulling. */
  | { type: 'continue'; tag: string; size: number }
  /** In line mode (`expectLine`): the next line, without its CRLF. */
  | { type: 'line'; line: Buffer }
  /** With `decideLiterals`: a literal waits for `acceptLiteral` or `refuseLiteral` (nothing is read until then). */
  | { type: 'literal'; announcement: LiteralAnnouncement }
  /** Bytes of a literal accepted as streamed, in order; `end` on the last piece (an empty piece for `{0}`). */
  | { type: 'literal-data'; data: Buffer; end: boolean }
  | ReceiverError;

interface LiteralInProgress {
  size: number;
  remaining: number;
  /** null: the literal was refused and its bytes are discarded. */
  parts: Buffer[] | null;
  binary: boolean;
  /** Streamed: its bytes go out as `literal-data` events, and the command gets a `streamed` value. */
  streamIndex?: number;
}

export class ImapReceiver {
  private readonly literalMode: LiteralMode;
  private readonly maxLiteralBytes: (commandName: string) => number;
  private readonly maxCommandBytesOf: (commandName: string) => number;
  private readonly maxLineBytes: number;
  private readonly decideLiterals: boolean;

  /** Pushed input not yet consumed; `inputOffset` bytes of the first chunk are consumed. */
  private input: Buffer[] = [];
  private inputOffset = 0;
  private inputBytes = 0;

  private lineParts: Buffer[] = [];
  private lineBytes = 0;
  /** Set while the rest of an overlong line is skipped; holds its last bytes. */
  private overlongTail: Buffer | null = null;
  private literal: LiteralInProgress | null = null;
  /** The command being read; made at its first line (a connection waiting between commands holds none). */
  private current: CommandTokenizer | null = null;
  private commandBytes = 0;
  /** The current command was refused: skip its remaining lines and non-synchronizing literals. */
  private discardingCommand = false;
  private lineWanted = false;
  /** The end of an overlong line that ended in the chunk that made it overlong, still to be skipped. */
  private pendingDiscardLine: Buffer | null = null;
  /** Bytes of the current command's lines, without literals. */
  private commandTextBytes = 0;
  /** A literal announced and not yet decided on (`decideLiterals`). */
  private undecided: { size: number; sync: boolean; binary: boolean } | null = null;
  /** Literals of the current command streamed so far. */
  private streamedCount = 0;

  constructor(options: ReceiverOptions = {}) {
    this.literalMode = options.literalMode ?? 'literal+';
    const maxLiteral = options.maxLiteralBytes ?? DEFAULT_MAX_LITERAL_BYTES;
    this.maxLiteralBytes = typeof maxLiteral === 'function' ? maxLiteral : () => maxLiteral;
    const maxCommand = options.maxCommandBytes ?? DEFAULT_MAX_COMMAND_BYTES;
    this.maxCommandBytesOf = typeof maxCommand === 'function' ? maxCommand : () => maxCommand;
    this.maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
    this.decideLiterals = options.decideLiterals ?? false;
  }

  private get maxCommandBytes(): number {
    return this.maxCommandBytesOf(this.current?.commandName ?? '');
  }

  /** Adds bytes from the socket. Nothing is parsed until `next()`. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.input.push(chunk);
    this.inputBytes += chunk.length;
  }

  /** The next event, or null when more input is needed. Never throws on any input. */
  next(): ReceiverEvent | null {
    if (this.undecided) throw new Error('a literal waits for acceptLiteral() or refuseLiteral()');
    for (;;) {
      if (this.pendingDiscardLine) {
        const rest = this.pendingDiscardLine;
        this.pendingDiscardLine = null;
        this.skipRestOfRefusedCommand(rest);
        continue;
      }
      if (this.literal?.streamIndex !== undefined) return this.readStreamedLiteral();
      if (this.literal) {
        if (!this.readLiteral()) return null;
        continue;
      }
      const line = this.readLine();
      if (line === null) return null;
      if (!Buffer.isBuffer(line)) return line;
      const event = this.handleLine(line);
      if (event) return event;
    }
  }

  /**
   * After a `literal` event: takes the literal, kept in the command (its bytes count against
   * `maxCommandBytes`: over it, the command is refused and the error returned, to be answered) or
   * streamed. The server writes the continuation of a synchronizing literal itself.
   */
  acceptLiteral(how: 'keep' | 'stream'): ReceiverError | null {
    const literal = this.undecided;
    if (!literal) throw new Error('no literal waits for a decision');
    this.undecided = null;
    if (how === 'stream') {
      this.literal = { size: literal.size, remaining: literal.size, parts: null, binary: literal.binary, streamIndex: this.streamedCount++ };
      return null;
    }
    if (this.commandBytes + literal.size > this.maxCommandBytes) {
      const tag = this.tokenizer().tag;
      const refusal = this.error(tag, 'command-too-big', literal.sync ? 'NO' : 'BAD', `command is over the limit of ${this.maxCommandBytes} bytes`, 'TOOBIG');
      refusal.literal = { size: literal.size, sync: literal.sync };
      this.refuse(literal);
      return refusal;
    }
    this.commandBytes += literal.size;
    this.literal = { size: literal.size, remaining: literal.size, parts: [], binary: literal.binary };
    return null;
  }

  /** After a `literal` event: the command is refused (the server answers it); a `{n+}` literal's bytes are skipped. */
  refuseLiteral(): void {
    const literal = this.undecided;
    if (!literal) throw new Error('no literal waits for a decision');
    this.undecided = null;
    this.refuse(literal);
  }

  /** Pulls every event available now. Convenient for tests; a server uses `next()` to switch modes between events. */
  drain(): ReceiverEvent[] {
    const events: ReceiverEvent[] = [];
    for (let event = this.next(); event; event = this.next()) events.push(event);
    return events;
  }

  /**
   * Line mode: the next line is returned raw as a `line` event instead of being parsed as a command
   * (AUTHENTICATE responses, RFC 3501 §6.2.2; IDLE's DONE, RFC 2177). Call it between commands only.
   */
  expectLine(): void {
    if (!this.atCommandBoundary()) throw new Error('expectLine() called in the middle of a command');
    this.lineWanted = true;
  }

  /** Bytes held: pushed and not yet consumed, plus the partial line. */
  get bufferedBytes(): number {
    return this.inputBytes + this.lineBytes;
  }

  private atCommandBoundary(): boolean {
    return (
      this.literal === null &&
      this.lineBytes === 0 &&
      this.overlongTail === null &&
      this.pendingDiscardLine === null &&
      this.current === null &&
      !this.discardingCommand
    );
  }

  /** Consumes literal bytes; true when the literal is complete. */
  private readLiteral(): boolean {
    const literal = this.literal!;
    while (literal.remaining > 0 && this.inputBytes > 0) {
      const piece = this.take(literal.remaining);
      literal.parts?.push(piece);
      literal.remaining -= piece.length;
    }
    if (literal.remaining > 0) return false;
    this.literal = null;
    if (literal.parts) this.tokenizer().addLiteral(Buffer.concat(literal.parts), literal.binary);
    return true;
  }

  /** The next piece of a streamed literal, or null for more input. */
  private readStreamedLiteral(): ReceiverEvent | null {
    const literal = this.literal!;
    let data: Buffer = EMPTY;
    if (literal.remaining > 0) {
      if (this.inputBytes === 0) return null;
      data = this.take(literal.remaining);
      literal.remaining -= data.length;
    }
    if (literal.remaining > 0) return { type: 'literal-data', data, end: false };
    this.literal = null;
    this.tokenizer().addStreamed(literal.size, literal.binary, literal.streamIndex!);
    return { type: 'literal-data', data, end: true };
  }

  /** Takes up to `max` bytes from the first input chunk. */
  private take(max: number): Buffer {
    const chunk = this.input[0]!;
    const end = Math.min(chunk.length, this.inputOffset + max);
    const piece = chunk.subarray(this.inputOffset, end);
    this.advance(end);
    return piece;
  }

  private advance(endInFirstChunk: number): void {
    const chunk = this.input[0]!;
    this.inputBytes -= endInFirstChunk - this.inputOffset;
    if (endInFirstChunk >= chunk.length) {
      // A fresh array once empty: shift() keeps the grown backing store, held by every idle connection.
      if (this.input.length === 1) this.input = [];
      else this.input.shift();
      this.inputOffset = 0;
    } else {
      this.inputOffset = endInFirstChunk;
    }
  }

  /** A complete line (CR LF or LF removed), an error event for an overlong line, or null for more input. */
  private readLine(): Buffer | ReceiverError | null {
    while (this.inputBytes > 0) {
      const chunk = this.input[0]!;
      const lf = chunk.indexOf(LF, this.inputOffset);
      const end = lf === -1 ? chunk.length : lf;
      const piece = chunk.subarray(this.inputOffset, end);
      this.advance(lf === -1 ? end : lf + 1);
      if (this.overlongTail) {
        this.overlongTail = keepTail(this.overlongTail, piece);
        if (lf !== -1) {
          const tail = this.overlongTail;
          this.overlongTail = null;
          return stripCr(tail);
        }
        continue;
      }
      if (this.lineBytes + piece.length > this.maxLineBytes) return this.refuseOverlongLine(piece, lf !== -1);
      this.lineParts.push(piece);
      this.lineBytes += piece.length;
      if (lf !== -1) {
        const line = stripCr(Buffer.concat(this.lineParts, this.lineBytes));
        this.lineParts = [];
        this.lineBytes = 0;
        return line;
      }
    }
    return null;
  }

  private refuseOverlongLine(piece: Buffer, complete: boolean): ReceiverError | Buffer {
    const tag = this.current?.tag ?? tagAtStart(this.lineParts[0] ?? piece);
    const tail = keepTail(Buffer.concat(this.lineParts), piece);
    this.lineParts = [];
    this.lineBytes = 0;
    this.lineWanted = false;
    this.discardingCommand = true;
    if (complete) this.pendingDiscardLine = stripCr(tail);
    else this.overlongTail = tail;
    return this.error(tag, 'line-too-long', 'BAD', `line longer than ${this.maxLineBytes} bytes`);
  }

  private handleLine(line: Buffer): ReceiverEvent | null {
    if (this.discardingCommand) {
      this.skipRestOfRefusedCommand(line);
      return null;
    }
    if (this.lineWanted) {
      this.lineWanted = false;
      return { type: 'line', line };
    }
    this.commandBytes += line.length + 2;
    this.commandTextBytes += line.length + 2;
    if (this.commandTextBytes > MAX_COMMAND_TEXT_BYTES || this.commandBytes > this.maxCommandBytes) {
      const event = this.error(this.current?.tag ?? null, 'command-too-big', 'BAD', 'command too long');
      this.discardingCommand = true;
      this.skipRestOfRefusedCommand(line);
      return event;
    }
    const result = this.tokenizer().feedLine(line);
    if (result.kind === 'done') {
      this.resetCommand();
      return { type: 'command', command: result.command };
    }
    if (result.kind === 'error') {
      const event = this.error(this.current?.tag ?? null, 'syntax', 'BAD', result.message);
      this.discardingCommand = true;
      this.skipRestOfRefusedCommand(line);
      return event;
    }
    return this.startLiteral(result.size, result.sync, result.binary);
  }

  private startLiteral(size: number, sync: boolean, binary: boolean): ReceiverEvent | null {
    const tokenizer = this.tokenizer();
    const tag = tokenizer.tag!;
    const refusal = this.literalRefusal(size, sync);
    if (refusal) {
      refusal.literal = { size, sync };
      this.refuse({ size, sync, binary });
      return refusal;
    }
    if (this.decideLiterals) {
      this.undecided = { size, sync, binary };
      const { commandName, isUid: uid, args, openList, depth } = tokenizer;
      return { type: 'literal', announcement: { tag, commandName, uid, size, sync, binary, args, openList, depth } };
    }
    this.commandBytes += size;
    this.literal = { size, remaining: size, parts: [], binary };
    return sync ? { type: 'continue', tag, size } : null;
  }

  private refuse(literal: { size: number; sync: boolean; binary: boolean }): void {
    this.discardingCommand = true;
    // A client that sent {n} waits for a continuation that never comes: nothing to skip.
    // A client that sent {n+} sends the n bytes anyway: they are read and dropped.
    if (literal.sync) this.resetCommand();
    else this.literal = { size: literal.size, remaining: literal.size, parts: null, binary: literal.binary };
  }

  private literalRefusal(size: number, sync: boolean): ReceiverError | null {
    const tag = this.tokenizer().tag;
    const maxLiteral = this.maxLiteralBytes(this.tokenizer().commandName);
    if (size > maxLiteral) {
      return this.error(tag, 'literal-too-big', sync ? 'NO' : 'BAD', `literal of ${size} bytes is over the limit of ${maxLiteral} bytes`, 'TOOBIG');
    }
    // Kept literals count against the command's limit; with decideLiterals, `acceptLiteral('keep')` checks it.
    if (!this.decideLiterals && this.commandBytes + size > this.maxCommandBytes) {
      return this.error(tag, 'command-too-big', sync ? 'NO' : 'BAD', `command is over the limit of ${this.maxCommandBytes} bytes`, 'TOOBIG');
    }
    if (!sync && this.literalMode === 'none') {
      return this.error(tag, 'non-sync-literal-refused', 'BAD', 'non-synchronizing literals are not supported (no LITERAL+)');
    }
    if (!sync && this.literalMode === 'literal-' && size > LITERAL_MINUS_MAX_BYTES) {
      return this.error(tag, 'non-sync-literal-refused', 'BAD', `non-synchronizing literal over ${LITERAL_MINUS_MAX_BYTES} bytes (LITERAL-)`, 'TOOBIG');
    }
    return null;
  }

  /**
   * After a refusal, the client still sends the rest of the command: the remaining lines, and the
   * bytes of any non-synchronizing literal. A synchronizing literal, or a line without a literal,
   * ends it.
   */
  private skipRestOfRefusedCommand(line: Buffer): void {
    const announced = literalAnnouncedAtEnd(line);
    if (announced && !announced.sync) {
      this.literal = { size: announced.size, remaining: announced.size, parts: null, binary: false };
      return;
    }
    this.resetCommand();
  }

  private tokenizer(): CommandTokenizer {
    this.current ??= new CommandTokenizer();
    return this.current;
  }

  private resetCommand(): void {
    this.current = null;
    this.commandBytes = 0;
    this.commandTextBytes = 0;
    this.discardingCommand = false;
    this.streamedCount = 0;
  }

  private error(tag: string | null, kind: ReceiverErrorKind, status: 'BAD' | 'NO', message: string, code?: 'TOOBIG'): ReceiverError {
    return code ? { type: 'error', tag, kind, status, code, message } : { type: 'error', tag, kind, status, message };
  }
}

function stripCr(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line;
}

function keepTail(kept: Buffer, piece: Buffer): Buffer {
  const joined = Buffer.concat([kept, piece]);
  return joined.length > DISCARD_TAIL_BYTES ? Buffer.from(joined.subarray(joined.length - DISCARD_TAIL_BYTES)) : joined;
}

/** The tag at the start of an overlong line, if it looks like one, so the BAD can be tagged. */
function tagAtStart(start: Buffer): string | null {
  const space = start.indexOf(0x20);
  if (space <= 0) return null;
  const tag = start.toString('latin1', 0, space);
  return /^[\x21-\x7e]+$/.test(tag) && !/[(){%*"\\+]/.test(tag) ? tag : null;
}
