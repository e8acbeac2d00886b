/**
 * Login throttling that attackers cannot turn against users (R-A1): failed logins throttle the source
 * (its IP, then its network: IPv4 /24) and the pair (account, source), never the account alone. A
 * correct password or app password from a source without failures keeps working, on every login path
 * (web API, IMAP LOGIN and AUTHENTICATE, POP3, SMTP AUTH). The tests log in from other loopback
 * addresses (Linux routes all of 127/8 to lo) by binding the client socket, so the service sees them
 * as other sources. Run in-process and, with FACTEUR_TEST_REDIS_URL, with the counters in Redis.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import nodemailer from 'nodemailer';
import { normalizeSource, sourceNetwork } from '../src/auth/throttle.ts';
import { expectStatus, setupMailAccount } from './helpers/client.ts';
import { RawImap } from './helpers/imap.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const REDIS = process.env.FACTEUR_TEST_REDIS_URL;
const PER_PAIR = 3;
const PER_IP = 6;
const PER_NETWORK = 12;
const PASSWORD = 'right-password-1';

interface Setup {
  service: TestService;
  domain: string;
  /** A /16 of loopback for this run: Redis keeps counts between runs, so every run takes fresh sources. */
  base: string;
  users: Map<string, string>;
}

/** POST /api/auth/login from a given source address; the status and the problem code. */
function webLogin(service: TestService, from: string, email: string, password: string): Promise<{ status: number; code?: string; body: string }> {
  const url = new URL('/api/auth/login', service.url);
  const body = JSON.stringify({ email, password });
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress: from, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, code: text.startsWith('{') ? JSON.parse(text).code : undefined, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function imapLogin(service: TestService, from: string, user: string, password: string): Promise<string> {
  const imap = await RawImap.open(service.imapPort as number, { localAddress: from });
  try {
    return (await imap.command(`LOGIN ${user} ${password}`)).tagged;
  } finally {
    imap.close();
  }
}

/** RFC 4959 SASL-IR: AUTHENTICATE PLAIN with the initial response. */
async function imapAuthenticate(service: TestService, from: string, user: string, password: string): Promise<string> {
  const imap = await RawImap.open(service.imapPort as number, { localAddress: from });
  try {
    return (await imap.command(`AUTHENTICATE PLAIN ${Buffer.from(`\0${user}\0${password}`).toString('base64')}`)).tagged;
  } finally {
    imap.close();
  }
}

/** RFC 1939 USER/PASS from a given source; the reply to PASS. */
async function pop3Login(service: TestService, from: string, user: string, password: string): Promise<string> {
  const socket: Socket = connect({ port: service.pop3Port as number, host: '127.0.0.1', localAddress: from });
  socket.setEncoding('latin1');
  let buffer = '';
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  socket.on('data', (data: string) => {
    buffer += data;
    for (let at = buffer.indexOf('\r\n'); at >= 0; at = buffer.indexOf('\r\n')) {
      lines.push(buffer.slice(0, at));
      buffer = buffer.slice(at + 2);
    }
    wake?.();
  });
  const line = async () => {
    while (lines.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    return lines.shift() as string;
  };
  try {
    assert.match(await line(), /^\+OK/);
    socket.write(`USER ${user}\r\n`);
    assert.match(await line(), /^\+OK/);
    socket.write(`PASS ${password}\r\n`);
    return await line();
  } finally {
    socket.destroy();
  }
}

/** SMTP AUTH PLAIN on the submission port (STARTTLS) from a given source: 'ok' or the reply code. */
async function smtpLogin(service: TestService, from: string, user: string, password: string): Promise<string> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: service.submissionPort,
    requireTLS: true,
    localAddress: from,
    tls: { ca: service.tlsCert, servername: 'localhost' },
    auth: { user, pass: password },
  });
  try {
    await transport.verify();
    return 'ok';
  } catch (error) {
    return String((error as { responseCode?: number }).responseCode ?? (error as Error).message);
  } finally {
    transport.close();
  }
}

