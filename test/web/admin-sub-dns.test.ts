/**
 * The DNS wizard's presentation of records (R-T3), without a browser: a TXT value over 255 characters
 * becomes quoted strings of at most 255 that join back to the value (RFC 1035 §3.3), and the zone file
 * has one line per record, names fully qualified, MX with its priority and host.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { quotedStrings, splitTxt, zoneFile } from '../../web/portal/admin/dns.ts';
import type { DnsRecord } from '../../web/portal/admin/types.ts';

const description = { en: '', fr: '' };
const key = 'A'.repeat(392);
const records: DnsRecord[] = [
  { kind: 'mx', type: 'MX', host: 'example.test', value: '10 mail.provider.test', priority: 10, description },
  { kind: 'spf', type: 'TXT', host: 'example.test', value: 'v=spf1 include:spf.mail.provider.test ~all', description },
  { kind: 'dkim', type: 'TXT', host: 'facteur202611._domainkey.example.test', value: `v=DKIM1; k=rsa; p=${key}`, description },
  { kind: 'dmarc', type: 'TXT', host: '_dmarc.example.test', value: 'v=DMARC1; p=quarantine; rua=mailto:"r"@example.test', description },
];

test('R-T3 a long TXT value is cut into strings of at most 255 characters that join back to it', () => {
  const value = `v=DKIM1; k=rsa; p=${key}`;
  const strings = splitTxt(value);
  assert.deepEqual(
    strings.map((s) => s.length),
    [255, value.length - 255],
  );
  assert.equal(strings.join(''), value);
  assert.deepEqual(splitTxt('short'), ['short']);
  assert.deepEqual(splitTxt('x'.repeat(255)), ['x'.repeat(255)], 'exactly 255 is one string');
  assert.equal(quotedStrings(value), `"${strings[0]}" "${strings[1]}"`);
  assert.equal(quotedStrings('say "hi" \\ bye'), '"say \\"hi\\" \\\\ bye"', 'quotes and backslashes escaped');
});

test('R-T3 the zone file has every record: fully qualified names, MX priority and host, TXT in strings', () => {
  const lines = zoneFile(records).split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[0] as string, /^example\.test\.\s+3600\s+IN\s+MX\s+10 mail\.provider\.test\.$/);
  assert.match(lines[1] as string, /^example\.test\.\s+3600\s+IN\s+TXT\s+"v=spf1 include:spf\.mail\.provider\.test ~all"$/);
  assert.ok((lines[2] as string).startsWith('facteur202611._domainkey.example.test.'));
  assert.ok((lines[2] as string).endsWith(quotedStrings(`v=DKIM1; k=rsa; p=${key}`)));
  assert.ok((lines[3] as string).endsWith('"v=DMARC1; p=quarantine; rua=mailto:\\"r\\"@example.test"'));
  // Columns aligned: the class starts at the same place on every line.
  assert.equal(new Set(lines.map((line) => line.indexOf(' IN '))).size, 1);
});
