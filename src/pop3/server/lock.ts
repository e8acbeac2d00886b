/**
 * The exclusive maildrop lock of RFC 1939 §8: while a session is in the TRANSACTION state, no other
 * session of the same account may open the maildrop (it gets `-ERR [IN-USE]`, RFC 2449 §8.1.2).
 * In-process on one node; in Redis when nodes share one (`redisUrl`), so that two POP3 nodes cannot
 * open the same maildrop either.
 */
import { randomBytes } from 'node:crypto';
import { type Redis, runScript } from '../../store/index.ts';

export interface MaildropLocks {
  /** The release function, or undefined when another session holds the maildrop. */
  acquire(accountId: string, sessionId: string): Promise<(() => void) | undefined>;
}

export class MemoryMaildropLocks implements MaildropLocks {
  private readonly holders = new Map<string, string>();

  async acquire(accountId: string, sessionId: string): Promise<(() => void) | undefined> {
    if (this.holders.has(accountId)) return undefined;
    this.holders.set(accountId, sessionId);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (this.holders.get(accountId) === sessionId) this.holders.delete(accountId);
    };
  }
}

/** A lock outlives a node that died holding it by this much at most. */
const LEASE_MS = 60_000;
/** The holder renews its lease this often. */
const RENEW_MS = 20_000;
/** Redis scripts: renew or delete the key only while it still holds this holder's token. */
const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/**
 * `SET key token NX PX lease`, renewed while the session holds it, deleted at release by a script that
 * checks the token (a lock taken over after an expiry is never released by its former holder). If Redis
 * cannot be reached the maildrop is not opened: the session gets an error, never a second open.
 */
export class RedisMaildropLocks implements MaildropLocks {
  constructor(
    private readonly redis: Redis,
    private readonly log?: { warn(obj: object, msg?: string): void },
  ) {}

  async acquire(accountId: string, sessionId: string): Promise<(() => void) | undefined> {
    const key = `facteur:pop3-lock:${accountId}`;
    const token = `${sessionId}:${randomBytes(8).toString('hex')}`;
    if ((await this.redis.set(key, token, 'PX', LEASE_MS, 'NX')) !== 'OK') return undefined;
    const renewal = setInterval(() => {
      // Past the lease without a renewal, another node may open the maildrop: worth a warning.
      this.redis
        .eval(RENEW, 1, key, token, LEASE_MS)
        .catch((error: Error) => this.log?.warn({ event: 'pop3.lock_renew_failed', account: accountId, err: error }, 'pop3.lock_renew_failed'));
    }, RENEW_MS).unref();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      clearInterval(renewal);
      runScript(this.redis, RELEASE, [key], [token]).catch(() => {});
    };
  }
}
