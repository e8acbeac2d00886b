/**
 * Message contents, wherever they are kept: small ones in the database (written in the transaction
 * of their first use, so group commit covers them), the others in the blob store's files.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Transaction } from 'kysely';
import type { AppContext } from '../context.ts';
import { AppError, text } from '../shared/errors.ts';
import type { BlobRef, ByteRange, Database } from '../store/index.ts';

/** Contents up to this size are kept in the database. */
export const INLINE_BLOB_BYTES = 256 * 1024;

/** Stores `chunks` as a blob: inline (not yet written: see `persistContent`) when small, else as a durable file. */
export async function putContent(ctx: AppContext, chunks: AsyncIterable<Uint8Array>): Promise<BlobRef> {
  const held: Uint8Array[] = [];
  let size = 0;
  const iterator = chunks[Symbol.asyncIterator]();
  for (;;) {
    const next = await iterator.next();
    if (next.done) {
      const data = Buffer.concat(held, size);
      return { id: createHash('sha256').update(data).digest('hex'), size, inline: data };
    }
    held.push(next.value);
    size += next.value.length;
    if (size > INLINE_BLOB_BYTES) break;
  }
  async function* all() {
    yield* held;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return ctx.blobs.put(all());
}

/**
 * Makes a blob's content part of the caller's transaction: an inline content is written in it; stored
 * content must still exist (the garbage collector may have removed an unreferenced file of the same content
 * between its write and this commit: then this write fails, unacknowledged, and its sender retries).
 */
export async function persistContent(ctx: Pick<AppContext, 'blobs'>, trx: Transaction<Database>, blob: BlobRef): Promise<void> {
  if (!blob.inline) {
    // A reference to stored content (a file, or a small content kept in the database: a release, a retry).
    const kept = await trx.selectFrom('blob_contents').select('id').where('id', '=', blob.id).executeTakeFirst();
    if (!kept && !(await ctx.blobs.has(blob.id))) {
      throw new AppError('temp', 'blob-missing', text('The message could not be stored, try again', 'Le message n’a pas pu être enregistré, réessayez'));
    }
    return;
  }
  await trx
    .insertInto('blob_contents')
    .values({ id: blob.id, data: blob.inline })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/**
 * Gives back, in the caller's transaction, one reference to a content per id listed (an id listed
 * twice loses two): what a removed message, held copy, vault entry or queue entry held. A content left
 * with none is the garbage collector's (gc.ts).
 */
export async function releaseContents(trx: Transaction<Database>, ids: Iterable<string>): Promise<void> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  for (const [id, count] of counts) {
    await trx
      .updateTable('blobs')
      .set((eb) => ({ refcount: eb('refcount', '-', count) }))
      .where('id', '=', id)
      .execute();
  }
}

/** Reads a blob's content, or the bytes [start, end) of it, from the database or its file. */
export function readContent(ctx: AppContext, id: string, range?: ByteRange): Readable {
  return Readable.from(
    (async function* () {
      const row = await ctx.db.selectFrom('blob_contents').select('data').where('id', '=', id).executeTakeFirst();
      if (row) {
        const data = Buffer.from(row.data);
        yield range ? data.subarray(range.start, range.end) : data;
      } else yield* ctx.blobs.read(id, range);
    })(),
  );
}
