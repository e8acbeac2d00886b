/**
 * Domain names and mail addresses as the service stores them: domains in lower-case ASCII
 * (punycode), addresses as `local@domain` with the local part kept as given but compared
 * case-insensitively (RFC 5321 §2.4 allows case-sensitive local parts; no real system relies on it).
 */
import { invalid } from './errors.ts';
import { toAsciiDomain, toUnicodeDomain } from './idn.ts';

/** RFC 5321 §4.5.3.1.2 */
export const MAX_DOMAIN_LENGTH = 255;
/** RFC 5321 §4.5.3.1.1 */
export const MAX_LOCAL_PART_LENGTH = 64;
/** RFC 1035 §2.3.4 */
export const MAX_LABEL_LENGTH = 63;

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
/** RFC 5322 §3.2.3 dot-atom characters, plus UTF-8 (RFC 6531) for internationalised local parts. */
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10FFFF}-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10FFFF}-]+)*$/u;

/** Returns the domain in ASCII form, or undefined when it is not a valid host name of 2+ labels. */
export function normalizeDomain(input: string): string | undefined {
  const trimmed = input.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_DOMAIN_LENGTH) return undefined;
  const ascii = toAsciiDomain(trimmed);
  if (!ascii || ascii.length > 253) return undefined;
  const labels = ascii.split('.');
  if (labels.length < 2) return undefined;
  if (!labels.every((label) => LABEL.test(label))) return undefined;
  const tld = labels[labels.length - 1] ?? '';
  if (/^[0-9]+$/.test(tld)) return undefined; // an IP address, not a domain
  return ascii;
}

export function parseDomain(input: string, field = 'name'): string {
  const domain = normalizeDomain(input);
  if (!domain) {
    throw invalid('invalid-domain', field, `"${input}" is not a valid domain name`, `« ${input} » n'est pas un nom de domaine valide`);
  }
  return domain;
}

export interface Address {
  local: string;
  domain: string;
}

/** Parses `local@domain`; the domain is returned in ASCII form. */
export function normalizeAddress(input: string): Address | undefined {
  const trimmed = input.trim();
  const at = trimmed.lastIndexOf('@');
  if (at <= 0) return undefined;
  const local = trimmed.slice(0, at);
  const domain = normalizeDomain(trimmed.slice(at + 1));
  if (!domain) return undefined;
  if (new TextEncoder().encode(local).length > MAX_LOCAL_PART_LENGTH || !LOCAL_PART.test(local)) return undefined;
  return { local, domain };
}

export function parseAddress(input: string, field = 'address'): Address {
  const address = normalizeAddress(input);
  if (!address) {
    throw invalid('invalid-address', field, `"${input}" is not a valid e-mail address`, `« ${input} » n'est pas une adresse e-mail valide`);
  }
  return address;
}

/** The key under which an address is stored and compared: lower-cased local part, ASCII domain. */
export function addressKey(address: Address): string {
  return `${address.local.toLowerCase()}@${address.domain}`;
}

export function formatAddress(address: Address): string {
  return `${address.local}@${toUnicodeDomain(address.domain)}`;
}
