/**
 * Writes responses to the socket with backpressure: a client that does not read its responses makes
 * the writer wait (and the connection stops reading commands), so nothing is buffered without bound.
 * Message bodies arrive as streams and are copied chunk by chunk, never held whole.
 */
import { once } from 'node:events';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';

/** A literal whose bytes come from a stream (a body section from the blob store). */
export interface StreamedLiteral {
  size: number;
  open(): Readable;
}

export type OutputChunk = Buffer | StreamedLiteral;

/** Most bytes of small buffers gathered into one socket write. */
const COALESCE_BYTES = 64 * 1024;

export class ResponseWriter {
  /** When bytes were last handed to the socket (performance.now()): a slow download is not inactivity. */
  lastWriteAt = performance.now();

  /** Whether the socket is corked until the current run of callbacks ends (see `writeBuffer`). */
  private corked = false;
  private readonly uncork = () => {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  };

  constructor(private socket: Socket) {}

  /** Hands what is corked to the socket now. */
  flush(): void {
    this.uncork();
  }

  /** The connection moved to TLS: responses go to the new socket. */
  replaceSocket(socket: Socket): void {
    this.uncork();
    this.socket = socket;
  }

  get closed(): boolean {
    return this.socket.destroyed || !this.socket.writable;
  }

  async write(chunks: OutputChunk[]): Promise<void> {
    // Consecutive buffers go out as one write (up to COALESCE_BYTES): a FETCH response is dozens of
    // small pieces, and one socket write each cost more than encoding them (bench/imap profile).
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      if (pending.length === 0) return;
      const data = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      if (!this.closed) await this.writeBuffer(data);
    };
    for (const chunk of chunks) {
      if (this.closed) return;
      if (Buffer.isBuffer(chunk)) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= COALESCE_BYTES) await flush();
      } else {
        await flush();
        if (this.closed) return;
        await this.writeStream(chunk);
      }
    }
    await flush();
  }

  async line(text: string): Promise<void> {
    await this.write([Buffer.from(`${text}\r\n`, 'utf8')]);
  }

  /**
   * The responses of a command are written line by line, most of them within one run of callbacks (the
   * store answers synchronously on SQLite): the socket is corked until that run ends, so they leave in
   * one system call instead of one each (bench/imap heavy mix: a socket write per line was 4% of the
   * thread). Anything awaited on the network (a client's continuation, a drain) comes after the uncork.
   */
  private async writeBuffer(buffer: Buffer): Promise<void> {
    if (buffer.length === 0) return;
    this.lastWriteAt = performance.now();
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    if (!this.socket.write(buffer)) {
      this.uncork();
      await this.drained();
    }
    this.lastWriteAt = performance.now();
  }

  /** Copies exactly `size` bytes: a short stream is padded with spaces and a long one cut, so the literal's count stays true. */
  private async writeStream(literal: StreamedLiteral): Promise<void> {
    let left = literal.size;
    const stream = literal.open();
    try {
      for await (const data of stream as AsyncIterable<Buffer>) {
        if (left <= 0 || this.closed) break;
        const part = data.length > left ? data.subarray(0, left) : data;
        left -= part.length;
        await this.writeBuffer(part);
      }
    } finally {
      stream.destroy();
    }
    if (left > 0 && !this.closed) await this.writeBuffer(Buffer.alloc(left, 0x20));
  }

  private async drained(): Promise<void> {
    if (this.closed) return;
    // One signal removes both listeners once either fires: a long session waits here many times.
    const done = new AbortController();
    try {
      await Promise.race([once(this.socket, 'drain', { signal: done.signal }), once(this.socket, 'close', { signal: done.signal })]);
    } finally {
      done.abort();
    }
  }
}
