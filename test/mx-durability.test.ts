/**
 * Never lose mail (issue 3, DESIGN "Durability rule"): the MX runs as its own `facteur serve` process
 * and is killed with SIGKILL right after its 250, or in the middle of DATA; what was acknowledged is
 * there, what was not left nothing behind. A 50 MB message is accepted in bounded memory.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { killHard, startServe } from './helpers/cli.ts';
import { expectStatus, operatorClient, setupCustomer, waitForOperation } from './helpers/client.ts';
import { messagesOf, RawSmtp } from './helpers/mail.ts';
import { freePort } from './helpers/ports.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'durable.test';
const MAX_BYTES = 50 * 1024 * 1024;
let service: TestService;
let child: ChildProcess | undefined;
let port: number;

/** Starts the MX as its own process on the test service's data. */
function startMx(): Promise<ChildProcess> {
  return startServe({ ...process.env, ...service.env, FACTEUR_ROLES: 'mx', FACTEUR_MX_PORT: String(port), FACTEUR_LISTEN_HOST: '127.0.0.1' }, 'MX:');
}

const kill = killHard;

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

async function openTransaction(recipient: string): Promise<RawSmtp> {
  const smtp = await RawSmtp.open(port);
  await smtp.command('EHLO client.test');
  assert.match(await smtp.command('MAIL FROM:<sender@elsewhere.test>'), /^250 /);
  assert.match(await smtp.command(`RCPT TO:<${recipient}>`), /^250 /);
  assert.match(await smtp.command('DATA'), /^354 /);
  return smtp;
}

/** Writes `size` bytes of message through the socket with back-pressure, in 64 KB lines blocks. */
async function sendBody(smtp: RawSmtp, size: number): Promise<void> {
  const header = 'Subject: big\r\n\r\n';
  smtp.send(header);
  const line = `${'x'.repeat(998)}\r\n`;
  const block = Buffer.from(line.repeat(64));
  let sent = header.length;
  while (sent + block.length <= size) {
    await smtp.write(block);
    sent += block.length;
  }
  const rest = size - sent;
  if (rest > 2) await smtp.write(Buffer.from(`${'y'.repeat(rest - 2)}\r\n`));
  smtp.send('.\r\n');
}

before(async () => {
  service = await startTestService();
  const operator = await operatorClient(service);
  const setup = await setupCustomer(service, operator, 'Durable', { premium: 2 });
  const added = await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/domains`, { name: DOMAIN });
  await waitForOperation(setup.admin, added.body.id);
  expectStatus(
    await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/accounts`, {
      address: `keep@${DOMAIN}`,
      classId: 'premium',
      password: 'keep-password-1',
    }),
    201,
  );
  port = await freePort();
  child = await startMx();
});
after(async () => {
  if (child) await kill(child);
  await service.close();
});

test('R-M1 a message acknowledged with 250 survives a SIGKILL right after the reply', async () => {
  const smtp = await openTransaction(`keep@${DOMAIN}`);
  smtp.send('Subject: durable\r\nMessage-ID: <durable-1@elsewhere.test>\r\n\r\nmust survive\r\n.\r\n');
  assert.match(await smtp.reply(), /^250 /);
  await kill(child as ChildProcess);
  smtp.close();
  child = await startMx();
  const stored = await messagesOf(service.ctx, `keep@${DOMAIN}`);
  assert.equal(stored.filter((m) => m.raw.includes('must survive')).length, 1);
});

test('R-M1 a server killed in the middle of DATA stores nothing and acknowledged nothing', async () => {
  const before = (await messagesOf(service.ctx, `keep@${DOMAIN}`)).length;
  const smtp = await openTransaction(`keep@${DOMAIN}`);
  smtp.send('Subject: interrupted\r\n\r\nhalf a message');
  await new Promise((resolve) => setTimeout(resolve, 200));
  await kill(child as ChildProcess);
  smtp.close();
  child = await startMx();
  assert.equal((await messagesOf(service.ctx, `keep@${DOMAIN}`)).length, before);
  const usage = await service.ctx.db.selectFrom('mail_usage').selectAll().execute();
  const blobs = await service.ctx.db.selectFrom('blobs').select(['id', 'refcount']).execute();
  assert.equal(
    blobs.reduce((n, b) => n + b.refcount, 0),
    usage.reduce((n, u) => n + u.message_count, 0),
    'no blob without its message',
  );
});

test('R-M5 a 50 MB message is accepted with the server growing by less than 64 MB; 50 MB + 1 byte gets 552 5.3.4', async (t) => {
  const pid = (child as ChildProcess).pid as number;
  const baseline = await rssBytes(pid);
  let peak = baseline;
  const sampler = setInterval(() => {
    rssBytes(pid).then(
      (rss) => {
        peak = Math.max(peak, rss);
      },
      () => {},
    );
  }, 25);
  try {
    const accepted = await openTransaction(`keep@${DOMAIN}`);
    await sendBody(accepted, MAX_BYTES - 4096);
    assert.match(await accepted.reply(), /^250 /);
    accepted.close();
  } finally {
    clearInterval(sampler);
  }
  const growth = peak - baseline;
  t.diagnostic(`RSS before ${Math.round(baseline / 1048576)} MB, peak ${Math.round(peak / 1048576)} MB while receiving 50 MB`);
  assert.ok(growth < 64 * 1024 * 1024, `RSS grew by ${Math.round(growth / 1048576)} MB`);
  const big = (await messagesOf(service.ctx, `keep@${DOMAIN}`)).at(-1);
  assert.ok(big && big.raw.length > MAX_BYTES - 4096, 'the whole message is stored');

  const refused = await openTransaction(`keep@${DOMAIN}`);
  await sendBody(refused, MAX_BYTES + 1);
  assert.match(await refused.reply(), /^552 5\.3\.4 /);
  refused.close();
});
