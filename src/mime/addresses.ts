/**
 * RFC 5322 §3.4 address lists -> RFC 3501 §7.4.2 address structures, including groups. Lenient: missing
 * angle brackets, a missing domain or local part, unterminated quotes and comments, names in comments
 * (`user@host (Name)`), and obsolete routes (`<@relay:user@host>`, RFC 5322 §4.4) all give an address.
 */

import { MAX_ADDRESSES } from './limits.ts';
import { decodeEncodedWords, readQuoted, skipComment } from './params.ts';
import type { Address } from './types.ts';

/** Placeholders for a missing part (a NIL host would read as a group marker); the names Dovecot uses. */
export const MISSING_MAILBOX = 'MISSING_MAILBOX';
export const MISSING_DOMAIN = 'MISSING_DOMAIN';

type Token =
  | { kind: 'word'; text: string; quoted: boolean; spaced: boolean }
  | { kind: 'special'; text: string; spaced: boolean }
  | { kind: 'comment'; text: string };

const SPECIALS = '<>@,;:.';

/** RFC 5322 §3.2: words (atoms, quoted strings, domain literals), specials and comments, noting white space before each. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let spaced = false;
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      spaced = true;
      i++;
    } else if (c === '(') {
      const end = skipComment(text, i);
      const inner = text.slice(i + 1, text[end - 1] === ')' ? end - 1 : end);
      tokens.push({ kind: 'comment', text: inner.replace(/\\(.)/g, '$1').trim() });
      spaced = true;
      i = end;
    } else if (c === '"') {
      const { value, end } = readQuoted(text, i);
      tokens.push({ kind: 'word', text: value, quoted: true, spaced });
      spaced = false;
      i = end;
    } else if (c === '[') {
      const close = text.indexOf(']', i);
      const end = close === -1 ? text.length : close + 1;
      tokens.push({ kind: 'word', text: text.slice(i, end), quoted: false, spaced });
      spaced = false;
      i = end;
    } else if (SPECIALS.includes(c)) {
      tokens.push({ kind: 'special', text: c, spaced });
      spaced = false;
      i++;
    } else {
      let end = i + 1;
      while (end < text.length && !' \t\r\n()"[<>@,;:.'.includes(text[end]!)) end++;
      tokens.push({ kind: 'word', text: text.slice(i, end), quoted: false, spaced });
      spaced = false;
      i = end;
    }
  }
  return tokens;
}

type TextToken = Exclude<Token, { kind: 'comment' }>;

/** A phrase as written: words and dots with single spaces where the message had white space. */
function phraseText(tokens: readonly TextToken[]): string {
  let out = '';
  for (const token of tokens) out += (out && token.spaced ? ' ' : '') + token.text;
  return out;
}

/** An addr-spec's local part or domain: its pieces joined without the (obsolete) white space around dots. */
function joinAddrSpec(tokens: readonly TextToken[]): string {
  return tokens.map((token) => token.text).join('');
}

class AddressListBuilder {
  readonly addresses: Address[] = [];
  private phrase: TextToken[] = [];
  private angle: TextToken[] | null = null;
  private angleClosed = false;
  private comment: string | null = null;
  private inGroup = false;
  /** Whether the open group's start marker was kept (it is not past the cap). */
  private groupKept = false;

  add(token: Token): void {
    if (token.kind === 'comment') {
      this.comment ??= token.text || null;
      return;
    }
    if (this.angle && !this.angleClosed) {
      if (token.text === '>' && token.kind === 'special') this.angleClosed = true;
      else if (token.text === ',' && token.kind === 'special' && !this.inRoute(this.angle)) this.finishMailbox();
      else this.angle.push(token);
      return;
    }
    if (token.kind === 'special') {
      switch (token.text) {
        case '<':
          if (!this.angle) this.angle = [];
          return;
        case ',':
          this.finishMailbox();
          return;
        case ';':
          this.finishMailbox();
          this.endGroup();
          return;
        case ':':
          if (!this.inGroup && !this.angle && !this.phrase.some((t) => t.kind === 'special' && t.text === '@')) {
            this.startGroup();
            return;
          }
          break;
      }
    }
    if (!this.angleClosed) this.phrase.push(token);
  }

