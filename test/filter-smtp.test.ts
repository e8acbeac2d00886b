/**
 * The filter through SMTP, as senders and users meet it (issue 5, SPEC R-S1, R-S2, R-S4, R-V1): GTUBE
 * is held with its reason, an allowed sender gets through, a blocked one never reaches the Inbox,
 * EICAR is refused inbound and outbound (then vaulted and purged after its retention), and a released
 * message is in the Inbox where IMAP sees it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { addSenderRule, EICAR, GTUBE, purgeVault, releaseQuarantined } from '../src/filter/index.ts';
import { operatorClient } from './helpers/client.ts';
import { inboxSubjects, type MailCustomer, setupMailCustomer } from './helpers/filter.ts';
import { RawSmtp } from './helpers/mail.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'filtered.test';
let service: TestService;
let customer: MailCustomer;

function account(local: string) {
  const found = customer.accounts.find((a) => a.address === `${local}@${DOMAIN}`);
  assert.ok(found);
  return found;
}

/** Sends through the MX as an outside server would; returns the reply to the end of DATA. */
async function sendInbound(from: string, to: string, subject: string, body: string, headers = ''): Promise<string> {
  const smtp = await RawSmtp.open(service.mxPort as number);
  await smtp.command('EHLO mail.sender.test');
  assert.match(await smtp.command(`MAIL FROM:<${from}>`), /^250 /);
  assert.match(await smtp.command(`RCPT TO:<${to}>`), /^250 /);
  assert.match(await smtp.command('DATA'), /^354 /);
  const message = `From: <${from}>\r\nTo: <${to}>\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@sender.test>\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\n${headers}\r\n${body}\r\n`;
  smtp.send(`${message.replace(/^\./gm, '..')}.\r\n`);
  const reply = await smtp.reply();
  smtp.close();
  return reply;
}

async function quarantineOf(accountId: string) {
  return service.ctx.db.selectFrom('quarantine').selectAll().where('account_id', '=', accountId).execute();
}

before(async () => {
  service = await startTestService({
    overrides: {
      roles: ['web', 'mx', 'submission', 'imap'],
      ports: { http: 0, mx: 0, submission: 0, submissions: 0, imap: 0, imaps: 0 },
    },
  });
  const operator = await operatorClient(service);
  customer = await setupMailCustomer(service, operator, 'Filtered', DOMAIN, ['alice', 'bob', 'carol']);
});
after(() => service.close());

test('R-S1 GTUBE through the MX lands in quarantine with its reason, not in the Inbox', async () => {
  const reply = await sendInbound('spammer@junk.test', `alice@${DOMAIN}`, 'Test spam', `This is spam: ${GTUBE}`);
  assert.match(reply, /^250 /);
  const held = await quarantineOf(account('alice').id);
  const row = held.find((r) => r.subject === 'Test spam');
  assert.ok(row, 'held');
  assert.equal(row.reason, 'spam');
  const symbols = JSON.parse(row.symbols) as Array<{ name: string; reason: { en: string; fr: string } }>;
  const gtube = symbols.find((s) => s.name === 'GTUBE');
  assert.ok(gtube && gtube.reason.en && gtube.reason.fr, 'the reason is given in both languages');
  assert.ok(!(await inboxSubjects(service, account('alice').id)).includes('Test spam'));
  const trace = await service.ctx.db.selectFrom('message_trace').selectAll().where('step', '=', 'quarantined').execute();
  assert.ok(trace.some((t) => t.recipient === `alice@${DOMAIN}`));
});

test('R-S2 a sender on the allow list gets through despite GTUBE', async () => {
  const bob = account('bob');
  await addSenderRule(service.ctx, null, { account: bob.id }, { pattern: 'friend@partner.test', kind: 'allow' });
  assert.match(await sendInbound('friend@partner.test', bob.address, 'Allowed test', `quoting ${GTUBE}`), /^250 /);
  assert.ok((await inboxSubjects(service, bob.id)).includes('Allowed test'));
  assert.equal((await quarantineOf(bob.id)).length, 0);
});

