import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type DnsServer, startDnsServer } from '../../test/helpers/dns-server.ts';
import { ManualClock } from '../shared/clock.ts';
import { toAsciiDomain } from '../shared/idn.ts';
import { type DkimKey, generateDkimKey } from './dkim-keys.ts';
import { checkDomainRecords, type DomainCheck, type DomainRecordsInput, expectedRecords, type RecordCheck, type RecordKind } from './records.ts';
import { createResolver, type DnsResolver } from './resolver.ts';

const SELECTOR = 'facteur202611';
const PROVIDER = { mxHosts: ['mx1.provider.test', 'mx2.provider.test'], spfInclude: 'spf.provider.test', dkimSelector: SELECTOR };

let dns: DnsServer;
let resolver: DnsResolver;
let key: DkimKey;
let otherKey: DkimKey;

before(async () => {
  dns = await startDnsServer();
  resolver = createResolver({ servers: [dns.address], timeoutMs: 500 });
  [key, otherKey] = await Promise.all([generateDkimKey(2048), generateDkimKey(1024)]);
});

after(() => dns.close());

function inputFor(domain: string): DomainRecordsInput {
  return { domain, ...PROVIDER, dkimPublicKey: key.publicKey };
}

/** Publishes what a careful customer would, with the usual variations (case, trailing dots, extra TXT). */
function publishAll(domain: string): void {
  dns.set(domain, 'MX', [
    { exchange: 'mx1.provider.test', priority: 10 },
    { exchange: 'MX2.Provider.test.', priority: 20 },
  ]);
  dns.set(domain, 'TXT', [['v=spf1 ip4:192.0.2.1 include:spf.provider.test ~all'], ['site-verification=abc123']]);
  dns.set(`${SELECTOR}._domainkey.${domain}`, 'TXT', [[`v=DKIM1; k=rsa; p=${key.publicKey}`]]);
  dns.set(`_dmarc.${domain}`, 'TXT', [[`v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@${domain}`]]);
}

function check(domain: string): Promise<DomainCheck> {
  return checkDomainRecords(resolver, inputFor(domain));
}

function recordsOf(result: DomainCheck, kind: RecordKind): RecordCheck[] {
  return result.records.filter((record) => record.kind === kind);
}

function recordOf(result: DomainCheck, kind: RecordKind): RecordCheck {
  const [record] = recordsOf(result, kind);
  assert.ok(record, `no ${kind} record in the check`);
  return record;
}

function statuses(result: DomainCheck): Record<string, string> {
  return Object.fromEntries(result.records.map((record) => [`${record.kind} ${record.value.slice(0, 20)}`, record.status]));
}

test('R-T3 expected records: one MX per provider host, SPF, DKIM at its selector, recommended DMARC', () => {
  const records = expectedRecords({ ...inputFor('Acme.test.'), dkimPublicKey: 'MIIBIjAN' });
  assert.deepEqual(
    records.map(({ kind, type, host, value, priority }) => ({ kind, type, host, value, priority })),
    [
      { kind: 'mx', type: 'MX', host: 'acme.test', value: '10 mx1.provider.test', priority: 10 },
      { kind: 'mx', type: 'MX', host: 'acme.test', value: '20 mx2.provider.test', priority: 20 },
      { kind: 'spf', type: 'TXT', host: 'acme.test', value: 'v=spf1 include:spf.provider.test ~all', priority: undefined },
      { kind: 'dkim', type: 'TXT', host: 'facteur202611._domainkey.acme.test', value: 'v=DKIM1; k=rsa; p=MIIBIjAN', priority: undefined },
      {
        kind: 'dmarc',
        type: 'TXT',
        host: '_dmarc.acme.test',
        value: 'v=DMARC1; p=quarantine; adkim=r; aspf=r; rua=mailto:dmarc-reports@acme.test',
        priority: undefined,
      },
    ],
  );
  for (const record of records) {
    assert.ok(record.description.en.length > 10 && record.description.fr.length > 10, `${record.kind} needs both descriptions`);
    assert.notEqual(record.description.en, record.description.fr);
  }
});

test('R-T3 a domain publishing every record is ok, record by record', async () => {
  publishAll('good.test');
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 12));
  const result = await checkDomainRecords(resolver, inputFor('good.test'), clock);
  assert.equal(result.domain, 'good.test');
  assert.equal(result.checkedAt, clock.now());
  assert.deepEqual(
    result.records.map((record) => record.status),
    ['ok', 'ok', 'ok', 'ok', 'ok'],
  );
  assert.equal(result.ok, true);
  assert.deepEqual(recordOf(result, 'mx').found, ['10 mx1.provider.test', '20 mx2.provider.test']);
  assert.deepEqual(recordOf(result, 'spf').found, ['v=spf1 ip4:192.0.2.1 include:spf.provider.test ~all']);
  assert.match(recordOf(result, 'dmarc').message.en, /p=quarantine/);
});