  finish(): Address[] {
    this.finishMailbox();
    this.endGroup();
    return this.addresses;
  }

  /** RFC 3501 §7.4.2: a group starts with `(NIL NIL "name" NIL)`... */
  private startGroup(): void {
    this.groupKept = this.push({ name: null, mailbox: phraseText(this.phrase), host: null });
    this.inGroup = true;
    this.reset();
  }

  /** ...and ends with `(NIL NIL NIL NIL)`, even past the cap so that groups stay balanced. */
  private endGroup(): void {
    if (!this.inGroup) return;
    if (this.groupKept) this.addresses.push({ name: null, mailbox: null, host: null });
    this.inGroup = false;
  }

  private finishMailbox(): void {
    const address = this.angle ? this.angleAddress(this.angle) : this.bareAddress();
    if (address) this.push(address);
    this.reset();
  }

  /** Inside `<@a.example,@b.example:` (RFC 5322 §4.4 obs-route), where a comma separates domains, not addresses. */
  private inRoute(angle: readonly TextToken[]): boolean {
    const first = angle[0];
    return first?.kind === 'special' && first.text === '@' && !angle.some((t) => t.kind === 'special' && t.text === ':');
  }

  /** `display-name <addr-spec>`; an obsolete route before the last ':' is kept apart (RFC 3501 §7.4.2 at-domain-list). */
  private angleAddress(angle: TextToken[]): Address | undefined {
    const routeEnd = angle.findLastIndex((t) => t.kind === 'special' && t.text === ':');
    const spec = angle.slice(routeEnd + 1);
    const name = phraseText(this.phrase) || null;
    if (spec.length === 0 && !name) return undefined;
    const route = routeEnd > 0 ? joinAddrSpec(angle.slice(0, routeEnd)) : '';
    return route.startsWith('@') ? { name, route, ...splitAddrSpec(spec) } : { name, ...splitAddrSpec(spec) };
  }

  /** A bare addr-spec; old mail puts the name in a comment after it. */
  private bareAddress(): Address | undefined {
    if (this.phrase.length === 0) return undefined;
    const at = this.phrase.findLastIndex((t) => t.kind === 'special' && t.text === '@');
    if (at === -1) return { name: this.comment, mailbox: phraseText(this.phrase), host: MISSING_DOMAIN };
    return { name: this.comment, ...splitAddrSpec(this.phrase) };
  }

  private push(address: Address): boolean {
    if (this.addresses.length >= MAX_ADDRESSES) return false;
    this.addresses.push(address);
    return true;
  }

  private reset(): void {
    this.phrase = [];
    this.angle = null;
    this.angleClosed = false;
    this.comment = null;
  }
}

function splitAddrSpec(spec: readonly TextToken[]): { mailbox: string; host: string } {
  const at = spec.findLastIndex((t) => t.kind === 'special' && t.text === '@');
  const local = joinAddrSpec(at === -1 ? spec : spec.slice(0, at));
  const domain = at === -1 ? '' : joinAddrSpec(spec.slice(at + 1));
  return { mailbox: local || MISSING_MAILBOX, host: domain || MISSING_DOMAIN };
}

/** Parses an address-list field value; an empty list when it holds no address. */
export function parseAddressList(value: string): Address[] {
  const builder = new AddressListBuilder();
  for (const token of tokenize(value)) builder.add(token);
  return builder.finish();
}

/** `Name <mailbox@host>` with the name decoded (RFC 2047), for display; group markers give nothing. */
export function formatAddresses(addresses: readonly Address[] | null): string[] {
  const out: string[] = [];
  for (const address of addresses ?? []) {
    if (address.host === null) continue;
    const email = address.host === MISSING_DOMAIN ? (address.mailbox ?? '') : `${address.mailbox}@${address.host}`;
    const name = address.name ? decodeEncodedWords(address.name).trim() : '';
    out.push(name ? `${name} <${email}>` : email);
  }
  return out;
}
