/**
 * `facteur serve`: starts the service with the roles configured, prints where it listens (and, at the
 * very first start, the operator login), and stops cleanly on SIGINT or SIGTERM.
 *
 * Process model (DESIGN: "one worker process per core sharing the listeners"): with `workers` above 1
 * (0, the default, is one per core) this process is a small primary that forks the workers, each a whole
 * service on the same listeners (node:cluster hands each connection to the next worker) and the same
 * data, and holds the state they share (coordination/workers.ts). The first worker prepares the data
 * (schema, secrets, classes, first operator, certificate) before the others start, so that none of them
 * races another through a first start. The primary loads neither the service nor the database: it
 * imports the composition root only in a worker, or when it serves alone.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { type Config, loadConfig } from '../config/index.ts';
// workers.ts itself, not the coordination index: the primary loads no Redis client and no database driver.
import { isWorkerProcess, startPrimaryHub, WORKER_ENV } from '../coordination/workers.ts';
import type { Service } from '../main.ts';
import { clockStartingAt } from '../shared/clock.ts';

/** Messages between the primary and a worker about its life (`facteur: 'life'`). */
type LifeMessage = { facteur: 'life'; event: 'ready'; banner: string[] } | { facteur: 'life'; event: 'stop' };

/** A worker that exits unexpectedly is started again after this, doubling up to a minute while it keeps failing. */
const RESTART_MS = 1000;

export async function serve(): Promise<void> {
  const config = loadConfig();
  const workers = config.workers === 0 ? availableParallelism() : config.workers;
  if (isWorkerProcess()) await serveAsWorker(config);
  else if (workers <= 1) await serveAlone(config);
  else await servePrimary(workers, config);
}

async function startServing(config: Config): Promise<Service> {
  const { startService } = await import('../main.ts');
  return startService(config);
}

/** One process: the service itself, stopped by a signal. */
async function serveAlone(config: Config): Promise<void> {
  const service = await startServing(config);
  process.stdout.write(`${banner(service).join('\n')}\n`);
  stopOnSignals(async (signal) => {
    process.stdout.write(`${signal}: stopping (sessions in progress finish first)\n`);
    await service.close();
    process.stdout.write('Facteur stopped\n');
  });
}

/** A worker: the service, its banner handed to the primary; stopped by the primary (or a signal to the group). */
async function serveAsWorker(config: Config): Promise<void> {
  const service = await startServing(config);
  const message: LifeMessage = { facteur: 'life', event: 'ready', banner: banner(service) };
  process.send?.(message);
  const stop = stopOnSignals(async () => {
    await service.close();
  });
  process.on('message', (received: unknown) => {
    if ((received as LifeMessage | undefined)?.facteur === 'life' && (received as LifeMessage).event === 'stop') void stop('SIGTERM');
  });
  // The primary is gone (killed): its listeners with it. Stop at once, as it did.
  process.on('disconnect', () => process.exit(1));
}

/** The primary: forks the workers one after the other, restarts one that dies, stops them all on a signal. */
async function servePrimary(count: number, config: Config): Promise<void> {
  const hub = startPrimaryHub();
  // A replayed date (clockStart) goes on in each worker from where the primary's clock is when it forks
  // it: a worker started later must not begin again at the same instant.
  const clock = config.clockStart ? clockStartingAt(Date.parse(config.clockStart)) : undefined;
  let stopping = false;
  let restartMs = RESTART_MS;
  const running = new Map<number, Worker>();

  /** A worker started and ready (its listeners bound), or the reason it is not. */
  function fork(number: number): Promise<{ worker: Worker; banner: string[] }> {
    const worker = cluster.fork({ [WORKER_ENV]: String(number), ...(clock ? { FACTEUR_CLOCK_START: new Date(clock.now()).toISOString() } : {}) });
    hub.adopt(worker);
    running.set(number, worker);
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null, signal: string | null) =>
        reject(new Error(`worker ${number} stopped while starting (${signal ?? `exit code ${code}`})`));
      worker.once('exit', onExit);
      worker.on('message', (message: unknown) => {
        const life = message as LifeMessage | undefined;
        if (life?.facteur !== 'life' || life.event !== 'ready') return;
        worker.off('exit', onExit);
        worker.once('exit', (code, signal) => {
          running.delete(number);
          if (stopping) return;
          process.stderr.write(
            `worker ${number} (pid ${worker.process.pid}) stopped (${signal ?? `exit code ${code}`}): starting it again in ${restartMs} ms\n`,
          );
          setTimeout(() => {
            if (stopping) return;
            fork(number).then(
              () => {
                restartMs = RESTART_MS;
              },
              (error: Error) => process.stderr.write(`${error.message}\n`),
            );
          }, restartMs).unref();
          restartMs = Math.min(restartMs * 2, 60_000);
        });
        resolve({ worker, banner: life.banner });
      });
    });
  }

  const stopAll = async () => {
    stopping = true;
    const message: LifeMessage = { facteur: 'life', event: 'stop' };
    await Promise.all(
      [...running.values()].map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            worker.once('exit', () => resolve());
            if (worker.isConnected()) worker.send(message);
            else worker.process.kill('SIGTERM');
          }),
      ),
    );
  };

  let first: { worker: Worker; banner: string[] };
  const pids: number[] = [];
  try {
    // The first prepares the data (a first start's operator is in its banner); the others find it done.
    first = await fork(1);
    pids.push(first.worker.process.pid as number);
    for (let n = 2; n <= count; n++) pids.push((await fork(n)).worker.process.pid as number);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    await stopAll();
    process.exit(1);
  }
  const [heading, ...rest] = first.banner;
  process.stdout.write(`${[heading, `  Workers:  ${count} processes (pids ${pids.join(', ')}), primary pid ${process.pid}`, ...rest].join('\n')}\n`);
  stopOnSignals(async (signal) => {
    process.stdout.write(`${signal}: stopping ${running.size} workers (sessions in progress finish first)\n`);
    await stopAll();
    process.stdout.write('Facteur stopped\n');
  });
}

