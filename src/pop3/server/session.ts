/**
 * One POP3 connection: reads lines with backpressure (the socket is paused while a command runs and
 * while a response waits for the client to read it), runs each command through the registry, holds the
 * session state (RFC 1939 §3: AUTHORIZATION, TRANSACTION, UPDATE), upgrades to TLS on STLS, and ends on
 * QUIT, idle timeout or error. A session that ends without QUIT changes nothing in the maildrop.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { type SecureContext, TLSSocket } from 'node:tls';
import type { AppContext } from '../../context.ts';
import type { Logger } from '../../log/index.ts';
import { parseCommand } from '../proto/command.ts';
import { MAX_COMMAND_OCTETS, MAX_SASL_RESPONSE_OCTETS } from '../proto/limits.ts';
import { type LineEvent, LineReader } from '../proto/line-reader.ts';
import { DotStuffer, type TopFilter } from '../proto/message-stream.ts';
import { formatErr, formatOk } from '../proto/responses.ts';
import { COMMANDS } from './commands/index.ts';
import { internalError } from './errors.ts';
import type { Maildrop } from './maildrop.ts';

/** The exclusive maildrop lock of RFC 1939 §8 (`-ERR [IN-USE]` to a second session, RFC 2449 §8.1.2). */
export interface MaildropLocks {
  /** The release function, or undefined when another session holds the maildrop. */
  acquire(accountId: string, sessionId: string): Promise<(() => void) | undefined>;
}

export type SessionState = 'authorization' | 'transaction' | 'update';

/** Commands refused in a row (unknown, wrong state, bad arguments, overlong) before the server hangs up. */
export const MAX_BAD_COMMANDS = 20;

/** How long a client has to finish the TLS handshake (POP3S, or after STLS). */
export const TLS_HANDSHAKE_TIMEOUT_MS = 30_000;

/** What every session of a listener shares. */
export interface SessionEnvironment {
  ctx: AppContext;
  log: Logger;
  secureContext: SecureContext;
  locks: MaildropLocks;
  /** RFC 1939 §3: an inactivity autologout timer of at least 10 minutes. */
  idleTimeoutMs: number;
  stats: Pop3Stats;
  /** Called once when the session has ended, whatever the reason. */
  onEnd(session: Pop3Session): void;
}

export interface Pop3Stats {
  /** The largest number of octets ever queued in a socket's write buffer: bounded by backpressure. */
  peakWriteBufferBytes: number;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

export class Pop3Session {
  readonly id = `pop_${randomBytes(8).toString('hex')}`;
  log: Logger;
  readonly remoteAddress: string;
  state: SessionState = 'authorization';
  secure: boolean;
  /** The name given by USER, waiting for PASS. */
  user: string | undefined;
  account: { id: string; address: string } | undefined;
  maildrop: Maildrop | undefined;
  /** Set by AUTH while the client owes a response to a challenge (RFC 5034 §4). */
  saslContinuation: ((response: string) => Promise<void>) | undefined;
  private socket: Socket;
  private readonly reader = new LineReader(MAX_SASL_RESPONSE_OCTETS);
  private queue: LineEvent[] = [];
  private busy = false;
  private ended = false;
  private upgrading = false;
  private badCommands = 0;
  private releaseLock: (() => void) | undefined;

  constructor(
    readonly env: SessionEnvironment,
    socket: Socket,
    secure: boolean,
  ) {
    this.socket = socket;
    this.secure = secure;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.log = env.log.child({ session: this.id, ip: this.remoteAddress });
    this.attach(socket);
    this.log.debug({ event: 'pop3.connected', secure }, 'pop3.connected');
    void this.send(formatOk('Facteur POP3 server ready'));
  }

  get ctx(): AppContext {
    return this.env.ctx;
  }

  /** RFC 2595 §2.3 and the operator's setting: passwords only over TLS, or in clear on loopback when allowed. */
  loginAllowed(): boolean {
    return this.secure || (this.env.ctx.config.mailAccess.allowPlaintextOnLoopback && LOOPBACK.test(this.remoteAddress));
  }

  private attach(socket: Socket): void {
    socket.setTimeout(this.env.idleTimeoutMs);
    socket.on('data', this.onData);
    socket.on('timeout', this.onTimeout);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
  }

  private detach(socket: Socket): void {
    socket.setTimeout(0);
    socket.off('data', this.onData);
    socket.off('timeout', this.onTimeout);
    socket.off('end', this.onEnd);
    socket.off('close', this.onClose);
    socket.off('error', this.onError);
  }

  private readonly onData = (chunk: Buffer): void => {
    // Nothing more is read until every line of this chunk has been answered (and its answer taken).
    this.socket.pause();
    for (const event of this.reader.push(chunk)) this.queue.push(event);
    void this.pump();
  };

  /** RFC 1939 §3: at autologout the server closes without a response and without entering UPDATE. */
  private readonly onTimeout = (): void => {
    this.log.info({ event: 'pop3.idle_timeout', state: this.state }, 'pop3.idle_timeout');
    this.end();
  };

