/**
 * The tokens of an IMAP command line (RFC 3501 §4, §9), as the receiver hands them to the argument
 * parsers. Pure data: no I/O.
 */
import type { Buffer } from 'node:buffer';

/** `<start.length>` after a FETCH section (RFC 3501 §6.4.5); `length` absent in `<start>`. */
export interface Partial {
  start: number;
  length?: number;
}

/**
 * An atom as sent (case kept). For `BODY[...]`, `BODY.PEEK[...]`, `BINARY[...]`, `BINARY.PEEK[...]`
 * and `BINARY.SIZE[...]` the bracketed section is parsed into `section` (its tokens: atoms, strings,
 * lists) and a following `<n.m>` into `partial`; `value` is then the name before `[`.
 */
export interface AtomValue {
  type: 'atom';
  value: string;
  section?: Value[];
  partial?: Partial;
}

/** A quoted string or a literal; `binary` for a literal8 `~{n}` (RFC 3516). Bytes as sent. */
export interface StringValue {
  type: 'string';
  value: Buffer;
  literal: boolean;
  binary?: boolean;
}

/**
 * A literal the server streamed out of the command as it came (APPEND's messages, CATENATE's TEXT
 * parts): its bytes are not here; `index` counts the command's streamed literals from 0.
 */
export interface StreamedValue {
  type: 'streamed';
  size: number;
  binary: boolean;
  index: number;
}

export interface ListValue {
  type: 'list';
  items: Value[];
}

export interface NilValue {
  type: 'nil';
}

export type Value = AtomValue | StringValue | StreamedValue | ListValue | NilValue;

/** One complete command: `tag UID FETCH ...` gives `{ name: 'FETCH', uid: true }`. */
export interface Command {
  tag: string;
  /** Upper-cased command name, without the `UID` prefix. */
  name: string;
  /** True for `UID COPY|FETCH|MOVE|SEARCH|STORE|EXPUNGE ...` (RFC 3501 §6.4.8). */
  uid: boolean;
  args: Value[];
}

/** Short text of a value for error messages and tests (never the bytes of a literal). */
export function describeValue(value: Value): string {
  switch (value.type) {
    case 'atom':
      return value.value;
    case 'nil':
      return 'NIL';
    case 'list':
      return '(...)';
    case 'string':
      return value.literal ? `literal of ${value.value.length} bytes` : 'quoted string';
    case 'streamed':
      return `literal of ${value.size} bytes`;
  }
}
