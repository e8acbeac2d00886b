/** Small text pieces of responses whose content is known to be plain ASCII (names, fixed strings). */

/** A quoted string (RFC 3501 §4.3) for text without CR, LF or NUL. */
export function quoted(text: string): string {
  return `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * Human-readable response text as RFC 3501 §9 allows it (`text` is 7-bit; UTF-8 only after ENABLE
 * UTF8=ACCEPT, RFC 6855 §3): accents dropped, typographic quotes made plain, anything else `?`.
 */
export function asciiText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d\u00ab\u00bb]/g, '"')
    .replace(/[^\x20-\x7e]/g, '?');
}
