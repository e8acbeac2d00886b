/**
 * A byte-level streaming MIME scanner: fed a message in chunks of any size, it finds the header and body of
 * every part (RFC 2045, RFC 2046 §5.1.1 boundaries, §5.2.1 message/rfc822) with exact byte offsets, counts
 * lines, and decodes nothing but header fields. Memory is bounded whatever the input: one header block at a
 * time (capped), the head of the current line, the preview captures, and the structure (capped strings).
 *
 * It never throws on malformed input. Like Dovecot: a line is a boundary when it starts with "--" and an
 * active boundary (the longest wins, then the innermost); an outer boundary closes every part inside it; a
 * multipart without any part is reported as text/plain; containers nested too deep are application/octet-stream.
 */
import { Buffer } from 'node:buffer';
import { type ContentFields, type DefaultType, readContentFields } from './content-fields.ts';
import { buildEnvelope, emptyEnvelope } from './envelope.ts';
import { type HeaderField, parseHeaderBlock } from './header-block.ts';
import {
  CharBudget,
  LINE_HEAD_BYTES,
  MAX_BOUNDARY_LENGTH,
  MAX_HEADER_BLOCK_BYTES,
  MAX_NESTING_DEPTH,
  MAX_PARTS,
  MAX_STRUCTURE_CHARS,
  PREVIEW_HTML_CAPTURE_BYTES,
  PREVIEW_TEXT_CAPTURE_BYTES,
} from './limits.ts';
import { paramValue } from './params.ts';
import type { BodyStructure, Envelope, PartBase, SinglePartFields, TextStructure } from './types.ts';

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;

/** Bytes kept up to a cap; appending past it drops the excess. */
export class ByteCollector {
  private buffer: Buffer;
  length = 0;

  constructor(
    private readonly cap: number,
    initial = 4096,
  ) {
    this.buffer = Buffer.allocUnsafe(Math.min(initial, cap));
  }

  append(source: Buffer, start: number, end: number): void {
    const count = Math.min(end - start, this.cap - this.length);
    if (count <= 0) return;
    if (this.length + count > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.cap, Math.max(this.buffer.length * 2, this.length + count)));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    source.copy(this.buffer, this.length, start, start + count);
    this.length += count;
  }

  truncate(length: number): void {
    this.length = Math.min(this.length, length);
  }

  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

/** The first bytes of the body of the message's first text/plain or text/html part, for the summary's preview. */
export interface PreviewCapture {
  subtype: 'plain' | 'html';
  charset: string | undefined;
  encoding: string;
  bytes: ByteCollector;
}

type Role = 'leaf' | 'multipart' | 'message';

/** A MIME entity being read: a header, then a body that is a leaf, a list of parts, or a message. */
interface Entity {
  parent: Entity | null;
  depth: number;
  headerStart: number;
  /** -1 while the header is being read. */
  bodyStart: number;
  /** Line feeds before `bodyStart`. */
  lfAtBodyStart: number;
  /** The header bytes while the header is being read. */
  header: ByteCollector | null;
  /** The top-level message or an encapsulated one: it has an envelope. */
  isMessage: boolean;
  /** Inside a message/rfc822 part: not a candidate for the preview. */
  encapsulated: boolean;
  defaultType: DefaultType;
  content: ContentFields | null;
  envelope: Envelope | null;
  role: Role;
  /** A container at the nesting limit: reported as an opaque leaf. */
  overflow: boolean;
  /** The multipart's boundary, once its body is being read. */
  boundary: Buffer | null;
  /** The close delimiter was seen: the rest is epilogue. */
  epilogue: boolean;
  parts: BodyStructure[];
  inner: { body: BodyStructure; envelope: Envelope } | null;
  capture: PreviewCapture | null;
}

export interface ScanResult {
  size: number;
  lines: number;
  headerSize: number;
  structure: BodyStructure;
  envelope: Envelope;
  /** The top-level header fields, as parsed. */
  fields: HeaderField[];
  preview: { plain: PreviewCapture | null; html: PreviewCapture | null };
}

function newEntity(parent: Entity | null, headerStart: number, options: { isMessage: boolean; defaultType: DefaultType }): Entity {
  return {
    parent,
    depth: parent ? parent.depth + 1 : 0,
    headerStart,
    bodyStart: -1,
    lfAtBodyStart: 0,
    header: new ByteCollector(MAX_HEADER_BLOCK_BYTES),
    isMessage: options.isMessage,
    encapsulated: parent !== null && (parent.encapsulated || options.isMessage),
    defaultType: options.defaultType,
    content: null,
    envelope: null,
    role: 'leaf',
    overflow: false,
    boundary: null,
    epilogue: false,
    parts: [],
    inner: null,
    capture: null,
  };
}

