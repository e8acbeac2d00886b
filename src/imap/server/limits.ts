/** Limits of the IMAP server, with their reasons. */

/** Largest APPEND, in bytes: the contract's largest message (50 MB, SPEC R-M5), advertised as APPENDLIMIT (RFC 7889). */
export const MAX_APPEND_BYTES = 50 * 1024 * 1024;
/** Largest literal of any other command (a SEARCH string, a mailbox name), in bytes. */
export const MAX_OTHER_LITERAL_BYTES = 64 * 1024;
/** Messages per FETCH response batch read from the store at once: bounds memory for FETCH 1:*. */
export const FETCH_BATCH = 200;
