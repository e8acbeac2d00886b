import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressKey, formatAddress, normalizeAddress, normalizeDomain, parseAddress } from './addresses.ts';
import { AppError } from './errors.ts';

test('domains: valid names are kept in lower-case ASCII', () => {
  assert.equal(normalizeDomain('Example.COM'), 'example.com');
  assert.equal(normalizeDomain(' mail.example.co.uk '), 'mail.example.co.uk');
  assert.equal(normalizeDomain('bücher.example'), 'xn--bcher-kva.example');
});

test('domains: invalid names are refused', () => {
  for (const bad of [
    '',
    'localhost',
    'exa mple.com',
    '-bad.test',
    'bad-.test',
    'a..b',
    '1.2.3.4',
    `${'a'.repeat(64)}.test`,
    `${'abc.'.repeat(70)}test`,
    'under_score.test',
  ]) {
    assert.equal(normalizeDomain(bad), undefined, bad);
  }
});

test('addresses: parsed, keyed case-insensitively, shown in Unicode', () => {
  const address = parseAddress('Jean.Dupont@Café.Test');
  assert.deepEqual(address, { local: 'Jean.Dupont', domain: 'xn--caf-dma.test' });
  assert.equal(addressKey(address), 'jean.dupont@xn--caf-dma.test');
  assert.equal(formatAddress(address), 'Jean.Dupont@café.test');
});

test('addresses: malformed ones are refused with the field named', () => {
  for (const bad of ['no-at-sign', 'a@', '@b.test', 'a b@c.test', 'a..b@c.test', '.a@c.test', `${'x'.repeat(65)}@c.test`, 'a@-c.test']) {
    assert.equal(normalizeAddress(bad), undefined, bad);
  }
  assert.throws(
    () => parseAddress('nope', 'contactEmail'),
    (error: unknown) => error instanceof AppError && error.kind === 'invalid' && error.field === 'contactEmail' && /n'est pas une adresse/.test(error.text.fr),
  );
});
