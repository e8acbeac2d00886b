/**
 * Mail the MX accepts without an account behind it, driven as the Internet would through the MX:
 * postmaster@ every hosted domain (RFC 5321 §4.5.1), and the Sender Rewriting Scheme of mail that
 * aliases forward outside — the forwarded copy leaves with an SRS0 envelope sender at the service's
 * domain, so SPF passes at the next hop, and bounces to that address come back through the MX to the
 * original sender, while forged or expired SRS addresses are refused with 550 5.1.1.
 * "The Internet" is a receiving smtp-server on loopback and the test DNS server; the queue is driven
 * round by round with `runDeliveryOnce`.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { after, before, test } from 'node:test';
import { authenticate } from 'mailauth';
import { SMTPServer } from 'smtp-server';
import { runDeliveryOnce } from '../src/delivery/index.ts';
import { type CustomerSetup, expectStatus, operatorClient, setupCustomer, waitForOperation } from './helpers/client.ts';
import { messagesOf, RawSmtp } from './helpers/mail.ts';
import { startTestService, type TestService } from './helpers/service.ts';

/** The customer is "Relais" (contact@relais.test, outside); its hosted domain is another one. */
const DOMAIN = 'relais-mail.test';
const DOMAIN_ALIAS = 'relais-alias.test';
const ALICE = `alice@${DOMAIN}`;
const SRS_DOMAIN = 'mail.provider.test';
const DAY_MS = 24 * 60 * 60_000;

interface Received {
  from: string;
  to: string[];
  data: string;
}

const remote = { received: [] as Received[], refuse: new Set<string>() };

function startRemote(): Promise<SMTPServer> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (remote.refuse.has(address.address)) return callback(Object.assign(new Error('5.1.1 No such user here'), { responseCode: 550 }));
      callback();
    },
    onData(stream, session, callback) {
      void text(stream).then((data) => {
        remote.received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
        });
        callback();
      }, callback);
    },
  });
  server.on('error', () => {});
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let remoteServer: SMTPServer;
let service: TestService;
let setup: CustomerSetup;

before(async () => {
  remoteServer = await startRemote();
  const smtpPort = (remoteServer.server.address() as AddressInfo).port;
  const mx = [{ exchange: 'mx.remote.test', priority: 10 }];
  service = await startTestService({
    overrides: {
      roles: ['web', 'mx'],
      ports: { http: 0, mx: 0 },
      delivery: { smtpPort, connectTimeoutMs: 2000, responseTimeoutMs: 2000, retryJitter: 0 },
    },
    zone: {
      'remote.test': { MX: mx },
      'origin.test': { MX: mx, TXT: [['v=spf1 ip4:192.0.2.1 -all']] },
      'relais.test': { MX: mx },
      'mx.remote.test': { A: ['127.0.0.1'] },
      // The service's own SPF record, as its operator publishes it: the forwarded copies leave from here.
      [SRS_DOMAIN]: { TXT: [['v=spf1 ip4:127.0.0.1 -all']] },
    },
  });
  const operator = await operatorClient(service);
  setup = await setupCustomer(service, operator, 'Relais', { basic: 3 });
  const added = await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/domains`, { name: DOMAIN });
  expectStatus(added, 202);
  const domainId = (await waitForOperation(setup.admin, added.body.id)).result.domainId;
  expectStatus(await setup.admin.post(`/api/domains/${domainId}/aliases`, { name: DOMAIN_ALIAS }), 201);
  expectStatus(
    await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/accounts`, { address: ALICE, classId: 'basic', password: 'alice-password-1' }),
    201,
  );
  for (const [local, destination] of [
    ['fwd', 'friend@remote.test'],
    ['gone', 'gone@remote.test'],
  ]) {
    expectStatus(
      await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/aliases`, { address: `${local}@${DOMAIN}`, destinations: [destination] }),
      201,
    );
  }
  remote.refuse.add('gone@remote.test');
});

after(async () => {
  await service?.close();
  await new Promise<void>((resolve) => (remoteServer ? remoteServer.close(() => resolve()) : resolve()));
});

let serial = 0;

/** One SMTP transaction through the MX; returns the RCPT reply and, when accepted, the end-of-DATA reply. */
async function sendThroughMx(sender: string, recipient: string, subject = `Message ${++serial}`): Promise<{ rcpt: string; data?: string; subject: string }> {
  const smtp = await RawSmtp.open(service.mxPort as number);
  try {
    await smtp.command('EHLO client.origin.test');
    assert.match(await smtp.command(`MAIL FROM:<${sender}>`), /^250 /);
    const rcpt = await smtp.command(`RCPT TO:<${recipient}>`);
    if (!rcpt.startsWith('250 ')) return { rcpt, subject };
    assert.match(await smtp.command('DATA'), /^354 /);
    const data = await smtp.command(`From: <${sender || 'mailer-daemon@remote.test'}>\r\nTo: <${recipient}>\r\nSubject: ${subject}\r\n\r\nHello.\r\n.`);
    return { rcpt, data, subject };
  } finally {
    smtp.close();
  }
}

function receivedWith(subject: string): Received[] {
  return remote.received.filter((m) => m.data.includes(`Subject: ${subject}\r\n`));
}

async function spfOf(message: Received, sender: string): Promise<string> {
  const auth = await authenticate(Buffer.from(message.data), {
    ip: '127.0.0.1',
    helo: SRS_DOMAIN,
    sender,
    mta: 'mx.remote.test',
    resolver: service.ctx.resolver.mailauthResolver,
    disableBimi: true,
    disableArc: true,
  });
  return auth.spf ? auth.spf.status.result : 'none';
}

const SRS0 = new RegExp(`^SRS0=[a-z2-7]{6}=[a-z2-7]{2}=origin\\.test=someone@${SRS_DOMAIN.replaceAll('.', '\\.')}$`);

test('RFC 5321 §4.5.1 postmaster@ a hosted domain without such an account is accepted and reaches the technical contact (outside: forwarded)', async () => {
  // By default the technical contact is the customer's contact address, outside the service.
  const sent = await sendThroughMx('someone@origin.test', `postmaster@${DOMAIN}`);
  assert.match(sent.rcpt, /^250 /);
  assert.match(sent.data ?? '', /^250 /);
  await runDeliveryOnce(service.ctx);
  const [copy] = receivedWith(sent.subject);
  assert.deepEqual(copy?.to, ['contact@relais.test']);
  assert.match(copy?.from ?? '', SRS0, 'forwarded outside with an SRS sender');
});

test('RFC 5321 §4.5.1 postmaster@ (any case, domain aliases too) reaches the technical contact set by the customer admin', async () => {
  const domain = (await setup.admin.get(`/api/domains/${DOMAIN}`)).body;
  expectStatus(await setup.admin.put(`/api/domains/${domain.id}/contacts`, { technical: { name: 'Alice', email: ALICE } }), 200);
  for (const recipient of [`postmaster@${DOMAIN}`, `PostMaster@${DOMAIN}`, `postmaster@${DOMAIN_ALIAS}`]) {
    const sent = await sendThroughMx('someone@origin.test', recipient);
    assert.match(sent.rcpt, /^250 /, recipient);
    assert.match(sent.data ?? '', /^250 /, recipient);
    const stored = await messagesOf(service.ctx, ALICE);
    assert.ok(
      stored.some((m) => m.raw.includes(`Subject: ${sent.subject}\r\n`)),
      `${recipient} in Alice's INBOX`,
    );
  }
  // Other unknown addresses are still refused.
  assert.match((await sendThroughMx('someone@origin.test', `nobody@${DOMAIN}`)).rcpt, /^550 5\.1\.1 /);
});

