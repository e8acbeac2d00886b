import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { isSealed, KeyringError, newSecretKey, parseConfiguredKeys, type SecretKey, SecretKeyring, sealedKeyId } from './keyring.ts';

test('a sealed secret opens for its purpose only, carries its key id, and differs each time (random IV)', () => {
  const key = newSecretKey();
  const ring = SecretKeyring.of([key]);
  const a = ring.seal('totp', 'JBSWY3DPEHPK3PXP');
  const b = ring.seal('totp', 'JBSWY3DPEHPK3PXP');
  assert.notEqual(a, b);
  assert.ok(isSealed(a) && !a.includes('JBSWY3DPEHPK3PXP'));
  assert.equal(sealedKeyId(a), key.id);
  assert.equal(ring.open('totp', a), 'JBSWY3DPEHPK3PXP');
  assert.throws(() => ring.open('dkim', a), KeyringError);
  assert.throws(() => ring.open('totp', `${a.slice(0, -2)}xx`), /does not open/);
  assert.throws(() => ring.open('totp', a.slice(0, 20)), KeyringError);
  assert.throws(() => SecretKeyring.of([newSecretKey()]).open('totp', a), /does not have/);
  // Values written before sealing existed read as they are (the sweep at start seals them).
  assert.equal(ring.open('totp', 'JBSWY3DPEHPK3PXP'), 'JBSWY3DPEHPK3PXP');
});

test('configured keys: id:base64 of 32 bytes, the first seals; bad items name the setting', () => {
  const keys = parseConfiguredKeys([`new:${Buffer.alloc(32, 1).toString('base64')}`, `old:${Buffer.alloc(32, 2).toString('base64')}`]);
  const old = SecretKeyring.of([keys[1] as SecretKey]).seal('dkim', 'pem');
  const ring = SecretKeyring.open({ configuredKeys: keys.map((k) => `${k.id}:${k.key.toString('base64')}`), file: '/nonexistent/secrets.key' });
  assert.equal(ring.current().id, 'new');
  assert.equal(ring.open('dkim', old), 'pem');
  assert.throws(() => parseConfiguredKeys(['nocolon']), /FACTEUR_SECRETS_KEYS/);
  assert.throws(() => parseConfiguredKeys([`short:${Buffer.alloc(16).toString('base64')}`]), /32 bytes/);
  assert.throws(() => parseConfiguredKeys([`bad id:${Buffer.alloc(32).toString('base64')}`]), /key id/);
});

test('key file: created at first use with mode 0600; a rotation by another process is picked up', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'facteur-keyring-'));
  try {
    const file = path.join(dir, 'secrets.key');
    const service = SecretKeyring.open({ configuredKeys: [], file });
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const before = service.seal('setting:srs.secret', 'secret');
    // Another process (facteur secrets rotate-key) adds a key, seals with it, then retires the old one.
    const tool = SecretKeyring.open({ configuredKeys: [], file });
    assert.equal(tool.current().id, service.current().id);
    const added = tool.addSealingKey();
    const after = tool.seal('setting:srs.secret', 'secret');
    assert.equal(sealedKeyId(after), added.id);
    assert.equal(service.open('setting:srs.secret', after), 'secret', 'an unknown key id makes the file be read again');
    assert.deepEqual(tool.retireOtherKeys(), [sealedKeyId(before)]);
    assert.ok(!(await readFile(file, 'utf8')).includes(sealedKeyId(before)));
    assert.equal(service.current().id, added.id, 'sealing follows the file');
    await writeFile(file, 'garbage\n');
    assert.throws(() => SecretKeyring.open({ configuredKeys: [], file }), /each line is/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
