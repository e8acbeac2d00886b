/**
 * The metadata IMAP needs about a stored message, as plain JSON-serialisable data: computed once when the
 * message is written (issue 3), read by FETCH ENVELOPE / BODY / BODYSTRUCTURE / BODY[section] and SEARCH.
 *
 * Strings are what the message says, not decoded (RFC 3501 §7.4.2 returns header field values as they are);
 * raw 8-bit header bytes (RFC 6532) are kept as UTF-8, or Latin-1 when they are not valid UTF-8. Decoded
 * forms (RFC 2047) for display are in `MessageSummary`. Case-insensitive tokens (media type and subtype,
 * transfer encoding, disposition type, parameter names) are lower-cased.
 */

/**
 * An address as RFC 3501 §7.4.2 lists it. `route` is the obsolete source route (RFC 5322 §4.4 obs-route,
 * RFC 3501 at-domain-list) as written, `@a.example,@b.example`, present only when the address had one. `name` is the phrase as written
 * (quotes and comments removed, RFC 2047 encoded-words left for the client to decode, as IMAP servers do).
 * A group is bracketed by `{ name: null, mailbox: <group name>, host: null }` and
 * `{ name: null, mailbox: null, host: null }`.
 */
export interface Address {
  name: string | null;
  route?: string;
  mailbox: string | null;
  host: string | null;
}

/** RFC 3501 §7.4.2 ENVELOPE. Address lists are null when the field is absent or holds no address. */
export interface Envelope {
  date: string | null;
  subject: string | null;
  from: Address[] | null;
  /** Same as `from` when the message has no (or an empty) Sender, as RFC 3501 requires. */
  sender: Address[] | null;
  /** Same as `from` when the message has no (or an empty) Reply-To, as RFC 3501 requires. */
  replyTo: Address[] | null;
  to: Address[] | null;
  cc: Address[] | null;
  bcc: Address[] | null;
  inReplyTo: string | null;
  messageId: string | null;
}

/** A MIME parameter, name lower-cased. RFC 2231 continuations are joined; an extended value keeps its `*`
 * suffix and its `charset'language'percent-encoded` form (as Dovecot reports them). */
export type Param = [name: string, value: string];

export interface Disposition {
  type: string;
  params: Param[];
}

/**
 * Where a part lies in the stored message, in bytes counted as received (CRLF or bare LF). The MIME header
 * of the part (BODY[n.MIME]; for a message or a message/rfc822 body, its header: BODY[HEADER]) is
 * `[headerStart, bodyStart)`, blank line included; the body (BODY[n], BODY[TEXT]) is `[bodyStart, bodyEnd)`,
 * without the line break that belongs to the next boundary (RFC 2046 §5.1.1).
 */
export interface PartOffsets {
  headerStart: number;
  bodyStart: number;
  bodyEnd: number;
}

/** Fields every part has, whatever its kind (RFC 3501 body-ext-1part / body-ext-mpart). */
export interface PartBase extends PartOffsets {
  type: string;
  subtype: string;
  /** Content-Type parameters in the order of the message; empty is NIL. */
  params: Param[];
  disposition: Disposition | null;
  language: string[] | null;
  location: string | null;
}

/** RFC 3501 body-fields and body-fld-md5 of a non-multipart part. */
export interface SinglePartFields {
  id: string | null;
  description: string | null;
  /** Content-Transfer-Encoding, `7bit` when absent. */
  encoding: string;
  /** Octets of the body as stored, in its transfer encoding. */
  size: number;
  md5: string | null;
}

export interface MultipartStructure extends PartBase {
  kind: 'multipart';
  /** Never empty: a multipart without a single part is reported as a text/plain leaf. */
  parts: BodyStructure[];
}

/** Any text/* part (RFC 3501 body-type-text). */
export interface TextStructure extends PartBase, SinglePartFields {
  kind: 'text';
  /** Lines of the body: line breaks, plus one for a last line without one. */
  lines: number;
}

/** message/rfc822 (and message/global, RFC 6532 §3.5): the envelope and structure of the encapsulated message. */
export interface MessageStructure extends PartBase, SinglePartFields {
  kind: 'message';
  envelope: Envelope;
  /** The encapsulated message; its offsets start at this part's `bodyStart`. */
  body: BodyStructure;
  lines: number;
}

/** Every other non-multipart part (RFC 3501 body-type-basic). */
export interface BasicStructure extends PartBase, SinglePartFields {
  kind: 'basic';
}

export type BodyStructure = MultipartStructure | TextStructure | MessageStructure | BasicStructure;

/** Decoded forms for lists, notifications and the webmail. */
export interface MessageSummary {
  /** Decoded Subject, '' when absent. */
  subject: string;
  /** Decoded From, `Name <mailbox@host>` joined with ', ', '' when absent. */
  from: string;
  to: string[];
  cc: string[];
  /** Epoch milliseconds of the Date field, null when absent or unreadable. */
  date: number | null;
  /** The first `<id>` of Message-ID (or its raw value when it has none), null when absent. */
  messageId: string | null;
  hasAttachments: boolean;
  /** The first characters of the first text part of the message, decoded, whitespace collapsed. */
  preview: string;
}

export interface MessageMetadata {
  /** Octets of the whole message (RFC822.SIZE when stored with CRLF line breaks). */
  size: number;
  /** Octets of the top-level header, blank line included. */
  headerSize: number;
  /** Lines of the whole message. */
  lines: number;
  envelope: Envelope;
  bodyStructure: BodyStructure;
  summary: MessageSummary;
  /** Top-level header fields for SEARCH HEADER: lower-case name -> raw unfolded values, in order, capped. */
  headerFields: Record<string, string[]>;
}
