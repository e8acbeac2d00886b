/**
 * The SMTP listeners: MX (port 25 in production) now; submission (587 STARTTLS, 465 TLS) will be the
 * same server under another policy. Nodemailer's smtp-server speaks the protocol; the policies decide.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { AppContext } from '../../context.ts';
import { useOwnEnhancedCodes } from './enhanced-codes.ts';
import { mxHandlers } from './mx.ts';

export interface TlsCredentials {
  key: string;
  cert: string;
}

export interface SmtpListeners {
  mxPort: number;
  close(): Promise<void>;
}

/** RFC 5321 §4.5.3.2.7: a server should wait at least 5 minutes for the next command. */
const SOCKET_TIMEOUT_MS = 5 * 60_000;

function listen(server: SMTPServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.server.address() as AddressInfo).port);
    });
  });
}

export async function startSmtp(ctx: AppContext, tls: TlsCredentials): Promise<SmtpListeners> {
  useOwnEnhancedCodes();
  const log = ctx.log.child({ module: 'smtp' });
  const mx = new SMTPServer({
    name: ctx.config.hostname,
    banner: 'Facteur ESMTP',
    key: tls.key,
    cert: tls.cert,
    size: ctx.config.limits.maxMessageBytes,
    maxRecipients: ctx.config.limits.recipientsPerMessage,
    disabledCommands: ['AUTH'],
    authOptional: true,
    hideENHANCEDSTATUSCODES: false,
    hideSMTPUTF8: false,
    hide8BITMIME: false,
    hidePIPELINING: false,
    socketTimeout: SOCKET_TIMEOUT_MS,
    logger: false,
    // The client's reverse name comes from the service's one resolver, like every other lookup.
    resolver: {
      reverse: (ip: string, callback: (error: Error | null, hostnames?: string[]) => void) => {
        ctx.resolver.reverse(ip).then(
          (names) => callback(null, names),
          (error: Error) => callback(error),
        );
      },
    },
    ...mxHandlers(ctx),
  });
  mx.on('error', (error) => log.warn({ err: error, event: 'smtp.connection_error' }, 'smtp.connection_error'));
  const mxPort = await listen(mx, ctx.config.ports.mx, ctx.config.listenHost);
  return {
    mxPort,
    close: () => new Promise<void>((resolve) => mx.close(() => resolve())),
  };
}
