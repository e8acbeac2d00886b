/**
 * Formatting POP3 responses (RFC 1939 §3): `+OK`/`-ERR` status lines with RFC 2449 §8 response codes,
 * and multi-line responses whose lines are byte-stuffed and ended by a line holding a single dot.
 */
import { MAX_RESPONSE_LINE_OCTETS } from './limits.ts';

/** Response codes: RFC 2449 §8.1 (IN-USE, LOGIN-DELAY) and RFC 3206 (SYS/TEMP, SYS/PERM, AUTH). */
export type ResponseCode = 'AUTH' | 'IN-USE' | 'LOGIN-DELAY' | 'SYS/TEMP' | 'SYS/PERM';

/** The five octets that end a multi-line response (RFC 1939 §3). */
export const TERMINATOR = '.\r\n';

/** One line of text: no CR, LF or NUL can reach the wire, and the status line stays within 512 octets. */
function clean(text: string): string {
  const line = text.replace(/[\r\n\0]+/g, ' ');
  return Buffer.byteLength(line) <= MAX_RESPONSE_LINE_OCTETS - 16 ? line : `${line.slice(0, 200)}…`;
}

export function formatOk(text = ''): string {
  return text ? `+OK ${clean(text)}\r\n` : '+OK\r\n';
}

export function formatErr(text: string, code?: ResponseCode): string {
  return `-ERR ${code ? `[${code}] ` : ''}${clean(text)}\r\n`;
}

/** A whole multi-line response from short lines (CAPA, LIST, UIDL). */
export function formatMultiline(first: string, lines: string[]): string {
  return formatOk(first) + lines.map((line) => `${stuffLine(line)}\r\n`).join('') + TERMINATOR;
}

/** RFC 1939 §3: a line starting with the termination octet gets one more. */
export function stuffLine(line: string): string {
  return line.startsWith('.') ? `.${line}` : line;
}
