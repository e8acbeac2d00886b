/** The cache of verified mail credentials: per account, password and source; a minute; bounded. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CREDENTIAL_CACHE_TTL_MS, CredentialCache } from './credential-cache.ts';

const verified = { accountId: 'acc_1', appPasswordId: null, passwordHash: '$argon2id$v=19$m=4096,t=3,p=1$salt$hash' };

test('R-A1 a verified credential is found again for the same account, password and source, within the TTL only', () => {
  const cache = new CredentialCache();
  const t0 = 1_000_000;
  cache.set('alice@acme.test', 'secret-1', '192.0.2.1', t0, verified);
  assert.deepEqual(cache.get('alice@acme.test', 'secret-1', '192.0.2.1', t0 + 1), { ...verified, expiresAt: t0 + CREDENTIAL_CACHE_TTL_MS });
  assert.equal(cache.get('alice@acme.test', 'secret-1', '::ffff:192.0.2.1', t0 + 1)?.accountId, 'acc_1', 'an IPv4-mapped source is the same source');
  assert.equal(cache.get('alice@acme.test', 'secret-2', '192.0.2.1', t0 + 1), undefined, 'another password');
  assert.equal(cache.get('alice@acme.test', 'secret-1', '192.0.2.2', t0 + 1), undefined, 'another source');
  assert.equal(cache.get('bob@acme.test', 'secret-1', '192.0.2.1', t0 + 1), undefined, 'another account');
  assert.equal(cache.get('alice@acme.test', 'secret-1', '192.0.2.1', t0 + CREDENTIAL_CACHE_TTL_MS), undefined, 'expired after the TTL');
  assert.equal(cache.size, 0, 'an expired entry found is dropped');
});

test('R-A1 the cache forgets an entry on request and stays within its bound', () => {
  const cache = new CredentialCache(60_000, 3);
  for (let i = 0; i < 5; i++) cache.set(`u${i}@acme.test`, 'pw', '192.0.2.1', 0, verified);
  assert.equal(cache.size, 3);
  assert.equal(cache.get('u0@acme.test', 'pw', '192.0.2.1', 1), undefined, 'the oldest went first');
  assert.ok(cache.get('u4@acme.test', 'pw', '192.0.2.1', 1));
  cache.delete('u4@acme.test', 'pw', '192.0.2.1');
  assert.equal(cache.get('u4@acme.test', 'pw', '192.0.2.1', 1), undefined);
});

test('R-A1 the cache keeps no password: keys are HMACs under a key of its own', () => {
  const a = new CredentialCache();
  a.set('alice@acme.test', 'a-very-recognisable-password', '192.0.2.1', 0, verified);
  const held = JSON.stringify([...(a as unknown as { entries: Map<string, unknown> }).entries]);
  assert.ok(!held.includes('recognisable'));
  const b = new CredentialCache();
  b.set('alice@acme.test', 'a-very-recognisable-password', '192.0.2.1', 0, verified);
  assert.notEqual(held, JSON.stringify([...(b as unknown as { entries: Map<string, unknown> }).entries]), 'another process, other keys');
});
