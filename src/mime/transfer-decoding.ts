/**
 * Content-Transfer-Encoding decoders (RFC 2045 §6) that work chunk by chunk: whatever the size of a
 * part, they hold a few bytes of state, never the part. IMAP BINARY (RFC 3516) streams decoded parts
 * with them. Both are lenient like mail readers: base64 skips characters outside its alphabet,
 * quoted-printable keeps a `=` that starts no valid escape.
 */

export interface TransferDecoder {
  /** Decodes a chunk; may keep a few bytes for the next one. */
  push(chunk: Buffer): Buffer;
  /** What remains once the input has ended. */
  end(): Buffer;
}

/** Encodings whose bytes are the content already (RFC 2045 §6.2), `''` being an absent header. */
const IDENTITY = new Set(['', '7bit', '8bit', 'binary']);

/**
 * The decoder of a Content-Transfer-Encoding: null for the identity encodings, undefined for one this
 * server does not know (IMAP answers NO [UNKNOWN-CTE], RFC 3516 §4.3).
 */
export function transferDecoder(encoding: string): TransferDecoder | null | undefined {
  const name = encoding.trim().toLowerCase();
  if (IDENTITY.has(name)) return null;
  if (name === 'base64') return new Base64Decoder();
  if (name === 'quoted-printable') return new QuotedPrintableDecoder();
  return undefined;
}

const BASE64_VALUES = new Int8Array(256).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) BASE64_VALUES[c.charCodeAt(0)] = i;
const EQUALS = 0x3d;

/** RFC 2045 §6.8, bit by bit: line breaks and stray characters are skipped; `=` ends a group (encodings one after another decode too). */
export class Base64Decoder implements TransferDecoder {
  private bits = 0;
  private value = 0;

  push(chunk: Buffer): Buffer {
    const out = Buffer.allocUnsafe(Math.ceil((chunk.length * 3) / 4) + 1);
    let n = 0;
    let bits = this.bits;
    let value = this.value;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      const v = BASE64_VALUES[byte] as number;
      if (v < 0) {
        if (byte === EQUALS) {
          bits = 0;
          value = 0;
        }
        continue;
      }
      value = ((value << 6) | v) & 0xffffff;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out[n++] = (value >> bits) & 0xff;
      }
    }
    this.bits = bits;
    this.value = value;
    return out.subarray(0, n);
  }

  end(): Buffer {
    this.bits = 0;
    this.value = 0;
    return Buffer.alloc(0);
  }
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
/** A line longer than this without a line break is decoded in pieces (valid lines have at most 76 characters). */
const MAX_KEPT_LINE = 8 * 1024;

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * RFC 2045 §6.7, line by line: `=XX` escapes, soft line breaks (`=` at the end of a line), trailing
 * white space removed (rule 3), hard line breaks written as CRLF (RFC 3516 §6).
 */
export class QuotedPrintableDecoder implements TransferDecoder {
  /** The current line, not yet ended by a line break. */
  private line: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer {
    const input = this.line.length > 0 ? Buffer.concat([this.line, chunk]) : chunk;
    const parts: Buffer[] = [];
    let start = 0;
    for (let lf = input.indexOf(LF, start); lf >= 0; lf = input.indexOf(LF, start)) {
      parts.push(decodeLine(input.subarray(start, lf), true));
      start = lf + 1;
    }
    let rest = input.subarray(start);
    if (rest.length > MAX_KEPT_LINE) {
      // No line break for long: decode all but an escape that may be cut at the end; trailing white space stays.
      let cut = rest.length;
      if (rest[cut - 1] === EQUALS) cut -= 1;
      else if (rest[cut - 2] === EQUALS) cut -= 2;
      parts.push(decodeLine(rest.subarray(0, cut), false));
      rest = rest.subarray(cut);
    }
    this.line = Buffer.from(rest);
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }

  end(): Buffer {
    const last = this.line;
    this.line = Buffer.alloc(0);
    return last.length > 0 ? decodeLine(last, false, true) : Buffer.alloc(0);
  }
}

/** One line without its LF: escapes decoded, then CRLF unless it ends with a soft break (or is the last, unterminated one). */
function decodeLine(raw: Buffer, terminated: boolean, last = false): Buffer {
  let end = raw.length;
  if (terminated || last) {
    if (end > 0 && raw[end - 1] === CR) end--;
    while (end > 0 && (raw[end - 1] === SPACE || raw[end - 1] === TAB)) end--;
  }
  let soft = false;
  if ((terminated || last) && end > 0 && raw[end - 1] === EQUALS) {
    soft = true;
    end--;
  }
  const out = Buffer.allocUnsafe(end + 2);
  let n = 0;
  for (let i = 0; i < end; i++) {
    const byte = raw[i] as number;
    if (byte === EQUALS && i + 2 < end) {
      const high = hexValue(raw[i + 1] as number);
      const low = hexValue(raw[i + 2] as number);
      if (high >= 0 && low >= 0) {
        out[n++] = (high << 4) | low;
        i += 2;
        continue;
      }
    }
    out[n++] = byte;
  }
  if (terminated && !soft) {
    out[n++] = CR;
    out[n++] = LF;
  }
  return out.subarray(0, n);
}
