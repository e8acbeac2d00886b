/**
 * The parts of an Email as RFC 8621 §4.1.4 shows them, from the stored message and the body structure
 * computed at delivery (byte offsets per part): bodyStructure, textBody / htmlBody / attachments (the
 * algorithm of §4.1.4), bodyValues (§4.1.4 EmailBodyValue: decoded, charset applied, truncated on a
 * character boundary), and the header forms of §4.1.2 (Raw, Text, Addresses, GroupedAddresses,
 * MessageIds, Date, URLs).
 */
import {
  type Address,
  type BodyStructure,
  decodeEncodedWords,
  decodeHeaderBytes,
  listParts,
  paramValue,
  parseAddressList,
  parseDateField,
  transferDecoder,
} from '../mime/index.ts';

export interface EmailAddress {
  name: string | null;
  email: string;
}

export interface BodyPart {
  partId: string | null;
  blobId: string | null;
  size: number;
  headers: Array<{ name: string; value: string }>;
  name: string | null;
  type: string;
  charset: string | null;
  disposition: string | null;
  cid: string | null;
  language: string[] | null;
  location: string | null;
  subParts?: BodyPart[];
}

/** The blob id of a part: the message's content id and the part number, in Id characters (RFC 8620 §1.2). */
export function partBlobId(messageBlobId: string, partId: string): string {
  return `${messageBlobId}_${partId.replace(/\./g, '-')}`;
}

/** `<content id>` or `<content id>_<part number>` → its pieces. */
export function parseBlobId(blobId: string): { contentId: string; partId: string | null } | undefined {
  const match = /^([0-9a-f]{64})(?:_([1-9][0-9]*(?:-[1-9][0-9]*)*))?$/.exec(blobId);
  if (!match) return undefined;
  return { contentId: match[1] as string, partId: match[2] ? match[2].replace(/-/g, '.') : null };
}

/** The decoded bytes of a leaf part of a raw message (Content-Transfer-Encoding undone). */
export function decodePart(raw: Buffer, part: BodyStructure): Buffer {
  const bytes = raw.subarray(part.bodyStart, part.bodyEnd);
  if (part.kind === 'multipart') return bytes;
  const decoder = transferDecoder(part.encoding);
  if (!decoder) return bytes;
  return Buffer.concat([decoder.push(bytes), decoder.end()]);
}

/** Text of a part in its charset (RFC 2046 §4.1.2); unknown or broken charsets read as UTF-8 with the problem flagged. */
export function decodeText(bytes: Buffer, charset: string | null): { value: string; isEncodingProblem: boolean } {
  const label = charset ?? 'utf-8';
  try {
    return { value: new TextDecoder(label, { fatal: true }).decode(bytes), isEncodingProblem: false };
  } catch {
    try {
      return { value: new TextDecoder(label).decode(bytes), isEncodingProblem: true };
    } catch {
      return { value: new TextDecoder('utf-8').decode(bytes), isEncodingProblem: true };
    }
  }
}

/** A header field as RFC 8621 §4.1.2 shows it: the name as written, the raw value after the colon (folding kept). */
export interface RawField {
  name: string;
  value: string;
}

/**
 * The fields of a header block as written (RFC 8621 §4.1.3 `headers`, §4.1.2.1 Raw form): names keep their
 * case, values are everything after the colon up to the field's last line break, folds included. Lines
 * that are neither a field nor a continuation are skipped, as the metadata parser does.
 */
