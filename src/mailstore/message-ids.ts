/**
 * Message IDs as threading compares them (RFC 5256 §3 REFERENCES): normalized, so that quoting does
 * not make two spellings of one id differ (`<"a.b"@x>` is `<a.b@x>`), and compared case-sensitively.
 */

/** References kept per message: the first (the thread's root) and the last ones (the nearest parents). */
export const MAX_REFERENCES = 100;
/** Characters of one normalized id: longer ones are not ids a mail program made. */
const MAX_ID_CHARS = 500;

/** `local@domain` of one msg-id's inside, quoting and comments removed; null when it is not one (no `@`). */
function normalizeInside(inside: string): string | null {
  let out = '';
  let quoted = false;
  for (let i = 0; i < inside.length; i++) {
    const ch = inside[i] as string;
    if (quoted) {
      if (ch === '\\' && i + 1 < inside.length) out += inside[++i];
      else if (ch === '"') quoted = false;
      else out += ch;
    } else if (ch === '"') quoted = true;
    else if (ch !== ' ' && ch !== '\t' && ch !== '\r' && ch !== '\n') out += ch;
  }
  const at = out.lastIndexOf('@');
  if (at <= 0 || at === out.length - 1 || out.length > MAX_ID_CHARS) return null;
  return `<${out}>`;
}

/** Every valid msg-id of a field value (References, In-Reply-To, Message-ID), in order. */
export function parseMessageIds(value: string | undefined | null): string[] {
  if (!value) return [];
  const out: string[] = [];
  for (const match of value.matchAll(/<([^<>]*)>/g)) {
    const id = normalizeInside(match[1] as string);
    if (id) out.push(id);
  }
  return out;
}

/** The message's own id: the first valid one of its Message-ID field, or null (RFC 5256 then gives it a unique one). */
export function ownMessageId(field: string | undefined | null): string | null {
  return parseMessageIds(field)[0] ?? null;
}

/**
 * RFC 5256 §3: the ids of References; without a valid one, the first valid id of In-Reply-To; else
 * none. Long lists keep their first id and the last ones (an MUA may have trimmed the middle already).
 */
export function threadReferences(references: string | undefined | null, inReplyTo: string | undefined | null): string[] {
  const ids = parseMessageIds(references);
  if (ids.length === 0) return parseMessageIds(inReplyTo).slice(0, 1);
  if (ids.length <= MAX_REFERENCES) return ids;
  return [ids[0] as string, ...ids.slice(ids.length - (MAX_REFERENCES - 1))];
}
