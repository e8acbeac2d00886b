/**
 * The IMAP listeners: IMAP with STARTTLS (143 in production) and IMAPS with implicit TLS (993), each a
 * plain TCP or TLS server handing every connection to an ImapConnection.
 */
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer } from 'node:tls';
import type { AppContext } from '../../context.ts';
import { type ConnectionOptions, ImapConnection } from './connection.ts';

/** How often the server looks for inactive connections (at most): one timer for all, not one per socket. */
const SWEEP_MS = 10_000;
/** At shutdown, how long a command in progress may take to finish before its connection is cut. */
const SHUTDOWN_GRACE_MS = 5_000;

export interface ImapListeners {
  imapPort: number | undefined;
  imapsPort: number | undefined;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startImap(ctx: AppContext, tls: { key: string; cert: string }): Promise<ImapListeners> {
  const log = ctx.log.child({ module: 'imap' });
  const live = new Set<ImapConnection>();
  const settings = ctx.config.mailAccess;
  const timeouts = { preauth: settings.loginTimeoutSeconds * 1000, autologout: settings.autologoutMinutes * 60_000 };
  const shared = {
    secureContext: createSecureContext({ key: tls.key, cert: tls.cert }),
    allowPlaintextOnLoopback: settings.allowPlaintextOnLoopback,
    live,
    timeouts,
  };
  const plainOptions: ConnectionOptions = { ...shared, implicitTls: false };
  const tlsOptions: ConnectionOptions = { ...shared, implicitTls: true };
  const accept = (socket: Socket, connectionOptions: ConnectionOptions) => {
    // Responses are written line by line: with Nagle's algorithm on, the tagged line waited for the
    // client's delayed ACK of the untagged ones, 40 ms per command (bench/imap).
    socket.setNoDelay(true);
    const connection = new ImapConnection(ctx, socket, connectionOptions);
    connection.greet().catch((error: unknown) => log.debug({ err: error, event: 'imap.greet_failed' }, 'imap.greet_failed'));
  };
  const plain = createServer((socket) => accept(socket, plainOptions));
  const secure = createTlsServer({ key: tls.key, cert: tls.cert }, (socket) => accept(socket, tlsOptions));
  secure.on('tlsClientError', (error) => log.debug({ err: error, event: 'imap.tls_error' }, 'imap.tls_error'));
  const servers = [plain, secure];
  const sweep = setInterval(
    () => {
      const now = performance.now();
      for (const connection of live) connection.expireIfInactive(now);
    },
    Math.min(SWEEP_MS, timeouts.preauth / 2),
  ).unref();
  const close = async () => {
    clearInterval(sweep);
    const closed = Promise.all(servers.map((server) => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()))));
    for (const connection of live) connection.stop();
    const deadline = Date.now() + SHUTDOWN_GRACE_MS;
    while (live.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const connection of live) connection.destroy();
    await closed;
  };
  try {
    const imapPort = await listen(plain, ctx.config.ports.imap, ctx.config.listenHost);
    const imapsPort = await listen(secure, ctx.config.ports.imaps, ctx.config.listenHost);
    return { imapPort, imapsPort, close };
  } catch (error) {
    await close();
    throw error;
  }
}
