/**
 * Bounds that keep the parse of a hostile message in constant memory: input is streamed, and what is kept
 * from it (header blocks while parsed, strings of the structure, preview text) is capped.
 */

/** Octets of one header block kept for parsing; further lines are counted but not kept (issue 3: headers over 1 MB). */
export const MAX_HEADER_BLOCK_BYTES = 1024 * 1024;

/** Containers (multipart, message/rfc822) nested deeper than this become opaque leaves (Dovecot's max_nested_mime_parts). */
export const MAX_NESTING_DEPTH = 100;

/** Parts of one message; after this, boundaries are no longer recognised (Dovecot's max_total_mime_parts). */
export const MAX_PARTS = 10_000;

/** RFC 2046 §5.1.1 allows 70 characters; some senders exceed it, so a little more is accepted. */
export const MAX_BOUNDARY_LENGTH = 200;

/** Octets of a line looked at to recognise a boundary line: "--", the boundary, "--". */
export const LINE_HEAD_BYTES = MAX_BOUNDARY_LENGTH + 4;

/** Characters of one string kept in the envelope or body structure (a subject, a parameter value...). */
export const MAX_FIELD_CHARS = 8 * 1024;

/** Characters of all strings kept in envelopes and body structures of one message. */
export const MAX_STRUCTURE_CHARS = 4 * 1024 * 1024;

/** Parameters kept per Content-Type or Content-Disposition field. */
export const MAX_PARAMS = 100;

/** Addresses kept per address field of an envelope (large lists are legitimate; thousands are not useful). */
export const MAX_ADDRESSES = 1000;

/** Characters of one header value kept for SEARCH HEADER (a long References field is ~20 KB). */
export const MAX_HEADER_VALUE_CHARS = 64 * 1024;

/** Characters of all header values kept for SEARCH HEADER. */
export const MAX_HEADER_FIELDS_CHARS = 256 * 1024;

/** Characters of the summary's preview. */
export const PREVIEW_CHARS = 200;

/** Octets of a text/plain body captured for the preview (200 characters, base64 of 4-byte UTF-8, with room to spare). */
export const PREVIEW_TEXT_CAPTURE_BYTES = 16 * 1024;

/** Octets of a text/html body captured for the preview: its head and styles often come first. */
export const PREVIEW_HTML_CAPTURE_BYTES = 128 * 1024;

/** Hands out characters of a shared allowance: strings are clipped to a per-field cap and to what is left. */
export class CharBudget {
  private remaining: number;

  constructor(total: number) {
    this.remaining = total;
  }

  clip(value: string, max = MAX_FIELD_CHARS): string {
    const allowed = Math.min(max, this.remaining);
    const kept = value.length > allowed ? clipChars(value, allowed) : value;
    this.remaining -= kept.length;
    return kept;
  }

  get exhausted(): boolean {
    return this.remaining <= 0;
  }
}

/** Cuts a string to at most `max` UTF-16 units without splitting a surrogate pair. */
export function clipChars(value: string, max: number): string {
  if (value.length <= max) return value;
  const last = value.charCodeAt(max - 1);
  const end = last >= 0xd800 && last <= 0xdbff ? max - 1 : max;
  return value.slice(0, Math.max(0, end));
}
