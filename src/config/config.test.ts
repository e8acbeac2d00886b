import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from './index.ts';

test('defaults are the contract values and the documented ports', () => {
  const config = loadConfig({ env: {} });
  assert.deepEqual({ ...config.ports }, { mx: 2525, submission: 2587, submissions: 2465, imap: 2143, imaps: 2993, pop3: 2110, pop3s: 2995, http: 8080 });
  assert.equal(config.limits.messagesPerMinutePerRecipient, 100); // contract §6
  assert.equal(config.limits.recipientsPerMessage, 100);
  assert.equal(config.limits.maxMessageBytes, 50 * 1024 * 1024);
  assert.equal(config.limits.standardMessageBytes, 10 * 1024 * 1024);
  assert.equal(config.databaseUrl, '');
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.ports));
});

test('environment overrides the file, and both override defaults', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'facteur-config-'));
  const file = path.join(dir, 'facteur.config.json');
  await writeFile(file, JSON.stringify({ ports: { http: 9000, imap: 9143 }, hostname: 'mx.file.test' }));
  const config = loadConfig({ file, env: { FACTEUR_HTTP_PORT: '9090', FACTEUR_DNS_SERVERS: '127.0.0.1:5300, 127.0.0.2', FACTEUR_DATA_DIR: dir } });
  assert.equal(config.ports.http, 9090);
  assert.equal(config.ports.imap, 9143);
  assert.equal(config.hostname, 'mx.file.test');
  assert.deepEqual([...config.dns.servers], ['127.0.0.1:5300', '127.0.0.2']);
  assert.deepEqual([...config.dns.mxHosts], ['mx.file.test']);
  assert.equal(config.dns.spfInclude, 'spf.mx.file.test');
  assert.equal(config.dataDir, dir);
});

test('an invalid value stops start-up with a message naming the setting and its variable', () => {
  assert.throws(
    () => loadConfig({ env: { FACTEUR_HTTP_PORT: 'abc' } }),
    (e: unknown) => e instanceof ConfigError && /ports\.http \(FACTEUR_HTTP_PORT\)/.test(e.message),
  );
  assert.throws(
    () => loadConfig({ env: { FACTEUR_IMAP_PORT: '70000' } }),
    (e: unknown) => e instanceof ConfigError && /FACTEUR_IMAP_PORT/.test(e.message),
  );
  assert.throws(
    () => loadConfig({ env: { FACTEUR_DATABASE_URL: 'mysql://x' } }),
    (e: unknown) => e instanceof ConfigError && /FACTEUR_DATABASE_URL/.test(e.message),
  );
  assert.throws(() => loadConfig({ env: {}, overrides: { unknownSetting: 1 } }), ConfigError);
});
