/**
 * Where a FETCH body section lies in the stored message (RFC 3501 §6.4.5), from the byte offsets the
 * metadata keeps for every part: BODY[], BODY[HEADER], BODY[TEXT], BODY[1.2], BODY[1.2.MIME],
 * BODY[3.HEADER] of a message/rfc822 part... Only HEADER.FIELDS needs the header bytes themselves.
 */
import { type BodyStructure, type MessageMetadata, partByNumber } from '../../mime/index.ts';

export type SectionText = 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';

export interface SectionSpec {
  /** Part numbers, empty for the whole message. */
  part: number[];
  text?: SectionText;
  /** HEADER.FIELDS (.NOT) names. */
  fields?: string[];
}

export interface SectionRange {
  start: number;
  end: number;
  /** Keep only (or drop) these header fields: the range is a header. */
  filter?: { names: string[]; not: boolean };
}

/** The header and body of the message a section's text applies to: the top level, or a message/rfc822 part. */
function messageAt(metadata: MessageMetadata, part: BodyStructure | undefined): { headerStart: number; bodyStart: number; bodyEnd: number } | undefined {
  if (!part) return { headerStart: 0, bodyStart: metadata.headerSize, bodyEnd: metadata.size };
  if (part.kind !== 'message') return undefined;
  return { headerStart: part.body.headerStart, bodyStart: part.body.bodyStart, bodyEnd: part.bodyEnd };
}

/**
 * The bytes of a section; undefined when the message has no such part, which FETCH answers with an
 * empty string (RFC 3501 §6.4.5 leaves it to the server; Dovecot does the same).
 */
export function sectionRange(metadata: MessageMetadata, spec: SectionSpec): SectionRange | undefined {
  const part = spec.part.length > 0 ? partByNumber(metadata.bodyStructure, spec.part.join('.')) : undefined;
  if (spec.part.length > 0 && !part) return undefined;
  if (!spec.text) {
    if (!part) return { start: 0, end: metadata.size };
    return { start: part.bodyStart, end: part.bodyEnd };
  }
  if (spec.text === 'MIME') return part ? { start: part.headerStart, end: part.bodyStart } : undefined;
  const message = messageAt(metadata, part);
  if (!message) return undefined;
  if (spec.text === 'TEXT') return { start: message.bodyStart, end: message.bodyEnd };
  const header = { start: message.headerStart, end: message.bodyStart };
  if (spec.text === 'HEADER') return header;
  return { ...header, filter: { names: spec.fields ?? [], not: spec.text === 'HEADER.FIELDS.NOT' } };
}

/**
 * Keeps (or drops) the named fields of a header block, with their folded lines, and ends with the blank
 * line (RFC 3501 §6.4.5: the subset of the header, with its delimiting blank line).
 */
export function filterHeader(header: Buffer, names: string[], not: boolean): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const text = header.toString('latin1');
  const kept: string[] = [];
  let keeping = false;
  // Line by line with indexOf: a folder sync filters the header of every message (bench/imap).
  for (let start = 0; start < text.length; ) {
    const lf = text.indexOf('\n', start);
    const end = lf < 0 ? text.length : lf + 1;
    const line = text.slice(start, end);
    start = end;
    if (line === '\r\n' || line === '\n') break;
    const first = line.charCodeAt(0);
    if (first === 0x20 || first === 0x09) {
      if (keeping) kept.push(line);
      continue;
    }
    const colon = line.indexOf(':');
    const name = (colon > 0 ? line.slice(0, colon) : line).trim().toLowerCase();
    keeping = wanted.has(name) !== not;
    if (keeping) kept.push(line.endsWith('\n') ? line : `${line}\r\n`);
  }
  kept.push('\r\n');
  return Buffer.from(kept.join(''), 'latin1');
}
