/**
 * A resumable, byte-level line splitter: feed it chunks split anywhere, get whole lines back. A line
 * over the limit is reported once as `overlong` and the rest of it, up to its LF, is skipped (RFC 2449
 * §4), so memory never holds more than one line. Lines end at LF; a CR before it is removed.
 */
export type LineEvent = { kind: 'line'; line: Buffer } | { kind: 'overlong' };

const LF = 0x0a;
const CR = 0x0d;

export class LineReader {
  private parts: Buffer[] = [];
  private length = 0;
  private skipping = false;

  /** `maxLineOctets` counts the line with its CRLF; the session changes it during a SASL exchange. */
  constructor(public maxLineOctets: number) {}

  push(chunk: Buffer): LineEvent[] {
    const events: LineEvent[] = [];
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(LF, start);
      const end = lf === -1 ? chunk.length : lf + 1;
      const piece = chunk.subarray(start, end);
      start = end;
      if (this.skipping) {
        if (lf !== -1) this.skipping = false;
        continue;
      }
      this.length += piece.length;
      if (this.length > this.maxLineOctets) {
        events.push({ kind: 'overlong' });
        this.parts = [];
        this.length = 0;
        this.skipping = lf === -1;
        continue;
      }
      // A partial line is copied, so the reader never keeps a whole socket chunk alive.
      this.parts.push(lf === -1 ? Buffer.from(piece) : piece);
      if (lf === -1) continue;
      const whole = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.length);
      this.parts = [];
      this.length = 0;
      const cut = whole.length >= 2 && whole[whole.length - 2] === CR ? 2 : 1;
      events.push({ kind: 'line', line: whole.subarray(0, whole.length - cut) });
    }
    return events;
  }

  /** Forgets everything buffered: after STLS, plaintext sent before the handshake must not run (RFC 2595 §4). */
  reset(): void {
    this.parts = [];
    this.length = 0;
    this.skipping = false;
  }
}