test('R-T3 a domain that does not exist in DNS reports every record missing', async () => {
  const result = await check('nothing-here.test');
  assert.deepEqual(
    result.records.map((record) => record.status),
    ['missing', 'missing', 'missing', 'missing', 'missing'],
  );
  assert.equal(result.ok, false);
  const spf = recordOf(result, 'spf');
  assert.deepEqual(spf.found, []);
  assert.match(spf.message.en, /No TXT record found at nothing-here\.test; publish: v=spf1 include:spf\.provider\.test ~all/);
  assert.match(spf.message.fr, /Aucun enregistrement TXT/);
});

test('R-T3 MX records missing while the domain exists (NODATA) are reported missing', async () => {
  publishAll('no-mx.test');
  dns.remove('no-mx.test', 'MX');
  const result = await check('no-mx.test');
  assert.deepEqual(
    recordsOf(result, 'mx').map((record) => record.status),
    ['missing', 'missing'],
  );
  assert.equal(recordOf(result, 'spf').status, 'ok');
  assert.match(recordOf(result, 'mx').message.en, /publish: 10 mx1\.provider\.test/);
});

test('R-T3 an MX to a foreign host makes the MX records wrong and lists every MX found', async () => {
  publishAll('foreign-mx.test');
  dns.set('foreign-mx.test', 'MX', [
    { exchange: 'mx1.provider.test', priority: 10 },
    { exchange: 'mx2.provider.test', priority: 20 },
    { exchange: 'backup.elsewhere.test', priority: 5 },
  ]);
  const result = await check('foreign-mx.test');
  for (const mx of recordsOf(result, 'mx')) {
    assert.equal(mx.status, 'wrong');
    assert.deepEqual(mx.found, ['5 backup.elsewhere.test', '10 mx1.provider.test', '20 mx2.provider.test']);
    assert.match(mx.message.en, /5 backup\.elsewhere\.test/);
    assert.match(mx.message.fr, /5 backup\.elsewhere\.test/);
  }
  assert.equal(result.ok, false);
});

test('R-T3 an MX set with only one provider host reports the other one missing', async () => {
  publishAll('half-mx.test');
  dns.set('half-mx.test', 'MX', [{ exchange: 'mx2.provider.test', priority: 10 }]);
  const result = await check('half-mx.test');
  const [mx1, mx2] = recordsOf(result, 'mx');
  assert.equal(mx1?.status, 'missing');
  assert.match(mx1?.message.en ?? '', /No MX record points to mx1\.provider\.test/);
  assert.deepEqual(mx1?.found, ['10 mx2.provider.test']);
  assert.equal(mx2?.status, 'ok');
  assert.equal(result.ok, false);
});

test('R-T3 a null MX (RFC 7505) is reported wrong', async () => {
  publishAll('null-mx.test');
  dns.set('null-mx.test', 'MX', [{ exchange: '.', priority: 0 }]);
  const result = await check('null-mx.test');
  for (const mx of recordsOf(result, 'mx')) {
    assert.equal(mx.status, 'wrong');
    assert.deepEqual(mx.found, ['0 .']);
    assert.match(mx.message.en, /null MX/);
  }
});

test('R-T3 an MX lookup answering SERVFAIL is an error and the other records are still checked', async () => {
  publishAll('servfail-mx.test');
  dns.servfail.add('servfail-mx.test');
  try {
    const result = await check('servfail-mx.test');
    for (const mx of recordsOf(result, 'mx')) {
      assert.equal(mx.status, 'error');
      assert.match(mx.message.en, /ESERVFAIL/);
      assert.match(mx.message.fr, /ESERVFAIL/);
    }
    // SPF lives at the same name, so it fails too; DKIM and DMARC live elsewhere.
    assert.equal(recordOf(result, 'spf').status, 'error');
    assert.equal(recordOf(result, 'dkim').status, 'ok');
    assert.equal(recordOf(result, 'dmarc').status, 'ok');
    assert.equal(result.ok, false);
  } finally {
    dns.servfail.delete('servfail-mx.test');
  }
});

