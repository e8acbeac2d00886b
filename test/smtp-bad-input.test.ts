/**
 * Bad input on the MX (issue 3, "Bad input"): each gets the reply RFC 5321 expects, nothing half
 * received is stored, and the server goes on serving the next client.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { expectStatus, operatorClient, setupCustomer, waitForOperation } from './helpers/client.ts';
import { messagesOf, RawSmtp } from './helpers/mail.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'bad.test';
const RCPT = `dana@${DOMAIN}`;
let service: TestService;

before(async () => {
  service = await startTestService({ overrides: { roles: ['web', 'mx'], ports: { http: 0, mx: 0 } } });
  const operator = await operatorClient(service);
  const setup = await setupCustomer(service, operator, 'Bad', { basic: 1 });
  const added = await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/domains`, { name: DOMAIN });
  await waitForOperation(setup.admin, added.body.id);
  expectStatus(
    await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/accounts`, { address: RCPT, classId: 'basic', password: 'dana-password-1' }),
    201,
  );
});
after(() => service.close());

async function session(): Promise<RawSmtp> {
  const smtp = await RawSmtp.open(service.mxPort as number);
  assert.match(await smtp.command('EHLO client.test'), /^250[ -]/);
  return smtp;
}

/** The server still serves a normal transaction. */
async function assertHealthy(): Promise<void> {
  const smtp = await session();
  assert.match(await smtp.command('MAIL FROM:<ok@elsewhere.test>'), /^250 /);
  assert.match(await smtp.command(`RCPT TO:<${RCPT}>`), /^250 /);
  assert.match(await smtp.command('DATA'), /^354 /);
  smtp.send('Subject: still fine\r\n\r\nyes\r\n.\r\n');
  assert.match(await smtp.reply(), /^250 /);
  smtp.close();
}

async function send(body: string): Promise<string> {
  const smtp = await session();
  await smtp.command('MAIL FROM:<sender@elsewhere.test>');
  await smtp.command(`RCPT TO:<${RCPT}>`);
  assert.match(await smtp.command('DATA'), /^354 /);
  smtp.send(body);
  const reply = await smtp.reply();
  smtp.close();
  return reply;
}

test('R-M1 malformed addresses and NUL bytes in commands get 5xx syntax replies', async () => {
  const smtp = await session();
  assert.match(await smtp.command('MAIL FROM:<not an address>'), /^5\d\d /);
  assert.match(await smtp.command('MAIL FROM:<a@b\u0000c.test>'), /^5\d\d /);
  assert.match(await smtp.command('MAIL FROM:<sender@elsewhere.test>'), /^250 /);
  assert.match(await smtp.command('RCPT TO:<@@bad.test>'), /^5\d\d /);
  assert.match(await smtp.command(`RCPT TO:<${'x'.repeat(600)}@bad.test>`), /^5\d\d /);
  smtp.close();
  await assertHealthy();
});

test('R-M1 an overlong command line (100 KB) does not hang or crash the server', async () => {
  const smtp = await session();
  const reply = await smtp.command(`NOOP ${'z'.repeat(100 * 1024)}`);
  assert.match(reply, /^(250|500|421) /);
  smtp.close();
  await assertHealthy();
});

test('R-M1 odd but storable messages are stored as received: no headers, 8-bit headers, long lines, NUL in the body', async () => {
  const count = (await messagesOf(service.ctx, RCPT)).length;
  assert.match(await send('just a body, no header at all\r\n.\r\n'), /^250 /);
  assert.match(await send('Subject: Réunion à 8 h\r\nFrom: Zoë <zoe@elsewhere.test>\r\n\r\nCorps\r\n.\r\n'), /^250 /);
  assert.match(await send(`Subject: long\r\n\r\n${'L'.repeat(5000)}\r\n.\r\n`), /^250 /);
  assert.match(await send('Subject: nul\r\n\r\nbefore\u0000after\r\n.\r\n'), /^250 /);
  const stored = await messagesOf(service.ctx, RCPT);
  assert.equal(stored.length, count + 4);
  assert.ok(stored.some((m) => m.raw.endsWith('just a body, no header at all\r\n')));
  assert.ok(stored.some((m) => m.raw.includes(`${'L'.repeat(5000)}\r\n`)));
});

test('R-M1 a 1 MB header block is accepted or refused cleanly, never crashes the server', async () => {
  const reply = await send(`Subject: huge\r\nX-Big: ${'h'.repeat(1024 * 1024)}\r\n\r\nbody\r\n.\r\n`);
  assert.match(reply, /^(250|552|554) /);
  await assertHealthy();
});

test('R-M1 a client that disconnects in the middle of DATA leaves nothing stored', async () => {
  const count = (await messagesOf(service.ctx, RCPT)).length;
  const smtp = await session();
  await smtp.command('MAIL FROM:<sender@elsewhere.test>');
  await smtp.command(`RCPT TO:<${RCPT}>`);
  await smtp.command('DATA');
  smtp.send('Subject: cut\r\n\r\nhalf a mess');
  smtp.close();
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal((await messagesOf(service.ctx, RCPT)).length, count);
  await assertHealthy();
});

test('R-M5 10,000 pipelined RCPT commands: 452 4.5.3 past the 100th, and the server stays responsive', async () => {
  const smtp = await session();
  await smtp.command('MAIL FROM:<sender@elsewhere.test>');
  let lines = '';
  for (let i = 0; i < 10_000; i++) lines += `RCPT TO:<dana+${i}@${DOMAIN}>\r\n`;
  smtp.send(lines);
  const replies: string[] = [];
  for (let i = 0; i < 10_000; i++) {
    const reply = await smtp.reply();
    replies.push(reply);
    if (reply.startsWith('421')) break; // a server may also give up on a client that misbehaves
  }
  assert.equal(replies.filter((r) => r.startsWith('250')).length, 100);
  assert.ok(
    replies.slice(100).every((r) => /^452 4\.5\.3 |^421 /.test(r)),
    'refused past 100',
  );
  smtp.close();
  await assertHealthy();
});
