/**
 * The operator's first hour: `npm start` as the README says, its banner, and a stop by signal that
 * lets sessions end properly (SMTP 421, IMAP BYE) and leaves no process or port behind.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from './helpers/cli.ts';
import { freePort } from './helpers/ports.ts';
import { workerPids } from './helpers/processes.ts';

interface Started {
  npm: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function npmStart(env: NodeJS.ProcessEnv): Started {
  const npm = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  npm.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  npm.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
  return { npm, output: () => output, exited };
}

async function until(what: string, condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A raw line-based client: what the server sent so far, and a way to write. */
function lineClient(port: number): Promise<{ socket: Socket; received(): string }> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect(port, '127.0.0.1', () => resolve({ socket, received: () => received }));
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
    });
    socket.once('error', reject);
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there is none
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('npm start: one worker process per core; the banner shows where each listener listens and warns about localhost; SIGTERM to npm stops the service gracefully (SMTP 421, IMAP BYE), no process or port left', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'facteur-start-'));
  const ports = { http: await freePort(), mx: await freePort(), imap: await freePort() };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FACTEUR_DATA_DIR: dataDir,
    FACTEUR_DATABASE_URL: '',
    FACTEUR_HOSTNAME: 'localhost',
    FACTEUR_LISTEN_HOST: '127.0.0.1',
    FACTEUR_ROLES: 'web,mx,imap',
    FACTEUR_HTTP_PORT: String(ports.http),
    FACTEUR_MX_PORT: String(ports.mx),
    FACTEUR_IMAP_PORT: String(ports.imap),
    FACTEUR_IMAPS_PORT: '0',
    FACTEUR_DKIM_KEY_BITS: '1024',
    FACTEUR_LOG_LEVEL: 'info',
  };
  delete env.FACTEUR_CONFIG;
  const started = npmStart(env);
  let nodePid: number | undefined;
  try {
    await until('the banner', () => started.output().includes('two-factor enrolment'));
    const out = started.output();
    assert.match(out, new RegExp(`API: +http://127\\.0\\.0\\.1:${ports.http}/api \\(HTTP on 127\\.0\\.0\\.1:${ports.http}\\)`));
    assert.match(out, new RegExp(`MX: +SMTP on 127\\.0\\.0\\.1:${ports.mx} `));
    assert.match(out, new RegExp(`IMAP: +127\\.0\\.0\\.1:${ports.imap} \\(STARTTLS\\)`));
    assert.match(out, /WARNING: the host name is "localhost"[\s\S]*FACTEUR_HOSTNAME/);
    nodePid = childrenOf(started.npm.pid as number)[0];
    assert.ok(nodePid, 'npm runs the service as its child');
    // One worker process per core by default (a primary and its workers), one process on a single core.
    const workers = workerPids(out);
    if (availableParallelism() > 1) {
      assert.equal(workers.length, availableParallelism(), out);
      assert.deepEqual(childrenOf(nodePid).sort(), [...workers].sort(), "the workers are the primary's children");
    } else assert.deepEqual(workers, []);

    const smtp = await lineClient(ports.mx);
    await until('the SMTP greeting', () => smtp.received().startsWith('220'), 20_000);
    smtp.socket.write('EHLO client.test\r\n');
    await until('the EHLO reply', () => /\r\n250 /.test(smtp.received()), 20_000);
    const imap = await lineClient(ports.imap);
    await until('the IMAP greeting', () => imap.received().startsWith('* OK'), 20_000);

    started.npm.kill('SIGTERM');
    // IMAP (RFC 3501 §7.1.5): a session between commands is told BYE before the connection closes.
    await until('the IMAP BYE', () => imap.received().includes('* BYE Server shutting down'), 20_000);
    // SMTP (RFC 5321 §3.8): a command after the stop began is answered 421.
    smtp.socket.write('NOOP\r\n');
    await until('the SMTP 421', () => /\r\n421[ -]/.test(smtp.received()), 20_000);

    assert.equal(await started.exited, 0, started.output());
    await until('the service process to exit', () => !alive(nodePid as number), 20_000);
    for (const pid of workerPids(out)) assert.ok(!alive(pid), `worker ${pid} stopped`);
    assert.ok(await portIsFree(ports.mx), 'the MX port is free again');
    assert.ok(await portIsFree(ports.imap), 'the IMAP port is free again');
    assert.match(started.output(), /"event":"service\.stopping"/);
    assert.match(started.output(), /"event":"service\.stopped"/);
    smtp.socket.destroy();
    imap.socket.destroy();
  } finally {
    if (started.npm.exitCode === null) started.npm.kill('SIGKILL');
    if (nodePid && alive(nodePid)) process.kill(nodePid, 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
});
