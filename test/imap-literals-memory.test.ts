/**
 * IMAP literals in bounded memory (engine issue): the IMAP server runs as its own `facteur serve`
 * process, so that its RSS is read from outside (/proc/PID/status). Before login a literal larger than
 * a few kilobytes is refused before it is read (RFC 7888 §4, RFC 3501 §7.5), and APPEND streams its
 * literal to a spool on disk instead of holding it (RFC 3501 §6.3.11).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { killHard, startServe } from './helpers/cli.ts';
import { setupMailAccount } from './helpers/client.ts';
import { RawImap } from './helpers/imap.ts';
import { freePort } from './helpers/ports.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const USER = 'flood@literals.test';
const PASSWORD = 'flood-password-1';
const MB = 1024 * 1024;
const LITERAL_BYTES = 40 * MB;
let service: TestService;
let child: ChildProcess;
let port: number;

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** Samples the process's RSS every 25 ms until `stop`; gives the baseline and the peak. */
function sampleRss(pid: number): { stop(): Promise<{ baseline: number; peak: number }> } {
  let baseline = 0;
  let peak = 0;
  const first = rssBytes(pid).then((rss) => {
    baseline = rss;
    peak = Math.max(peak, rss);
  });
  const timer = setInterval(() => {
    rssBytes(pid).then(
      (rss) => {
        peak = Math.max(peak, rss);
      },
      () => {},
    );
  }, 25);
  return {
    async stop() {
      clearInterval(timer);
      await first;
      peak = Math.max(peak, await rssBytes(pid));
      return { baseline, peak };
    },
  };
}

