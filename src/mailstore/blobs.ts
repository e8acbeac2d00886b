/**
 * Message contents, wherever they are kept: small ones in the database (written in the transaction
 * of their first use, so group commit covers them), the others in the blob store's files.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Transaction } from 'kysely';
import type { AppContext } from '../context.ts';
import { AppError, text } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { BlobRef, ByteRange, Database } from '../store/index.ts';
import { CONDEMNED_STALE_MS, removeCondemned } from './gc.ts';

/** Contents up to this size are kept in the database. */
export const INLINE_BLOB_BYTES = 256 * 1024;

/**
 * How long a reservation keeps the collector off a content: far longer than a message takes from its
 * file to its commit. A delivery slower than that finds its content gone and fails unacknowledged.
 */
export const RESERVATION_MS = 60 * 60_000;
/** How long a delivery waits for the collector to finish removing the very content it brings again. */
const CONDEMNED_WAIT_MS = 5_000;
const CONDEMNED_POLL_MS = 50;

export const tryAgain = (code: string) =>
  new AppError('temp', code, text('The message could not be stored, try again', 'Le message n’a pas pu être enregistré, réessayez'));

/**
 * Stores `chunks` as a blob: inline (not yet written: see `persistContent`) when small, else as a durable
 * file, reserved (see `reserveContent`) before it is relied on.
 */
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
  const staged = await ctx.blobs.stage(all());
  try {
    const reservation = await reserveContent(ctx, staged);
    // Only now may the file be relied on: a file of the same content already there is kept as it is.
    await staged.publish();
    return { id: staged.id, size: staged.size, reservation };
  } catch (error) {
    await staged.discard();
    throw error;
  }
}

/**
 * Reserves a stored content, in a commit of its own, before the caller relies on its file (gc.ts says
 * why this is enough). The content's row is locked first (created if absent); a content the collector
 * is removing is waited for, then written again by the caller. Returns the reservation's id, which
 * the first transaction referencing the content gives back (`persistContent`).
 */
export async function reserveContent(ctx: AppContext, blob: { id: string; size: number }): Promise<string> {
  const deadline = Date.now() + CONDEMNED_WAIT_MS;
  for (;;) {
    const now = ctx.clock.now();
    const id = newId('rsv');
    const condemnedAt = await ctx.mail.committer.run(async (trx) => {
      const condemned = await lockContentRow(trx, blob, now);
      if (condemned === null)
        await trx
          .insertInto('blob_reservations')
          .values({ id, blob_id: blob.id, expires_at: now + RESERVATION_MS })
          .execute();
      return condemned;
    });
    if (condemnedAt === null) return id;
    // Condemned: the collector is deleting the file. One that stopped half-way is finished here.
    if (now - condemnedAt > CONDEMNED_STALE_MS) await removeCondemned(ctx, blob.id);
    else if (Date.now() > deadline) throw tryAgain('blob-busy');
    else await new Promise((resolve) => setTimeout(resolve, CONDEMNED_POLL_MS));
  }
}

/**
 * Locks a content's row in the caller's transaction, creating it (no reference yet) when absent: on
 * PostgreSQL this waits for a collector holding it. Returns when the collector condemned it, else null.
 */
async function lockContentRow(trx: Transaction<Database>, blob: { id: string; size: number }, now: number): Promise<number | null> {
  const row = await trx
    .insertInto('blobs')
    .values({ id: blob.id, size: blob.size, refcount: 0, created_at: now })
    .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ refcount: eb.ref('blobs.refcount') })))
    .returning('condemned_at')
    .executeTakeFirstOrThrow();
  return row.condemned_at === null || row.condemned_at === undefined ? null : Number(row.condemned_at);
}

/**
 * Makes a blob's content safe to reference in the caller's transaction, before its references are
 * written. An inline content: its row is locked (waiting for a collector holding it), then its bytes
 * written. A stored content (a file, or a content the database already keeps: a release, a retry):
 * its row must be there and not condemned, which a reservation or an existing reference guarantees;
 * the reservation is given back, since the references written next keep the content from now on.
 * No file I/O here: this runs inside the group commit.
 */
export async function persistContent(ctx: Pick<AppContext, 'clock'>, trx: Transaction<Database>, blob: BlobRef): Promise<void> {
  if (!blob.inline) {
    const row = await trx
      .updateTable('blobs')
      .set((eb) => ({ refcount: eb.ref('refcount') })) // takes the row lock: the collector cannot condemn it until this commits
      .where('id', '=', blob.id)
      .where('condemned_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    // Collected meanwhile (a reservation that ran out): fail unacknowledged, the sender retries.
    if (!row) throw tryAgain('blob-missing');
    if (blob.reservation) await trx.deleteFrom('blob_reservations').where('id', '=', blob.reservation).execute();
    return;
  }
  if ((await lockContentRow(trx, blob, ctx.clock.now())) !== null) throw tryAgain('blob-busy');
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
