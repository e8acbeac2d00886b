import type { Readable } from 'node:stream';

/** A stored blob: its content hash (sha256, hex) and size in bytes. */
export interface BlobRef {
  id: string;
  size: number;
  /**
   * The content itself when it is small enough to be kept in the database (blob_contents) rather than
   * a file: whoever commits the first reference to it writes it in that same transaction.
   */
  inline?: Uint8Array;
  /**
   * The reservation that keeps the garbage collector off a stored content until the first transaction
   * referencing it commits (mailstore/blobs.ts); that transaction gives it back.
   */
  reservation?: string;
}

/** Content written and fsync'd under a temporary name: known by its hash, not yet at its place. */
export interface StagedBlob {
  id: string;
  size: number;
  /** Puts the content at its place, durably; a content already there is kept and the staged copy dropped. */
  publish(): Promise<void>;
  /** Drops the staged copy. */
  discard(): Promise<void>;
}

/** Bytes [start, end) of a blob. */
export interface ByteRange {
  start: number;
  end: number;
}

/** Where message bodies and other large contents live. Implementations: FsBlobStore, later S3. */
export interface BlobStore {
  /** Stores durably and returns the content id; storing the same content twice is harmless. */
  put(data: Uint8Array | AsyncIterable<Uint8Array>): Promise<BlobRef>;
  /** Writes durably under a temporary name, so the caller may reserve the content before it is published. */
  stage(data: Uint8Array | AsyncIterable<Uint8Array>): Promise<StagedBlob>;
  /** Reads the blob, or the bytes [start, end) of it. */
  read(id: string, range?: ByteRange): Readable;
  has(id: string): Promise<boolean>;
  /** Every stored blob with the time it was last written, for the garbage collector. */
  entries(): AsyncIterable<{ id: string; writtenAt: number }>;
  delete(id: string): Promise<void>;
}