/** A client that is served throughout: NOOP every 100 ms, each answer's delay kept. */
async function startProbe(): Promise<{ stop(): Promise<number[]> }> {
  const imap = await RawImap.open(port);
  assert.match((await imap.command(`LOGIN ${USER} ${PASSWORD}`, 'p0')).tagged, /^p0 OK /);
  const delays: number[] = [];
  let running = true;
  const loop = (async () => {
    for (let n = 1; running; n++) {
      const started = performance.now();
      assert.equal((await imap.command('NOOP', `p${n}`)).tagged, `p${n} OK NOOP completed`);
      delays.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      imap.close();
      return delays;
    },
  };
}

/** Message lines of 1000 bytes, in 64 KB blocks. */
const BLOCK = Buffer.from(`${'x'.repeat(998)}\r\n`.repeat(64));

/** Writes `size` bytes of a message to the socket with back-pressure; stops early when the server closes. */
async function writeMessage(socket: Socket, size: number): Promise<void> {
  const header = Buffer.from('From: flood@literals.test\r\nSubject: big\r\n\r\n');
  let sent = 0;
  const write = (data: Buffer) =>
    new Promise<boolean>((resolve) => {
      if (socket.destroyed || !socket.writable) return resolve(false);
      sent += data.length;
      if (socket.write(data)) return resolve(true);
      const done = (ok: boolean) => {
        socket.off('drain', onDrain);
        socket.off('close', onClose);
        resolve(ok);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      socket.on('drain', onDrain);
      socket.on('close', onClose);
    });
  if (!(await write(header))) return;
  while (sent + BLOCK.length <= size) if (!(await write(BLOCK))) return;
  if (size > sent) await write(Buffer.alloc(size - sent, 0x79));
}

interface Flooder {
  socket: Socket;
  output(): string;
  closed: Promise<void>;
}

async function openRaw(): Promise<Flooder> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    text += chunk;
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  while (!text.includes('\r\n')) await new Promise((resolve) => setTimeout(resolve, 10));
  return { socket, output: () => text, closed };
}

async function waitFor(flooder: Flooder, pattern: RegExp, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(flooder.output())) {
    if (Date.now() > deadline) throw new Error(`no ${pattern} in ${JSON.stringify(flooder.output().slice(-300))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

before(async () => {
  service = await startTestService();
  await setupMailAccount(service, 'Flood', { address: USER, password: PASSWORD });
  port = await freePort();
  const imapsPort = await freePort();
  child = await startServe(
    {
      ...process.env,
      ...service.env,
      FACTEUR_ROLES: 'imap',
      FACTEUR_IMAP_PORT: String(port),
      FACTEUR_IMAPS_PORT: String(imapsPort),
      FACTEUR_LISTEN_HOST: '127.0.0.1',
      FACTEUR_ALLOW_PLAINTEXT_LOOPBACK: 'true',
    },
    'IMAP:',
  );
});
after(async () => {
  if (child) await killHard(child);
  await service.close();
});

test('RFC 7888 §4 / RFC 3501 §7.5 30 unauthenticated connections announcing a 40 MB {n+} literal: the server grows by less than 50 MB and answers others throughout', async (t) => {
  const pid = child.pid as number;
  const probe = await startProbe();
  const sampler = sampleRss(pid);
  const flooders = await Promise.all(Array.from({ length: 30 }, () => openRaw()));
  await Promise.all(
    flooders.map(async (flooder, i) => {
      // Half push an APPEND (not valid before login), half a LOGIN whose user name is the literal.
      const announce = i % 2 === 0 ? `f${i} APPEND INBOX {${LITERAL_BYTES}+}\r\n` : `f${i} LOGIN {${LITERAL_BYTES}+}\r\n`;
      flooder.socket.write(announce);
      await writeMessage(flooder.socket, LITERAL_BYTES);
      flooder.socket.end(' x\r\n');
      await flooder.closed;
    }),
  );
  const { baseline, peak } = await sampler.stop();
  const delays = await probe.stop();
  const growth = peak - baseline;
  t.diagnostic(
    `RSS before ${Math.round(baseline / MB)} MB, peak ${Math.round(peak / MB)} MB (+${Math.round(growth / MB)} MB); probe: ${delays.length} NOOPs, slowest ${Math.round(Math.max(...delays))} ms`,
  );
  for (const [i, flooder] of flooders.entries()) {
    assert.match(flooder.output(), new RegExp(`\\r\\nf${i} BAD \\[TOOBIG\\] [^\\r]*\\r\\n\\* BYE `), `connection ${i}: BAD [TOOBIG] then BYE`);
  }
  assert.ok(growth < 50 * MB, `RSS grew by ${Math.round(growth / MB)} MB`);
  assert.ok(delays.length >= 3, 'the logged-in client was answered during the flood');
  assert.ok(Math.max(...delays) < 5000, 'no answer took more than 5 s');
});

test('RFC 3501 §6.3.11 20 concurrent 40 MB APPENDs are streamed to disk: the server grows by less than 100 MB, every message is stored', async (t) => {
  const pid = child.pid as number;
  const clients = await Promise.all(Array.from({ length: 20 }, () => openRaw()));
  for (const [i, client] of clients.entries()) {
    client.socket.write(`l${i} LOGIN ${USER} ${PASSWORD}\r\n`);
    await waitFor(client, new RegExp(`l${i} OK `));
  }
  const sampler = sampleRss(pid);
  await Promise.all(
    clients.map(async (client, i) => {
      client.socket.write(`a${i} APPEND INBOX {${LITERAL_BYTES}}\r\n`);
      await waitFor(client, /\r\n\+ /);
      await writeMessage(client.socket, LITERAL_BYTES);
      client.socket.write('\r\n');
      await waitFor(client, new RegExp(`a${i} (OK|NO|BAD) `));
      assert.match(client.output(), new RegExp(`a${i} OK \\[APPENDUID \\d+ \\d+\\] `));
      client.socket.end('z LOGOUT\r\n');
    }),
  );
  const { baseline, peak } = await sampler.stop();
  const growth = peak - baseline;
  t.diagnostic(`RSS before ${Math.round(baseline / MB)} MB, peak ${Math.round(peak / MB)} MB (+${Math.round(growth / MB)} MB) for 20 x 40 MB APPENDs`);
  const stored = await service.ctx.db.selectFrom('messages').select('size').execute();
  assert.equal(stored.filter((m) => Number(m.size) === LITERAL_BYTES).length, 20);
  assert.ok(growth < 100 * MB, `RSS grew by ${Math.round(growth / MB)} MB`);
});
