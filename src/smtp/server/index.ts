/**
 * The SMTP listeners: MX (port 25 in production) and submission (587 STARTTLS, 465 TLS), the same
 * server under two policies, each started when its role runs. Nodemailer's smtp-server speaks the
 * protocol; the policies decide.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { AppContext } from '../../context.ts';
import type { RateLimiter } from '../../coordination/index.ts';
import { useAuthAfterTls } from './auth-after-tls.ts';
import { useOwnEnhancedCodes } from './enhanced-codes.ts';
import { GreetPasses, useGreetPasses } from './greet-pause.ts';
import { cachedMailauthResolver } from './lookup-cache.ts';
import { mxHandlers } from './mx.ts';
import { submissionHandlers } from './submission.ts';

export interface TlsCredentials {
  key: string;
  cert: string;
}

export interface SmtpListeners {
  /** Each bound port, undefined when its role does not run here. */
  mxPort: number | undefined;
  /** Submission with STARTTLS (587 in production). */
  submissionPort: number | undefined;
  /** Submission over implicit TLS (465 in production). */
  submissionsPort: number | undefined;
  close(): Promise<void>;
}

/** RFC 5321 §4.5.3.2.7: a server should wait at least 5 minutes for the next command. */
const SOCKET_TIMEOUT_MS = 5 * 60_000;
/** At shutdown, how long sessions may go on before they get 421 and are closed. */
const SHUTDOWN_GRACE_MS = 10_000;

function listen(server: SMTPServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.server.address() as AddressInfo).port);
    });
  });
}

export async function startSmtp(ctx: AppContext, tls: TlsCredentials, options: { limiter?: RateLimiter } = {}): Promise<SmtpListeners> {
  useOwnEnhancedCodes();
  const log = ctx.log.child({ module: 'smtp' });
  const roles = ctx.config.roles;
  const servers: SMTPServer[] = [];
  const started = async (server: SMTPServer, port: number): Promise<number> => {
    server.on('error', (error) => log.warn({ err: error, event: 'smtp.connection_error' }, 'smtp.connection_error'));
    servers.push(server);
    return listen(server, port, ctx.config.listenHost);
  };
  const close = () => Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))).then(() => {});
  try {
    const mxPort = roles.includes('mx') ? await started(mxServer(ctx, tls), ctx.config.ports.mx) : undefined;
    let submissionPort: number | undefined;
    let submissionsPort: number | undefined;
    if (roles.includes('submission')) {
      // One limiter for both ports: the counters are the user's, whichever port they send through.
      // The shared state's counters: every worker and node counts the same user's sending.
      const limiter = options.limiter ?? ctx.shared;
      submissionPort = await started(submissionServer(ctx, tls, limiter, false), ctx.config.ports.submission);
      submissionsPort = await started(submissionServer(ctx, tls, limiter, true), ctx.config.ports.submissions);
    }
    return { mxPort, submissionPort, submissionsPort, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function clientResolver(ctx: AppContext) {
  // A sending MTA opens connection after connection: its PTR name is asked once a while, not each time.
  const lookup = cachedMailauthResolver((ip) => ctx.resolver.reverse(ip), ctx.clock);
  return {
    reverse: (ip: string, callback: (error: Error | null, hostnames?: string[]) => void) => {
      lookup(ip, 'PTR').then(
        (names) => callback(null, names as string[]),
        (error: Error) => callback(error),
      );
    },
  };
}

/** What the MX and the submission listeners share: name, certificate, size, extensions, timeouts, resolver. */
function commonOptions(ctx: AppContext, tls: TlsCredentials) {
  return {
    name: ctx.config.hostname,
    key: tls.key,
    cert: tls.cert,
    size: ctx.config.limits.maxMessageBytes,
    hideENHANCEDSTATUSCODES: false,
    hideSMTPUTF8: false,
    hide8BITMIME: false,
    hidePIPELINING: false,
    socketTimeout: SOCKET_TIMEOUT_MS,
    // At shutdown a transaction in progress finishes (its commit included); a new command gets 421
    // at once, and a session still open after this long gets 421 and is closed (RFC 5321 §3.8).
    closeTimeout: SHUTDOWN_GRACE_MS,
    logger: false,
    // The client's reverse name comes from the service's one resolver, like every other lookup.
    resolver: clientResolver(ctx),
  };
}

/** Port 587 (`secure` false: STARTTLS, and AUTH only once it has run) or 465 (`secure` true: TLS from the first byte). */
function submissionServer(ctx: AppContext, tls: TlsCredentials, limiter: RateLimiter, secure: boolean): SMTPServer {
  useAuthAfterTls();
  return new SMTPServer({
    ...commonOptions(ctx, tls),
    banner: 'Facteur ESMTP submission',
    secure,
    allowInsecureAuth: false,
    authOptional: false,
    ...submissionHandlers(ctx, limiter),
  });
}

function mxServer(ctx: AppContext, tls: TlsCredentials): SMTPServer {
  useGreetPasses();
  const options: SMTPServerOptions & { greetPause: GreetPasses } = {
    ...commonOptions(ctx, tls),
    banner: 'Facteur ESMTP',
    maxRecipients: ctx.config.limits.recipientsPerMessage,
    disabledCommands: ['AUTH'],
    authOptional: true,
    // Clients that waited for the greeting once are not paused again for a day (greet-pause.ts).
    greetPause: new GreetPasses(ctx.clock),
    ...mxHandlers(ctx),
  };
  return new SMTPServer(options);
}
