/**
 * Login throttling that throttles the attacker, not the user (R-A1). Failed logins are counted per
 * source (the client IP), per source network (IPv4 /24, IPv6 /64, with a higher threshold: one
 * machine of a network guessing spreads over its neighbours) and per pair (account name, source).
 * Nothing is counted per account alone: whoever knows an address cannot lock its owner out, since a
 * correct password from a source without failures is checked against clean counters. The anchors are
 * Dovecot's auth penalty (per IP) and Stalwart's auth bans (per IP, fail2ban-like).
 *
 * Failures are counted for any name, existing or not, so throttling reveals nothing about which
 * accounts exist. The counters are the shared state's (sliding windows): failures on every worker and
 * every node count together, so an attacker cannot spread guesses over them. Should Redis be
 * unreachable, each process counts on its own meanwhile.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { LimitCounter, RateLimiter } from '../coordination/index.ts';
import { AppError, text } from '../shared/errors.ts';

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

/** Failures are recorded whatever the count: a limit no count reaches. */
const UNBOUNDED = Number.MAX_SAFE_INTEGER;

export class LoginThrottle {
  private readonly windowMs: number;

  /**
   * `shared`: the shared state's counters, so that failures on every worker and node count together;
   * `local`: this process's, counted meanwhile when the shared ones cannot be reached (Redis down): logins
   * go on, throttled per process.
   */
  constructor(
    private readonly options: ThrottleOptions,
    private readonly shared: RateLimiter,
    private readonly local: RateLimiter,
  ) {
    this.windowMs = options.windowSeconds * 1000;
  }

  private async counters<T>(use: (counters: RateLimiter) => Promise<T>): Promise<T> {
    try {
      return await use(this.shared);
    } catch {
      return use(this.local);
    }
  }

  /** The three counters of a login attempt, each taking `points` against its limit (UNBOUNDED: recorded whatever the count). */
  private countersOf(name: string, ip: string, points: number, bounded: boolean): LimitCounter[] {
    const source = normalizeSource(ip);
    const limit = (value: number) => (bounded ? value : UNBOUNDED);
    const { failuresPerAccount, failuresPerIp, failuresPerNetwork } = this.options;
    return [
      { name: 'login-pair', key: `${name.toLowerCase()}|${source}`, points, limit: limit(failuresPerAccount), windowMs: this.windowMs },
      { name: 'login-ip', key: source, points, limit: limit(failuresPerIp), windowMs: this.windowMs },
      // A network is never stricter than one of its sources.
      { name: 'login-net', key: sourceNetwork(source), points, limit: limit(Math.max(failuresPerNetwork, failuresPerIp)), windowMs: this.windowMs },
    ];
  }

  /** Throws `limit` when the source, its network or the pair (name, source) is exhausted; call before checking credentials. */
  async check(name: string, ip: string): Promise<void> {
    const verdict = await this.counters((counters) => counters.check(this.countersOf(name, ip, 1, true)));
    if (verdict.ok) return;
    throw new AppError(
      'limit',
      'too-many-logins',
      text('Too many failed logins: try again later', 'Trop de tentatives de connexion échouées : réessayez plus tard'),
      {
        details: { retryAfterSeconds: Math.max(1, Math.ceil(verdict.retryAfterMs / 1000)) },
      },
    );
  }

  async recordFailure(name: string, ip: string): Promise<void> {
    await this.counters((counters) => counters.consume(this.countersOf(name, ip, 1, false)));
  }

  /** A correct login clears the pair's count (the source's own failures keep counting for its other guesses). */
  async recordSuccess(name: string, ip: string): Promise<void> {
    const [pair] = this.countersOf(name, ip, 0, false);
    if (pair) await this.counters((counters) => counters.reset(pair));
  }
}
