/** Small text pieces of responses whose content is known to be plain ASCII (names, fixed strings). */

/** A quoted string (RFC 3501 §4.3) for text without CR, LF or NUL. */
export function quoted(text: string): string {
  return `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
