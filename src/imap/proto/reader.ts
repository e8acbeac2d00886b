/**
 * A cursor over a command's argument values, with one method per RFC 3501 §9 argument type. Every
 * method throws ProtocolSyntaxError with a message fit for a BAD reply.
 */
import { Buffer } from 'node:buffer';
import { ProtocolSyntaxError } from './errors.ts';
import { MAX_NUMBER } from './tokenizer.ts';
import { describeValue, type Value } from './values.ts';

/**
 * Largest mod-sequence returned. RFC 7162 §7 allows 63 bits; Facteur's mod-sequences are JavaScript
 * numbers, exact up to 2^53 - 1, and never grow past it. Larger values a client sends (the RFC's own
 * examples have some) are clamped to this: every comparison with a real mod-sequence stays the same.
 */
export const MAX_MODSEQ = Number.MAX_SAFE_INTEGER;
/** RFC 7162 §7 `mod-sequence-value`: at most 2^63 - 1. */
const MAX_MODSEQ_63_BITS = 2n ** 63n - 1n;

export class ArgReader {
  private index = 0;

  constructor(private readonly values: readonly Value[]) {}

  get done(): boolean {
    return this.index >= this.values.length;
  }

  peek(): Value | undefined {
    return this.values[this.index];
  }

  /** The next value, whatever its type. */
  next(what: string): Value {
    const value = this.values[this.index];
    if (!value) throw new ProtocolSyntaxError(`missing ${what}`);
    this.index++;
    return value;
  }

  /** The upper-cased next atom if it is a plain atom (no section), without consuming it. */
  peekKeyword(): string | null {
    const value = this.peek();
    return value?.type === 'atom' && !value.section ? value.value.toUpperCase() : null;
  }

  /** A plain atom, as sent. */
  atom(what: string): string {
    const value = this.next(what);
    if (value.type !== 'atom' || value.section) throw new ProtocolSyntaxError(`expected ${what}, got ${describeValue(value)}`);
    return value.value;
  }

  keyword(what: string): string {
    return this.atom(what).toUpperCase();
  }

  /** RFC 3501 `astring` bytes: an atom, a quoted string or a literal (NIL is the atom "NIL"). */
  astring(what: string): Buffer {
    return valueToAstring(this.next(what), what);
  }

  /** An astring as UTF-8 text. */
  text(what: string): string {
    return this.astring(what).toString('utf8');
  }

  /** RFC 3501 `string`: quoted or literal only. */
  string(what: string): Buffer {
    const value = this.next(what);
    if (value.type !== 'string') throw new ProtocolSyntaxError(`expected ${what} as a string, got ${describeValue(value)}`);
    return value.value;
  }

  /** RFC 3501 `number`: 0 to 4294967295. */
  number(what: string): number {
    return parseNumber(this.atom(what), what);
  }

  nzNumber(what: string): number {
    const value = this.number(what);
    if (value === 0) throw new ProtocolSyntaxError(`${what} must not be 0`);
    return value;
  }

  /** RFC 7162 `mod-sequence-value` (or `mod-sequence-valzer` with allowZero). */
  modseq(what: string, allowZero = false): number {
    return parseModseq(this.atom(what), what, allowZero);
  }

  list(what: string): Value[] {
    const value = this.next(what);
    if (value.type !== 'list') throw new ProtocolSyntaxError(`expected ${what} in parentheses, got ${describeValue(value)}`);
    return value.items;
  }

  /** The next value if it is a list, consumed; null otherwise. */
  optionalList(): Value[] | null {
    const value = this.peek();
    if (value?.type !== 'list') return null;
    this.index++;
    return value.items;
  }

  /** Every remaining value, consumed. */
  rest(): Value[] {
    const rest = this.values.slice(this.index);
    this.index = this.values.length;
    return rest;
  }

  /** Throws when arguments remain. */
  end(): void {
    const value = this.peek();
    if (value) throw new ProtocolSyntaxError(`unexpected argument ${describeValue(value)}`);
  }
}

export function valueToAstring(value: Value, what: string): Buffer {
  if (value.type === 'string') return value.value;
  if (value.type === 'nil') return Buffer.from('NIL');
  if (value.type === 'atom' && !value.section) return Buffer.from(value.value, 'latin1');
  throw new ProtocolSyntaxError(`expected ${what}, got ${describeValue(value)}`);
}

export function parseNumber(text: string, what: string): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) > MAX_NUMBER) throw new ProtocolSyntaxError(`invalid ${what} "${text}"`);
  return Number(text);
}

export function parseModseq(text: string, what: string, allowZero = false): number {
  if (!/^\d{1,19}$/.test(text)) throw new ProtocolSyntaxError(`invalid ${what} "${text}"`);
  if (BigInt(text) > MAX_MODSEQ_63_BITS) throw new ProtocolSyntaxError(`${what} ${text} is over 2^63 - 1`);
  const value = Math.min(Number(text), MAX_MODSEQ);
  if (value === 0 && !allowZero) throw new ProtocolSyntaxError(`${what} must not be 0`);
  return value;
}
