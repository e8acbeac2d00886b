/**
 * Parsing a POP3 command line (RFC 1939 §3, RFC 2449 §3): a case-insensitive keyword of three or four
 * letters, then arguments separated by spaces. Pure: no I/O.
 */

export interface Pop3Command {
  /** Upper-cased keyword. */
  name: string;
  /** The arguments split on spaces. */
  args: string[];
  /** Everything after the keyword and its space, verbatim (PASS: a password may contain spaces). */
  rest: string;
}

export type ParseResult = { ok: true; command: Pop3Command } | { ok: false; reason: 'nul' | 'encoding' | 'keyword' };

const KEYWORD = /^[A-Za-z]{3,4}$/;
const decoder = new TextDecoder('utf-8', { fatal: true });

export function parseCommand(line: Buffer): ParseResult {
  if (line.includes(0)) return { ok: false, reason: 'nul' };
  let text: string;
  try {
    text = decoder.decode(line);
  } catch {
    return { ok: false, reason: 'encoding' };
  }
  const space = text.indexOf(' ');
  const keyword = space === -1 ? text : text.slice(0, space);
  if (!KEYWORD.test(keyword)) return { ok: false, reason: 'keyword' };
  const rest = space === -1 ? '' : text.slice(space + 1);
  const args = rest.split(' ').filter((arg) => arg !== '');
  return { ok: true, command: { name: keyword.toUpperCase(), args, rest } };
}

/** RFC 1939 §3: a message-number is a positive decimal; anything else (signs, zero, leading zeros) is not one. */
export function parseMessageNumber(arg: string | undefined): number | undefined {
  return arg !== undefined && /^[1-9][0-9]{0,9}$/.test(arg) ? Number(arg) : undefined;
}

/** TOP's line count (RFC 1939 §7): a non-negative decimal. */
export function parseLineCount(arg: string | undefined): number | undefined {
  return arg !== undefined && /^(0|[1-9][0-9]{0,9})$/.test(arg) ? Number(arg) : undefined;
}