/** RFC 2046 §5.1.1: 1 to 70 characters; longer ones are accepted up to a limit, empty ones are not. */
function boundaryBytes(boundary: string | undefined): Buffer | null {
  if (!boundary) return null;
  const bytes = Buffer.from(boundary, 'utf8');
  return bytes.length <= MAX_BOUNDARY_LENGTH ? bytes : null;
}

function decideRole(entity: Entity, content: ContentFields): { role: Role; overflow: boolean } {
  const container = content.type === 'multipart' || (content.type === 'message' && (content.subtype === 'rfc822' || content.subtype === 'global'));
  if (!container) return { role: 'leaf', overflow: false };
  if (entity.depth >= MAX_NESTING_DEPTH) return { role: 'leaf', overflow: true };
  return { role: content.type === 'multipart' ? 'multipart' : 'message', overflow: false };
}

/** An empty text/plain body at `at`: the body of an encapsulated message that has none. */
function emptyTextBody(at: number): TextStructure {
  return {
    kind: 'text',
    type: 'text',
    subtype: 'plain',
    params: [['charset', 'us-ascii']],
    disposition: null,
    language: null,
    location: null,
    headerStart: at,
    bodyStart: at,
    bodyEnd: at,
    id: null,
    description: null,
    encoding: '7bit',
    size: 0,
    md5: null,
    lines: 0,
  };
}

export class MimeScanner {
  private readonly budget = new CharBudget(MAX_STRUCTURE_CHARS);
  private readonly stack: Entity[];
  private offset = 0;
  private lfCount = 0;
  private partCount = 0;
  private openBoundaries = 0;
  private rootFields: HeaderField[] = [];
  private result: { body: BodyStructure; envelope: Envelope } | null = null;
  private plain: PreviewCapture | null = null;
  private html: PreviewCapture | null = null;
  private finished = false;

  // The line being read.
  private lineStart = 0;
  private lineLength = 0;
  private readonly lineHead = Buffer.alloc(LINE_HEAD_BYTES);
  private lastByte = -1;
  private lfBeforeLine = 0;
  private headerLengthAtLineStart = 0;
  private captureLengthAtLineStart = 0;

  // The line before it.
  private prevLineStart = 0;
  private prevEol = 0;
  private prevContentLength = 0;

  constructor() {
    this.stack = [newEntity(null, 0, { isMessage: true, defaultType: 'text/plain' })];
  }

  private get top(): Entity {
    return this.stack[this.stack.length - 1]!;
  }

  write(chunk: Uint8Array): void {
    if (this.finished) throw new Error('MimeScanner: write after end');
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let pos = 0;
    while (pos < buffer.length) {
      const lf = buffer.indexOf(LF, pos);
      const end = lf === -1 ? buffer.length : lf + 1;
      if (lf === -1) {
        this.appendToLine(buffer, pos, end);
      } else {
        const crBefore = lf > pos ? buffer[lf - 1] === CR : this.lineLength > 0 && this.lastByte === CR;
        this.appendToLine(buffer, pos, end);
        this.finishLine(crBefore ? 2 : 1);
      }
      pos = end;
    }
  }

  end(): ScanResult {
    if (!this.finished) {
      if (this.lineLength > 0) this.finishLine(0);
      while (this.stack.length > 0) this.closeTop(this.offset, false);
      this.finished = true;
    }
    const result = this.result!;
    const partialLastLine = this.prevEol === 0 && this.prevContentLength > 0 ? 1 : 0;
    return {
      size: this.offset,
      lines: this.lfCount + partialLastLine,
      headerSize: result.body.bodyStart,
      structure: result.body,
      envelope: result.envelope,
      fields: this.rootFields,
      preview: { plain: this.plain, html: this.html },
    };
  }

  private appendToLine(buffer: Buffer, start: number, end: number): void {
    if (this.lineLength === 0) this.beginLine();
    if (this.lineLength < LINE_HEAD_BYTES) buffer.copy(this.lineHead, this.lineLength, start, Math.min(end, start + LINE_HEAD_BYTES - this.lineLength));
    const top = this.top;
    if (top.header) top.header.append(buffer, start, end);
    else if (top.capture) top.capture.bytes.append(buffer, start, end);
    this.lineLength += end - start;
    this.offset += end - start;
    this.lastByte = buffer[end - 1]!;
  }

