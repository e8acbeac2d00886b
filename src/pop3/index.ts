/**
 * The POP3 listeners (R-M3): RFC 1939 with UIDL and TOP, CAPA (RFC 2449), STLS (RFC 2595) and SASL
 * PLAIN (RFC 5034) over the mailstore's INBOX. Port `ports.pop3` speaks in clear until STLS (110 in
 * production), `ports.pop3s` is TLS from the first byte (995). proto/ is pure syntax; server/ holds the
 * session, the commands and the maildrop lock.
 *
 * Choices: a message retrieved whole (RETR, not TOP) is marked \Seen at QUIT, with the deletions, so
 * IMAP shows it read and a dropped connection changes nothing. UIDL is `<UIDVALIDITY>.<UID>` of INBOX.
 */
import { createServer, type Server } from 'node:net';
import { createSecureContext, createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import type { AppContext } from '../context.ts';
import { type MaildropLocks, Pop3Session, type Pop3Stats, type SessionEnvironment, TLS_HANDSHAKE_TIMEOUT_MS } from './server/session.ts';

export type { MaildropLocks, Pop3Stats } from './server/session.ts';

/** RFC 1939 §3: the autologout timer must be at least 10 minutes. */
export const IDLE_TIMEOUT_MS = 10 * 60_000;

export interface Pop3Listeners {
  /** Port with STLS, as bound (a configured 0 resolves to a real port). */
  pop3Port: number;
  /** Port with implicit TLS. */
  pop3sPort: number;
  /** Figures for tests and metrics. */
  stats(): Pop3Stats & { sessions: number };
  close(): Promise<void>;
}

export interface Pop3Options {
  /** Tests shorten it; production keeps RFC 1939's 10 minutes. */
  idleTimeoutMs?: number;
  /** The maildrop lock; in-process by default (the seam for a shared lock between nodes). */
  locks?: MaildropLocks;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

export async function startPop3(ctx: AppContext, tls: { key: string; cert: string }, options: Pop3Options = {}): Promise<Pop3Listeners> {
  const log = ctx.log.child({ module: 'pop3' });
  const sessions = new Set<Pop3Session>();
  const stats: Pop3Stats = { peakWriteBufferBytes: 0 };
  const env: SessionEnvironment = {
    ctx,
    log,
    secureContext: createSecureContext({ key: tls.key, cert: tls.cert }),
    // RFC 1939 §8: one maildrop lock for every worker and node (the shared state's).
    locks: options.locks ?? { acquire: (accountId) => ctx.shared.lock(`pop3-maildrop:${accountId}`) },
    idleTimeoutMs: options.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
    stats,
    onEnd: (session) => sessions.delete(session),
  };
  const plain = createServer((socket) => sessions.add(new Pop3Session(env, socket, false)));
  const secure: TlsServer = createTlsServer({ key: tls.key, cert: tls.cert, handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS }, (socket) =>
    sessions.add(new Pop3Session(env, socket, true)),
  );
  secure.on('tlsClientError', (error) => log.debug({ event: 'pop3.tls_failed', err: error }, 'pop3.tls_failed'));
  for (const server of [plain, secure]) server.on('error', (error) => log.warn({ event: 'pop3.listener_error', err: error }, 'pop3.listener_error'));

  const servers: Server[] = [];
  const close = async () => {
    const closed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    for (const session of [...sessions]) session.end();
    await Promise.all(closed);
  };
  try {
    servers.push(plain);
    const pop3Port = await listen(plain, ctx.config.ports.pop3, ctx.config.listenHost);
    servers.push(secure);
    const pop3sPort = await listen(secure, ctx.config.ports.pop3s, ctx.config.listenHost);
    log.info({ event: 'pop3.listening', pop3Port, pop3sPort }, 'pop3.listening');
    return { pop3Port, pop3sPort, stats: () => ({ ...stats, sessions: sessions.size }), close };
  } catch (error) {
    await close();
    throw error;
  }
}