/**
 * Stops on SIGINT or SIGTERM, once (a second signal means: do not wait for the sessions). Returns the
 * stop, for a stop asked otherwise (the primary's message to a worker), which is the same stop.
 */
function stopOnSignals(stopping: (signal: NodeJS.Signals) => Promise<void>): (signal: NodeJS.Signals) => Promise<void> {
  let stopped: Promise<void> | undefined;
  const stop = (signal: NodeJS.Signals) => {
    stopped ??= stopping(signal).then(() => process.exit(0));
    return stopped;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopped) {
      process.stderr.write(`${signal} again: stopping now\n`);
      process.exit(1);
    }
    void stop(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return stop;
}

/** What an operator needs at start: where each listener really listens, the TLS certificate, warnings. */
export function banner(service: Service): string[] {
  const { config } = service.ctx;
  const at = (port: number | undefined) => `${config.listenHost.includes(':') ? `[${config.listenHost}]` : config.listenHost}:${port}`;
  const lines = [`Facteur is running (${service.ctx.engine}, data in ${config.databaseUrl ? 'PostgreSQL' : config.dataDir}), as ${config.hostname}`];
  if (service.httpUrl) {
    lines.push(`  Web:      ${service.httpUrl}/ (portal, self-service, operator console)`);
    lines.push(`  API:      ${service.httpUrl}/api (HTTP on ${at(service.httpPort)})`, `  API docs: ${service.httpUrl}/api/docs`);
  }
  if (service.mxPort) lines.push(`  MX:       SMTP on ${at(service.mxPort)} (STARTTLS)`);
  if (service.submissionPort) {
    lines.push(`  Submit:   ${at(service.submissionPort)} (STARTTLS) and ${at(service.submissionsPort)} (TLS), AUTH PLAIN/LOGIN`);
  }
  if (service.imapPort) lines.push(`  IMAP:     ${at(service.imapPort)} (STARTTLS) and ${at(service.imapsPort)} (TLS)`);
  if (service.pop3Port) lines.push(`  POP3:     ${at(service.pop3Port)} (STLS) and ${at(service.pop3sPort)} (TLS)`);
  lines.push(
    service.tls.source === 'configured'
      ? `  TLS:      certificate from ${service.tls.certFile}`
      : `  TLS:      self-signed certificate for ${config.hostname} (sha256 ${service.tls.fingerprint256})`,
  );
  if (isLocalName(config.hostname)) {
    lines.push(
      '',
      `!!! WARNING: the host name is "${config.hostname}". Customers would be told to publish "MX 10 ${config.hostname}", and other`,
      '!!! servers cannot reach this service by that name. Set FACTEUR_HOSTNAME to the public name of this machine.',
    );
  }
  if (service.firstOperator) {
    lines.push(
      '',
      'First start: an operator login was created. Write it down, it is shown only once:',
      `  e-mail:   ${service.firstOperator.email}`,
      `  password: ${service.firstOperator.password}`,
      'Log in with POST /api/auth/login; two-factor enrolment is required at the first login.',
    );
  }
  return lines;
}

function isLocalName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost') || !name.includes('.') || /^[\d.]+$/.test(name) || name.includes(':');
}
