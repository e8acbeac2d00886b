/**
 * One pass over a message as it is written: everything IMAP (and the lists of the webmail) need later,
 * without holding the message in memory.
 */
import type { HeaderField } from './header-block.ts';
import { clipChars, MAX_HEADER_FIELDS_CHARS, MAX_HEADER_VALUE_CHARS } from './limits.ts';
import { buildPreview } from './preview.ts';
import { MimeScanner } from './scanner.ts';
import { buildSummary } from './summary.ts';
import type { MessageMetadata } from './types.ts';

/** Top-level fields for SEARCH HEADER, values capped one by one and in total; a prototype-free object. */
function collectHeaderFields(fields: readonly HeaderField[]): Record<string, string[]> {
  const out = Object.create(null) as Record<string, string[]>;
  let remaining = MAX_HEADER_FIELDS_CHARS;
  for (const field of fields) {
    remaining -= field.name.length;
    if (remaining <= 0) break;
    const value = clipChars(field.value, Math.min(MAX_HEADER_VALUE_CHARS, remaining));
    remaining -= value.length;
    const values = out[field.name];
    if (values) values.push(value);
    else out[field.name] = [value];
  }
  return out;
}

/**
 * Push-style form of `extractMetadata`, for a writer that already has the chunks in hand (e.g. while it
 * streams them to the blob store): `write` each chunk in order, then `end`.
 */
export class MetadataParser {
  private readonly scanner = new MimeScanner();

  write(chunk: Uint8Array): void {
    this.scanner.write(chunk);
  }

  end(): MessageMetadata {
    const scan = this.scanner.end();
    return {
      size: scan.size,
      headerSize: scan.headerSize,
      lines: scan.lines,
      envelope: scan.envelope,
      bodyStructure: scan.structure,
      summary: buildSummary(scan.fields, scan.envelope, scan.structure, buildPreview(scan.preview)),
      headerFields: collectHeaderFields(scan.fields),
    };
  }
}

/** Reads a message from a stream (bytes as stored; string chunks are taken as UTF-8) and returns its metadata. Never throws on malformed mail. */
export async function extractMetadata(source: AsyncIterable<Uint8Array> | NodeJS.ReadableStream): Promise<MessageMetadata> {
  const parser = new MetadataParser();
  for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
    parser.write(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  }
  return parser.end();
}
