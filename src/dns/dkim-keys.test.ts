import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { test } from 'node:test';
import { dkimRecordValue, dkimSelector, generateDkimKey } from './dkim-keys.ts';

test('R-T3 a generated DKIM key pair signs and verifies, and p= is the SPKI DER in base64', async () => {
  const key = await generateDkimKey(1024);
  assert.match(key.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/, 'PKCS#8 PEM');
  assert.match(key.publicKey, /^[A-Za-z0-9+/]+={0,2}$/, 'bare base64, no PEM armour');

  const publicKey = createPublicKey({ key: Buffer.from(key.publicKey, 'base64'), format: 'der', type: 'spki' });
  assert.equal(publicKey.asymmetricKeyType, 'rsa');
  assert.equal(publicKey.asymmetricKeyDetails?.modulusLength, 1024);
  const derivedSpki = createPublicKey(createPrivateKey(key.privateKeyPem)).export({ type: 'spki', format: 'der' });
  assert.equal(derivedSpki.toString('base64'), key.publicKey, 'p= is the public half of the private key');

  // RFC 8463 §3 / RFC 6376 §3.3: rsa-sha256 is RSASSA-PKCS1-v1_5 over SHA-256.
  const data = Buffer.from('dkim-signature header and body hash');
  const signature = sign('sha256', data, key.privateKeyPem);
  assert.equal(verify('sha256', data, publicKey, signature), true);
  assert.equal(verify('sha256', Buffer.from('tampered'), publicKey, signature), false);
});

test('R-T3 two generated DKIM keys differ and honour the requested size', async () => {
  const [a, b] = await Promise.all([generateDkimKey(2048), generateDkimKey(2048)]);
  assert.notEqual(a.publicKey, b.publicKey);
  const details = createPublicKey(a.privateKeyPem).asymmetricKeyDetails;
  assert.equal(details?.modulusLength, 2048);
  assert.ok(a.publicKey.length > 255, 'a 2048-bit p= needs more than one TXT string');
});

test('R-T3 DKIM selector is the prefix and the UTC year and month', () => {
  assert.equal(dkimSelector('facteur', Date.UTC(2026, 10, 26)), 'facteur202611');
  assert.equal(dkimSelector('facteur', Date.UTC(2027, 0, 1, 0, 0, 0)), 'facteur202701');
  // 31 December 23:30 in UTC is already January in Paris; the selector follows UTC whatever the machine's zone.
  const zone = process.env.TZ;
  process.env.TZ = 'Europe/Paris';
  try {
    assert.equal(new Date(Date.UTC(2026, 11, 31, 23, 30)).getMonth(), 0, 'the local zone is in effect');
    assert.equal(dkimSelector('fx', Date.UTC(2026, 11, 31, 23, 30)), 'fx202612');
  } finally {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  }
});

test('R-T3 DKIM record value carries the key in p=', () => {
  assert.equal(dkimRecordValue('MIIBIjANBg'), 'v=DKIM1; k=rsa; p=MIIBIjANBg');
});
