/**
 * Submission as a user's mail client sees it (R-M2, R-M5): nodemailer and Python's smtplib through
 * 587 (STARTTLS) and 465 (TLS) with AUTH PLAIN and LOGIN against the running service; what was
 * accepted is read back from the mailstore, and its DKIM signature checked with mailauth through the
 * loopback DNS.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { authenticate } from 'mailauth';
import nodemailer from 'nodemailer';
import { createClass } from '../src/tenancy/index.ts';
import { ApiClient, expectStatus, operatorClient, setupCustomer, waitForOperation } from './helpers/client.ts';
import { messagesOf, RawSmtp } from './helpers/mail.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'acme.test';
const MAX_BYTES = 50 * 1024 * 1024;
let service: TestService;
let admin: ApiClient;
let subscriptionId: string;
const accountIds = new Map<string, string>();

const password = (local: string) => `${local}-password-1`;

interface SendOptions {
  port?: 'submission' | 'submissions';
  user?: string;
  pass?: string;
  method?: 'PLAIN' | 'LOGIN';
  pool?: boolean;
}

function transport(local: string, options: SendOptions = {}) {
  const secure = options.port === 'submissions';
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port: secure ? service.submissionsPort : service.submissionPort,
    secure,
    requireTLS: !secure,
    tls: { ca: service.tlsCert, servername: 'localhost' },
    auth: { user: options.user ?? `${local}@${DOMAIN}`, pass: options.pass ?? password(local) },
    authMethod: options.method ?? 'PLAIN',
    ...(options.pool ? { pool: true, maxConnections: 1, maxMessages: Number.POSITIVE_INFINITY } : {}),
  });
}

/** The SMTP error of a refused send. */
async function refusal(promise: Promise<unknown>): Promise<{ responseCode?: number; response?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { responseCode?: number; response?: string };
  }
  assert.fail('the send was accepted');
}

before(async () => {
  service = await startTestService({ overrides: { roles: ['web', 'mx', 'submission'], ports: { http: 0, mx: 0, submission: 0, submissions: 0 } } });
  const operator = await operatorClient(service);
  const setup = await setupCustomer(service, operator, 'Acme', { basic: 20 });
  admin = setup.admin;
  subscriptionId = setup.subscriptionId;
  const added = await admin.post(`/api/subscriptions/${subscriptionId}/domains`, { name: DOMAIN });
  expectStatus(added, 202);
  await waitForOperation(admin, added.body.id);
  for (const local of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'hugo']) {
    const created = await admin.post(`/api/subscriptions/${subscriptionId}/accounts`, {
      address: `${local}@${DOMAIN}`,
      classId: 'basic',
      password: password(local),
    });
    expectStatus(created, 201);
    accountIds.set(local, created.body.id);
  }
  expectStatus(
    await admin.post(`/api/subscriptions/${subscriptionId}/aliases`, { address: `sales@${DOMAIN}`, destinations: [`alice@${DOMAIN}`, `bob@${DOMAIN}`] }),
    201,
  );
  const domain = (await admin.get(`/api/domains/${DOMAIN}`)).body;
  expectStatus(await admin.post(`/api/domains/${domain.id}/aliases`, { name: 'acme-alias.test' }), 201);
  // Publish the domain's DKIM key in the loopback DNS, as the customer would.
  const dkim = domain.records.find((r: { kind: string }) => r.kind === 'dkim');
  const value: string = dkim.value;
  const chunks: string[] = [];
  for (let i = 0; i < value.length; i += 255) chunks.push(value.slice(i, i + 255));
  service.dns.set(dkim.host, 'TXT', [chunks]);
});
after(() => service.close());