test('R-T3 a lookup that times out is an error, not a missing record', async () => {
  publishAll('slow-dmarc.test');
  dns.unanswered.add('_dmarc.slow-dmarc.test');
  const impatient = createResolver({ servers: [dns.address], timeoutMs: 50 });
  const result = await checkDomainRecords(impatient, inputFor('slow-dmarc.test'));
  const dmarc = recordOf(result, 'dmarc');
  assert.equal(dmarc.status, 'error');
  assert.match(dmarc.message.en, /ETIMEOUT/);
  assert.equal(recordOf(result, 'dkim').status, 'ok');
});

test('R-T3 SPF missing when the domain has other TXT records only', async () => {
  publishAll('no-spf.test');
  dns.set('no-spf.test', 'TXT', [['site-verification=abc123'], ['v=spf10 not really']]);
  const spf = recordOf(await check('no-spf.test'), 'spf');
  assert.equal(spf.status, 'missing');
  assert.deepEqual(spf.found, []);
});

test('R-T3 two SPF records are reported wrong (RFC 7208 §4.5 permerror)', async () => {
  publishAll('two-spf.test');
  dns.set('two-spf.test', 'TXT', [['v=spf1 include:spf.provider.test ~all'], ['V=SPF1 include:_spf.other.test -all']]);
  const spf = recordOf(await check('two-spf.test'), 'spf');
  assert.equal(spf.status, 'wrong');
  assert.deepEqual(spf.found, ['v=spf1 include:spf.provider.test ~all', 'V=SPF1 include:_spf.other.test -all']);
  assert.match(spf.message.en, /2 SPF records/);
});

test('R-T3 an SPF record that does not include the provider is reported wrong', async () => {
  const records = [
    'v=spf1 mx -all',
    'v=spf1 -include:spf.provider.test ~all',
    'v=spf1 ~include:spf.provider.test ~all',
    'v=spf1 include:spf.provider.test.evil.test ~all',
    'v=spf1 include:xspf.provider.test ~all',
    'v=spf1 redirect=spf.provider.test',
  ];
  for (const [index, record] of records.entries()) {
    const domain = `bad-spf-${index}.test`;
    publishAll(domain);
    dns.set(domain, 'TXT', [[record]]);
    const spf = recordOf(await check(domain), 'spf');
    assert.equal(spf.status, 'wrong', record);
    assert.deepEqual(spf.found, [record]);
    assert.match(spf.message.en, /include:spf\.provider\.test/);
  }
});

test('R-T3 an SPF record split over several strings, with +include in any case, is ok', async () => {
  const records = [
    ['v=spf1 ip4:192.0.2.0/24 include:spf.pro', 'vider.test ~all'],
    ['v=spf1 +INCLUDE:SPF.Provider.Test. -all'],
    ['v=spf1 include:spf.provider.test'],
  ];
  for (const [index, strings] of records.entries()) {
    const domain = `split-spf-${index}.test`;
    publishAll(domain);
    dns.set(domain, 'TXT', [strings]);
    const spf = recordOf(await check(domain), 'spf');
    assert.equal(spf.status, 'ok', strings.join(''));
    assert.deepEqual(spf.found, [strings.join('')]);
  }
});

test('R-T3 DKIM record missing at the selector is reported missing', async () => {
  publishAll('no-dkim.test');
  dns.set(`other._domainkey.no-dkim.test`, 'TXT', [[`v=DKIM1; k=rsa; p=${key.publicKey}`]]);
  dns.remove(`${SELECTOR}._domainkey.no-dkim.test`);
  const dkim = recordOf(await check('no-dkim.test'), 'dkim');
  assert.equal(dkim.status, 'missing');
  assert.match(dkim.message.en, /facteur202611\._domainkey\.no-dkim\.test/);
});

test('R-T3 DKIM record with the wrong key is reported wrong', async () => {
  publishAll('wrong-dkim.test');
  const published = `v=DKIM1; k=rsa; p=${otherKey.publicKey}`;
  dns.set(`${SELECTOR}._domainkey.wrong-dkim.test`, 'TXT', [[published]]);
  const result = await check('wrong-dkim.test');
  const dkim = recordOf(result, 'dkim');
  assert.equal(dkim.status, 'wrong');
  assert.deepEqual(dkim.found, [published]);
  assert.match(dkim.message.en, /different key/);
  assert.match(dkim.message.fr, /autre clé/);
  assert.equal(result.ok, false);
});

test('R-T3 DKIM record without a usable p= tag is reported wrong', async () => {
  const cases = [
    ['v=DKIM1; k=rsa', /no key/],
    ['v=DKIM1; k=rsa; p=', /revokes/],
    [`v=DKIM2; p=${key.publicKey}`, /v=DKIM2/],
    [`v=DKIM1; p=${key.publicKey}; p=${key.publicKey}`, /not a valid tag=value list/],
  ] as const;
  for (const [index, [record, message]] of cases.entries()) {
    const domain = `bad-dkim-${index}.test`;
    publishAll(domain);
    dns.set(`${SELECTOR}._domainkey.${domain}`, 'TXT', [[record]]);
    const dkim = recordOf(await check(domain), 'dkim');
    assert.equal(dkim.status, 'wrong', record);
    assert.match(dkim.message.en, message);
  }
});

