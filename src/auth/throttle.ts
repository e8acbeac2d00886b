/**
 * Login throttling per account name and per client IP. Failures are counted for any name, existing
 * or not, so throttling reveals nothing about which accounts exist. In-process counters on one node;
 * in Redis when nodes share one, so that failures on every node count together (an attacker cannot
 * spread guesses over the nodes). Should Redis be unreachable, each node counts on its own meanwhile.
 */
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import { AppError, text } from '../shared/errors.ts';
import type { Redis } from '../store/index.ts';

export interface ThrottleOptions {
  failuresPerAccount: number;
  failuresPerIp: number;
  windowSeconds: number;
}

export class LoginThrottle {
  private readonly perAccount: RateLimiterAbstract;
  private readonly perIp: RateLimiterAbstract;

  constructor(options: ThrottleOptions, redis?: Redis) {
    this.perAccount = limiter({ points: options.failuresPerAccount, duration: options.windowSeconds, keyPrefix: 'facteur:login-acct' }, redis);
    this.perIp = limiter({ points: options.failuresPerIp, duration: options.windowSeconds, keyPrefix: 'facteur:login-ip' }, redis);
  }

  /** Throws `limit` when either counter is exhausted; call before checking credentials. */
  async check(name: string, ip: string): Promise<void> {
    const [account, client] = await Promise.all([this.perAccount.get(name.toLowerCase()), this.perIp.get(ip)]);
    const blocked = [account, client].filter((r): r is RateLimiterRes => r !== null && r.remainingPoints <= 0);
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
    await Promise.all([this.perAccount.penalty(name.toLowerCase(), 1), this.perIp.penalty(ip, 1)]);
  }

  async recordSuccess(name: string): Promise<void> {
    await this.perAccount.delete(name.toLowerCase());
  }
}

function limiter(options: { points: number; duration: number; keyPrefix: string }, redis: Redis | undefined): RateLimiterAbstract {
  const memory = new RateLimiterMemory(options);
  if (!redis) return memory;
  return new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: memory });
}