test('R-M2 587 with STARTTLS and AUTH PLAIN: delivered to the INBOX and filed in Sent, signed with a DKIM signature that verifies', async () => {
  const info = await transport('alice').sendMail({ from: `Alice <alice@${DOMAIN}>`, to: `bob@${DOMAIN}`, subject: 'Bonjour Bob', text: 'Hello Bob' });
  assert.match(info.response, /^250 2\.6\.0 /);
  const [message] = await messagesOf(service.ctx, `bob@${DOMAIN}`);
  assert.ok(message, 'stored in the INBOX');
  assert.match(message.raw, /^DKIM-Signature: /);
  assert.match(message.raw, /a=rsa-sha256/);
  assert.match(message.raw, /c=relaxed\/relaxed/);
  assert.match(message.raw, /d=acme\.test/);
  assert.match(message.raw, /^Received: from .*\r\n\tby mail\.provider\.test \(Facteur\) with ESMTPSA id /m);
  assert.match(message.raw, /Hello Bob/);
  const [sent] = await messagesOf(service.ctx, `alice@${DOMAIN}`, 'Sent');
  assert.ok(sent, 'a copy in Sent');
  assert.deepEqual(sent.flags, ['\\Seen']);
  assert.equal(sent.raw, message.raw);

  // "A DKIM signature made by Facteur verifies with mailauth through the loopback DNS".
  const auth = await authenticate(Buffer.from(message.raw, 'latin1'), {
    ip: '127.0.0.1',
    helo: 'client.test',
    sender: `alice@${DOMAIN}`,
    mta: 'mx.elsewhere.test',
    resolver: service.ctx.resolver.mailauthResolver,
    disableBimi: true,
    disableArc: true,
  });
  const result = auth.dkim.results?.[0];
  assert.equal(result?.status.result, 'pass', JSON.stringify(auth.dkim.results));
  assert.equal(result?.signingDomain, DOMAIN);
});

test('R-M2 465 with implicit TLS and AUTH LOGIN delivers', async () => {
  const info = await transport('alice', { port: 'submissions', method: 'LOGIN' }).sendMail({
    from: `alice@${DOMAIN}`,
    to: `carol@${DOMAIN}`,
    subject: 'Over 465',
    text: 'implicit TLS',
  });
  assert.match(info.response, /^250 2\.6\.0 /);
  assert.match((await messagesOf(service.ctx, `carol@${DOMAIN}`)).at(-1)?.raw ?? '', /implicit TLS/);
});

test('R-M2 remote recipients go to the outbound queue; local ones to the mailstore, in the same message', async () => {
  const info = await transport('alice').sendMail({
    from: `alice@${DOMAIN}`,
    to: ['friend@remote.test', `carol@${DOMAIN}`],
    subject: 'mixed',
    text: 'both ways',
  });
  assert.match(info.response, /^250 /);
  assert.deepEqual(info.accepted.sort(), [`carol@${DOMAIN}`, 'friend@remote.test']);
  const rows = await service.ctx.db
    .selectFrom('outbound_queue')
    .select(['sender', 'recipient', 'blob_id'])
    .where('recipient', '=', 'friend@remote.test')
    .execute();
  assert.equal(rows.length, 1);
  assert.equal(rows[0]?.sender, `alice@${DOMAIN}`);
  const stored = await service.ctx.db
    .selectFrom('messages')
    .select('blob_id')
    .where('account_id', '=', accountIds.get('carol') as string)
    .where('subject', '=', 'mixed')
    .executeTakeFirstOrThrow();
  assert.equal(rows[0]?.blob_id, stored.blob_id, 'the queued copy is the signed message that was stored');
});

test('R-M2 587 offers no AUTH before STARTTLS and refuses it; MAIL without AUTH is refused', async () => {
  const smtp = await RawSmtp.open(service.submissionPort as number);
  const ehlo = await smtp.command('EHLO client.test');
  assert.match(ehlo, /^250[- ]STARTTLS/m);
  assert.doesNotMatch(ehlo, /^250[- ]AUTH/m);
  const plain = Buffer.from(`\0alice@${DOMAIN}\0${password('alice')}`).toString('base64');
  assert.match(await smtp.command(`AUTH PLAIN ${plain}`), /^538 5\.7\.\d+ .*STARTTLS/);
  assert.match(await smtp.command(`MAIL FROM:<alice@${DOMAIN}>`), /^530 /);
  smtp.close();
});

test('R-M2 a wrong password gets 535 5.7.8', async () => {
  const error = await refusal(transport('alice', { pass: 'not-the-password' }).sendMail({ from: `alice@${DOMAIN}`, to: `bob@${DOMAIN}`, text: 'x' }));
  assert.equal(error.responseCode, 535);
  assert.match(error.response ?? '', /^535 5\.7\.8 /);
});

