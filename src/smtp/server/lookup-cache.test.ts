import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../shared/clock.ts';
import { cachedMailauthResolver, LOOKUP_TTL_MS } from './lookup-cache.ts';

function dnsError(code: string, name: string): Error {
  return Object.assign(new Error(`queryTxt ${code} ${name}`), { code, syscall: 'queryTxt', hostname: name });
}

/** A resolver that records its lookups and answers from `answers` (NXDOMAIN for the others). */
function counting(answers: Record<string, unknown>) {
  const asked: string[] = [];
  const resolve = async (name: string, rrtype: string) => {
    asked.push(`${rrtype} ${name}`);
    await new Promise((r) => setImmediate(r));
    const answer = answers[`${rrtype} ${name}`];
    if (answer === undefined) throw dnsError('ENOTFOUND', name);
    return answer;
  };
  return { asked, resolve };
}

test('concurrent identical lookups share one query; answers are reused until the TTL, then asked again', async () => {
  const clock = new ManualClock(0);
  const dns = counting({ 'TXT example.org': [['v=spf1 -all']] });
  const resolver = cachedMailauthResolver(dns.resolve, clock);
  const answers = await Promise.all([resolver('example.org', 'TXT'), resolver('Example.ORG', 'txt'), resolver('example.org', 'TXT')]);
  assert.deepEqual(answers, [[['v=spf1 -all']], [['v=spf1 -all']], [['v=spf1 -all']]]);
  assert.equal(dns.asked.length, 1);
  clock.advance(LOOKUP_TTL_MS - 1);
  await resolver('example.org', 'TXT');
  assert.equal(dns.asked.length, 1);
  clock.advance(1);
  await resolver('example.org', 'TXT');
  assert.equal(dns.asked.length, 2);
});

test('each caller gets its own copy: mailauth sorts answers in place and annotates errors', async () => {
  const clock = new ManualClock(0);
  const dns = counting({
    'MX example.org': [
      { exchange: 'b.example.org', priority: 20 },
      { exchange: 'a.example.org', priority: 10 },
    ],
  });
  const resolver = cachedMailauthResolver(dns.resolve, clock);
  const first = (await resolver('example.org', 'MX')) as { priority: number }[];
  first.sort((a, b) => a.priority - b.priority);
  const second = (await resolver('example.org', 'MX')) as { priority: number }[];
  assert.equal(second[0]?.priority, 20, 'the cached answer is untouched');

  const missing = (await resolver('_dmarc.example.org', 'TXT').catch((error: Error) => error)) as Error & Record<string, unknown>;
  assert.ok(missing instanceof Error);
  assert.equal(missing.code, 'ENOTFOUND');
  assert.equal(missing.hostname, '_dmarc.example.org');
  missing.spfResult = { error: 'permerror' };
  const again = (await resolver('_dmarc.example.org', 'TXT').catch((error: Error) => error)) as Error & Record<string, unknown>;
  assert.equal(again.code, 'ENOTFOUND');
  assert.equal(again.spfResult, undefined);
  assert.equal(dns.asked.length, 2, '"no such name" is kept like an answer');
});

test('failures (SERVFAIL, timeouts) are not kept: the next message asks again', async () => {
  let asked = 0;
  const resolver = cachedMailauthResolver(async (name) => {
    asked++;
    if (asked === 1) throw dnsError('ESERVFAIL', name);
    return [['v=spf1 +all']];
  }, new ManualClock(0));
  await assert.rejects(resolver('flaky.example', 'TXT'), { code: 'ESERVFAIL' });
  assert.deepEqual(await resolver('flaky.example', 'TXT'), [['v=spf1 +all']]);
  assert.equal(asked, 2);
});

test('the cache is bounded: the oldest entries go first', async () => {
  const clock = new ManualClock(0);
  const dns = counting({ 'A a.test': ['192.0.2.1'], 'A b.test': ['192.0.2.2'], 'A c.test': ['192.0.2.3'] });
  const resolver = cachedMailauthResolver(dns.resolve, clock, LOOKUP_TTL_MS, 2);
  for (const name of ['a.test', 'b.test', 'c.test']) await resolver(name, 'A');
  await resolver('c.test', 'A');
  await resolver('a.test', 'A');
  assert.deepEqual(dns.asked, ['A a.test', 'A b.test', 'A c.test', 'A a.test']);
});
