/**
 * Turning stored message bytes into a RETR or TOP response body, chunk by chunk, in constant memory:
 * `DotStuffer` byte-stuffs lines that start with "." and ends the response with CRLF.CRLF (RFC 1939
 * §3); `TopFilter` passes the header, the blank line and the first n body lines (RFC 1939 §7 TOP).
 * Both resume on any byte boundary.
 */

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const EXTRA_DOT = Buffer.from('.');

export class DotStuffer {
  private atLineStart = true;

  /** The chunk with a dot added before every line-initial dot (the chunk itself when there is none). */
  push(chunk: Buffer): Buffer {
    const parts: Buffer[] = [];
    let from = 0;
    let lineStart = this.atLineStart ? 0 : -1;
    for (;;) {
      if (lineStart !== -1 && lineStart < chunk.length && chunk[lineStart] === DOT) {
        parts.push(chunk.subarray(from, lineStart), EXTRA_DOT);
        from = lineStart;
      }
      const lf = chunk.indexOf(LF, lineStart === -1 ? 0 : lineStart);
      if (lf === -1) break;
      lineStart = lf + 1;
    }
    if (chunk.length > 0) this.atLineStart = chunk[chunk.length - 1] === LF;
    if (parts.length === 0) return chunk;
    parts.push(chunk.subarray(from));
    return Buffer.concat(parts);
  }

  /** What ends the response: a CRLF if the content did not end a line, then the termination line. */
  end(): Buffer {
    return Buffer.from(this.atLineStart ? '.\r\n' : '\r\n.\r\n');
  }
}

export class TopFilter {
  private inHeader = true;
  private lineEmpty = true;
  private bodyLinesLeft: number;
  private finished: boolean;

  constructor(bodyLines: number) {
    this.bodyLinesLeft = bodyLines;
    this.finished = false;
  }

  get done(): boolean {
    return this.finished;
  }

  /** The part of the chunk to send; once `done`, the rest of the message is not needed. */
  push(chunk: Buffer): Buffer {
    if (this.finished) return chunk.subarray(0, 0);
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte !== LF) {
        if (byte !== CR) this.lineEmpty = false;
        continue;
      }
      if (this.inHeader) {
        if (this.lineEmpty) this.inHeader = false;
      } else {
        this.bodyLinesLeft--;
      }
      this.lineEmpty = true;
      if (!this.inHeader && this.bodyLinesLeft <= 0) {
        this.finished = true;
        return chunk.subarray(0, i + 1);
      }
    }
    return chunk;
  }
}
