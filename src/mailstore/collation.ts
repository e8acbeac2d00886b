/**
 * The i;unicode-casemap collation (RFC 5051), which SORT and THREAD use for strings (RFC 5256 §7):
 * each character is mapped to its titlecase form, then the string is decomposed (NFKD), and the results
 * compare as octets of their UTF-8. Keys are folded once, when a message is stored, so a sort compares
 * stored keys and folds nothing.
 */

/** Nothing outside ASCII: no decomposition, and uppercase is the whole folding. */
const NON_ASCII = /[^ -~\t\r\n]/;

/**
 * RFC 5051 §2 folding. JavaScript has no titlecase mapping: the simple uppercase mapping stands in for
 * it (the two differ only for the four digraphs Ǆ ǅ ǆ and their kin, which fold to one class either
 * way); a character whose uppercase is several characters (ß -> SS) keeps its form, as the simple
 * titlecase mapping does.
 */
export function foldCasemap(text: string): string {
  if (!NON_ASCII.test(text)) return text.toUpperCase();
  // Decomposed first as well, so that what a decomposition yields is folded too (ﬁ -> fi -> FI).
  let out = '';
  for (const ch of text.normalize('NFKD')) {
    const upper = ch.toUpperCase();
    out += upper.length === ch.length ? upper : ch;
  }
  return out.normalize('NFKD');
}

/** UTF-16 code units reordered so that comparing them orders strings as their UTF-8 octets (code points) do. */
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/** Octet order of the UTF-8 forms of two folded keys (RFC 5051 §2: "i;octet" on the folded strings). */
export function compareFolded(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Characters whose UTF-16 order differs from their code point order (surrogates and U+E000..U+FFFF). */
const HIGH_UNITS = /[\ud800-\uffff]/g;

/**
 * A folded key rewritten so that JavaScript's own string comparison (`<`, by UTF-16 units) orders it as
 * `compareFolded` does: for sorting many keys, rewrite each once, then compare natively. Keys without
 * such characters (nearly all) come back as they are.
 */
export function octetOrderKey(folded: string): string {
  HIGH_UNITS.lastIndex = 0;
  if (!HIGH_UNITS.test(folded)) return folded;
  return folded.replace(HIGH_UNITS, (unit) => String.fromCharCode(codePointRank(unit.charCodeAt(0))));
}
