/**
 * A header block (RFC 5322 §2.2) as raw bytes -> its fields, unfolded but not decoded. Lenient like Dovecot:
 * a line that is neither a field nor a continuation is skipped with any continuation lines that follow it.
 */

export interface HeaderField {
  /** Lower-case field name. */
  name: string;
  /** The value unfolded (RFC 5322 §2.2.3: line breaks before white space removed) and trimmed; 8-bit bytes as UTF-8 or Latin-1. */
  value: string;
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes raw header bytes: UTF-8 (RFC 6532), else Latin-1 so that no byte is lost or replaced. */
export function decodeHeaderBytes(bytes: Uint8Array): string {
  let ascii = true;
  for (const byte of bytes) {
    if (byte >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  try {
    return utf8.decode(bytes);
  } catch {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  }
}

/** RFC 5322 §3.6.8 ftext: printable US-ASCII except the colon. White space before the colon is obsolete syntax (§4.5.8) and trimmed. */
function fieldNameEnd(line: Uint8Array, start: number, end: number): number {
  const colon = line.indexOf(COLON, start);
  if (colon <= start || colon >= end) return -1;
  let nameEnd = colon;
  while (nameEnd > start && (line[nameEnd - 1] === SP || line[nameEnd - 1] === HT)) nameEnd--;
  if (nameEnd === start) return -1;
  for (let i = start; i < nameEnd; i++) {
    const byte = line[i]!;
    if (byte <= SP || byte >= 0x7f) return -1;
  }
  return colon;
}

interface PendingField {
  name: string;
  pieces: Uint8Array[];
}

function finishField(field: PendingField): HeaderField {
  const value = decodeHeaderBytes(field.pieces.length === 1 ? field.pieces[0]! : Buffer.concat(field.pieces));
  return { name: field.name, value: value.replace(/^[ \t]+|[ \t]+$/g, '') };
}

/** Parses the fields of a header block; stops at the blank line that ends it, if present. */
export function parseHeaderBlock(block: Uint8Array): HeaderField[] {
  const fields: HeaderField[] = [];
  let pending: PendingField | null = null;
  let skipping = false;
  let pos = 0;
  while (pos < block.length) {
    const lf = block.indexOf(LF, pos);
    const next = lf === -1 ? block.length : lf + 1;
    let end = lf === -1 ? block.length : lf;
    if (end > pos && block[end - 1] === CR) end--;
    if (end === pos) break; // the blank line ending the header
    const first = block[pos];
    if (first === SP || first === HT) {
      // Continuation line: unfolding removes only the line break, the white space stays.
      if (pending && !skipping) pending.pieces.push(block.subarray(pos, end));
    } else {
      if (pending && !skipping) fields.push(finishField(pending));
      pending = null;
      const colon = fieldNameEnd(block, pos, end);
      skipping = colon === -1;
      if (!skipping) {
        const name = Buffer.from(block.buffer, block.byteOffset + pos, colon - pos)
          .toString('latin1')
          .replace(/[ \t]+$/, '')
          .toLowerCase();
        pending = { name, pieces: [block.subarray(colon + 1, end)] };
      }
    }
    pos = next;
  }
  if (pending && !skipping) fields.push(finishField(pending));
  return fields;
}

/** The value of the first field with this (lower-case) name. */
export function firstField(fields: readonly HeaderField[], name: string): string | undefined {
  for (const field of fields) if (field.name === name) return field.value;
  return undefined;
}