test('R-M2 with 2FA on, an app password works and the account password does not', async () => {
  const dave = await new ApiClient(service.url, service.clock).login(`dave@${DOMAIN}`, password('dave'));
  const created = await dave.post('/api/me/app-passwords', { name: 'Thunderbird' });
  expectStatus(created, 201);
  // Before 2FA, both the password and the app password open the account.
  assert.match((await transport('dave').sendMail({ from: `dave@${DOMAIN}`, to: `bob@${DOMAIN}`, text: 'password' })).response, /^250 /);
  // Users may enrol a second factor at will; here it is switched on directly.
  await service.ctx.db.updateTable('accounts').set({ totp_enabled: 1 }).where('address', '=', `dave@${DOMAIN}`).execute();
  const error = await refusal(transport('dave').sendMail({ from: `dave@${DOMAIN}`, to: `bob@${DOMAIN}`, text: 'x' }));
  assert.match(error.response ?? '', /^535 5\.7\.8 /);
  const info = await transport('dave', { pass: created.body.password, method: 'LOGIN' }).sendMail({
    from: `dave@${DOMAIN}`,
    to: `bob@${DOMAIN}`,
    subject: 'app password',
    text: 'sent with an app password',
  });
  assert.match(info.response, /^250 /);
});

test('R-M2 a suspended or disabled account is refused at AUTH with 535 5.7.1', async () => {
  expectStatus(await admin.patch(`/api/accounts/${accountIds.get('hugo')}`, { status: 'disabled' }), 200);
  const error = await refusal(transport('hugo').sendMail({ from: `hugo@${DOMAIN}`, to: `bob@${DOMAIN}`, text: 'x' }));
  assert.match(error.response ?? '', /^535 5\.7\.1 .*suspended or disabled/);
});

test('R-M2 the envelope sender and From must be the account or its aliases, else 553 5.7.1', async () => {
  const envelope = await refusal(
    transport('alice').sendMail({ envelope: { from: `bob@${DOMAIN}`, to: [`carol@${DOMAIN}`] }, from: `alice@${DOMAIN}`, to: `carol@${DOMAIN}`, text: 'x' }),
  );
  assert.match(envelope.response ?? '', /^553 5\.7\.1 /);
  const outside = await refusal(transport('alice').sendMail({ from: 'alice@elsewhere.test', to: `carol@${DOMAIN}`, text: 'x' }));
  assert.match(outside.response ?? '', /^553 5\.7\.1 /);
  const header = await refusal(
    transport('alice').sendMail({ envelope: { from: `alice@${DOMAIN}`, to: [`carol@${DOMAIN}`] }, from: `bob@${DOMAIN}`, to: `carol@${DOMAIN}`, text: 'x' }),
  );
  assert.match(header.response ?? '', /^553 5\.7\.1 .*From/);
  // An address alias that reaches the account, and the same name at a domain alias, are the account's.
  const viaAlias = await transport('alice').sendMail({ from: `Sales <sales@${DOMAIN}>`, to: `carol@${DOMAIN}`, subject: 'as sales', text: 'alias' });
  assert.match(viaAlias.response, /^250 /);
  const viaDomainAlias = await transport('alice').sendMail({ from: 'alice@acme-alias.test', to: `carol@${DOMAIN}`, subject: 'as alias domain', text: 'x' });
  assert.match(viaDomainAlias.response, /^250 /);
  // carol is not behind sales@: not hers.
  const notHers = await refusal(transport('carol').sendMail({ from: `sales@${DOMAIN}`, to: `bob@${DOMAIN}`, text: 'x' }));
  assert.match(notHers.response ?? '', /^553 5\.7\.1 /);
});

test('R-M5 the 101st message to one recipient within a minute gets 450 4.7.1; another recipient still works', async () => {
  const pool = transport('erin', { pool: true });
  try {
    for (let i = 1; i <= 100; i++) {
      const info = await pool.sendMail({ from: `erin@${DOMAIN}`, to: `bob@${DOMAIN}`, subject: `burst ${i}`, text: `message ${i}` });
      assert.match(info.response, /^250 /, `message ${i}`);
    }
    const error = await refusal(pool.sendMail({ from: `erin@${DOMAIN}`, to: `bob@${DOMAIN}`, subject: 'burst 101', text: 'one too many' }));
    assert.equal(error.responseCode, 450);
    assert.match(error.response ?? '', /^450 4\.7\.1 Too many messages to this recipient: at most 100 per minute/);
    const other = await pool.sendMail({ from: `erin@${DOMAIN}`, to: `carol@${DOMAIN}`, subject: 'someone else', text: 'fine' });
    assert.match(other.response, /^250 /);
  } finally {
    pool.close();
  }
  // The window slides: a minute later bob can be written to again.
  service.clock.advance(61_000);
  const later = await transport('erin').sendMail({ from: `erin@${DOMAIN}`, to: `bob@${DOMAIN}`, subject: 'a minute later', text: 'ok' });
  assert.match(later.response, /^250 /);
});