test('R-S2 a blocked sender never reaches the Inbox', async () => {
  const carol = account('carol');
  await addSenderRule(service.ctx, null, { account: carol.id }, { pattern: 'pest.test', kind: 'block' });
  assert.match(await sendInbound('anyone@pest.test', carol.address, 'Blocked hello', 'a perfectly normal message'), /^250 /);
  assert.ok(!(await inboxSubjects(service, carol.id)).includes('Blocked hello'));
  const held = (await quarantineOf(carol.id)).find((r) => r.subject === 'Blocked hello');
  assert.equal(held?.reason, 'blocked-sender');
});

test('R-V1 EICAR inbound is refused, never stored, and traced', async () => {
  const alice = account('alice');
  const headers = 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n';
  const body = [
    '--b',
    'Content-Type: text/plain',
    '',
    'see attached',
    '--b',
    'Content-Type: application/octet-stream; name="invoice.com"',
    'Content-Disposition: attachment; filename="invoice.com"',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from(EICAR).toString('base64'),
    '--b--',
  ].join('\r\n');
  const reply = await sendInbound('virus@junk.test', alice.address, 'Invoice', body, headers);
  assert.match(reply, /^554 5\.7\.1 .*malware/);
  assert.ok(!(await inboxSubjects(service, alice.id)).includes('Invoice'));
  assert.ok(!(await quarantineOf(alice.id)).some((r) => r.subject === 'Invoice'));
  const trace = await service.ctx.db.selectFrom('message_trace').selectAll().where('step', '=', 'filtered').execute();
  assert.ok(
    trace.some((t) => t.detail.includes('Eicar')),
    'the refusal is in the trace',
  );
});

test('R-V1 EICAR outbound is refused, kept in the vault, and purged after its retention', async () => {
  const alice = account('alice');
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: service.submissionPort,
    secure: false,
    requireTLS: true,
    tls: { ca: service.tlsCert, servername: 'localhost' },
    auth: { user: alice.address, pass: alice.password },
  });
  await assert.rejects(
    transport.sendMail({
      from: alice.address,
      to: 'someone@elsewhere.test',
      subject: 'Payload',
      text: 'see attached',
      attachments: [{ filename: 'tool.com', content: EICAR }],
    }),
    (error: { responseCode?: number; response?: string }) => error.responseCode === 554 && /malware/.test(error.response ?? ''),
  );
  const vaulted = await service.ctx.db.selectFrom('malware_vault').selectAll().where('account_id', '=', alice.id).execute();
  assert.equal(vaulted.length, 1);
  assert.equal((await service.ctx.db.selectFrom('outbound_queue').select('id').execute()).length, 0, 'nothing was queued');
  service.clock.advance(366 * 24 * 3600 * 1000);
  await purgeVault(service.ctx);
  assert.equal((await service.ctx.db.selectFrom('malware_vault').select('id').execute()).length, 0);
});

test('R-S4 a released message is in the Inbox where IMAP sees it', async () => {
  const alice = account('alice');
  const row = (await quarantineOf(alice.id)).find((r) => r.subject === 'Test spam');
  assert.ok(row);
  await releaseQuarantined(service.ctx, { customerId: null }, row.id, { actor: 'test' });
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: service.imapsPort as number,
    secure: true,
    tls: { ca: [service.tlsCert], servername: 'localhost' },
    auth: { user: alice.address, pass: alice.password },
    logger: false,
  });
  await client.connect();
  const lock = await client.getMailboxLock('INBOX');
  try {
    const subjects: string[] = [];
    for await (const message of client.fetch('1:*', { envelope: true })) subjects.push(message.envelope?.subject ?? '');
    assert.ok(subjects.includes('Test spam'));
  } finally {
    lock.release();
    await client.logout();
  }
});
