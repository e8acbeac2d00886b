/**
 * Mailbox names: modified UTF-7 (RFC 3501 §5.1.3), INBOX (case-insensitive, RFC 3501 §5.1), the
 * hierarchy delimiter `/`, and LIST wildcards `*` and `%` (RFC 3501 §6.3.8).
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { ProtocolSyntaxError } from './errors.ts';

/** The one hierarchy delimiter of Facteur's mailboxes. */
export const MAILBOX_DELIMITER = '/';
/** Longest mailbox name, in UTF-8 bytes after decoding: deep enough for any folder tree, short enough to index. */
export const MAX_MAILBOX_NAME_BYTES = 1024;

/**
 * A mailbox name no folder can have (not modified UTF-7, an empty level, a control character...). For a
 * command that names an existing folder this is just a name that does not exist: NO [NONEXISTENT]
 * (RFC 5530), not BAD, since the command's syntax is fine (RFC 3501 §5.1: any astring is a mailbox name).
 * CREATE and RENAME turn it into NO [CANNOT].
 */
export class InvalidMailboxNameError extends ProtocolSyntaxError {
  constructor(message: string) {
    super(message, 'NO', 'NONEXISTENT');
    this.name = 'InvalidMailboxNameError';
  }
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';
const isPrintableAscii = (code: number) => code >= 0x20 && code <= 0x7e;

/** Unicode → modified UTF-7: printable ASCII as is (`&` as `&-`), the rest as `&` base64(UTF-16BE) `-`. */
export function encodeModifiedUtf7(name: string): string {
  let out = '';
  let pending: number[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const bytes = Buffer.alloc(pending.length * 2);
    for (const [index, unit] of pending.entries()) bytes.writeUInt16BE(unit, index * 2);
    out += `&${bytes.toString('base64').replace(/=+$/, '').replaceAll('/', ',')}-`;
    pending = [];
  };
  for (let index = 0; index < name.length; index++) {
    const unit = name.charCodeAt(index);
    if (isPrintableAscii(unit)) {
      flush();
      out += unit === 0x26 ? '&-' : name[index];
    } else {
      pending.push(unit);
    }
  }
  flush();
  return out;
}

function decodeBase64Run(run: string, whole: string): string {
  if (![...run].every((char) => BASE64_ALPHABET.includes(char))) throw new InvalidMailboxNameError(`invalid modified UTF-7 in mailbox name "${whole}"`);
  const bytes = Buffer.from(run.replaceAll(',', '/'), 'base64');
  const leftoverBits = run.length * 6 - bytes.length * 8;
  // RFC 3501 §5.1.3 / RFC 2152: no partial UTF-16 unit, padding bits zero.
  const lastValue = BASE64_ALPHABET.indexOf(run[run.length - 1]!);
  if (bytes.length % 2 !== 0 || leftoverBits >= 6 || (lastValue & ((1 << leftoverBits) - 1)) !== 0) {
    throw new InvalidMailboxNameError(`invalid modified UTF-7 in mailbox name "${whole}"`);
  }
  let text = '';
  for (let offset = 0; offset < bytes.length; offset += 2) {
    const unit = bytes.readUInt16BE(offset);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const low = offset + 2 < bytes.length ? bytes.readUInt16BE(offset + 2) : 0;
      if (low < 0xdc00 || low > 0xdfff) throw new InvalidMailboxNameError(`invalid UTF-16 in mailbox name "${whole}"`);
      text += String.fromCharCode(unit, low);
      offset += 2;
      continue;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) throw new InvalidMailboxNameError(`invalid UTF-16 in mailbox name "${whole}"`);
    if (isPrintableAscii(unit)) throw new InvalidMailboxNameError(`modified UTF-7 must not encode printable ASCII ("${whole}")`);
    text += String.fromCharCode(unit);
  }
  return text;
}

/** Modified UTF-7 → Unicode, refusing what RFC 3501 §5.1.3 forbids (8-bit, unterminated `&`, encoded ASCII, bad UTF-16). */
export function decodeModifiedUtf7(encoded: string): string {
  let out = '';
  let index = 0;
  while (index < encoded.length) {
    const code = encoded.charCodeAt(index);
    if (!isPrintableAscii(code)) throw new InvalidMailboxNameError('mailbox names are 7-bit modified UTF-7 (or enable UTF8=ACCEPT)');
    if (code !== 0x26) {
      out += encoded[index];
      index++;
      continue;
    }
    const end = encoded.indexOf('-', index + 1);
    if (end === -1) throw new InvalidMailboxNameError(`unterminated "&" in mailbox name "${encoded}"`);
    out += end === index + 1 ? '&' : decodeBase64Run(encoded.slice(index + 1, end), encoded);
    index = end + 1;
  }
  return out;
}

