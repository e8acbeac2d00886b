/**
 * "The Internet" for delivery tests: a receiving smtp-server on loopback whose port the service uses
 * for every MX (`delivery.smtpPort`); it keeps what it received, and refuses the recipients a test
 * names with the reply code it gives.
 */
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { SMTPServer } from 'smtp-server';

export interface RemoteMessage {
  from: string;
  to: string[];
  data: string;
}

export interface RemoteMx {
  port: number;
  received: RemoteMessage[];
  /** Recipient → RCPT TO reply code (4xx defers, 5xx bounces). */
  refuse: Map<string, number>;
  close(): Promise<void>;
}

export async function startRemoteMx(): Promise<RemoteMx> {
  const received: RemoteMessage[] = [];
  const refuse = new Map<string, number>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const code = refuse.get(address.address);
      if (!code) return callback();
      callback(Object.assign(new Error(code >= 500 ? '5.1.1 No such user here' : '4.3.0 Try again later'), { responseCode: code }));
    },
    onData(stream, session, callback) {
      void text(stream).then((data) => {
        received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), data });
        callback();
      }, callback);
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.server.address() as AddressInfo).port,
    received,
    refuse,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
