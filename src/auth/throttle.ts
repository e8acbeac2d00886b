/**
 * Login throttling that throttles the attacker, not the user (R-A1). Failed logins are counted per
 * source (the client IP), per source network (IPv4 /24, IPv6 /64, with a higher threshold: one
 * machine of a network guessing spreads over its neighbours) and per pair (account name, source).
 * Nothing is counted per account alone: whoever knows an address cannot lock its owner out, since a
 * correct password from a source without failures is checked against clean counters. The anchors are
 * Dovecot's auth penalty (per IP) and Stalwart's auth bans (per IP, fail2ban-like).
 *
 * Failures are counted for any name, existing or not, so throttling reveals nothing about which
 * accounts exist. In-process counters on one node; in Redis when nodes share one, so that failures on
 * every node count together (an attacker cannot spread guesses over the nodes). Should Redis be
 * unreachable, each node counts on its own meanwhile.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import { AppError, text } from '../shared/errors.ts';
import type { Redis } from '../store/index.ts';

export interface ThrottleOptions {
  /** Failures of one account name from one source. */
  failuresPerAccount: number;
  failuresPerIp: number;
  /** Failures from one /24 (IPv4) or /64 (IPv6): higher than per IP, as a network holds many clients. */
  failuresPerNetwork: number;
  windowSeconds: number;
}

/** The source as counted: an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) is its IPv4 address. */
export function normalizeSource(ip: string): string {
  const trimmed = ip.trim().toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(trimmed);
  return mapped ? (mapped[1] as string) : trimmed;
}

/** The network a source belongs to: `192.0.2.0/24` for IPv4, the first 64 bits for IPv6; the source itself otherwise. */
export function sourceNetwork(ip: string): string {
  const source = normalizeSource(ip);
  if (isIPv4(source)) return `${source.split('.').slice(0, 3).join('.')}.0/24`;
  if (!isIPv6(source)) return source;
  const [head = '', tail = ''] = source.split('%')[0]?.split('::') ?? [];
  const left = head ? head.split(':') : [];
  const right = source.includes('::') && tail ? tail.split(':') : [];
  // An embedded IPv4 tail (::ffff:… was handled above) counts as two groups; only the first four matter.
  const missing = 8 - left.length - right.length;
  const groups = source.includes('::') ? [...left, ...Array<string>(Math.max(missing, 0)).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g || '0', 16).toString(16))
    .join(':')}::/64`;
}

export class LoginThrottle {
  private readonly perPair: RateLimiterAbstract;
  private readonly perIp: RateLimiterAbstract;
  private readonly perNetwork: RateLimiterAbstract;

  constructor(options: ThrottleOptions, redis?: Redis) {
    const duration = options.windowSeconds;
    this.perPair = limiter({ points: options.failuresPerAccount, duration, keyPrefix: 'facteur:login-pair' }, redis);
    this.perIp = limiter({ points: options.failuresPerIp, duration, keyPrefix: 'facteur:login-ip' }, redis);
    // A network is never stricter than one of its sources.
    this.perNetwork = limiter({ points: Math.max(options.failuresPerNetwork, options.failuresPerIp), duration, keyPrefix: 'facteur:login-net' }, redis);
  }

  private keys(name: string, ip: string): { pair: string; ip: string; network: string } {
    const source = normalizeSource(ip);
    return { pair: `${name.toLowerCase()}|${source}`, ip: source, network: sourceNetwork(source) };
  }

  /** Throws `limit` when the source, its network or the pair (name, source) is exhausted; call before checking credentials. */
  async check(name: string, ip: string): Promise<void> {
    const keys = this.keys(name, ip);
    const counts = await Promise.all([this.perPair.get(keys.pair), this.perIp.get(keys.ip), this.perNetwork.get(keys.network)]);
    const blocked = counts.filter((r): r is RateLimiterRes => r !== null && r.remainingPoints <= 0);
    if (blocked.length > 0) {
      const retryAfterSeconds = Math.ceil(Math.max(...blocked.map((r) => r.msBeforeNext)) / 1000);
      throw new AppError(
        'limit',
        'too-many-logins',
        text('Too many failed logins: try again later', 'Trop de tentatives de connexion échouées : réessayez plus tard'),
        {
          details: { retryAfterSeconds },
        },
      );
    }
  }

  async recordFailure(name: string, ip: string): Promise<void> {
    const keys = this.keys(name, ip);
    await Promise.all([this.perPair.penalty(keys.pair, 1), this.perIp.penalty(keys.ip, 1), this.perNetwork.penalty(keys.network, 1)]);
  }

  /** A correct login clears the pair's count (the source's own failures keep counting for its other guesses). */
  async recordSuccess(name: string, ip: string): Promise<void> {
    await this.perPair.delete(this.keys(name, ip).pair);
  }
}

function limiter(options: { points: number; duration: number; keyPrefix: string }, redis: Redis | undefined): RateLimiterAbstract {
  const memory = new RateLimiterMemory(options);
  if (!redis) return memory;
  return new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: memory });
}
