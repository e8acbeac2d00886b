import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { ensureTlsCredentials, generateSelfSigned, serialNumberHex, type TlsLog } from './index.ts';

const DAY = 24 * 60 * 60 * 1000;

function recordingLog() {
  const events: string[] = [];
  const log: TlsLog = {
    info: (obj) => void events.push(String((obj as { event?: string }).event)),
    warn: (obj) => void events.push(String((obj as { event?: string }).event)),
  };
  return { log, events };
}

describe('ensureTlsCredentials', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'facteur-tls-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });
  const dataDirFor = async (name: string) => {
    const dir = path.join(root, name);
    await mkdir(dir, { recursive: true });
    return dir;
  };

  test('generates a self-signed certificate on first call, then reuses it', async () => {
    const dataDir = await dataDirFor('first');
    const { log, events } = recordingLog();
    const first = await ensureTlsCredentials({ dataDir, hostname: 'mail.example.test', log });
    assert.equal(first.source, 'generated');
    assert.deepEqual(events, ['tls.certificate.generated']);
    assert.equal(first.certFile, path.join(dataDir, 'tls', 'cert.pem'));
    assert.equal(first.keyFile, path.join(dataDir, 'tls', 'key.pem'));
    assert.equal(await readFile(first.certFile, 'utf8'), first.cert);
    assert.equal(await readFile(first.keyFile, 'utf8'), first.key);

    const x509 = new X509Certificate(first.cert);
    assert.equal(x509.subject, 'CN=mail.example.test');
    assert.equal(x509.issuer, 'CN=mail.example.test');
    assert.equal(x509.fingerprint256, first.fingerprint256);
    assert.match(first.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const sans = (x509.subjectAltName ?? '').split(', ').sort();
    assert.deepEqual(sans, ['DNS:localhost', 'DNS:mail.example.test', 'IP Address:0:0:0:0:0:0:0:1', 'IP Address:127.0.0.1'].sort());
    assert.equal(x509.checkHost('mail.example.test'), 'mail.example.test');
    assert.equal(x509.checkIP('::1'), '::1');
    const validFrom = new Date(x509.validFrom).getTime();
    const validTo = new Date(x509.validTo).getTime();
    assert.ok(validFrom <= Date.now(), 'valid from now');
    const days = (validTo - Date.now()) / DAY;
    assert.ok(days > 700 && days < 740, `about two years, got ${days} days`);
    assert.equal(first.validTo.getTime(), validTo);
    assert.ok(x509.verify(x509.publicKey), 'self-signed');
    assert.equal(x509.ca, false);
    assert.equal(x509.publicKey.asymmetricKeyType, 'rsa');
    assert.equal(x509.publicKey.asymmetricKeyDetails?.modulusLength, 2048);

    const second = await ensureTlsCredentials({ dataDir, hostname: 'mail.example.test', log });
    assert.equal(second.source, 'existing');
    assert.equal(second.fingerprint256, first.fingerprint256);
    assert.equal(second.key, first.key);
    assert.deepEqual(events, ['tls.certificate.generated']);
    // no temporary files left behind
    assert.deepEqual((await readdir(path.join(dataDir, 'tls'))).sort(), ['cert.pem', 'key.pem']);
  });

  test('writes the key with mode 0600', { skip: process.platform === 'win32' }, async () => {
    const dataDir = await dataDirFor('mode');
    const previous = process.umask(0);
    try {
      const created = await ensureTlsCredentials({ dataDir, hostname: 'localhost' });
      assert.equal((await stat(created.keyFile)).mode & 0o777, 0o600);
      assert.equal((await stat(path.join(dataDir, 'tls'))).mode & 0o077, 0);
      // a key whose mode was loosened by hand is tightened on reuse
      await chmod(created.keyFile, 0o644);
      const { log, events } = recordingLog();
      const again = await ensureTlsCredentials({ dataDir, hostname: 'localhost', log });
      assert.equal(again.source, 'existing');
      assert.equal((await stat(created.keyFile)).mode & 0o777, 0o600);
      assert.deepEqual(events, ['tls.key.mode-fixed']);
    } finally {
      process.umask(previous);
    }
  });

  test('regenerates a stored certificate that has expired', async () => {
    const dataDir = await dataDirFor('expired');
    const old = await generateSelfSigned('localhost', { notBefore: new Date(Date.now() - 800 * DAY), notAfter: new Date(Date.now() - DAY) });
    await mkdir(path.join(dataDir, 'tls'), { recursive: true });
    await writeFile(path.join(dataDir, 'tls', 'cert.pem'), old.cert);
    await writeFile(path.join(dataDir, 'tls', 'key.pem'), old.key, { mode: 0o600 });
    const oldFingerprint = new X509Certificate(old.cert).fingerprint256;

    const { log, events } = recordingLog();
    const renewed = await ensureTlsCredentials({ dataDir, hostname: 'localhost', log });
    assert.equal(renewed.source, 'generated');
    assert.notEqual(renewed.fingerprint256, oldFingerprint);
    assert.notEqual(renewed.key, old.key);
    assert.deepEqual(events, ['tls.certificate.replaced', 'tls.certificate.generated']);
    assert.ok(renewed.validTo.getTime() > Date.now() + 700 * DAY);
  });

  test('regenerates when the stored key does not match the certificate', async () => {
    const dataDir = await dataDirFor('mismatch');
    const a = await ensureTlsCredentials({ dataDir, hostname: 'localhost' });
    const other = await generateSelfSigned('localhost');
    await writeFile(a.keyFile, other.key);

    const regenerated = await ensureTlsCredentials({ dataDir, hostname: 'localhost' });
    assert.equal(regenerated.source, 'generated');
    assert.notEqual(regenerated.fingerprint256, a.fingerprint256);
    assert.ok(new X509Certificate(regenerated.cert).checkPrivateKey(createPrivateKey(regenerated.key)));
  });

  test('regenerates when the host name changed, and when the stored files are garbage', async () => {
    const dataDir = await dataDirFor('hostname');
    const a = await ensureTlsCredentials({ dataDir, hostname: 'old.example.test' });
    const b = await ensureTlsCredentials({ dataDir, hostname: 'new.example.test' });
    assert.equal(b.source, 'generated');
    assert.notEqual(b.fingerprint256, a.fingerprint256);
    assert.equal(new X509Certificate(b.cert).subject, 'CN=new.example.test');

    await writeFile(b.certFile, 'not a certificate\n');
    const c = await ensureTlsCredentials({ dataDir, hostname: 'new.example.test' });
    assert.equal(c.source, 'generated');
  });

  test('uses configured files as given', async () => {
    const dataDir = await dataDirFor('configured');
    const material = await generateSelfSigned('mx.provider.test');
    const certFile = path.join(root, 'provider-cert.pem');
    const keyFile = path.join(root, 'provider-key.pem');
    await writeFile(certFile, material.cert);
    await writeFile(keyFile, material.key, { mode: 0o600 });

    const { log, events } = recordingLog();
    const used = await ensureTlsCredentials({ dataDir, hostname: 'mx.provider.test', certFile, keyFile, log });
    assert.equal(used.source, 'configured');
    assert.equal(used.cert, material.cert);
    assert.equal(used.key, material.key);
    assert.equal(used.certFile, certFile);
    assert.equal(used.keyFile, keyFile);
    assert.equal(used.fingerprint256, new X509Certificate(material.cert).fingerprint256);
    assert.deepEqual(events, ['tls.certificate.configured']);
    // nothing generated in the data directory
    await assert.rejects(stat(path.join(dataDir, 'tls')), { code: 'ENOENT' });
  });

  test('a configured file that cannot be read or does not match stops start-up, naming the setting', async () => {
    const dataDir = await dataDirFor('bad-config');
    const material = await generateSelfSigned('localhost');
    const other = await generateSelfSigned('localhost');
    const certFile = path.join(root, 'bad-cert.pem');
    const keyFile = path.join(root, 'bad-key.pem');
    const otherKey = path.join(root, 'other-key.pem');
    await writeFile(certFile, material.cert);
    await writeFile(keyFile, material.key);
    await writeFile(otherKey, other.key);

    await assert.rejects(ensureTlsCredentials({ dataDir, hostname: 'localhost', certFile: path.join(root, 'missing.pem'), keyFile }), (error: Error) => {
      assert.equal(error.name, 'ConfigError');
      assert.match(error.message, /FACTEUR_TLS_CERT/);
      assert.match(error.message, /missing\.pem/);
      assert.match(error.message, /ENOENT/);
      return true;
    });
    await assert.rejects(ensureTlsCredentials({ dataDir, hostname: 'localhost', certFile, keyFile: path.join(root, 'nokey.pem') }), /FACTEUR_TLS_KEY/);
    await assert.rejects(ensureTlsCredentials({ dataDir, hostname: 'localhost', certFile, keyFile: otherKey }), (error: Error) => {
      assert.equal(error.name, 'ConfigError');
      assert.match(error.message, /does not match/);
      assert.match(error.message, /FACTEUR_TLS_KEY/);
      return true;
    });
    await assert.rejects(ensureTlsCredentials({ dataDir, hostname: 'localhost', certFile: keyFile, keyFile }), /FACTEUR_TLS_CERT.*not a PEM certificate/);
    await assert.rejects(ensureTlsCredentials({ dataDir, hostname: 'localhost', certFile }), /FACTEUR_TLS_KEY.*required/);
    await assert.rejects(ensureTlsCredentials({ dataDir, hostname: 'localhost', keyFile }), /FACTEUR_TLS_CERT.*required/);
    await assert.rejects(stat(path.join(dataDir, 'tls')), { code: 'ENOENT' });
  });

  test('a client pinning the generated certificate completes a verified TLS handshake', async () => {
    const dataDir = await dataDirFor('handshake');
    const creds = await ensureTlsCredentials({ dataDir, hostname: 'mail.example.test' });
    // what a mail client would be handed (mbsync CertificateFile): a copy of cert.pem
    const pinned = path.join(root, 'pinned.pem');
    await copyFile(creds.certFile, pinned);

    const server = tls.createServer({ key: creds.key, cert: creds.cert }, (socket) => {
      socket.end('* OK facteur ready\r\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const ca = await readFile(pinned, 'utf8');
      const handshake = (servername: string) =>
        new Promise<{ authorized: boolean; greeting: string; fingerprint: string }>((resolve, reject) => {
          const socket = tls.connect({ host: '127.0.0.1', port, servername, ca, rejectUnauthorized: true }, () => {
            let greeting = '';
            socket.setEncoding('utf8');
            socket.on('data', (chunk: string) => {
              greeting += chunk;
            });
            socket.on('end', () => resolve({ authorized: socket.authorized, greeting, fingerprint: socket.getPeerX509Certificate()?.fingerprint256 ?? '' }));
          });
          socket.on('error', reject);
        });

      for (const servername of ['localhost', 'mail.example.test']) {
        const result = await handshake(servername);
        assert.equal(result.authorized, true, servername);
        assert.equal(result.greeting, '* OK facteur ready\r\n');
        assert.equal(result.fingerprint, creds.fingerprint256);
      }
      // a name the certificate does not carry is refused
      await assert.rejects(handshake('other.example.test'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
      // without the pin, the self-signed certificate is refused
      await assert.rejects(
        new Promise((resolve, reject) => {
          const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: true }, () => resolve(socket));
          socket.on('error', reject);
        }),
        { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' },
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

test('a self-signed certificate is readable whatever its random serial: no DER INTEGER with a needless leading zero', async () => {
  for (const first of [0x00, 0x80, 0xff]) assert.match(serialNumberHex(Buffer.from([first, 0x01, 0x02])).slice(0, 2), /^[4-7][0-9a-f]$/);
  // Random bytes 00 10 ...: before the fix, the serial began 00 10, which OpenSSL 3 refused ("illegal padding").
  const { cert } = await generateSelfSigned('mail.example.test', { serialRandom: Buffer.from('0010203040506070', 'hex') });
  assert.match(new X509Certificate(cert).serialNumber, /^[4-7]/);
});