let srsAddress = '';

test('SRS: a copy forwarded outside by an alias leaves with an SRS0 envelope sender at the service domain, so SPF passes at the next hop', async () => {
  const sent = await sendThroughMx('someone@origin.test', `fwd@${DOMAIN}`);
  assert.match(sent.data ?? '', /^250 /);
  assert.equal((await runDeliveryOnce(service.ctx)).delivered, 1);
  const [copy] = receivedWith(sent.subject);
  assert.ok(copy, 'forwarded');
  assert.deepEqual(copy.to, ['friend@remote.test']);
  assert.match(copy.from, SRS0);
  srsAddress = copy.from;
  assert.equal(await spfOf(copy, copy.from), 'pass', 'SPF of the SRS sender (the service domain) passes');
  assert.equal(await spfOf(copy, 'someone@origin.test'), 'fail', 'the original sender would have failed SPF');
});

test('SRS: a bounce to a valid SRS0 address is accepted by the MX and goes back to the original sender with the null sender', async () => {
  assert.ok(srsAddress, 'the previous test forwarded a copy');
  const bounce = await sendThroughMx('', srsAddress.toLowerCase());
  assert.match(bounce.rcpt, /^250 /, 'case changed by a relay: still valid');
  assert.match(bounce.data ?? '', /^250 /);
  await runDeliveryOnce(service.ctx);
  const [back] = receivedWith(bounce.subject);
  assert.ok(back, 'sent on to the original sender');
  assert.deepEqual([back.from, back.to], ['', ['someone@origin.test']]);
});

test('SRS: when the next hop refuses the forwarded copy, the DSN goes through the SRS address back to the original sender', async () => {
  const sent = await sendThroughMx('someone@origin.test', `gone@${DOMAIN}`);
  assert.match(sent.data ?? '', /^250 /);
  assert.equal((await runDeliveryOnce(service.ctx)).bounced, 1);
  await runDeliveryOnce(service.ctx);
  const dsn = remote.received.find((m) => m.to.includes('someone@origin.test') && m.data.includes(`Subject: ${sent.subject}`));
  assert.ok(dsn, 'a DSN for the original sender');
  assert.equal(dsn.from, '');
  assert.match(dsn.data, /Content-Type: multipart\/report; report-type=delivery-status/i);
  assert.match(dsn.data, /Final-Recipient: rfc822; ?gone@remote\.test/i);
});

test('SRS: forged, malformed and expired SRS addresses get 550 5.1.1 at RCPT', async () => {
  assert.ok(srsAddress, 'the forwarding test ran');
  const [, hash = ''] = /^SRS0=([^=]+)=/.exec(srsAddress) ?? [];
  const forged = srsAddress.replace(`=${hash}=`, `=${hash.slice(1)}${hash[0] === 'a' ? 'b' : 'a'}=`);
  const otherTarget = srsAddress.replace('=someone@', '=victim@');
  for (const recipient of [forged, otherTarget, `SRS0=garbage@${SRS_DOMAIN}`, `SRS0=abcdef=zz=origin.test=someone@${SRS_DOMAIN}`]) {
    assert.match((await sendThroughMx('', recipient)).rcpt, /^550 5\.1\.1 /, recipient);
  }
  service.clock.advance(22 * DAY_MS); // srs.maxAgeDays: 21
  const expired = await sendThroughMx('', srsAddress);
  assert.match(expired.rcpt, /^550 5\.1\.1 .*invalid or has expired/);
});
