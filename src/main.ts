/**
 * Composition root: config -> context -> first-start setup -> listeners and jobs. `startService`
 * returns a handle whose `close` stops everything in order (listeners, jobs, running operations,
 * database), so SIGTERM and tests shut down cleanly.
 */
import type { AddressInfo } from 'node:net';
import type { Api } from './api/index.ts';
import type { Config } from './config/index.ts';
import { type AppContext, type ContextOptions, createContext } from './context.ts';
import { recoverInterruptedOperations, settleOperations } from './operations/index.ts';
import { checkKeyring, resealSecrets, scrubFreedSecrets } from './store/index.ts';
import { ensureOperator, seedDefaultClasses } from './tenancy/index.ts';
import { ensureTlsCredentials, type TlsCredentials } from './tls/index.ts';

export interface Service {
  ctx: AppContext;
  api: Api | undefined;
  /** The HTTP base URL actually bound (port 0 resolves to a real port). */
  httpUrl: string | undefined;
  /** The HTTP port actually bound, when the web role runs. */
  httpPort: number | undefined;
  /** The MX port actually bound, when the mx role runs. */
  mxPort: number | undefined;
  /** The submission ports actually bound (STARTTLS, implicit TLS), when the submission role runs. */
  submissionPort: number | undefined;
  submissionsPort: number | undefined;
  /** The IMAP ports actually bound (STARTTLS, implicit TLS), when the imap role runs. */
  imapPort: number | undefined;
  imapsPort: number | undefined;
  /** The POP3 ports actually bound (STLS, implicit TLS), when the pop3 role runs. */
  pop3Port: number | undefined;
  pop3sPort: number | undefined;
  /** Set on the very first start only: the operator login created then. */
  firstOperator: { email: string; password: string } | undefined;
  /** Key and certificate for the TLS listeners: configured, or self-signed in <dataDir>/tls. */
  tls: TlsCredentials;
  close(): Promise<void>;
}

/**
 * First start (and every start): schema (by opening the store), secrets sealed (those stored before
 * sealing existed) under keys this process has, default classes, an operator.
 */
export async function prepareData(ctx: AppContext): Promise<{ email: string; password: string } | undefined> {
  await checkKeyring(ctx.db, ctx.secrets);
  const sealed = await resealSecrets(ctx.db, ctx.secrets, { plaintextOnly: true });
  if (sealed > 0) {
    ctx.log.info({ event: 'secrets.sealed', count: sealed }, 'secrets.sealed');
    const started = Date.now();
    await scrubFreedSecrets(ctx.db, ctx.engine).then(
      () => ctx.log.info({ event: 'secrets.scrubbed', ms: Date.now() - started }, 'secrets.scrubbed'),
      (error: unknown) =>
        ctx.log.warn(
          { event: 'secrets.scrub_failed', err: error, todo: ctx.engine === 'sqlite' ? 'sqlite3 facteur.db VACUUM' : 'VACUUM FULL of the secret tables' },
          'secrets.scrub_failed',
        ),
    );
  }
  await seedDefaultClasses(ctx);
  return ensureOperator(ctx);
}

export async function startService(config: Config, options: ContextOptions = {}): Promise<Service> {
  const ctx = await createContext(config, options);
  const firstOperator = await prepareData(ctx);
  const tls = await ensureTlsCredentials({
    dataDir: config.dataDir,
    hostname: config.hostname,
    certFile: config.tls.certFile,
    keyFile: config.tls.keyFile,
    log: ctx.log,
  });
  await recoverInterruptedOperations(ctx);
  // A user's judgement (a move to or from Junk, $Junk / $NotJunk) is learnt right after its commit;
  // the filter.learn job catches up with what a crash left (filter/learning.ts).
  const learning = import('./filter/learning.ts');
  ctx.mail.judged = () => void learning.then((module) => module.scheduleLearning(ctx));
  let api: Api | undefined;
  let httpUrl: string | undefined;
  let httpPort: number | undefined;
  // A role's own modules are loaded only where it runs: the API's (Fastify, OpenAPI, every route), the
  // SMTP servers' (smtp-server, mailauth, the filter), the mail access servers' and the worker's take
  // memory another role's process has no use for (scripts/bundle.mjs gives them chunks of their own).
  if (config.roles.includes('web')) {
    const { buildApi } = await import('./api/index.ts');
    api = await buildApi(ctx);
    await api.listen({ port: config.ports.http, host: config.listenHost });
    const address = api.server.address() as AddressInfo;
    httpPort = address.port;
    const host = config.listenHost === '0.0.0.0' || config.listenHost === '::' ? '127.0.0.1' : config.listenHost;
    httpUrl = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  }
  const smtp = config.roles.includes('mx') || config.roles.includes('submission') ? await (await import('./smtp/index.ts')).startSmtp(ctx, tls) : undefined;
  const imap = config.roles.includes('imap') ? await (await import('./imap/index.ts')).startImap(ctx, tls) : undefined;
  const pop3 = config.roles.includes('pop3') ? await (await import('./pop3/index.ts')).startPop3(ctx, tls) : undefined;
  const stopScheduler = config.roles.includes('worker') ? (await import('./jobs/index.ts')).startScheduler(ctx) : () => {};
  const stopDelivery = config.roles.includes('worker') ? (await import('./delivery/index.ts')).startDeliveryWorker(ctx) : async () => {};
  ctx.log.info({ event: 'service.started', roles: config.roles, http: httpUrl, mx: smtp?.mxPort, engine: ctx.engine }, 'service.started');
  return {
    ctx,
    api,
    httpUrl,
    httpPort,
    firstOperator,
    tls,
    mxPort: smtp?.mxPort,
    submissionPort: smtp?.submissionPort,
    submissionsPort: smtp?.submissionsPort,
    imapPort: imap?.imapPort,
    imapsPort: imap?.imapsPort,
    pop3Port: pop3?.pop3Port,
    pop3sPort: pop3?.pop3sPort,
    async close() {
      const started = performance.now();
      ctx.log.info({ event: 'service.stopping' }, 'service.stopping');
      stopScheduler();
      await stopDelivery();
      // Side by side: each listener lets its sessions in progress finish within its own grace period.
      await Promise.all([smtp?.close(), imap?.close(), pop3?.close(), api?.close()]);
      await settleOperations();
      await (await learning).learningSettled(ctx);
      ctx.log.info({ event: 'service.stopped', ms: Math.round(performance.now() - started) }, 'service.stopped');
      await ctx.close();
    },
  };
}
