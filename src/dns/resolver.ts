/**
 * The one DNS resolver of the service. Everything that looks up DNS (domain record checks, delivery's
 * MX loop, SPF/DKIM/DMARC through mailauth, blocklists) takes a `DnsResolver`, so tests point it at a
 * DNS server on loopback (`FACTEUR_DNS_SERVERS=127.0.0.1:5300`) and exercise the real code path.
 *
 * Lookups that find nothing reject like node's dns: `code` 'ENOTFOUND' (NXDOMAIN) or 'ENODATA' (the
 * name exists without records of that type); failures have other codes ('ESERVFAIL', 'ETIMEOUT', …).
 */
import { Resolver } from 'node:dns/promises';

/** Attempts per server before a lookup fails with ETIMEOUT. */
const TRIES = 2;

export interface MxRecord {
  exchange: string;
  priority: number;
}

/** The shape of mailauth's `resolver` option (its default is node's `dns.promises.resolve`). */
export type MailauthResolver = (name: string, rrtype: string) => Promise<unknown>;

export interface DnsResolver {
  resolveMx(name: string): Promise<MxRecord[]>;
  /** One entry per record, each the list of its character-strings (not yet concatenated). */
  resolveTxt(name: string): Promise<string[][]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
  /** PTR names of an IPv4 or IPv6 address. */
  reverse(ip: string): Promise<string[]>;
  /** Pass as mailauth's `resolver` option so SPF, DKIM, DMARC and ARC use this resolver too. */
  readonly mailauthResolver: MailauthResolver;
}

export interface ResolverOptions {
  /** `ip` or `ip:port` (`[ipv6]:port`); empty for the system's resolvers. */
  servers: string[];
  /**
   * Timeout of the first attempt, in milliseconds. c-ares doubles it for the retry and adapts it to the
   * server's measured latency, so a lookup that gets no answer fails after about 2–3 × timeoutMs
   * (measured on Node 20 / c-ares 1.34: 300 → 0.9–1.2 s, 1000 → 3 s, never under ~0.65 s).
   */
  timeoutMs: number;
}

export function createResolver(options: ResolverOptions): DnsResolver {
  const resolver = new Resolver({ timeout: options.timeoutMs, tries: TRIES });
  if (options.servers.length > 0) resolver.setServers(options.servers);
  return {
    resolveMx: (name) => resolver.resolveMx(name),
    resolveTxt: (name) => resolver.resolveTxt(name),
    resolve4: (name) => resolver.resolve4(name),
    resolve6: (name) => resolver.resolve6(name),
    reverse: (ip) => resolver.reverse(ip),
    mailauthResolver: async (name, rrtype) => resolveByType(resolver, name, rrtype),
  };
}

/** Node's overloads want a literal rrtype; mailauth passes a string such as 'TXT' or 'MX'. */
function resolveByType(resolver: Resolver, name: string, rrtype: string): Promise<unknown> {
  return resolver.resolve(name, rrtype.toUpperCase() as 'TXT');
}
