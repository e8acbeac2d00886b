import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DnsServer, startDnsServer } from '../../../test/helpers/dns-server.ts';
import { dnsblCheck, isPrivateIp, reverseIp } from './dnsbl.ts';
import { BASIC_HEADERS, input, rawMessage, testContext } from './test-support.ts';

describe('dnsbl: reversed names (RFC 5782)', () => {
  it('reverses IPv4 octets and IPv6 nibbles', () => {
    assert.equal(reverseIp('192.0.2.99'), '99.2.0.192');
    assert.equal(reverseIp('::ffff:192.0.2.99'), '99.2.0.192');
    assert.equal(reverseIp('2001:db8:1:2::7'), '7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2');
    assert.equal(reverseIp('not an ip'), null);
  });
  it('skips private addresses', () => {
    for (const ip of ['10.1.2.3', '127.0.0.1', '192.168.1.1', '172.20.0.1', '::1', 'fd00::1', 'fe80::1']) assert.ok(isPrivateIp(ip), ip);
    for (const ip of ['192.0.2.1', '8.8.8.8', '2001:db8::1']) assert.ok(!isPrivateIp(ip), ip);
  });
});

describe('dnsbl: lookups through the resolver (R-S1)', () => {
  let dns: DnsServer;
  before(async () => {
    dns = await startDnsServer({
      '99.2.0.192.bl.test': { A: ['127.0.0.2'] },
      '7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.test': { A: ['127.0.0.4'] },
      '98.2.0.192.bl.test': { A: ['127.255.255.254'] }, // an error answer, not a listing
      'spammy.example.uribl.test': { A: ['127.0.0.2'] },
      'unrelated.test': { A: ['192.0.2.1'] },
    });
    dns.unanswered.add('97.2.0.192.slow.test');
  });
  after(() => dns.close());

  const message = rawMessage(BASIC_HEADERS, 'See http://www.spammy.example/offer and https://fine.example.org/page');
  const check = (filter: Record<string, unknown>) => dnsblCheck(testContext({ dnsServers: [dns.address], filter }));

  it('lists the connecting IP (IPv4 and IPv6) and URL domains', async () => {
    const c = check({ dnsblZones: ['bl.test'], uriblZones: ['uribl.test'] });
    const v4 = await c.run(await input(message, { clientIp: '192.0.2.99' }));
    assert.deepEqual(v4.symbols.map((s) => s.name).sort(), ['DNSBL_BL_TEST', 'URIBL_URIBL_TEST']);
    assert.match(v4.symbols.find((s) => s.name === 'URIBL_URIBL_TEST')?.reason.en ?? '', /spammy\.example/);
    const v6 = await c.run(await input(rawMessage(BASIC_HEADERS, 'x'), { clientIp: '2001:db8:1:2::7' }));
    assert.deepEqual(
      v6.symbols.map((s) => s.name),
      ['DNSBL_BL_TEST'],
    );
  });

  it('ignores answers outside 127.0.0.x, unlisted and private IPs, and outbound IPs', async () => {
    const c = check({ dnsblZones: ['bl.test'] });
    for (const fields of [
      { clientIp: '192.0.2.98' },
      { clientIp: '192.0.2.1' },
      { clientIp: '10.0.0.1' },
      { clientIp: '192.0.2.99', direction: 'outbound' as const },
    ]) {
      assert.deepEqual((await c.run(await input(message, fields))).symbols, [], JSON.stringify(fields));
    }
  });

  it('caches answers', async () => {
    const c = check({ dnsblZones: ['bl.test'] });
    await c.run(await input(message, { clientIp: '192.0.2.77' }));
    const before = dns.queries.length;
    await c.run(await input(message, { clientIp: '192.0.2.77' }));
    assert.equal(dns.queries.length, before);
  });

  it('keeps to its time budget when a zone does not answer', async () => {
    const c = check({ dnsblZones: ['slow.test', 'bl.test'], timeBudgetMs: 200 });
    const started = performance.now();
    const result = await c.run(await input(message, { clientIp: '192.0.2.97' }));
    assert.ok(performance.now() - started < 400, `${performance.now() - started} ms`);
    assert.deepEqual(result.symbols, []);
  });

  it('does nothing without zones', async () => {
    const c = check({});
    assert.deepEqual((await c.run(await input(message, { clientIp: '192.0.2.99' }))).symbols, []);
  });
});
