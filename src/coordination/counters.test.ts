/**
 * The sliding windows of the sending limits (R-M5), in memory and in Redis: the same tests against
 * both. Redis comes from FACTEUR_TEST_REDIS_URL, which CI sets and `bash scripts/services.sh start`
 * prints; each Redis limiter gets keys of its own.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { type Clock, ManualClock, MINUTE_MS } from '../shared/clock.ts';
import type { Redis } from '../store/index.ts';
import { type LimitCounter, MemoryRateLimiter, type RateLimiter, RedisRateLimiter } from './counters.ts';

const perMinute = (key: string, points = 1): LimitCounter => ({ name: 'messages-per-recipient', key, points, limit: 3, windowMs: MINUTE_MS });

const REDIS_URL = process.env.FACTEUR_TEST_REDIS_URL;
let redis: Redis | undefined;
after(() => redis?.disconnect());

async function redisLimiter(clock: Clock): Promise<RateLimiter | undefined> {
  if (!REDIS_URL) {
    assert.ok(!process.env.CI, 'FACTEUR_TEST_REDIS_URL is not set: CI starts Redis with scripts/services.sh start');
    console.error('!!! FACTEUR_TEST_REDIS_URL is not set: the sending limits in Redis are NOT tested');
    return undefined;
  }
  if (!redis) {
    const { Redis } = await import('ioredis');
    redis = new Redis(REDIS_URL);
  }
  return new RedisRateLimiter(redis, clock, `facteur-test:${randomBytes(6).toString('hex')}:`);
}

const KINDS: Record<string, (clock: Clock) => Promise<RateLimiter | undefined>> = {
  memory: async (clock) => new MemoryRateLimiter(clock),
  redis: redisLimiter,
};

for (const [kind, make] of Object.entries(KINDS)) {
  test(`R-M5 ${kind}: a sliding minute: the 4th of 3 is refused until the oldest leaves the window`, async (t) => {
    const clock = new ManualClock(0);
    const limiter = await make(clock);
    if (!limiter) return t.skip('FACTEUR_TEST_REDIS_URL is not set');
    for (const at of [0, 20_000, 40_000]) {
      clock.set(at);
      assert.deepEqual(await limiter.consume([perMinute('a:b')]), { ok: true });
    }
    clock.set(59_000);
    const refused = await limiter.consume([perMinute('a:b')]);
    assert.equal(refused.ok, false);
    assert.ok(!refused.ok && refused.retryAfterMs > 0 && refused.retryAfterMs <= 2_000, JSON.stringify(refused));
    assert.equal((await limiter.consume([perMinute('a:c')])).ok, true, 'another key has its own counter');
    clock.set(60_000); // the message at 0 has left the window; those at 20 s and 40 s have not
    assert.equal((await limiter.consume([perMinute('a:b')])).ok, true);
    assert.equal((await limiter.consume([perMinute('a:b')])).ok, false);
  });

  test(`R-M5 ${kind}: consume is all or nothing, and check takes nothing`, async (t) => {
    const limiter = await make(new ManualClock(0));
    if (!limiter) return t.skip('FACTEUR_TEST_REDIS_URL is not set');
    assert.equal((await limiter.consume([perMinute('x', 3)])).ok, true);
    assert.equal((await limiter.consume([perMinute('y'), perMinute('x')])).ok, false);
    assert.equal((await limiter.check([perMinute('y', 3)])).ok, true);
    assert.equal((await limiter.consume([perMinute('y', 3)])).ok, true, 'neither the refused consume nor the check took from y');
  });
}

test('R-M5 redis: two limiters on one Redis (two nodes) share the counters', async (t) => {
  const clock = new ManualClock(1_000_000);
  const first = await redisLimiter(clock);
  if (!first || !redis) return t.skip('FACTEUR_TEST_REDIS_URL is not set');
  const prefix = `facteur-test:${randomBytes(6).toString('hex')}:`;
  const nodeA = new RedisRateLimiter(redis, clock, prefix);
  const nodeB = new RedisRateLimiter(redis, clock, prefix);
  assert.equal((await nodeA.consume([perMinute('k', 2)])).ok, true);
  assert.equal((await nodeB.consume([perMinute('k')])).ok, true);
  const refused = await nodeA.consume([perMinute('k')]);
  assert.equal(refused.ok, false, 'the third message of the minute, counted on both nodes');
  assert.ok(!refused.ok && refused.retryAfterMs > 59_000 && refused.retryAfterMs <= 61_000, JSON.stringify(refused));
});