  private beginLine(): void {
    const top = this.top;
    this.lineStart = this.offset;
    this.lfBeforeLine = this.lfCount;
    this.headerLengthAtLineStart = top.header?.length ?? 0;
    this.captureLengthAtLineStart = top.capture?.bytes.length ?? 0;
  }

  /** `eol`: octets of the line break that ended the line (2 for CRLF, 1 for a bare LF, 0 at the end of input). */
  private finishLine(eol: number): void {
    const contentLength = this.lineLength - eol;
    if (eol > 0) this.lfCount++;
    const boundary = this.findBoundary(contentLength);
    if (boundary) this.handleBoundaryLine(boundary.owner, boundary.close);
    else if (this.top.header && contentLength === 0) this.startBody(this.top);
    this.prevLineStart = this.lineStart;
    this.prevEol = eol;
    this.prevContentLength = contentLength;
    this.lineLength = 0;
  }

  /** RFC 2046 §5.1.1: "--" boundary [ "--" ] at the start of a line; the index of the multipart it belongs to. */
  private findBoundary(contentLength: number): { owner: number; close: boolean } | undefined {
    const head = this.lineHead;
    if (this.openBoundaries === 0 || contentLength < 3 || head[0] !== DASH || head[1] !== DASH) return undefined;
    if (this.partCount >= MAX_PARTS) return undefined;
    const available = Math.min(contentLength, LINE_HEAD_BYTES);
    let owner = -1;
    let ownerLength = 0;
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const boundary = this.stack[i]!.boundary;
      if (!boundary || this.stack[i]!.epilogue || boundary.length <= ownerLength || boundary.length + 2 > available) continue;
      if (head.compare(boundary, 0, boundary.length, 2, 2 + boundary.length) === 0) {
        owner = i;
        ownerLength = boundary.length;
      }
    }
    if (owner === -1) return undefined;
    const close = available >= ownerLength + 4 && head[ownerLength + 2] === DASH && head[ownerLength + 3] === DASH;
    return { owner, close };
  }

  private handleBoundaryLine(ownerIndex: number, close: boolean): void {
    // The boundary line was collected with the header or the preview of the entity on top: take it back out.
    const top = this.top;
    top.header?.truncate(this.headerLengthAtLineStart);
    top.capture?.bytes.truncate(this.captureLengthAtLineStart);
    const end = this.delimiterStart(top);
    while (this.stack.length - 1 > ownerIndex) this.closeTop(end, true);
    const owner = this.stack[ownerIndex]!;
    if (close) {
      owner.epilogue = true;
      this.openBoundaries--;
    } else {
      this.partCount++;
      const defaultType = owner.content?.subtype === 'digest' ? 'message/rfc822' : 'text/plain';
      this.stack.push(newEntity(owner, this.offset, { isMessage: false, defaultType }));
    }
  }

  /**
   * Where the parts closed by a boundary line end. RFC 2046 §5.1.1: the line break before a boundary belongs to
   * the boundary, not to the part that precedes it; unless the innermost part has no line before the boundary
   * (its header, or its body, is empty): then that line break is its own, and every part closed ends at the
   * boundary line (as in Dovecot), so that no part ends after its parent.
   */
  private delimiterStart(entity: Entity): number {
    const regionStart = entity.bodyStart === -1 ? entity.headerStart : entity.bodyStart;
    return this.lineStart > regionStart ? this.lineStart - this.prevEol : this.lineStart;
  }

  /** Parses the collected header of an entity whose body starts at `bodyStart`. */
  private readHeader(entity: Entity, bodyStart: number): void {
    const fields = parseHeaderBlock(entity.header!.bytes());
    entity.header = null;
    entity.bodyStart = bodyStart;
    entity.lfAtBodyStart = this.lfCount;
    const content = readContentFields(fields, entity.defaultType, this.budget);
    entity.content = content;
    if (entity.isMessage) entity.envelope = buildEnvelope(fields, this.budget);
    if (entity.parent === null) this.rootFields = fields;
    const { role, overflow } = decideRole(entity, content);
    entity.role = role;
    entity.overflow = overflow;
  }

  /** After the blank line that ends a header. */
  private startBody(entity: Entity): void {
    this.readHeader(entity, this.offset);
    const content = entity.content!;
    if (entity.role === 'multipart') {
      entity.boundary = boundaryBytes(content.boundary);
      if (entity.boundary) {
        this.openBoundaries++;
        return;
      }
      // Without a usable boundary no part can be found: the body will be reported as text/plain.
    }
    if (entity.role === 'message') {
      this.partCount++;
      this.stack.push(newEntity(entity, this.offset, { isMessage: true, defaultType: 'text/plain' }));
    } else if (!entity.overflow) {
      this.startPreviewCapture(entity, content);
    }
  }

  /** The preview comes from the first text/plain (else text/html) part of the message itself, not of an attachment. */
  private startPreviewCapture(entity: Entity, content: ContentFields): void {
    if (entity.encapsulated || content.disposition?.type === 'attachment') return;
    // A multipart without a boundary is reported as text/plain: its text is the preview too.
    const subtype = content.type === 'text' ? content.subtype : content.type === 'multipart' ? 'plain' : undefined;
    const charset = paramValue(content.params, 'charset');
    if (subtype === 'plain' && !this.plain) {
      this.plain = { subtype: 'plain', charset, encoding: content.encoding, bytes: new ByteCollector(PREVIEW_TEXT_CAPTURE_BYTES) };
      entity.capture = this.plain;
    } else if (subtype === 'html' && !this.html) {
      this.html = { subtype: 'html', charset, encoding: content.encoding, bytes: new ByteCollector(PREVIEW_HTML_CAPTURE_BYTES, 16 * 1024) };
      entity.capture = this.html;
    }
  }

  /** Ends the entity on top of the stack at `end` and hands its structure to its parent. */
  private closeTop(end: number, atBoundary: boolean): void {
    const entity = this.stack.pop()!;
    if (entity.header) this.readHeader(entity, end);
    if (entity.boundary && !entity.epilogue) this.openBoundaries--;
    const lines = this.bodyLines(entity, end, atBoundary);
    const body = this.buildStructure(entity, end, lines);
    const parent = entity.parent;
    if (!parent) this.result = { body, envelope: entity.envelope ?? emptyEnvelope() };
    else if (parent.role === 'multipart') parent.parts.push(body);
    else parent.inner = { body, envelope: entity.envelope ?? emptyEnvelope() };
  }

  /** RFC 3501 body-fld-lines: line feeds in the body, plus one for a last line without one. */
  private bodyLines(entity: Entity, end: number, atBoundary: boolean): number {
    if (end <= entity.bodyStart) return 0;
    if (atBoundary && end === this.lineStart) return this.lfBeforeLine - entity.lfAtBodyStart;
    // Ends before the line break of the previous line, which is in the body.
    if (atBoundary) return this.lfBeforeLine - entity.lfAtBodyStart - 1 + (this.prevContentLength > 0 ? 1 : 0);
    const partialLastLine = this.prevEol === 0 && this.prevContentLength > 0 && this.prevLineStart >= entity.bodyStart ? 1 : 0;
    return this.lfCount - entity.lfAtBodyStart + partialLastLine;
  }

  private buildStructure(entity: Entity, end: number, lines: number): BodyStructure {
    const content = entity.content!;
    const base: PartBase = {
      type: content.type,
      subtype: content.subtype,
      params: content.params,
      disposition: content.disposition,
      language: content.language,
      location: content.location,
      headerStart: entity.headerStart,
      bodyStart: entity.bodyStart,
      bodyEnd: end,
    };
    const single: SinglePartFields = {
      id: content.id,
      description: content.description,
      encoding: content.encoding,
      size: end - entity.bodyStart,
      md5: content.md5,
    };
    if (entity.overflow) return { kind: 'basic', ...base, type: 'application', subtype: 'octet-stream', params: [], ...single };
    if (entity.role === 'multipart') {
      if (entity.parts.length > 0) return { kind: 'multipart', ...base, parts: entity.parts };
      // RFC 3501 requires at least one part: show the body, preamble and all, as text (Dovecot does likewise).
      return { kind: 'text', ...base, type: 'text', subtype: 'plain', params: [['charset', 'us-ascii']], ...single, lines };
    }
    if (entity.role === 'message') {
      const inner = entity.inner ?? { body: emptyTextBody(end), envelope: emptyEnvelope() };
      return { kind: 'message', ...base, ...single, envelope: inner.envelope, body: inner.body, lines };
    }
    if (content.type === 'text') return { kind: 'text', ...base, ...single, lines };
    return { kind: 'basic', ...base, ...single };
  }
}
