/**
 * What keeps the MX fast under many sessions without weakening it: the greeting pause is kept for
 * clients not seen before (early talkers are refused), and concurrent messages share their durable
 * commit with their trace steps (bench/smtp measures the rates).
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { expectStatus, operatorClient, setupCustomer, waitForOperation } from './helpers/client.ts';
import { messagesOf, RawSmtp } from './helpers/mail.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'busy.test';
let service: TestService;

before(async () => {
  service = await startTestService({ overrides: { roles: ['web', 'mx'], ports: { http: 0, mx: 0 } } });
  const operator = await operatorClient(service);
  const { admin, subscriptionId } = await setupCustomer(service, operator, 'Busy', { basic: 2 });
  const added = await admin.post(`/api/subscriptions/${subscriptionId}/domains`, { name: DOMAIN });
  expectStatus(added, 202);
  await waitForOperation(admin, added.body.id);
  expectStatus(
    await admin.post(`/api/subscriptions/${subscriptionId}/accounts`, { address: `dana@${DOMAIN}`, classId: 'basic', password: 'dana-password-1' }),
    201,
  );
});
after(() => service.close());

/** Milliseconds from connect to the greeting. */
async function greetingDelay(): Promise<number> {
  const t0 = performance.now();
  const smtp = await RawSmtp.open(service.mxPort as number);
  const delay = performance.now() - t0;
  await smtp.command('QUIT');
  smtp.close();
  return delay;
}

// First in this file: no SMTP client has connected to this service before.
test('R-M1 a client talking before the greeting is refused (421); it is paused again next time, and once it waited, greeted at once', async () => {
  const socket = connect(service.mxPort as number, '127.0.0.1');
  socket.setEncoding('latin1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('EHLO early.test\r\n');
  let reply = '';
  for await (const chunk of socket) {
    reply += chunk;
    if (reply.includes('\r\n')) break;
  }
  socket.destroy();
  assert.match(reply, /^421 .*too soon/);

  assert.ok((await greetingDelay()) >= 95, 'the pause is still applied to the early talker');
  const next = Math.min(await greetingDelay(), await greetingDelay(), await greetingDelay());
  assert.ok(next < 90, `greeted at once after waiting once (${next.toFixed(0)} ms)`);
});

test('R-M1 R-M6 concurrent messages are all stored with their trace steps, sharing durable commits', async () => {
  const { committer } = service.ctx.mail;
  const before = { ...committer.stats };
  const count = 12;
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const smtp = await RawSmtp.open(service.mxPort as number);
      await smtp.command('EHLO client.test');
      assert.match(await smtp.command('MAIL FROM:<sender@elsewhere.test>'), /^250 /);
      assert.match(await smtp.command(`RCPT TO:<dana@${DOMAIN}>`), /^250 /);
      assert.match(await smtp.command('DATA'), /^354 /);
      assert.match(await smtp.command(`Subject: busy ${i}\r\nMessage-ID: <busy-${i}@elsewhere.test>\r\n\r\nmessage ${i}\r\n.`), /^250 2\.6\.0 /);
      await smtp.command('QUIT');
      smtp.close();
    }),
  );
  const stored = (await messagesOf(service.ctx, `dana@${DOMAIN}`)).filter((m) => /Subject: busy \d+/.test(m.raw));
  assert.equal(stored.length, count);
  assert.equal(new Set(stored.map((m) => m.uid)).size, count, 'each with its own UID');
  const writes = committer.stats.writes - before.writes;
  const commits = committer.stats.commits - before.commits;
  assert.equal(writes, count);
  assert.ok(commits < writes, `${commits} commits for ${writes} messages`);
  for (let i = 0; i < count; i++) {
    const steps = await service.ctx.db.selectFrom('message_trace').select('step').where('message_id', '=', `busy-${i}@elsewhere.test`).execute();
    assert.deepEqual(steps.map((s) => s.step).sort(), ['received', 'stored', 'verdict'], `message ${i}`);
  }
});
