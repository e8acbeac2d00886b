/**
 * Flags as IMAP shows them (RFC 3501 §2.3.2). \Recent is never stored: RFC 9051 dropped it, and this
 * server reports no message as recent. Parsing a client's flags is proto/'s `parseFlag`.
 */
import { SYSTEM_FLAGS } from '../proto/index.ts';

export function flagList(flags: readonly string[]): string {
  return `(${flags.join(' ')})`;
}

/** PERMANENTFLAGS of SELECT: the system flags, plus `\*` (new keywords allowed); none when read-only. */
export function permanentFlags(readOnly: boolean): string {
  return readOnly ? '()' : `(${SYSTEM_FLAGS.join(' ')} \\*)`;
}

/** FLAGS of SELECT: what may be set in this folder. */
export const FLAGS_RESPONSE = `(${SYSTEM_FLAGS.join(' ')})`;