export function rawHeaderFields(block: Buffer): RawField[] {
  const fields: RawField[] = [];
  let current: RawField | undefined;
  for (const line of decodeHeaderBytes(block).split(/\r?\n/)) {
    if (line === '') break;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (current) current.value += `\r\n${line}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0 || /[\s]/.test(line.slice(0, colon).trimEnd())) {
      current = undefined;
      continue;
    }
    current = { name: line.slice(0, colon).trimEnd(), value: line.slice(colon + 1) };
    fields.push(current);
  }
  return fields;
}

function partHeaders(raw: Buffer, part: BodyStructure): RawField[] {
  return rawHeaderFields(raw.subarray(part.headerStart, part.bodyStart));
}

function fullType(part: BodyStructure): string {
  return `${part.type}/${part.subtype}`;
}

function charsetOf(part: BodyStructure): string | null {
  const charset = paramValue(part.params, 'charset');
  if (charset) return charset.toLowerCase();
  return part.type === 'text' ? 'us-ascii' : null;
}

/**
 * The EmailBodyPart of every part (RFC 8621 §4.1.4), in message order. A message/rfc822 part is a leaf
 * (an attachment), as the RFC has it. `size` is the decoded size.
 */
export function bodyStructureOf(raw: Buffer, structure: BodyStructure, messageBlobId: string): BodyPart {
  const numbers = new Map<BodyStructure, string>();
  for (const { number, part } of listParts(structure)) numbers.set(part, number);
  const build = (part: BodyStructure, partId: string): BodyPart => {
    const headers = partHeaders(raw, part);
    const name = paramValue(part.disposition?.params ?? [], 'filename', true) ?? paramValue(part.params, 'name', true) ?? null;
    const base: BodyPart = {
      partId: part.kind === 'multipart' ? null : partId,
      blobId: part.kind === 'multipart' ? null : partBlobId(messageBlobId, partId),
      size: part.kind === 'multipart' ? 0 : decodePart(raw, part).length,
      headers,
      name,
      type: fullType(part),
      charset: part.kind === 'multipart' ? null : charsetOf(part),
      disposition: part.disposition?.type ?? null,
      cid: part.kind === 'multipart' || !part.id ? null : part.id.replace(/^\s*<|>\s*$/g, ''),
      language: part.language,
      location: part.location,
    };
    if (part.kind === 'multipart') base.subParts = part.parts.map((p) => build(p, numbers.get(p) ?? '0'));
    return base;
  };
  // The top-level part: a multipart's parts are numbered from 1; a single-part message's body is part 1.
  return build(structure, numbers.get(structure) ?? '1');
}

const isInlineMediaType = (type: string) => /^(image|audio|video)\//.test(type);

/** RFC 8621 §4.1.4's parseStructure, as the RFC writes it. */
export function splitBody(root: BodyPart): { textBody: BodyPart[]; htmlBody: BodyPart[]; attachments: BodyPart[] } {
  const textBody: BodyPart[] = [];
  const htmlBody: BodyPart[] = [];
  const attachments: BodyPart[] = [];
  const parse = (parts: BodyPart[], multipartType: string, inAlternative: boolean, html: BodyPart[] | null, text: BodyPart[] | null) => {
    const textLength = text ? text.length : -1;
    const htmlLength = html ? html.length : -1;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as BodyPart;
      const isMultipart = part.type.startsWith('multipart/');
      const isInline =
        part.disposition !== 'attachment' &&
        (part.type === 'text/plain' || part.type === 'text/html' || isInlineMediaType(part.type)) &&
        (i === 0 || (multipartType !== 'related' && (isInlineMediaType(part.type) || !part.name)));
      if (isMultipart) {
        const sub = part.type.split('/')[1] as string;
        parse(part.subParts ?? [], sub, inAlternative || sub === 'alternative', html, text);
      } else if (isInline) {
        if (multipartType === 'alternative') {
          if (part.type === 'text/plain') text?.push(part);
          else if (part.type === 'text/html') html?.push(part);
          else attachments.push(part);
          continue;
        }
        if (inAlternative) {
          if (part.type === 'text/plain') html = null;
          if (part.type === 'text/html') text = null;
        }
        text?.push(part);
        html?.push(part);
        if ((!text || !html) && isInlineMediaType(part.type)) attachments.push(part);
      } else attachments.push(part);
    }
    if (multipartType === 'alternative' && text && html) {
      if (textLength === text.length && htmlLength !== html.length) for (let i = htmlLength; i < html.length; i++) text.push(html[i] as BodyPart);
      if (htmlLength === html.length && textLength !== text.length) for (let i = textLength; i < text.length; i++) html.push(text[i] as BodyPart);
    }
  };
  parse([root], 'mixed', false, htmlBody, textBody);
  return { textBody, htmlBody, attachments };
}

/** Every leaf of a body part tree, in order. */
export function leaves(root: BodyPart): BodyPart[] {
  return root.subParts ? root.subParts.flatMap(leaves) : [root];
}

/** The structure part with this part id. */
export function structurePart(structure: BodyStructure, partId: string): BodyStructure | undefined {
  return listParts(structure).find((p) => p.number === partId)?.part;
}

/** RFC 8621 §4.1.4 EmailBodyValue, truncated to maxBytes UTF-8 octets on a character boundary. */
export function bodyValueOf(raw: Buffer, part: BodyStructure, maxBytes: number): { value: string; isEncodingProblem: boolean; isTruncated: boolean } {
  const { value, isEncodingProblem } = decodeText(decodePart(raw, part), part.kind === 'multipart' ? null : charsetOf(part));
  if (maxBytes <= 0 || Buffer.byteLength(value) <= maxBytes) return { value, isEncodingProblem, isTruncated: false };
  let cut = Buffer.from(value).subarray(0, maxBytes).toString();
  if (cut.endsWith('\ufffd')) cut = cut.slice(0, -1);
  return { value: cut, isEncodingProblem, isTruncated: true };
}

// Header forms (RFC 8621 §4.1.2).

export function toEmailAddresses(addresses: readonly Address[] | null): EmailAddress[] {
  const out: EmailAddress[] = [];
  for (const a of addresses ?? []) {
    if (a.host === null) continue; // group markers
    const email = a.mailbox === null ? '' : a.host ? `${a.mailbox}@${a.host}` : a.mailbox;
    const name = a.name ? decodeEncodedWords(a.name).trim() : null;
    out.push({ name: name || null, email });
  }
  return out;
}

function groupedAddresses(addresses: readonly Address[]): Array<{ name: string | null; addresses: EmailAddress[] }> {
  const groups: Array<{ name: string | null; addresses: EmailAddress[] }> = [];
  let current: { name: string | null; addresses: EmailAddress[] } | null = null;
  for (const a of addresses) {
    if (a.host === null && a.mailbox !== null) {
      current = { name: decodeEncodedWords(a.mailbox), addresses: [] };
      groups.push(current);
    } else if (a.host === null) current = null;
    else {
      const [one] = toEmailAddresses([a]);
      if (current) current.addresses.push(one as EmailAddress);
      else {
        const last = groups.at(-1);
        if (last && last.name === null) last.addresses.push(one as EmailAddress);
        else groups.push({ name: null, addresses: [one as EmailAddress] });
      }
    }
  }
  return groups;
}

function messageIds(value: string): string[] | null {
  const ids = [...value.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1] as string);
  return ids.length > 0 ? ids : null;
}

/** RFC 3339 date-time with the field's own offset when it has one (§4.1.2.6 asDate). */
export function asDate(value: string): string | null {
  const epoch = parseDateField(value);
  if (epoch === null) return null;
  return new Date(epoch).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function asText(value: string): string {
  return decodeEncodedWords(value.replace(/\r?\n[ \t]/g, ' ')).trim();
}

export type HeaderForm = 'Raw' | 'Text' | 'Addresses' | 'GroupedAddresses' | 'MessageIds' | 'Date' | 'URLs';

/** `header:Name[:asForm][:all]` → its pieces, or undefined when it is not one (§4.1.3). */
export function parseHeaderProperty(property: string): { name: string; form: HeaderForm; all: boolean } | undefined {
  const match = /^header:([\x21-\x39\x3b-\x7e]+)(?::as(Raw|Text|Addresses|GroupedAddresses|MessageIds|Date|URLs))?(:all)?$/.exec(property);
  if (!match) return undefined;
  return { name: (match[1] as string).toLowerCase(), form: (match[2] as HeaderForm | undefined) ?? 'Raw', all: Boolean(match[3]) };
}

/** A field's value in one form (§4.1.2); `value` is raw (Raw returns it as it is), the other forms unfold it first. */
export function headerValue(raw: string, form: HeaderForm): unknown {
  if (form === 'Raw') return raw;
  const value = raw.replace(/\r?\n(?=[ \t])/g, '').trim();
  switch (form) {
    case 'Text':
      return asText(value);
    case 'Addresses':
      return toEmailAddresses(parseAddressList(value));
    case 'GroupedAddresses':
      return groupedAddresses(parseAddressList(value));
    case 'MessageIds':
      return messageIds(value);
    case 'Date':
      return asDate(value);
    case 'URLs': {
      const urls = [...value.matchAll(/<([^<>]+)>/g)].map((m) => (m[1] as string).trim());
      return urls.length > 0 ? urls : null;
    }
  }
}

/** The value of a `header:` property over a header block's fields (§4.1.3: the last instance, or all). */
export function headerProperty(fields: readonly RawField[], spec: { name: string; form: HeaderForm; all: boolean }): unknown {
  const values = fields.filter((f) => f.name.toLowerCase() === spec.name).map((f) => headerValue(f.value, spec.form));
  if (spec.all) return values;
  return values.length > 0 ? values[values.length - 1] : null;
}

export { asText, messageIds };
