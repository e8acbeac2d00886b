/**
 * Flags as IMAP shows them (RFC 3501 §2.3.2). \Recent is not a stored flag: the session's view adds it
 * to the messages it was the first to be told of (SelectedMailbox.shownFlags). Parsing a client's flags
 * is proto/'s `parseFlag`.
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
