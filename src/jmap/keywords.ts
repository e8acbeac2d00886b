/**
 * IMAP flags ↔ JMAP keywords (RFC 8621 §4.1.1): the system flags \Seen, \Flagged, \Answered and \Draft
 * are $seen, $flagged, $answered and $draft; other keywords are the same strings, returned in lowercase
 * (JSON is case-sensitive, IMAP keywords are not). \Deleted and \Recent have no keyword: JMAP never shows
 * them and an update of keywords keeps \Deleted as it is.
 */

const SYSTEM: Record<string, string> = { '\\seen': '$seen', '\\flagged': '$flagged', '\\answered': '$answered', '\\draft': '$draft' };
const FLAG_OF: Record<string, string> = { $seen: '\\Seen', $flagged: '\\Flagged', $answered: '\\Answered', $draft: '\\Draft' };
/** Flags that stay when a client sets the keywords (they are not keywords). */
const KEPT = new Set(['\\deleted']);

export function keywordsOf(flags: readonly string[]): Record<string, true> {
  const out: Record<string, true> = {};
  for (const flag of flags) {
    const lower = flag.toLowerCase();
    if (lower.startsWith('\\')) {
      const keyword = SYSTEM[lower];
      if (keyword) out[keyword] = true;
    } else out[lower] = true;
  }
  return out;
}

/** RFC 8621 §4.1.1: 1-255 characters of %x21-%x7e, none of ( ) { ] % * " \ */
export function isKeyword(keyword: string): boolean {
  return /^[\x21-\x7e]{1,255}$/.test(keyword) && !/[(){\]%*"\\]/.test(keyword);
}

export function flagOf(keyword: string): string {
  const lower = keyword.toLowerCase();
  return FLAG_OF[lower] ?? lower;
}

/** The flags a message gets when its keywords become `keywords`: the non-keyword flags it had stay. */
export function flagsWithKeywords(current: readonly string[], keywords: readonly string[]): string[] {
  return [...current.filter((f) => KEPT.has(f.toLowerCase())), ...keywords.map(flagOf)];
}