test('R-M5 the 101st recipient of a message gets 452 4.5.3; the first 100 are accepted', async () => {
  const to = Array.from({ length: 101 }, (_, i) => `carol+r${i + 1}@${DOMAIN}`);
  const info = await transport('frank').sendMail({ from: `frank@${DOMAIN}`, to, subject: 'many', text: 'many recipients' });
  assert.equal(info.accepted.length, 100);
  assert.deepEqual(info.rejected, [`carol+r101@${DOMAIN}`]);
  assert.match(String(info.rejectedErrors?.[0]?.response ?? ''), /^452 4\.5\.3 /);
});

test('R-M5 a per-class cap of recipients per hour gets 450 4.7.1', async () => {
  await createClass(service.ctx, { id: 'capped', name: { en: 'Capped', fr: 'Plafonnée' }, limits: { recipientsPerHour: 3 } });
  await service.ctx.db
    .updateTable('accounts')
    .set({ class_id: 'capped' })
    .where('id', '=', accountIds.get('gina') as string)
    .execute();
  const first = await transport('gina').sendMail({ from: `gina@${DOMAIN}`, to: [`bob@${DOMAIN}`, `carol@${DOMAIN}`], text: 'two' });
  assert.equal(first.accepted.length, 2);
  const second = await transport('gina').sendMail({ from: `gina@${DOMAIN}`, to: [`alice@${DOMAIN}`, `dave@${DOMAIN}`], text: 'two more' });
  assert.deepEqual(second.accepted, [`alice@${DOMAIN}`]);
  assert.match(String(second.rejectedErrors?.[0]?.response ?? ''), /^450 4\.7\.1 Too many recipients: at most 3 per hour/);
});

/** A message of exactly `total` bytes, streamed in 64 KiB chunks of 1,000-byte lines. */
function messageOfSize(total: number, subject: string): Readable {
  let head = `From: alice@${DOMAIN}\r\nTo: bob@${DOMAIN}\r\nSubject: ${subject}\r\n\r\n`;
  if ((total - head.length) % 1000 === 1) head = head.replace('Subject: ', 'Subject:  ');
  const line = Buffer.from(`${'x'.repeat(998)}\r\n`);
  const chunk = Buffer.concat(Array.from({ length: 64 }, () => line));
  async function* generate() {
    yield Buffer.from(head);
    let left = total - head.length;
    while (left >= chunk.length) {
      yield chunk;
      left -= chunk.length;
    }
    while (left >= line.length) {
      yield line;
      left -= line.length;
    }
    if (left > 0) yield Buffer.from(`${'y'.repeat(left - 2)}\r\n`);
  }
  return Readable.from(generate());
}

test('R-M5 a message of 50 MB + 1 byte gets 552 5.3.4; one of exactly 50 MB is accepted', async () => {
  const envelope = { from: `alice@${DOMAIN}`, to: [`bob@${DOMAIN}`] };
  const error = await refusal(transport('alice').sendMail({ envelope, raw: messageOfSize(MAX_BYTES + 1, 'too big') }));
  assert.match(error.response ?? '', /^552 5\.3\.4 /);
  const info = await transport('alice').sendMail({ envelope, raw: messageOfSize(MAX_BYTES, 'just fits') });
  assert.match(info.response, /^250 /);
  const stored = await service.ctx.db
    .selectFrom('messages')
    .select('size')
    .where('subject', '=', 'just fits')
    .where('account_id', '=', accountIds.get('bob') as string)
    .executeTakeFirstOrThrow();
  assert.ok(Number(stored.size) > MAX_BYTES, 'stored whole, with the headers added');
});

test("R-M2 Python's smtplib logs in and sends through 465", async () => {
  const script = [
    'import smtplib, ssl, sys',
    'ctx = ssl.create_default_context(cafile=sys.argv[2])',
    'ctx.check_hostname = False',
    "s = smtplib.SMTP_SSL('127.0.0.1', int(sys.argv[1]), local_hostname='py.client.test', context=ctx)",
    "s.login('carol@acme.test', 'carol-password-1')",
    "s.sendmail('carol@acme.test', ['bob@acme.test'], b'From: carol@acme.test\\r\\nTo: bob@acme.test\\r\\nSubject: from python\\r\\n\\r\\nhello from smtplib\\r\\n')",
    's.quit()',
  ].join('\n');
  await promisify(execFile)('python3', ['-c', script, String(service.submissionsPort), service.tlsCertFile]);
  assert.match((await messagesOf(service.ctx, `bob@${DOMAIN}`)).at(-1)?.raw ?? '', /hello from smtplib/);
});
