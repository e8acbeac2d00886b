/**
 * A message being received, held until it can be checked and stored: in memory while small, in a
 * temporary file beyond that, so a 50 MB message costs no more memory than a 1 MB one. Nothing in a
 * spool is acknowledged or durable; `dispose` removes it.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';

/** Messages up to this size stay in memory. */
export const SPOOL_MEMORY_BYTES = 1024 * 1024;

export class Spool {
  private chunks: Buffer[] = [];
  private file: { path: string; handle: FileHandle } | undefined;
  size = 0;

  constructor(private readonly dir: string) {}

  async write(chunk: Buffer): Promise<void> {
    this.size += chunk.length;
    if (!this.file && this.size <= SPOOL_MEMORY_BYTES) {
      this.chunks.push(chunk);
      return;
    }
    if (!this.file) {
      await mkdir(this.dir, { recursive: true });
      const file = path.join(this.dir, `spool-${randomBytes(12).toString('hex')}`);
      this.file = { path: file, handle: await open(file, 'wx', 0o600) };
      for (const held of this.chunks) await this.file.handle.write(held);
      this.chunks = [];
    }
    await this.file.handle.write(chunk);
  }

  /** Reads the spooled bytes back, from the start, as often as needed. */
  async *read(): AsyncGenerator<Buffer> {
    if (!this.file) {
      yield* this.chunks;
      return;
    }
    yield* createReadStream(this.file.path, { highWaterMark: 1 << 16 }) as AsyncIterable<Buffer>;
  }

  async dispose(): Promise<void> {
    this.chunks = [];
    if (this.file) {
      await this.file.handle.close().catch(() => {});
      await rm(this.file.path, { force: true });
      this.file = undefined;
    }
  }
}
