/**
 * Flags as IMAP shows them (RFC 3501 §2.3.2). \Recent is not a stored flag: the session's view adds it
 * to the messages it was the first to be told of (SelectedMailbox.shownFlags). Parsing a client's flags
 * is proto/'s `parseFlag`.
 */
import { SYSTEM_FLAGS } from '../proto/index.ts';

export function flagList(flags: readonly string[]): string {
  return `(${flags.join(' ')})`;
}

/**
 * The untagged FLAGS and PERMANENTFLAGS of a folder (RFC 3501 §7.2.6, §7.1): the system flags and the
 * keywords the session knows, plus `\*` in PERMANENTFLAGS (new keywords allowed; nothing when read-only).
 * Sent at SELECT, and again before any FETCH shows a keyword the session was not told of.
 */
export function flagsAnnouncement(keywords: readonly string[], readOnly: boolean): [flags: string, permanentFlags: string] {
  const flags = [...SYSTEM_FLAGS, ...keywords];
  return [`FLAGS (${flags.join(' ')})`, `OK [PERMANENTFLAGS (${readOnly ? '' : [...flags, '\\*'].join(' ')})] Flags permitted`];
}