test('R-T3 a long DKIM key split over several strings, and folded with whitespace, is ok', async () => {
  publishAll('long-dkim.test');
  const host = `${SELECTOR}._domainkey.long-dkim.test`;
  const record = `v=DKIM1; k=rsa; p=${key.publicKey}`;
  assert.ok(record.length > 255, 'a 2048-bit key does not fit one string');
  dns.set(host, 'TXT', [[record]]);
  const onTheWire = await resolver.resolveTxt(host);
  assert.equal(onTheWire.length, 1, 'one record');
  assert.ok(onTheWire[0]!.length >= 2, 'made of several strings');
  assert.ok(onTheWire[0]!.every((string) => string.length <= 255));
  assert.equal(recordOf(await check('long-dkim.test'), 'dkim').status, 'ok');

  const folded = `v=DKIM1 ; k=rsa ;\tp=${key.publicKey.slice(0, 100)} ${key.publicKey.slice(100, 300)}\t${key.publicKey.slice(300)} ;`;
  dns.set(host, 'TXT', [[folded.slice(0, 200), folded.slice(200)]]);
  const dkim = recordOf(await check('long-dkim.test'), 'dkim');
  assert.equal(dkim.status, 'ok');
  assert.deepEqual(dkim.found, [folded]);
});

test('R-T3 DMARC record missing is reported missing', async () => {
  publishAll('no-dmarc.test');
  dns.set('_dmarc.no-dmarc.test', 'TXT', [['not dmarc at all']]);
  const dmarc = recordOf(await check('no-dmarc.test'), 'dmarc');
  assert.equal(dmarc.status, 'missing');
  assert.match(dmarc.message.en, /_dmarc\.no-dmarc\.test; publish: v=DMARC1; p=quarantine/);
});

test('R-T3 DMARC p=none is ok but says it only monitors', async () => {
  publishAll('monitor-dmarc.test');
  dns.set('_dmarc.monitor-dmarc.test', 'TXT', [['v=DMARC1; p=none; rua=mailto:r@monitor-dmarc.test']]);
  const result = await check('monitor-dmarc.test');
  const dmarc = recordOf(result, 'dmarc');
  assert.equal(dmarc.status, 'ok');
  assert.match(dmarc.message.en, /only monitors/);
  assert.match(dmarc.message.fr, /surveiller/);
  assert.equal(result.ok, true);
});

test('R-T3 DMARC records with several versions or no valid policy are reported wrong', async () => {
  const cases = [
    [['v=DMARC1; p=reject'], ['v=DMARC1; p=none']],
    [['v=DMARC1; rua=mailto:r@x.test']],
    [['v=DMARC1; p=block']],
    [['v=DMARC1; p=reject; p=none']],
  ];
  for (const [index, records] of cases.entries()) {
    const domain = `bad-dmarc-${index}.test`;
    publishAll(domain);
    dns.set(`_dmarc.${domain}`, 'TXT', records);
    const dmarc = recordOf(await check(domain), 'dmarc');
    assert.equal(dmarc.status, 'wrong', JSON.stringify(records));
    assert.deepEqual(dmarc.found, records.flat());
  }
});

test('R-T3 DMARC with spacing and upper case is still understood', async () => {
  publishAll('spaced-dmarc.test');
  dns.set('_dmarc.spaced-dmarc.test', 'TXT', [['v = DMARC1 ;  P = Reject ; pct=100']]);
  const dmarc = recordOf(await check('spaced-dmarc.test'), 'dmarc');
  assert.equal(dmarc.status, 'ok');
  assert.match(dmarc.message.en, /p=reject/);
});

test('R-T3 an internationalised domain is expected and checked in punycode', async () => {
  const domain = 'xn--caf-crme-60ag.test';
  assert.equal(toAsciiDomain('café-crème.test'), domain);
  publishAll(domain);
  const result = await check(domain);
  assert.deepEqual(Object.values(statuses(result)), ['ok', 'ok', 'ok', 'ok', 'ok']);
  assert.deepEqual(
    result.records.map((record) => record.host),
    [domain, domain, domain, `${SELECTOR}._domainkey.${domain}`, `_dmarc.${domain}`],
  );
  assert.ok(dns.queries.some((query) => query.name === `_dmarc.${domain}`));
});
