/**
 * The IMAP server as its own `facteur serve` process, so that its memory is read from outside
 * (/proc/PID/status VmRSS), and raw clients that push large literals at it (the IMAP memory tests).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { killHard, startServe } from './cli.ts';
import { setupMailAccount } from './client.ts';
import { RawImap } from './imap.ts';
import { freePort } from './ports.ts';
import { startTestService, type TestService } from './service.ts';

export const MB = 1024 * 1024;

export interface ImapProcess {
  service: TestService;
  child: ChildProcess;
  port: number;
  user: string;
  password: string;
  close(): Promise<void>;
}

/** A test service with one account, and `facteur serve` with the imap role alone on its data. */
export async function startImapProcess(user: string, password: string): Promise<ImapProcess> {
  const service = await startTestService();
  await setupMailAccount(service, 'Flood', { address: user, password });
  const port = await freePort();
  const imapsPort = await freePort();
  const child = await startServe(
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
  return {
    service,
    child,
    port,
    user,
    password,
    async close() {
      await killHard(child);
      await service.close();
    },
  };
}

export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** Samples the process's RSS every 25 ms until `stop`; gives the baseline and the peak. */
export function sampleRss(pid: number): { stop(): Promise<{ baseline: number; peak: number }> } {
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
export async function startProbe(server: ImapProcess): Promise<{ stop(): Promise<number[]> }> {
  const imap = await RawImap.open(server.port);
  assert.match((await imap.command(`LOGIN ${server.user} ${server.password}`, 'p0')).tagged, /^p0 OK /);
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
export async function writeMessage(socket: Socket, size: number): Promise<void> {
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

export interface Flooder {
  socket: Socket;
  output(): string;
  closed: Promise<void>;
}

export async function openRaw(port: number): Promise<Flooder> {
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

export async function waitFor(flooder: Flooder, pattern: RegExp, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(flooder.output())) {
    if (Date.now() > deadline) throw new Error(`no ${pattern} in ${JSON.stringify(flooder.output().slice(-300))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
