/**
 * Internationalised domain names: stored in ASCII (punycode, RFC 3492 / IDNA, RFC 5891), shown in
 * Unicode. `toAsciiDomain` leans on the WHATWG URL parser (UTS #46 mapping, present in every runtime);
 * `toUnicodeDomain` decodes the `xn--` labels with the RFC 3492 §6.2 algorithm.
 */
const BASE = 36;
const T_MIN = 1;
const T_MAX = 26;
const SKEW = 38;
const DAMP = 700;
const INITIAL_BIAS = 72;
const INITIAL_N = 128;

/** RFC 3492 §6.1 */
function adapt(delta: number, numPoints: number, firstTime: boolean): number {
  let d = firstTime ? Math.floor(delta / DAMP) : delta >> 1;
  d += Math.floor(d / numPoints);
  let k = 0;
  while (d > ((BASE - T_MIN) * T_MAX) >> 1) {
    d = Math.floor(d / (BASE - T_MIN));
    k += BASE;
  }
  return k + Math.floor(((BASE - T_MIN + 1) * d) / (d + SKEW));
}

function digitValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 22; // 0-9 -> 26..35
  if (code >= 0x41 && code <= 0x5a) return code - 0x41; // A-Z
  if (code >= 0x61 && code <= 0x7a) return code - 0x61; // a-z
  return BASE;
}

/** RFC 3492 §6.2: decodes one punycode label (without its `xn--` prefix); undefined if malformed. */
export function decodePunycode(input: string): string | undefined {
  const output: number[] = [];
  const basicEnd = input.lastIndexOf('-');
  for (let j = 0; j < Math.max(basicEnd, 0); j++) {
    const c = input.charCodeAt(j);
    if (c >= 0x80) return undefined;
    output.push(c);
  }
  let n = INITIAL_N;
  let i = 0;
  let bias = INITIAL_BIAS;
  for (let pos = basicEnd > 0 ? basicEnd + 1 : 0; pos < input.length; ) {
    const oldI = i;
    let w = 1;
    for (let k = BASE; ; k += BASE) {
      if (pos >= input.length) return undefined;
      const digit = digitValue(input.charCodeAt(pos++));
      if (digit >= BASE) return undefined;
      i += digit * w;
      const t = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias;
      if (digit < t) break;
      w *= BASE - t;
      if (i > 0x10ffff * 4) return undefined;
    }
    bias = adapt(i - oldI, output.length + 1, oldI === 0);
    n += Math.floor(i / (output.length + 1));
    i %= output.length + 1;
    if (n > 0x10ffff) return undefined;
    output.splice(i++, 0, n);
  }
  return String.fromCodePoint(...output);
}

/**
 * Characters the URL parser would read as user info, port, path, query or fragment (`user@site.test`,
 * `site.test:25`, `site.test/x` all parse to `site.test`), drop (tab, newline) or decode (`%6d`).
 */
const NOT_IN_A_HOST = /[\s/\\?#@:%[\]]/;

/** ASCII (punycode) form of a domain, lower-cased; undefined if the URL parser rejects it. */
export function toAsciiDomain(domain: string): string | undefined {
  if (NOT_IN_A_HOST.test(domain)) return undefined;
  try {
    const host = new URL(`http://${domain}/`).hostname;
    return host.endsWith('.') ? host.slice(0, -1) : host;
  } catch {
    return undefined;
  }
}

/** Unicode form of an ASCII domain, for display. Malformed `xn--` labels are shown as they are. */
export function toUnicodeDomain(asciiDomain: string): string {
  return asciiDomain
    .split('.')
    .map((label) => (label.startsWith('xn--') ? (decodePunycode(label.slice(4)) ?? label) : label))
    .join('.');
}
