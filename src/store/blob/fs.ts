/**
 * Content-addressed blobs on files. A write goes to a temporary name, is fsync'd, renamed to its
 * sha256, and the directory is fsync'd: after `put` resolves, the blob survives a crash.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { BlobRef, BlobStore, ByteRange, StagedBlob } from './types.ts';

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

export class FsBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  private pathOf(id: string): string {
    if (!/^[0-9a-f]{64}$/.test(id)) throw new Error(`invalid blob id ${id}`);
    return path.join(this.root, id.slice(0, 2), id.slice(2, 4), id);
  }

  async put(data: Uint8Array | AsyncIterable<Uint8Array>): Promise<BlobRef> {
    const staged = await this.stage(data);
    await staged.publish();
    return { id: staged.id, size: staged.size };
  }

  async stage(data: Uint8Array | AsyncIterable<Uint8Array>): Promise<StagedBlob> {
    const tmpDir = path.join(this.root, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmp = path.join(tmpDir, randomBytes(12).toString('hex'));
    const hash = createHash('sha256');
    let size = 0;
    const handle = await open(tmp, 'wx');
    try {
      const chunks = data instanceof Uint8Array ? [data] : data;
      for await (const chunk of chunks) {
        hash.update(chunk);
        size += chunk.length;
        await handle.write(chunk);
      }
      await handle.sync();
    } catch (error) {
      await handle.close();
      await rm(tmp, { force: true });
      throw error;
    }
    await handle.close();
    const id = hash.digest('hex');
    const target = this.pathOf(id);
    return {
      id,
      size,
      async publish() {
        if (await exists(target)) {
          // The same content is there already (the caller's reservation keeps it there).
          await rm(tmp, { force: true });
          return;
        }
        await mkdir(path.dirname(target), { recursive: true });
        await rename(tmp, target);
        await fsyncDir(path.dirname(target));
      },
      discard: () => rm(tmp, { force: true }),
    };
  }

  read(id: string, range?: ByteRange): Readable {
    if (range && range.end <= range.start) return Readable.from([]);
    return createReadStream(this.pathOf(id), range ? { start: range.start, end: range.end - 1 } : {});
  }

  has(id: string): Promise<boolean> {
    return exists(this.pathOf(id));
  }

  async *entries(): AsyncIterable<{ id: string; writtenAt: number }> {
    const levels = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).filter((name) => /^[0-9a-f]{2}$/.test(name));
    for (const first of await levels(this.root)) {
      for (const second of await levels(path.join(this.root, first))) {
        const dir = path.join(this.root, first, second);
        for (const name of await readdir(dir).catch(() => [] as string[])) {
          if (!/^[0-9a-f]{64}$/.test(name)) continue;
          const info = await stat(path.join(dir, name)).catch(() => undefined);
          if (info) yield { id: name, writtenAt: info.mtimeMs };
        }
      }
    }
  }

  async delete(id: string): Promise<void> {
    await rm(this.pathOf(id), { force: true });
  }
}