  private readonly onEnd = (): void => this.end();
  private readonly onClose = (): void => this.end();
  private readonly onError = (error: Error): void => {
    this.log.debug({ event: 'pop3.socket_error', err: error }, 'pop3.socket_error');
    this.end();
  };

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (!this.ended && !this.upgrading && this.queue.length > 0) {
        await this.handle(this.queue.shift() as LineEvent);
      }
    } catch (error) {
      this.log.error({ event: 'pop3.session_failed', err: error, state: this.state }, 'pop3.session_failed');
      this.end();
    } finally {
      this.busy = false;
    }
    if (this.ended) return;
    if (this.upgrading) this.upgrade();
    else this.socket.resume();
  }

  private async handle(event: LineEvent): Promise<void> {
    const continuation = this.saslContinuation;
    if (continuation) {
      this.saslContinuation = undefined;
      if (event.kind === 'overlong') return this.refuse(formatErr('Authentication response too long'));
      return continuation(event.line.toString('latin1'));
    }
    if (event.kind === 'overlong' || event.line.length + 2 > MAX_COMMAND_OCTETS) {
      return this.refuse(formatErr(`Command line too long (at most ${MAX_COMMAND_OCTETS} octets)`));
    }
    const parsed = parseCommand(event.line);
    if (!parsed.ok) {
      const why = { nul: 'NUL octets are not allowed', encoding: 'Invalid UTF-8', keyword: 'Unknown command' }[parsed.reason];
      return this.refuse(formatErr(why));
    }
    const { command } = parsed;
    const spec = COMMANDS.get(command.name);
    if (!spec) return this.refuse(formatErr('Unknown command'));
    if (!spec.states.includes(this.state)) return this.refuse(formatErr(`${command.name} is not valid in this state`));
    if (command.args.length < spec.minArgs || command.args.length > spec.maxArgs) {
      return this.refuse(formatErr(`Wrong number of arguments for ${command.name}`));
    }
    this.badCommands = 0;
    await spec.run(this, command);
  }

  /** A refused command; past MAX_BAD_COMMANDS in a row, the client is not speaking POP3 and is let go. */
  async refuse(reply: string): Promise<void> {
    this.badCommands++;
    await this.send(reply);
    if (this.badCommands >= MAX_BAD_COMMANDS) {
      this.log.info({ event: 'pop3.too_many_errors' }, 'pop3.too_many_errors');
      await this.send(formatErr('Too many bad commands, closing'));
      this.close();
    }
  }

  /** Writes and waits while the client has not taken what was written before (backpressure). */
  async send(data: string | Buffer): Promise<void> {
    if (this.ended) return;
    const socket = this.socket;
    const flushed = socket.write(data);
    const stats = this.env.stats;
    if (socket.writableLength > stats.peakWriteBufferBytes) stats.peakWriteBufferBytes = socket.writableLength;
    if (flushed) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }

  /**
   * A multi-line response carrying a message (RETR, TOP): read from the store one chunk at a time,
   * byte-stuffed, each chunk written only once the previous one has been taken. If the content cannot
   * be read after +OK was sent, the connection is dropped (a truncated response is never terminated).
   */
  async sendMessage(status: string, content: Readable, top?: TopFilter): Promise<void> {
    const stuffer = new DotStuffer();
    try {
      await this.send(formatOk(status));
      for await (const chunk of content as AsyncIterable<Buffer>) {
        if (this.ended) return;
        const part = top ? top.push(chunk) : chunk;
        if (part.length > 0) await this.send(stuffer.push(part));
        if (top?.done) break;
      }
    } finally {
      content.destroy();
    }
    await this.send(stuffer.end());
  }

  /** An unexpected failure of a command: logged with a reference the client is given. */
  async failed(error: unknown, event: string): Promise<void> {
    const mapped = internalError();
    this.log.error({ event, err: error, code: mapped.code }, event);
    await this.send(mapped.reply);
  }

  /**
   * The maildrop is open and locked: TRANSACTION state (RFC 1939 §4). False when the session ended
   * while the lock was being taken: the lock is given back at once (a Redis lock would otherwise be
   * renewed for ever by nobody's session).
   */
  enterTransaction(account: { id: string; address: string }, maildrop: Maildrop, release: () => void): boolean {
    if (this.ended) {
      release();
      return false;
    }
    this.account = account;
    this.maildrop = maildrop;
    this.releaseLock = release;
    this.state = 'transaction';
    this.log = this.log.child({ account: account.id });
    return true;
  }

  enterUpdate(): void {
    this.state = 'update';
  }

  /** STLS accepted: what the client sent after it, still in clear, is dropped (RFC 2595 §4). */
  requestUpgrade(): void {
    this.upgrading = true;
  }

  private upgrade(): void {
    this.queue = [];
    this.reader.reset();
    const raw = this.socket;
    this.detach(raw);
    raw.on('error', () => {}); // the TLS socket reports the errors from here on
    const secure = new TLSSocket(raw, { isServer: true, secureContext: this.env.secureContext });
    const timer = setTimeout(() => {
      this.log.info({ event: 'pop3.tls_timeout' }, 'pop3.tls_timeout');
      secure.destroy();
    }, TLS_HANDSHAKE_TIMEOUT_MS);
    secure.once('secure', () => {
      clearTimeout(timer);
      this.log.debug({ event: 'pop3.stls', protocol: secure.getProtocol() }, 'pop3.stls');
    });
    secure.once('close', () => clearTimeout(timer));
    this.socket = secure;
    this.secure = true;
    this.upgrading = false;
    this.user = undefined;
    this.attach(secure);
  }

  /** QUIT: closes after what was written has been sent. */
  close(): void {
    if (this.ended) return;
    this.socket.end();
    this.finish();
  }

  /** Any other end: the socket is dropped, the maildrop left as it was. */
  end(): void {
    if (this.ended) return;
    this.socket.destroy();
    this.finish();
  }

  private finish(): void {
    this.ended = true;
    this.queue = [];
    this.saslContinuation = undefined;
    this.releaseLock?.();
    this.releaseLock = undefined;
    this.log.debug({ event: 'pop3.disconnected', state: this.state }, 'pop3.disconnected');
    this.env.onEnd(this);
  }
}