async function start(redisUrl: string | undefined): Promise<Setup> {
  const service = await startTestService({
    overrides: {
      roles: ['web', 'imap', 'pop3', 'submission'],
      ports: { http: 0, imap: 0, imaps: 0, pop3: 0, pop3s: 0, submission: 0, submissions: 0 },
      mailAccess: { allowPlaintextOnLoopback: true },
      auth: { loginFailuresPerAccount: PER_PAIR, loginFailuresPerIp: PER_IP, loginFailuresPerNetwork: PER_NETWORK },
      ...(redisUrl ? { redisUrl } : {}),
    },
  });
  const domain = `throttle${randomInt(1e6)}.test`;
  const users = new Map<string, string>();
  const alice = `alice@${domain}`;
  const { setup } = await setupMailAccount(service, 'Throttleco', { address: alice, password: PASSWORD }, { standard: 5 });
  users.set('alice', alice);
  for (const name of ['bob', 'carol']) {
    const address = `${name}@${domain}`;
    expectStatus(await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/accounts`, { address, classId: 'standard', password: PASSWORD }), 201);
    users.set(name, address);
  }
  return { service, domain, base: `127.${randomInt(1, 255)}`, users };
}

test('R-A1 sources are counted by IP and by network: IPv4-mapped IPv6 is IPv4, /24 and /64', () => {
  assert.equal(normalizeSource('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(sourceNetwork('192.0.2.7'), '192.0.2.0/24');
  assert.equal(sourceNetwork('::ffff:198.51.100.200'), '198.51.100.0/24');
  assert.equal(sourceNetwork('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  assert.equal(sourceNetwork('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(sourceNetwork('2001:DB8:0a:b::'), '2001:db8:a:b::/64');
  assert.equal(sourceNetwork('::1'), '0:0:0:0::/64');
});

for (const [label, redisUrl] of [
  ['in-process counters', undefined],
  ['counters in Redis', REDIS],
] as const) {
  describe(`R-A1 login throttling, ${label}`, { skip: label.includes('Redis') && !REDIS ? 'FACTEUR_TEST_REDIS_URL is not set' : false }, () => {
    let s: Setup;
    before(async () => {
      s = await start(redisUrl);
    });
    after(async () => {
      await s?.service.close();
    });

    test("R-A1 failed web logins for alice cannot lock alice's mail clients out: her IMAP, POP3 and SMTP logins from another source work", async () => {
      const alice = s.users.get('alice') as string;
      const attacker = `${s.base}.1.1`;
      for (let i = 0; i < PER_PAIR + 2; i++) {
        const failed = await webLogin(s.service, attacker, alice, `wrong-${i}-password`);
        assert.ok(failed.status === 401 || failed.status === 429, `attempt ${i + 1}: ${failed.status} ${failed.body}`);
      }
      // The attacker's pair (alice, its source) is throttled, right password or not, on every path.
      assert.equal((await webLogin(s.service, attacker, alice, PASSWORD)).status, 429);
      assert.match(await imapLogin(s.service, attacker, alice, PASSWORD), /^a\d+ NO \[UNAVAILABLE\] /);
      // Alice, elsewhere, is not.
      const home = `${s.base}.2.1`;
      assert.match(await imapLogin(s.service, home, alice, PASSWORD), /^a\d+ OK /);
      assert.match(await imapAuthenticate(s.service, home, alice, PASSWORD), /^a\d+ OK /);
      assert.match(await pop3Login(s.service, home, alice, PASSWORD), /^\+OK/);
      assert.equal(await smtpLogin(s.service, home, alice, PASSWORD), 'ok');
      assert.equal((await webLogin(s.service, home, alice, PASSWORD)).status, 200);
    });

    test('R-A1 the pair (account, source) is throttled after its limit; the same source still logs other accounts in', async () => {
      const bob = s.users.get('bob') as string;
      const carol = s.users.get('carol') as string;
      const source = `${s.base}.3.1`;
      for (let i = 0; i < PER_PAIR; i++) assert.match(await imapLogin(s.service, source, bob, `wrong-${i}`), /^a\d+ NO \[AUTHENTICATIONFAILED\] /);
      assert.match(await imapLogin(s.service, source, bob, PASSWORD), /^a\d+ NO \[UNAVAILABLE\] /, 'the pair is throttled');
      assert.match(await pop3Login(s.service, source, bob, PASSWORD), /^-ERR \[LOGIN-DELAY\] /, 'on POP3 too (RFC 2449 §8.1.1)');
      assert.equal(await smtpLogin(s.service, source, bob, PASSWORD), '454', 'and SMTP AUTH (454 4.7.0)');
      assert.match(await imapLogin(s.service, source, carol, PASSWORD), /^a\d+ OK /, 'another account from the same source');
      assert.match(await imapLogin(s.service, `${s.base}.3.2`, bob, PASSWORD), /^a\d+ OK /, 'bob from a neighbour');
    });

    test('R-A1 a source is throttled after its limit whatever the names it tries (unknown names count alike), its neighbours are not', async () => {
      const carol = s.users.get('carol') as string;
      const source = `${s.base}.4.1`;
      for (let i = 0; i < PER_IP; i++) {
        // Each name under its pair's limit, known or not: only the source's count reaches its limit.
        const name = i % 2 === 0 ? `ghost${i}@${s.domain}` : carol;
        const reply = await imapLogin(s.service, source, name, `wrong-${i}`);
        assert.match(reply, /^a\d+ NO \[AUTHENTICATIONFAILED\] /, `attempt ${i + 1}`);
      }
      assert.match(await imapLogin(s.service, source, s.users.get('alice') as string, PASSWORD), /^a\d+ NO \[UNAVAILABLE\] /, 'the source is throttled');
      const ghost = await webLogin(s.service, source, `nobody@${s.domain}`, 'whatever-password');
      const known = await webLogin(s.service, source, carol, PASSWORD);
      assert.equal(ghost.status, 429);
      assert.deepEqual([known.status, known.code], [ghost.status, ghost.code], 'the same answer for an unknown user and a known one');
      assert.match(await imapLogin(s.service, `${s.base}.4.2`, carol, PASSWORD), /^a\d+ OK /, 'a neighbour is not throttled yet');
    });

    test('R-A1 failures spread over a network (IPv4 /24) throttle the network, with a higher limit; another network is not', async () => {
      const bob = s.users.get('bob') as string;
      // Two failures from each of six sources of one /24: no source nor pair at its limit, the network at 12.
      for (let i = 0; i < PER_NETWORK; i++) {
        const from = `${s.base}.5.${10 + Math.floor(i / 2)}`;
        assert.match(await imapLogin(s.service, from, `ghost${i}@${s.domain}`, 'wrong'), /^a\d+ NO \[AUTHENTICATIONFAILED\] /, `attempt ${i + 1}`);
      }
      assert.match(await imapLogin(s.service, `${s.base}.5.200`, bob, PASSWORD), /^a\d+ NO \[UNAVAILABLE\] /, 'a fresh source of that network');
      assert.match(await imapLogin(s.service, `${s.base}.6.200`, bob, PASSWORD), /^a\d+ OK /, 'another network');
    });

    test('R-A1 no user enumeration: an unknown user and a wrong password get the same answer on the web and over IMAP', async () => {
      const source = `${s.base}.7.1`;
      const wrong = await webLogin(s.service, source, s.users.get('carol') as string, 'wrong-password-1');
      const unknown = await webLogin(s.service, `${s.base}.7.2`, `nobody@${s.domain}`, 'wrong-password-1');
      assert.equal(wrong.status, 401);
      const withoutInstance = (body: string) => ({ ...JSON.parse(body), instance: undefined });
      assert.deepEqual(withoutInstance(wrong.body), withoutInstance(unknown.body));
      const imapWrong = await imapLogin(s.service, source, s.users.get('carol') as string, 'wrong');
      const imapUnknown = await imapLogin(s.service, `${s.base}.7.2`, `nobody@${s.domain}`, 'wrong');
      assert.equal(imapWrong.replace(/^a\d+ /, ''), imapUnknown.replace(/^a\d+ /, ''));
    });
  });
}
