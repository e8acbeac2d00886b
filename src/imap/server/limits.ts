/** Limits of the IMAP server, with their reasons. */

/** Largest APPEND, in bytes: the contract's largest message (50 MB, SPEC R-M5), advertised as APPENDLIMIT (RFC 7889). */
export const MAX_APPEND_BYTES = 50 * 1024 * 1024;
/** Largest literal of any other command (a SEARCH string, a mailbox name), in bytes. */
export const MAX_OTHER_LITERAL_BYTES = 64 * 1024;
/** Messages per FETCH response batch read from the store at once: bounds memory for FETCH 1:*. */
export const FETCH_BATCH = 200;
/**
 * Largest literal before login, in bytes: a user name or password sent as a literal (LOGIN) is a few
 * dozen bytes. Anything larger is refused before it is read (RFC 7888 §4, RFC 3501 §7.5), so that an
 * unauthenticated client cannot make the server hold data.
 */
export const MAX_PREAUTH_LITERAL_BYTES = 8 * 1024;
/** Largest command before login, lines and literals together, in bytes. */
export const MAX_PREAUTH_COMMAND_BYTES = 64 * 1024;
/**
 * Largest command once logged in, lines and the literals it keeps, in bytes. APPEND's messages are
 * streamed to a spool on disk and do not count; a SEARCH or a mailbox name never needs more.
 */
export const MAX_COMMAND_BYTES = 8 * 1024 * 1024;
/**
 * Once logged in, a refused non-synchronizing literal up to this size is read and dropped and the
 * session goes on; a larger one (before login: one over MAX_PREAUTH_LITERAL_BYTES) gets BYE and the
 * connection is closed without reading it (RFC 7888 §4).
 */
export const MAX_DISCARDED_LITERAL_BYTES = MAX_APPEND_BYTES;
