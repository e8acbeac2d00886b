/**
 * ENVELOPE, BODY and BODYSTRUCTURE (RFC 3501 §7.4.2) from the metadata extracted when the message was
 * stored: FETCH never reads the message for them.
 */
import type { Address, BodyStructure, Disposition, Envelope, Param } from '../../mime/index.ts';
import { type Item, joined, str } from '../proto/index.ts';

function nstring(value: string | null | undefined): Item {
  return value === null || value === undefined ? null : str(value);
}

function addresses(list: Address[] | null): Item {
  if (!list || list.length === 0) return null;
  // RFC 3501 §7.4.2: name, at-domain-list (source route), mailbox, host.
  return list.map((a) => [nstring(a.name), nstring(a.route), nstring(a.mailbox), nstring(a.host)]);
}

export function envelopeItem(envelope: Envelope): Item {
  return [
    nstring(envelope.date),
    nstring(envelope.subject),
    addresses(envelope.from),
    addresses(envelope.sender),
    addresses(envelope.replyTo),
    addresses(envelope.to),
    addresses(envelope.cc),
    addresses(envelope.bcc),
    nstring(envelope.inReplyTo),
    nstring(envelope.messageId),
  ];
}

function params(list: Param[]): Item {
  if (list.length === 0) return null;
  return list.flatMap(([name, value]) => [str(name), str(value)]);
}

function disposition(value: Disposition | null): Item {
  return value ? [str(value.type), params(value.params)] : null;
}

function language(value: string[] | null): Item {
  if (!value || value.length === 0) return null;
  return value.length === 1 ? str(value[0] as string) : value.map((l) => str(l));
}

/** BODYSTRUCTURE when `extended`, else BODY (no extension data). */
export function bodyStructureItem(part: BodyStructure, extended: boolean): Item {
  if (part.kind === 'multipart') {
    const out: Item[] = [joined(part.parts.map((p) => bodyStructureItem(p, extended))), str(part.subtype)];
    if (extended) out.push(params(part.params), disposition(part.disposition), language(part.language), nstring(part.location));
    return out;
  }
  const out: Item[] = [str(part.type), str(part.subtype), params(part.params), nstring(part.id), nstring(part.description), str(part.encoding), part.size];
  if (part.kind === 'message') out.push(envelopeItem(part.envelope), bodyStructureItem(part.body, extended), part.lines);
  else if (part.kind === 'text') out.push(part.lines);
  if (extended) out.push(nstring(part.md5), disposition(part.disposition), language(part.language), nstring(part.location));
  return out;
}
