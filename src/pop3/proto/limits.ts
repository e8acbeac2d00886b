/** The POP3 limits, each with its reason. */

/** RFC 2449 §4: a command line is at most 255 octets, CRLF included. */
export const MAX_COMMAND_OCTETS = 255;

/**
 * RFC 5034 §4: SASL responses after a challenge may be longer than a command. PLAIN (RFC 4616) carries
 * at most three 255-octet strings, so 4 KiB of base64 is ample; a longer line is refused like any other.
 */
export const MAX_SASL_RESPONSE_OCTETS = 4096;

/** RFC 2449 §4: the first line of a response is at most 512 octets, CRLF included. */
export const MAX_RESPONSE_LINE_OCTETS = 512;
