/**
 * The Sender Rewriting Scheme for mail that aliases forward outside. Sent on with its original
 * envelope sender, a forwarded copy fails SPF at the next hop (our servers are not the sender
 * domain's); so the forwarded copy leaves with `SRS0=HASH=TT=domain=local@<srs.domain>`, a domain
 * whose SPF names this service, and a bounce to that address comes back to our MX, which checks it
 * and sends it on to `local@domain`.
 *
 * - HASH: 6 base-32 characters of HMAC-SHA256(secret, TT + domain + local), lower-cased first, so a
 *   relay that changes the case of the address breaks nothing; only this service verifies it.
 * - TT: the day of the forward (days since 1970, modulo 1024) in 2 base-32 characters; a bounce is
 *   accepted up to `srs.maxAgeDays` after it (RFC 5321 §4.5.4.1 gives up after 4-5 days).
 * - The secret is `srs.secret`, else one generated at first use and kept sealed in `settings`, so every
 *   process of the service, and every restart, uses the same.
 * - Not rewritten: the null sender (bounces), senders at a hosted domain or at the SRS domain (our
 *   SPF covers them), and addresses whose rewritten form would exceed 64 octets (RFC 5321 §4.5.3.1.1).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AppContext } from '../context.ts';
import { type Address, addressKey, MAX_LOCAL_PART_LENGTH, normalizeAddress, normalizeDomain } from '../shared/addresses.ts';
import { storedSecret } from '../store/index.ts';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const HASH_LENGTH = 6;
const DAY_MS = 24 * 60 * 60_000;
/** TT wraps round every 1024 days (libsrs2's convention). */
const TIMESTAMP_PERIOD = 1024;
const SECRET_SETTING = 'srs.secret';

/** The HMAC secret: configured, or generated once and shared through the database (sealed). */
export function srsSecret(ctx: AppContext): Promise<string> {
  if (ctx.config.srs.secret) return Promise.resolve(ctx.config.srs.secret);
  return storedSecret(ctx.db, ctx.secrets, SECRET_SETTING, ctx.clock.now());
}

function encodeDay(day: number): string {
  return `${BASE32[(day >> 5) & 31]}${BASE32[day & 31]}`;
}

function decodeDay(tt: string): number | undefined {
  if (!/^[a-z2-7]{2}$/.test(tt)) return undefined;
  return BASE32.indexOf(tt[0] as string) * 32 + BASE32.indexOf(tt[1] as string);
}

function today(ctx: AppContext): number {
  return Math.floor(ctx.clock.now() / DAY_MS) % TIMESTAMP_PERIOD;
}

function hashOf(secret: string, tt: string, domain: string, local: string): string {
  const mac = createHmac('sha256', secret).update(`${tt}${domain}${local}`.toLowerCase()).digest();
  let out = '';
  for (let i = 0; i < HASH_LENGTH; i++) out += BASE32[(mac[i] as number) & 31];
  return out;
}

/** Whether an address is one of our SRS addresses (its validity is reverseSrs's business). */
export function isSrsAddress(ctx: AppContext, address: Address): boolean {
  return address.domain === ctx.config.srs.domain && /^srs0=/i.test(address.local);
}

/**
 * The envelope sender of a copy forwarded outside: the SRS0 address of `sender`, or `sender` itself
 * when it needs none (see the module's comment).
 */
export async function forwardingSender(ctx: AppContext, sender: string, isHosted: (domain: string) => Promise<boolean>): Promise<string> {
  const address = sender ? normalizeAddress(sender) : undefined;
  if (!address || address.domain === ctx.config.srs.domain || (await isHosted(address.domain))) return sender;
  const tt = encodeDay(today(ctx));
  const hash = hashOf(await srsSecret(ctx), tt, address.domain, address.local);
  const local = `SRS0=${hash}=${tt}=${address.domain}=${address.local}`;
  if (new TextEncoder().encode(local).length > MAX_LOCAL_PART_LENGTH) {
    ctx.log.warn({ event: 'delivery.srs_too_long', sender }, 'delivery.srs_too_long');
    return sender;
  }
  return `${local}@${ctx.config.srs.domain}`;
}

/** The original sender of a valid, unexpired SRS0 address of ours; undefined otherwise. */
export async function reverseSrs(ctx: AppContext, address: Address): Promise<string | undefined> {
  const match = /^srs0=([^=]+)=([^=]+)=([^=]+)=(.+)$/i.exec(address.local);
  if (!match) return undefined;
  const [, hash = '', ttRaw = '', domainRaw = '', local = ''] = match;
  const tt = ttRaw.toLowerCase();
  const day = decodeDay(tt);
  const domain = normalizeDomain(domainRaw);
  if (day === undefined || !domain) return undefined;
  const age = (today(ctx) - day + TIMESTAMP_PERIOD) % TIMESTAMP_PERIOD;
  if (age > ctx.config.srs.maxAgeDays) return undefined;
  const expected = Buffer.from(hashOf(await srsSecret(ctx), tt, domain, local));
  const given = Buffer.from(hash.toLowerCase());
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const original = normalizeAddress(`${local}@${domain}`);
  return original ? addressKey(original) : undefined;
}
