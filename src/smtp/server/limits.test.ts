import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock, MINUTE_MS } from '../../shared/clock.ts';
import { type LimitCounter, MemoryRateLimiter } from './limits.ts';

const perMinute = (key: string, points = 1): LimitCounter => ({ name: 'messages-per-recipient', key, points, limit: 3, windowMs: MINUTE_MS });

test('R-M5 a sliding minute: the 4th of 3 is refused until the oldest leaves the window', async () => {
  const clock = new ManualClock(0);
  const limiter = new MemoryRateLimiter(clock);
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

test('R-M5 consume is all or nothing, and check takes nothing', async () => {
  const limiter = new MemoryRateLimiter(new ManualClock(0));
  assert.equal((await limiter.consume([perMinute('x', 3)])).ok, true);
  assert.equal((await limiter.consume([perMinute('y'), perMinute('x')])).ok, false);
  assert.equal((await limiter.check([perMinute('y', 3)])).ok, true);
  assert.equal((await limiter.consume([perMinute('y', 3)])).ok, true, 'neither the refused consume nor the check took from y');
});
