/**
 * BINARY (RFC 3516): a section's content with its Content-Transfer-Encoding removed, streamed from the
 * blob store through a decoder. The size is known only once decoded, so the first request of a section
 * decodes it once to count (and to see whether it holds NUL, which needs a literal8, §4.3), then again
 * to send; the count is kept, since contents never change. Memory stays flat whatever the part's size.
 */
import { Readable } from 'node:stream';
import type { AppContext } from '../../context.ts';
import { readContent, type StoredMessage } from '../../mailstore/index.ts';
import { type MessageMetadata, partByNumber, transferDecoder } from '../../mime/index.ts';
import { type Item, literal, type Partial, ProtocolSyntaxError, streamed } from '../proto/index.ts';
import type { StreamedLiteral } from './writer.ts';

/** Bytes of the stored message, decoded with `encoding` when set. */
interface Segment {
  start: number;
  end: number;
  encoding: string | null;
}

interface DecodedSize {
  size: number;
  hasNul: boolean;
}

/** Decoded sizes kept, by blob and part (a few dozen bytes each). */
const MAX_SIZES = 10_000;
const decodedSizes = new Map<string, DecodedSize>();

function unknownCte(encoding: string): ProtocolSyntaxError {
  return new ProtocolSyntaxError(`Cannot decode the transfer encoding ${encoding.slice(0, 40)}`, 'NO', 'UNKNOWN-CTE');
}

/**
 * What BINARY[part] is made of; undefined when the message has no such part. BINARY[] of a message that
 * is not multipart is its header as is, then its body decoded.
 */
function segmentsOf(metadata: MessageMetadata, part: number[]): Segment[] | undefined {
  const structure = part.length === 0 ? metadata.bodyStructure : partByNumber(metadata.bodyStructure, part.join('.'));
  if (!structure) return undefined;
  const start = part.length === 0 ? 0 : structure.bodyStart;
  if (structure.kind === 'multipart') return [{ start, end: structure.bodyEnd, encoding: null }];
  const decoder = transferDecoder(structure.encoding);
  if (decoder === undefined) throw unknownCte(structure.encoding);
  if (decoder === null) return [{ start, end: structure.bodyEnd, encoding: null }];
  const body: Segment = { start: structure.bodyStart, end: structure.bodyEnd, encoding: structure.encoding };
  return start < structure.bodyStart ? [{ start, end: structure.bodyStart, encoding: null }, body] : [body];
}

async function* decodedBytes(app: AppContext, blobId: string, segments: Segment[]): AsyncGenerator<Buffer> {
  for (const segment of segments) {
    const source = readContent(app, blobId, segment);
    const decoder = segment.encoding ? transferDecoder(segment.encoding) : null;
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        const out = decoder ? decoder.push(chunk) : chunk;
        if (out.length > 0) yield out;
      }
      const tail = decoder?.end();
      if (tail && tail.length > 0) yield tail;
    } finally {
      source.destroy();
    }
  }
}

/** The bytes [start, end) of a stream. */
async function* slice(source: AsyncGenerator<Buffer>, start: number, end: number): AsyncGenerator<Buffer> {
  let at = 0;
  try {
    for await (const chunk of source) {
      const from = Math.max(0, start - at);
      const to = Math.min(chunk.length, end - at);
      at += chunk.length;
      if (to > from) yield chunk.subarray(from, to);
      if (at >= end) return;
    }
  } finally {
    await source.return(undefined);
  }
}

async function decodedSize(app: AppContext, row: StoredMessage, part: number[], segments: Segment[]): Promise<DecodedSize> {
  const key = `${row.blob_id}/${part.join('.')}`;
  const known = decodedSizes.get(key);
  if (known) return known;
  let size = 0;
  let hasNul = false;
  for await (const chunk of decodedBytes(app, row.blob_id, segments)) {
    size += chunk.length;
    hasNul ||= chunk.includes(0);
  }
  const measured = { size, hasNul };
  if (decodedSizes.size >= MAX_SIZES) decodedSizes.delete(decodedSizes.keys().next().value as string);
  decodedSizes.set(key, measured);
  return measured;
}

/** BINARY.SIZE[part]: the number of octets BINARY[part] sends (RFC 3516 §4.3). */
export async function binarySizeItem(app: AppContext, row: StoredMessage, metadata: MessageMetadata, part: number[]): Promise<Item> {
  const segments = segmentsOf(metadata, part);
  return segments ? (await decodedSize(app, row, part, segments)).size : 0;
}

/** BINARY[part]<partial>: a literal8 when the decoded bytes hold NUL, else a literal (RFC 3516 §4.3). */
export async function binaryItem(app: AppContext, row: StoredMessage, metadata: MessageMetadata, part: number[], partial: Partial | undefined): Promise<Item> {
  const segments = segmentsOf(metadata, part);
  if (!segments) return literal(Buffer.alloc(0));
  const { size, hasNul } = await decodedSize(app, row, part, segments);
  const start = Math.min(size, partial?.start ?? 0);
  const end = partial?.length === undefined ? size : Math.min(size, start + partial.length);
  const source: StreamedLiteral = {
    size: end - start,
    open: () => Readable.from(slice(decodedBytes(app, row.blob_id, segments), start, end)),
  };
  return streamed(source, hasNul);
}