/** `inbox`, `Inbox/Sub` → `INBOX`, `INBOX/Sub`: INBOX is case-insensitive, its children follow it. */
export function normalizeInbox(name: string): string {
  const head = name.slice(0, 5).toUpperCase();
  if (head === 'INBOX' && (name.length === 5 || name[5] === MAILBOX_DELIMITER)) return 'INBOX' + name.slice(5);
  return name;
}

export function isInbox(name: string): boolean {
  return name.toUpperCase() === 'INBOX';
}

/**
 * A mailbox argument's bytes → its Unicode name, INBOX normalised. Without UTF8=ACCEPT (RFC 6855)
 * the name is modified UTF-7; with it, UTF-8 as is. Refuses empty names, control characters, empty
 * levels (`a//b`, `/a`) and names over MAX_MAILBOX_NAME_BYTES. A trailing `/` is kept: CREATE gives
 * it a meaning (RFC 3501 §6.3.3) and strips it itself.
 */
export function decodeMailboxName(bytes: Buffer, options: { utf8Accept?: boolean } = {}): string {
  let name: string;
  if (options.utf8Accept) {
    if (!isUtf8(bytes)) throw new InvalidMailboxNameError('mailbox name is not valid UTF-8');
    name = bytes.toString('utf8');
  } else {
    name = decodeModifiedUtf7(bytes.toString('latin1'));
  }
  validateMailboxName(name);
  return normalizeInbox(name);
}

function validateMailboxName(name: string): void {
  if (name === '') throw new InvalidMailboxNameError('empty mailbox name');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\x00-\x1f\x7f]/.test(name)) throw new InvalidMailboxNameError('control character in mailbox name');
  if (Buffer.byteLength(name) > MAX_MAILBOX_NAME_BYTES) throw new InvalidMailboxNameError(`mailbox name over ${MAX_MAILBOX_NAME_BYTES} bytes`);
  const levels = name.split(MAILBOX_DELIMITER);
  if (levels.slice(0, -1).some((level) => level === '')) throw new InvalidMailboxNameError(`empty hierarchy level in mailbox name "${name}"`);
}

/** A name for a response: modified UTF-7, or UTF-8 as is once UTF8=ACCEPT is enabled. */
export function encodeMailboxName(name: string, options: { utf8Accept?: boolean } = {}): string {
  return options.utf8Accept ? name : encodeModifiedUtf7(name);
}

/** Collapses runs of wildcards (`**`, `%*` → `*`, `%%` → `%`), so matching stays quadratic at worst. */
function compactPattern(pattern: string[]): string[] {
  const out: string[] = [];
  for (const char of pattern) {
    const last = out[out.length - 1];
    if ((char === '*' || char === '%') && (last === '*' || last === '%')) {
      if (char === '*') out[out.length - 1] = '*';
      continue;
    }
    out.push(char);
  }
  return out;
}

function globMatches(name: string[], pattern: string[], delimiter: string): boolean {
  // reachable[j]: the first i characters of name match the first j of pattern (i advancing).
  let reachable = new Array<boolean>(pattern.length + 1).fill(false);
  reachable[0] = true;
  for (let j = 1; j <= pattern.length && (pattern[j - 1] === '*' || pattern[j - 1] === '%'); j++) reachable[j] = true;
  for (const char of name) {
    const next = new Array<boolean>(pattern.length + 1).fill(false);
    for (let j = 1; j <= pattern.length; j++) {
      const p = pattern[j - 1];
      if (p === '*') next[j] = next[j - 1]! || reachable[j]!;
      else if (p === '%') next[j] = next[j - 1]! || (reachable[j]! && char !== delimiter);
      else next[j] = reachable[j - 1]! && p === char;
    }
    reachable = next;
  }
  return reachable[pattern.length]!;
}

/**
 * Whether a mailbox name is listed by LIST `reference pattern` (RFC 3501 §6.3.8): the reference is
 * prepended to the pattern; `*` matches anything, `%` anything but the delimiter; the INBOX part
 * is compared case-insensitively. Names and patterns are Unicode (already decoded).
 */
export function matchesPattern(name: string, reference: string, pattern: string, delimiter: string = MAILBOX_DELIMITER): boolean {
  const full = normalizeInbox(reference + pattern);
  const patternChars = compactPattern([...full]);
  const nameChars = [...normalizeInbox(name)];
  const literalCount = patternChars.filter((char) => char !== '*' && char !== '%').length;
  if (literalCount > nameChars.length) return false;
  return globMatches(nameChars, patternChars, delimiter);
}
