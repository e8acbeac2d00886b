/** Decoded forms of the top-level header and a look at the structure, for lists and the webmail. */
import { formatAddresses } from './addresses.ts';
import { firstField, type HeaderField } from './header-block.ts';
import { clipChars, MAX_FIELD_CHARS } from './limits.ts';
import { decodeEncodedWords, stripComments } from './params.ts';
import type { BodyStructure, Envelope, MessageSummary } from './types.ts';

const MONTHS: Record<string, number> = { jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11 };

/** RFC 5322 §4.3 obsolete zones, in hours; military letters are meaningless in practice and read as -0000. */
const ZONES: Record<string, number> = { ut: 0, gmt: 0, z: 0, est: -5, edt: -4, cst: -6, cdt: -5, mst: -7, mdt: -6, pst: -8, pdt: -7 };

const DATE_TIME =
  /^(?:[a-z]+\s*,?\s*)?(\d{1,2})[\s-]*([a-z]{3})[a-z]*\.?[\s-]*(\d{2,4})\s+(\d{1,2})\s*:\s*(\d{1,2})(?:\s*:\s*(\d{1,2}))?(?:\s*([+-]\d{4}|[a-z]{1,5}))?/i;

/** A date without its time (seen in broken mail): still a calendar date for SEARCH SENTON. */
const DATE_ONLY = /^(?:[a-z]+\s*,?\s*)?(\d{1,2})[\s-]*([a-z]{3})[a-z]*\.?[\s-]*(\d{2,4})\b/i;

/** RFC 5322 §4.3: two-digit years below 50 are 20xx, others (and three-digit years) are counted from 1900. */
function fullYear(digits: string): number {
  const year = Number(digits);
  if (digits.length === 2) return year < 50 ? 2000 + year : 1900 + year;
  if (digits.length === 3) return 1900 + year;
  return year;
}

function zoneOffsetMinutes(zone: string | undefined): number {
  if (!zone) return 0;
  if (zone[0] === '+' || zone[0] === '-') {
    const minutes = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5));
    return zone[0] === '-' ? -minutes : minutes;
  }
  return (ZONES[zone.toLowerCase()] ?? 0) * 60;
}

/** RFC 5322 §3.3 date-time (with the obsolete forms of §4.3) -> epoch milliseconds; other formats through Date.parse. */
export function parseDateField(value: string): number | null {
  const text = stripComments(value).replace(/\s+/g, ' ').trim();
  const match = DATE_TIME.exec(text);
  const month = match ? MONTHS[match[2]!.toLowerCase()] : undefined;
  if (match && month !== undefined) {
    const [day, hour, minute, second] = [match[1], match[4], match[5], match[6] ?? '0'].map(Number) as [number, number, number, number];
    if (day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 60) {
      return Date.UTC(fullYear(match[3]!), month, day, hour, minute, second) - zoneOffsetMinutes(match[7]) * 60_000;
    }
  }
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? null : parsed;
}

/**
 * The calendar date a Date field gives, as written (`yyyy-mm-dd`), its time and zone ignored: RFC 3501
 * §6.4.4 SENTBEFORE / SENTON / SENTSINCE compare "the date of the Date header", so `Sun, 25 Mar 2007
 * 00:00 +0200` is on 25-Mar-2007 though it is the 24th in UTC. Formats RFC 5322 does not know fall back
 * to their UTC date; null when nothing reads as a date.
 */
export function writtenDateOf(value: string): string | null {
  const text = stripComments(value).replace(/\s+/g, ' ').trim();
  const match = DATE_TIME.exec(text) ?? DATE_ONLY.exec(text);
  const month = match ? MONTHS[match[2]!.toLowerCase()] : undefined;
  if (match && month !== undefined) {
    const day = Number(match[1]);
    if (day >= 1 && day <= 31) return `${String(fullYear(match[3]!)).padStart(4, '0')}-${String(month + 1).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  }
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? null : new Date(parsed).toISOString().slice(0, 10);
}

/** The first `<id>` of a Message-ID field, else its trimmed value. */
function readMessageId(value: string | undefined): string | null {
  if (value === undefined) return null;
  const id = /<[^<>]*>/.exec(value)?.[0] ?? value.trim();
  return id || null;
}

/** Parts that are part of how a message is sent or reported, not something the user was sent. */
const NOT_ATTACHMENTS = new Set([
  'application/pgp-signature',
  'application/pgp-encrypted',
  'application/pkcs7-signature',
  'application/x-pkcs7-signature',
  'message/delivery-status',
  'message/global-delivery-status',
  'message/disposition-notification',
  'message/feedback-report',
]);

function hasFileName(part: BodyStructure): boolean {
  const named = (params: readonly [string, string][] | undefined) => params?.some(([name]) => /^(file)?name\*?$/.test(name)) ?? false;
  return named(part.disposition?.params) || named(part.params);
}

/**
 * Whether a part is something the user would call an attachment: marked so, or a file that is not a resource
 * of an HTML body (a multipart/related part with a Content-ID), nor a signature or report part.
 */
function isAttachment(part: BodyStructure, parentSubtype: string | null): boolean {
  if (part.kind === 'multipart') return part.parts.some((child) => isAttachment(child, part.subtype));
  if (part.disposition?.type === 'attachment') return true;
  if (NOT_ATTACHMENTS.has(`${part.type}/${part.subtype}`)) return false;
  if (part.kind === 'message') return true;
  if (part.kind === 'text') return hasFileName(part);
  return !(parentSubtype === 'related' && part.id !== null);
}

export function buildSummary(fields: readonly HeaderField[], envelope: Envelope, structure: BodyStructure, preview: string): MessageSummary {
  const date = firstField(fields, 'date');
  return {
    subject: clipChars(decodeEncodedWords(firstField(fields, 'subject') ?? ''), MAX_FIELD_CHARS),
    from: formatAddresses(envelope.from).join(', '),
    to: formatAddresses(envelope.to),
    cc: formatAddresses(envelope.cc),
    date: date === undefined ? null : parseDateField(date),
    messageId: readMessageId(firstField(fields, 'message-id')),
    hasAttachments: isAttachment(structure, null),
    preview,
  };
}
