/**
 * RFC 3501 §6.4.5 part numbers. The parts of a multipart are numbered 1..n; a message that is not multipart
 * has only part 1, its body. Below a message/rfc822 part, numbers continue into the encapsulated message
 * the same way: "2.1" is the first part of the message in part 2, or that message's body if it is not multipart.
 */
import type { BodyStructure } from './types.ts';

/** Parses "1.2.3" into [1, 2, 3]; undefined for anything else (zero, empty pieces, signs, leading zeros). */
export function parsePartNumber(number: string): number[] | undefined {
  if (!/^[1-9][0-9]{0,8}(\.[1-9][0-9]{0,8})*$/.test(number)) return undefined;
  return number.split('.').map(Number);
}

/** Part `index` (1-based) of a message body: a part of a multipart, or the body itself as part 1. */
function partOfMessageBody(body: BodyStructure, index: number): BodyStructure | undefined {
  if (body.kind === 'multipart') return body.parts[index - 1];
  return index === 1 ? body : undefined;
}

/** Where the numbering continues below a part: into a multipart's parts, or into an encapsulated message. */
function containerBelow(part: BodyStructure): BodyStructure | undefined {
  if (part.kind === 'multipart') return part;
  if (part.kind === 'message') return part.body;
  return undefined;
}

/** The part with this number in a message's body structure; undefined if there is none. */
export function partByNumber(structure: BodyStructure, number: string): BodyStructure | undefined {
  const path = parsePartNumber(number);
  if (!path) return undefined;
  let body: BodyStructure | undefined = structure;
  let part: BodyStructure | undefined;
  for (const index of path) {
    if (!body) return undefined;
    part = partOfMessageBody(body, index);
    if (!part) return undefined;
    body = containerBelow(part);
  }
  return part;
}

/** Every addressable part with its number, depth first, in message order (multiparts and message/rfc822 parts included). */
export function listParts(structure: BodyStructure): Array<{ number: string; part: BodyStructure }> {
  const out: Array<{ number: string; part: BodyStructure }> = [];
  const visit = (body: BodyStructure, prefix: string) => {
    const parts = body.kind === 'multipart' ? body.parts : [body];
    parts.forEach((part, i) => {
      const number = prefix + String(i + 1);
      out.push({ number, part });
      const below = containerBelow(part);
      if (below) visit(below, `${number}.`);
    });
  };
  visit(structure, '');
  return out;
}
