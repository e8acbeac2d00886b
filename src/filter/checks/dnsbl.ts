/**
 * DNS blocklists: the connecting IP against `filter.dnsblZones` (IPv4 octets reversed, IPv6 as 32
 * reversed nibbles, RFC 5782 §2.1 and §2.4), and the registered domains of the URLs in the body against
 * `filter.uriblZones` (RFC 5782 §2.3). A zone answering an A record in 127.0.0.0/24 lists the name;
 * other answers (Spamhaus's 127.255.255.x errors) and failures list nothing.
 *
 * Lookups go through the one resolver, are cached in memory (positive and negative, `CACHE_TTL_MS`),
 * and share a per-message budget (`DNS_BUDGET_FRACTION` of the pipeline's time budget): what has not
 * answered by then counts as not listed, so a slow zone never makes the message fail safe.
 */
import { isIP } from 'node:net';
import type { DnsResolver } from '../../dns/index.ts';
import type { Check, CheckResult, FilterSymbol } from '../types.ts';
import { type FilterContext, readMessage, registeredDomain, symbol, urlHosts } from './message.ts';

const SOURCE = 'dnsbl';

/** How long an answer (listed or not) is reused; blocklists update every few minutes. */
export const CACHE_TTL_MS = 5 * 60 * 1000;

/** Answers kept; the oldest go first. */
export const CACHE_MAX_ENTRIES = 50_000;

/** Share of `filter.timeBudgetMs` the lookups of one message may take, leaving the rest to the other checks. */
export const DNS_BUDGET_FRACTION = 0.6;

/** URL domains of one message looked up (spam carries a few; a newsletter can carry hundreds). */
export const MAX_URI_DOMAINS = 20;

export const DNSBL_SCORE = 3;
export const URIBL_SCORE = 3.5;

interface CacheEntry {
  expires: number;
  answers: Promise<string[]>;
}

/** One cache per resolver, so every instance of the check built on the same context shares it. */
const caches = new WeakMap<DnsResolver, Map<string, CacheEntry>>();

function cacheOf(resolver: DnsResolver): Map<string, CacheEntry> {
  let cache = caches.get(resolver);
  if (!cache) {
    cache = new Map();
    caches.set(resolver, cache);
  }
  return cache;
}

/** A records of a name, [] when it has none or the lookup failed; cached. */
function lookup(ctx: FilterContext, name: string): Promise<string[]> {
  const cache = cacheOf(ctx.resolver);
  const now = ctx.clock.now();
  const hit = cache.get(name);
  if (hit && hit.expires > now) return hit.answers;
  if (hit) cache.delete(name);
  const answers = ctx.resolver.resolve4(name).catch((error: { code?: string }) => {
    // NXDOMAIN / NODATA: not listed, cached. Failures (SERVFAIL, timeout) are not cached.
    if (error?.code !== 'ENOTFOUND' && error?.code !== 'ENODATA') cache.delete(name);
    return [] as string[];
  });
  if (cache.size >= CACHE_MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
  cache.set(name, { expires: now + CACHE_TTL_MS, answers });
  return answers;
}

function isListing(answer: string): boolean {
  return answer.startsWith('127.0.0.');
}

/** The labels of an IP in a DNSBL query, most specific first; null for anything that is not an IP. */
export function reverseIp(ip: string): string | null {
  const address = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  const family = isIP(address);
  if (family === 4) return address.split('.').reverse().join('.');
  if (family === 6) return expandIpv6(address).split('').reverse().join('.');
  return null;
}

/** The 32 hex digits of an IPv6 address. */
function expandIpv6(address: string): string {
  let value = address.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(value);
  if (v4) {
    const bytes = (v4[1] as string).split('.').map(Number);
    value = `${value.slice(0, v4.index)}${((bytes[0] as number) * 256 + (bytes[1] as number)).toString(16)}:${((bytes[2] as number) * 256 + (bytes[3] as number)).toString(16)}`;
  }
  const [head = '', tail] = value.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array(Math.max(0, missing)).fill('0'), ...tailGroups];
  return groups.map((g) => g.padStart(4, '0')).join('');
}

/** Addresses no public blocklist lists: loopback, private, link-local, unspecified, unique local. */
export function isPrivateIp(ip: string): boolean {
  const address = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  if (isIP(address) === 4) {
    const [a = 0, b = 0] = address.split('.').map(Number);
    return (
      a === 10 ||
      a === 127 ||
      a === 0 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (isIP(address) === 6) {
    const hex = expandIpv6(address);
    return hex === '0'.repeat(32) || hex === `${'0'.repeat(31)}1` || /^f[cd]/.test(hex) || /^fe[89ab]/.test(hex);
  }
  return true;
}

function symbolName(prefix: string, zone: string): string {
  return `${prefix}_${zone.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
}

/** Resolves to the value of `promise`, or to `fallback` once `deadline` has passed. */
function withDeadline<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), Math.max(0, ms));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function dnsblCheck(ctx: FilterContext): Check {
  return {
    name: SOURCE,
    async run(input): Promise<CheckResult> {
      const { dnsblZones, uriblZones, timeBudgetMs } = ctx.config.filter;
      if (dnsblZones.length === 0 && uriblZones.length === 0) return { symbols: [] };
      const deadline = performance.now() + timeBudgetMs * DNS_BUDGET_FRACTION;
      const lookups: Array<Promise<FilterSymbol | null>> = [];

      // The IP of a submission client is an authenticated user's: only inbound mail is checked.
      const reversed = input.direction === 'inbound' && !isPrivateIp(input.clientIp) ? reverseIp(input.clientIp) : null;
      if (reversed) {
        for (const zone of dnsblZones) {
          lookups.push(
            lookup(ctx, `${reversed}.${zone}`).then((answers) =>
              answers.some(isListing)
                ? symbol(
                    SOURCE,
                    symbolName('DNSBL', zone),
                    DNSBL_SCORE,
                    `The sending server ${input.clientIp} is listed by ${zone}`,
                    `Le serveur d'envoi ${input.clientIp} est listé par ${zone}`,
                  )
                : null,
            ),
          );
        }
      }

      if (uriblZones.length > 0) {
        const view = await readMessage(input);
        const domains = [
          ...new Set(
            urlHosts(view)
              .filter((h) => isIP(h) === 0)
              .map(registeredDomain),
          ),
        ].slice(0, MAX_URI_DOMAINS);
        for (const zone of uriblZones) {
          const listed = Promise.all(domains.map((domain) => lookup(ctx, `${domain}.${zone}`).then((answers) => (answers.some(isListing) ? domain : null))));
          lookups.push(
            listed.then((found) => {
              const names = found.filter((d): d is string => d !== null);
              if (names.length === 0) return null;
              const list = names.slice(0, 5).join(', ');
              return symbol(SOURCE, symbolName('URIBL', zone), URIBL_SCORE, `Links to ${list}, listed by ${zone}`, `Liens vers ${list}, listés par ${zone}`);
            }),
          );
        }
      }
      const settled = await Promise.all(lookups.map((p) => withDeadline(p, deadline - performance.now(), null)));
      return { symbols: settled.filter((s): s is FilterSymbol => s !== null) };
    },
  };
}
