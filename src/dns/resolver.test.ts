import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type DnsServer, startDnsServer } from '../../test/helpers/dns-server.ts';
import { createResolver, type DnsResolver } from './resolver.ts';

let dns: DnsServer;
let resolver: DnsResolver;

before(async () => {
  dns = await startDnsServer({
    'acme.test': {
      MX: [{ exchange: 'mx1.provider.test', priority: 10 }],
      TXT: [['v=spf1 ', 'include:spf.provider.test ~all']],
      A: ['192.0.2.10'],
      AAAA: ['2001:db8::10'],
    },
    '10.2.0.192.in-addr.arpa': { PTR: ['mail.acme.test'] },
    'Big.Test.': { TXT: Array.from({ length: 12 }, (_, index) => [`${index}:${'x'.repeat(200)}`]) },
  });
  resolver = createResolver({ servers: [dns.address], timeoutMs: 500 });
});

after(() => dns.close());

async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'resolved',
    (error: { code?: unknown }) => error.code,
  );
}

test('R-T3 the resolver reaches a DNS server given as ip:port and reads each record type', async () => {
  assert.deepEqual(await resolver.resolveMx('acme.test'), [{ exchange: 'mx1.provider.test', priority: 10 }]);
  assert.deepEqual(await resolver.resolveTxt('ACME.test'), [['v=spf1 ', 'include:spf.provider.test ~all']]);
  assert.deepEqual(await resolver.resolve4('acme.test'), ['192.0.2.10']);
  assert.deepEqual(await resolver.resolve6('acme.test'), ['2001:db8::10']);
  assert.deepEqual(await resolver.reverse('192.0.2.10'), ['mail.acme.test']);
});

test('R-T3 lookups that find nothing reject with ENOTFOUND (NXDOMAIN) or ENODATA (NODATA)', async () => {
  assert.equal(await codeOf(resolver.resolveMx('absent.test')), 'ENOTFOUND');
  assert.equal(await codeOf(resolver.resolveMx('big.test')), 'ENODATA');
  // An empty non-terminal exists (RFC 8020): NODATA, not NXDOMAIN.
  assert.equal(await codeOf(resolver.resolve4('2.0.192.in-addr.arpa')), 'ENODATA');
});

test('R-T3 SERVFAIL and silence are failures, not absence', async () => {
  dns.servfail.add('acme.test');
  dns.unanswered.add('big.test');
  try {
    assert.equal(await codeOf(resolver.resolveMx('acme.test')), 'ESERVFAIL');
    const quick = createResolver({ servers: [dns.address], timeoutMs: 50 });
    assert.equal(await codeOf(quick.resolveTxt('big.test')), 'ETIMEOUT');
  } finally {
    dns.servfail.clear();
    dns.unanswered.clear();
  }
});

test('R-T3 an answer too big for UDP is fetched again over TCP on the same port', async () => {
  const before = dns.queries.length;
  const records = await resolver.resolveTxt('big.test');
  assert.equal(records.length, 12);
  const transports = dns.queries.slice(before).map((query) => query.transport);
  assert.deepEqual(transports, ['udp', 'tcp']);
});

test('R-T3 changes to the zone are seen by the next lookup', async () => {
  dns.set('changing.test', 'A', ['192.0.2.1']);
  assert.deepEqual(await resolver.resolve4('changing.test'), ['192.0.2.1']);
  dns.set('changing.test', 'A', ['192.0.2.2']);
  assert.deepEqual(await resolver.resolve4('changing.test'), ['192.0.2.2']);
  dns.remove('changing.test');
  assert.equal(await codeOf(resolver.resolve4('changing.test')), 'ENOTFOUND');
});

test('R-T3 the mailauth resolver answers like dns.promises.resolve and rejects with node codes', async () => {
  assert.deepEqual(await resolver.mailauthResolver('acme.test', 'MX'), [{ exchange: 'mx1.provider.test', priority: 10 }]);
  assert.deepEqual(await resolver.mailauthResolver('acme.test', 'txt'), [['v=spf1 ', 'include:spf.provider.test ~all']]);
  assert.equal(await codeOf(resolver.mailauthResolver('absent.test', 'TXT')), 'ENOTFOUND');
  assert.equal(await codeOf(resolver.mailauthResolver('acme.test', 'NOPE')), 'ERR_INVALID_ARG_VALUE');
});
