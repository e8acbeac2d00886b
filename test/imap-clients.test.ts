/**
 * Real IMAP clients against the running service (issue 4, SPEC R-M3): imapflow from npm (as many
 * Node mail apps use it) and Python's imaplib, both over TLS with the service's certificate pinned.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import { deliverMessage, receiveMessage } from '../src/mailstore/index.ts';
import { setupMailAccount } from './helpers/client.ts';
import { runPython } from './helpers/python.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'clients.test';
const USER = `reader@${DOMAIN}`;
const PASSWORD = 'reader-password-1';
let service: TestService;
let accountId: string;

async function deliver(subject: string, body: string): Promise<void> {
  const raw = `From: Alice <alice@example.test>\r\nTo: ${USER}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.test>\r\n\r\n${body}\r\n`;
  const message = await receiveMessage(service.ctx, Readable.from([Buffer.from(raw)]), { maxBytes: 1 << 20 });
  const [result] = await deliverMessage(service.ctx, message, [{ accountId }]);
  assert.ok(result?.ok);
}

function imapflow(): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: service.imapsPort as number,
    secure: true,
    tls: { ca: [service.tlsCert], servername: 'localhost' },
    auth: { user: USER, pass: PASSWORD },
    logger: false,
  });
}

before(async () => {
  service = await startTestService({ overrides: { roles: ['web', 'imap'], ports: { http: 0, imap: 0, imaps: 0 } } });
  ({ accountId } = await setupMailAccount(service, 'Clients', { address: USER, password: PASSWORD }, { standard: 2 }));
  for (let n = 1; n <= 5; n++) await deliver(`Hello ${n}`, `Body of message ${n}`);
});
after(() => service.close());

test('R-M3 imapflow lists folders, fetches, flags, moves and appends', async () => {
  const client = imapflow();
  await client.connect();
  const folders = await client.list();
  const byUse = new Map(folders.map((f) => [f.specialUse, f.path]));
  assert.equal(byUse.get('\\Sent'), 'Sent');
  assert.equal(byUse.get('\\Trash'), 'Trash');
  const lock = await client.getMailboxLock('INBOX');
  try {
    const subjects: string[] = [];
    for await (const message of client.fetch('1:*', { envelope: true, uid: true, flags: true, bodyStructure: true })) {
      subjects.push(message.envelope?.subject ?? '');
    }
    assert.deepEqual(subjects, ['Hello 1', 'Hello 2', 'Hello 3', 'Hello 4', 'Hello 5']);
    const one = await client.fetchOne('2', { source: true });
    assert.ok(one && one.source?.toString().includes('Body of message 2'));
    await client.messageFlagsAdd('1:2', ['\\Seen']);
    const unseen = await client.search({ seen: false });
    assert.deepEqual(unseen, [3, 4, 5]);
    const moved = await client.messageMove('5', 'Archive');
    assert.ok(moved && moved.uidMap && moved.uidMap.size === 1);
  } finally {
    lock.release();
  }
  const status = await client.status('Archive', { messages: true, unseen: true });
  assert.ok(status);
  assert.equal(status.messages, 1);
  const appended = await client.append('Drafts', 'From: reader@clients.test\r\nSubject: draft\r\n\r\ndraft body\r\n', ['\\Draft']);
  assert.ok(appended && appended.uid);
  const quota = await client.getQuota('INBOX');
  assert.ok(quota && quota.storage && (quota.storage.limit ?? 0) > 0);
  await client.logout();
});

test('R-M3 RFC 3516 imapflow fetches an attachment decoded by the server (FETCH BINARY)', async () => {
  const client = imapflow();
  await client.connect();
  const attachment = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256));
  const raw = [
    'From: reader@clients.test',
    'Subject: with an attachment',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="z"',
    '',
    '--z',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Voil=C3=A0 le fichier.',
    '--z',
    'Content-Type: application/octet-stream; name="data.bin"',
    'Content-Transfer-Encoding: base64',
    '',
    (attachment.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n'),
    '--z--',
    '',
  ].join('\r\n');
  const appended = await client.append('INBOX', raw);
  assert.ok(appended && appended.uid);
  const lock = await client.getMailboxLock('INBOX');
  try {
    const message = await client.fetchOne(String(appended.uid), { bodyParts: ['1', '2'] }, { uid: true, binary: true });
    assert.ok(message && message.bodyParts);
    assert.equal(message.bodyParts.get('1')?.toString('utf8'), 'Voilà le fichier.');
    assert.deepEqual(message.bodyParts.get('2'), attachment);
  } finally {
    lock.release();
  }
  await client.logout();
});

test('R-M3 Python imaplib over IMAPS logs in, selects, searches and fetches', async () => {
  const script = path.join(service.dataDir, 'imaplib-check.py');
  await writeFile(
    script,
    [
      'import imaplib, ssl, sys',
      'ctx = ssl.create_default_context(cafile=sys.argv[2])',
      'ctx.check_hostname = False',
      "m = imaplib.IMAP4_SSL('127.0.0.1', int(sys.argv[1]), ssl_context=ctx)",
      'm.login(sys.argv[3], sys.argv[4])',
      "typ, data = m.select('INBOX')",
      "assert typ == 'OK', (typ, data)",
      "typ, data = m.search(None, 'SUBJECT', '\"Hello 3\"')",
      "assert typ == 'OK' and data[0].split() == [b'3'], data",
      "typ, data = m.fetch('3', '(RFC822)')",
      "assert b'Body of message 3' in data[0][1], data",
      "typ, data = m.uid('FETCH', '1:*', '(FLAGS)')",
      "assert typ == 'OK' and len(data) >= 4, data",
      'm.logout()',
      "print('imaplib ok')",
    ].join('\n'),
  );
  const output = await runPython(script, [String(service.imapsPort), service.tlsCertFile, USER, PASSWORD]);
  assert.match(output, /imaplib ok/);
});
