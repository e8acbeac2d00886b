/**
 * Exclusive locks, the shared state's second part: the POP3 maildrop lock of RFC 1939 §8 (while a
 * session is in the TRANSACTION state, no other session of the same account may open the maildrop; it
 * gets `-ERR [IN-USE]`, RFC 2449 §8.1.2), whichever process or node the two sessions are on.
 */
import { randomBytes } from 'node:crypto';
// store/redis.ts, not the store index: the primary, which counts for its workers, loads no database driver.
import { type Redis, runScript } from '../store/redis.ts';

/** Gives a lock back; calling it again does nothing. */
export type Release = () => void;

/**
 * Locks held in one process: this one's alone, or the primary's for its workers (a holder is then
 * `<worker>:<token>`, and a worker that exits loses its locks at once, `releaseHeldBy`).
 */
export class MemoryLocks {
  private readonly holders = new Map<string, string>();

  /** Takes `key` for `holder`; false when someone holds it. */
  take(key: string, holder: string): boolean {
    if (this.holders.has(key)) return false;
    this.holders.set(key, holder);
    return true;
  }

  /** Gives `key` back, if `holder` still holds it. */
  give(key: string, holder: string): void {
    if (this.holders.get(key) === holder) this.holders.delete(key);
  }

  /** Every lock whose holder starts with `prefix` (a worker that exited). */
  releaseHeldBy(prefix: string): void {
    for (const [key, holder] of this.holders) if (holder.startsWith(prefix)) this.holders.delete(key);
  }

  /** The lock as a release function, for a caller in this process. */
  lock(key: string): Release | undefined {
    const holder = randomBytes(8).toString('hex');
    if (!this.take(key, holder)) return undefined;
    return once(() => this.give(key, holder));
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
 * Locks in Redis, for nodes on several machines: `SET key token NX PX lease`, renewed while held,
 * deleted at release by a script that checks the token (a lock taken over after an expiry is never
 * released by its former holder). If Redis cannot be reached the lock is not taken: the caller gets an
 * error, never a second holder.
 */
export class RedisLocks {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly log?: { warn(obj: object, msg?: string): void },
  ) {}

  async lock(name: string): Promise<Release | undefined> {
    const key = `${this.prefix}${name}`;
    const token = randomBytes(8).toString('hex');
    if ((await this.redis.set(key, token, 'PX', LEASE_MS, 'NX')) !== 'OK') return undefined;
    const renewal = setInterval(() => {
      // Past the lease without a renewal, another node may take the lock: worth a warning.
      this.redis
        .eval(RENEW, 1, key, token, LEASE_MS)
        .catch((error: Error) => this.log?.warn({ event: 'lock.renew_failed', lock: name, err: error }, 'lock.renew_failed'));
    }, RENEW_MS).unref();
    return once(() => {
      clearInterval(renewal);
      runScript(this.redis, RELEASE, [key], [token]).catch(() => {});
    });
  }
}

function once(fn: () => void): Release {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
