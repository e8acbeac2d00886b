/**
 * The error of the argument parsers: its message is fit for the text of a tagged reply. Most are
 * `BAD` (RFC 3501 §7.1.3: the command is not valid); a few are `NO` with a response code, like an
 * unsupported SEARCH charset (RFC 3501 §6.4.4: `NO [BADCHARSET (US-ASCII UTF-8)]`).
 */
export class ProtocolSyntaxError extends Error {
  constructor(
    message: string,
    /** The status of the reply. */
    readonly status: 'BAD' | 'NO' = 'BAD',
    /** Response code text without brackets, e.g. `BADCHARSET (US-ASCII UTF-8)`. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ProtocolSyntaxError';
  }
}

/** SEARCH charsets this server accepts (RFC 3501 §6.4.4; UTF-8 as RFC 6855 expects). */
export const SEARCH_CHARSETS = ['US-ASCII', 'UTF-8'] as const;

/** A SEARCH with a charset other than SEARCH_CHARSETS: reply `NO [BADCHARSET (US-ASCII UTF-8)]`. */
export class BadCharsetError extends ProtocolSyntaxError {
  constructor(readonly charset: string) {
    super(`charset ${charset} is not supported`, 'NO', `BADCHARSET (${SEARCH_CHARSETS.join(' ')})`);
    this.name = 'BadCharsetError';
  }
}

export function isProtocolSyntaxError(error: unknown): error is ProtocolSyntaxError {
  return error instanceof ProtocolSyntaxError;
}
