/**
 * One IMAP connection: bytes in through the receiver, one command at a time through the registry,
 * responses out through the writer. While a command runs the socket is paused, so a client that sends
 * faster than it reads cannot make the server buffer without bound. STARTTLS throws away whatever the
 * client sent after the command (RFC 3501 §6.2.1: no command injection across the upgrade).
 *
 * A connection at rest holds no pending promise, timer or closure of its own: IDLE is a state of the
 * connection rather than a command awaiting DONE, the socket's listeners are shared functions, and
 * the server sweeps its connections for inactivity instead of a timer per socket. That is what lets
 * one process hold 10,000 IDLE sessions (bench/imap).
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { AppContext } from '../../context.ts';
import { type Command, ImapReceiver, LITERAL_CONTINUATION_TEXT, type ReceiverEvent } from '../proto/index.ts';
import { capabilities } from './capabilities.ts';
import { type AfterResponse, bad, CONTINUES, type CommandContext, type CommandResult, type Continues } from './command.ts';
import { replyForError, serverBug } from './errors.ts';
import { MAX_APPEND_BYTES, MAX_OTHER_LITERAL_BYTES } from './limits.ts';
import { registry } from './registry.ts';
import type { ChangeWaker } from './selected.ts';
import { Session } from './session.ts';
import { asciiText } from './text.ts';
import { announceChanges } from './updates.ts';
import { type OutputChunk, ResponseWriter } from './writer.ts';

/** Failed commands in a row before the connection is closed (a client sending garbage in a loop). */
const MAX_BAD_COMMANDS = 20;

/** What the connections of one listener share (one object per listener, not per connection). */
export interface ConnectionOptions {
  secureContext: import('node:tls').SecureContext;
  /** Port with implicit TLS (IMAPS): the socket is already a TLSSocket. */
  implicitTls: boolean;
  /** Setting mailAccess.allowPlaintextOnLoopback. */
  allowPlaintextOnLoopback: boolean;
  /** The server's open connections: a connection is in it from its start to its close. */
  live: Set<ImapConnection>;
  /** Inactivity limits in milliseconds: before login, and once logged in (RFC 3501 §5.4, at least 30 minutes). */
  timeouts: { preauth: number; autologout: number };
}

/** The connection a socket belongs to, so that the socket's listeners can be shared functions. */
const CONNECTION = Symbol('imap.connection');
type ConnectionSocket = Socket & { [CONNECTION]?: ImapConnection };

function onSocketData(this: ConnectionSocket, chunk: Buffer): void {
  this[CONNECTION]?.receive(chunk);
}
function onSocketClose(this: ConnectionSocket): void {
  this[CONNECTION]?.shutdown();
}
function onSocketError(this: ConnectionSocket, error: Error): void {
  this[CONNECTION]?.socketError(error);
}

export class ImapConnection implements ChangeWaker {
  readonly session: Session;
  private receiver = newReceiver();
  private readonly writer: ResponseWriter;
  /** Made at first use: most connections never log, and a child logger per connection cost memory (10,000 IDLE). */
  private logger: Logger | undefined;
  private busy = false;
  private closed = false;
  private badCommands = 0;
  /** Wakes a command waiting for more input (`readLine`). */
  private inputWaiter: (() => void) | undefined;
  /** When the client last sent something (performance.now()); the server's sweep compares it to the limit. */
  private lastInputAt = performance.now();
  private timeoutMs: number;
  /** The inactivity limit passed: BYE was sent; the next sweep destroys a socket that did not close. */
  private expired = false;
  /** RFC 2177: the tag of the IDLE in progress; its tagged response comes when the client sends DONE. */
  private idleTag: string | undefined;
  /** The change feed reported a change of the selected folder during IDLE, not yet told. */
  private idleNews = false;
  /** The server is stopping: BYE as soon as no command is in progress. */
  private stopping = false;

  constructor(
    readonly app: AppContext,
    private socket: Socket,
    readonly options: ConnectionOptions,
  ) {
    const id = randomBytes(6).toString('hex');
    this.session = new Session(id, socket.remoteAddress ?? '', options.implicitTls);
    this.writer = new ResponseWriter(socket);
    this.timeoutMs = options.timeouts.preauth;
    this.attach(socket);
    options.live.add(this);
  }

  private get log(): Logger {
    this.logger ??= this.app.log.child({ module: 'imap', connection: this.session.id });
    return this.logger;
  }

  get plaintextLoginAllowed(): boolean {
    if (this.session.secure) return true;
    const ip = this.session.remoteAddress.replace(/^::ffff:/, '');
    return this.options.allowPlaintextOnLoopback && (ip === '127.0.0.1' || ip === '::1');
  }

  async greet(): Promise<void> {
    await this.writer.line(`* OK [CAPABILITY ${capabilities(this).join(' ')}] Facteur IMAP4rev1 ready`);
  }

  private attach(socket: ConnectionSocket): void {
    socket[CONNECTION] = this;
    socket.on('data', onSocketData);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
  }

  socketError(error: Error): void {
    this.log.debug({ err: error, event: 'imap.socket_error' }, 'imap.socket_error');
  }

  /**
   * Called by the server's sweep. RFC 3501 §5.4: the limit counts from the client's last input, or
   * from the last response bytes written (a long FETCH to a slow client is not inactivity).
   */
  expireIfInactive(now: number): void {
    if (this.closed) return;
    if (this.expired) {
      this.socket.destroy();
      return;
    }
    if (now - Math.max(this.lastInputAt, this.writer.lastWriteAt) < this.timeoutMs) return;
    this.expired = true;
    if (this.busy) {
      // A response is stuck half written (the client stopped reading): a BYE would land inside it.
      this.socket.destroy();
      return;
    }
    // Not awaited: a client that stopped reading must not keep the connection open.
    this.writer.line('* BYE Autologout; idle for too long').catch(() => {});
    this.socket.end();
  }

  /** Bytes from the socket (through `onSocketData`). */
  receive(chunk: Buffer): void {
    this.lastInputAt = performance.now();
    this.receiver.push(chunk);
    const waiter = this.inputWaiter;
    this.inputWaiter = undefined;
    if (waiter) waiter();
    else void this.pump();
  }

  /**
   * The next line the client sends, outside the command syntax (AUTHENTICATE responses). Resolves with
   * null when the connection closes first.
   */
  async readLine(): Promise<Buffer | null> {
    this.receiver.expectLine();
    for (;;) {
      if (this.closed) return null;
      const event = this.receiver.next();
      if (event?.type === 'line') return event.line;
      if (event) {
        // Only lines come in line mode; anything else is a receiver limit (an overlong line).
        if (event.type === 'error') await this.writeReceiverError(event);
        this.receiver.expectLine();
        continue;
      }
      await new Promise<void>((resolve) => {
        this.inputWaiter = resolve;
        this.socket.resume();
      });
      this.socket.pause();
    }
  }

  /**
   * RFC 2177: IDLE goes on as a state of the connection. Lines that come now are IDLE's end (DONE);
   * the selected folder wakes the connection when the change feed reports a change of it.
   */
  startIdle(tag: string): void {
    this.idleTag = tag;
    this.receiver.expectLine();
    const selected = this.session.selected;
    if (!selected) return;
    selected.waker = this;
    // A change the feed reported while IDLE's first report was being written.
    this.idleNews = selected.changedSinceSync;
  }

  selectedMailboxChanged(): void {
    if (this.idleTag === undefined) return;
    this.idleNews = true;
    void this.pump();
  }

  private async endIdle(line: Buffer): Promise<void> {
    const tag = this.idleTag as string;
    this.idleTag = undefined;
    this.idleNews = false;
    if (this.session.selected) this.session.selected.waker = undefined;
    const done = line.toString('latin1').toUpperCase() === 'DONE';
    await this.finishCommand(tag, 'IDLE', done ? { status: 'OK', text: 'IDLE terminated' } : bad('Expected DONE'));
  }

  /** Handles every complete event; the socket stays paused while a command runs. */
  private async pump(): Promise<void> {
    if (this.busy || this.closed) return;
    this.busy = true;
    this.socket.pause();
    try {
      for (;;) {
        if (this.closed) return;
        if (this.idleNews && this.idleTag !== undefined) {
          this.idleNews = false;
          await this.announceSafely({ allowExpunge: true, force: true });
          continue;
        }
        if (this.stopping) {
          this.sayShutdown();
          return;
        }
        const event = this.receiver.next();
        if (!event) break;
        if (event.type === 'command') await this.runCommand(event.command);
        else await this.handle(event);
      }
    } catch (error) {
      this.log.error({ err: error, event: 'imap.connection_failed' }, 'imap.connection_failed');
      this.socket.destroy();
    } finally {
      this.busy = false;
      if (!this.closed) this.socket.resume();
    }
  }

  private async handle(event: ReceiverEvent): Promise<void> {
    switch (event.type) {
      case 'continue':
        await this.writer.line(`+ ${LITERAL_CONTINUATION_TEXT}`);
        return;
      case 'line':
        // Line mode is only set by IDLE here (AUTHENTICATE reads its lines itself).
        if (this.idleTag !== undefined) await this.endIdle(event.line);
        return;
      case 'error':
        await this.writeReceiverError(event);
        if (this.idleTag !== undefined)
          this.receiver.expectLine(); // an overlong line during IDLE: still waiting for DONE
        else await this.countBad();
        return;
      case 'command':
        await this.runCommand(event.command);
        return;
    }
  }

  /**
   * The untagged news of the selected folder; a failure to read the store (or to claim \Recent) is
   * logged and the news wait for the next chance, the session goes on.
   */
  private async announceSafely(options: { allowExpunge: boolean; force?: boolean }): Promise<void> {
    try {
      await announceChanges(this, options);
    } catch (error) {
      this.log.error({ err: error, event: 'imap.announce_failed' }, 'imap.announce_failed');
    }
  }

  private writeReceiverError(event: Extract<ReceiverEvent, { type: 'error' }>): Promise<void> {
    return this.writer.line(`${event.tag ?? '*'} ${event.status} ${event.code ? `[${event.code}] ` : ''}${event.message}`);
  }

  private async countBad(): Promise<void> {
    if (++this.badCommands < MAX_BAD_COMMANDS) return;
    await this.writer.line('* BYE Too many invalid commands');
    this.socket.end();
    this.shutdown();
  }

  private async runCommand(command: Command): Promise<void> {
    const spec = registry.get(command.name);
    const afterActions: AfterResponse[] = [];
    let result: CommandResult | Continues;
    if (!spec) result = bad(`Unknown command ${command.name.slice(0, 40)}`);
    else if (!spec.states.includes(this.session.state)) result = bad(`${command.name} is not allowed now`);
    else if (command.uid && !['FETCH', 'STORE', 'SEARCH', 'SORT', 'THREAD', 'COPY', 'MOVE', 'EXPUNGE'].includes(command.name))
      result = bad(`UID ${command.name} does not exist`);
    else {
      const ctx = this.contextFor(command, afterActions);
      try {
        result = await spec.run(ctx);
      } catch (error) {
        const mapped = replyForError(error, this.session);
        if (mapped) result = mapped;
        else {
          const correlationId = randomBytes(4).toString('hex');
          this.log.error({ err: error, event: 'imap.command_failed', command: command.name, correlationId }, 'imap.command_failed');
          result = serverBug(correlationId, this.session);
        }
      }
    }
    if (result.status === CONTINUES.status) return;
    await this.finishCommand(command.tag, command.name, result, spec?.holdsExpunges);
    if (this.closed) return;
    for (const action of afterActions) await action();
  }

  /** The untagged news the command may carry (RFC 3501 §7), then its tagged response. */
  private async finishCommand(tag: string, name: string, result: CommandResult, holdsExpunges = false): Promise<void> {
    if (this.closed) return;
    if (this.session.selected && name !== 'LOGOUT') {
      // NOOP and CHECK are how clients poll (RFC 3501 §6.1.2): they always read the store.
      await this.announceSafely({ allowExpunge: !holdsExpunges, force: name === 'NOOP' || name === 'CHECK' });
    }
    const text = this.session.utf8 ? result.text : asciiText(result.text);
    await this.writer.line(`${tag} ${result.status} ${result.code ? `[${result.code}] ` : ''}${text}`);
    // The tagged BAD first, then the BYE when it was one too many.
    if (result.status === 'BAD') await this.countBad();
    else this.badCommands = 0;
  }

  private contextFor(command: Command, afterActions: AfterResponse[]): CommandContext {
    return new ConnectionCommandContext(this, command, afterActions);
  }

  async writeUntagged(chunks: OutputChunk[]): Promise<void> {
    await this.writer.write([Buffer.from('* '), ...chunks, Buffer.from('\r\n')]);
  }

  /** Chunks already framed as whole responses (several untagged lines in one socket write). */
  writeChunks(chunks: OutputChunk[]): Promise<void> {
    return this.writer.write(chunks);
  }

  writeLine(text: string): Promise<void> {
    return this.writer.line(text);
  }

  /** Called once the client is logged in: the longer RFC 3501 §5.4 timeout applies. */
  loggedIn(): void {
    this.timeoutMs = this.options.timeouts.autologout;
  }

  /**
   * RFC 3501 §6.2.1: after the tagged OK, TLS starts on the same socket. Bytes the client sent after
   * STARTTLS (before the handshake) are thrown away with the old receiver.
   */
  async startTls(): Promise<void> {
    this.socket.off('data', onSocketData);
    this.receiver = newReceiver();
    const secure = new TLSSocket(this.socket, { isServer: true, secureContext: this.options.secureContext });
    this.socket = secure;
    this.writer.replaceSocket(secure);
    this.session.secure = true;
    this.attach(secure);
  }

  logout(): void {
    this.socket.end();
    this.shutdown();
  }

  /**
   * The server stops (RFC 3501 §7.1.5): the command in progress is answered (its commit finishes),
   * then BYE and close; a connection between commands (IDLE included) gets its BYE at once.
   */
  stop(): void {
    if (this.closed || this.stopping) return;
    this.stopping = true;
    if (!this.busy) this.sayShutdown();
  }

  private sayShutdown(): void {
    this.writer.line('* BYE Server shutting down').catch(() => {});
    this.socket.end();
  }

  /** Closes the connection at once (the server stops and the connection did not close in time). */
  destroy(): void {
    this.socket.destroy();
    this.shutdown();
  }

  /** The socket closed (through `onSocketClose`), or the session ended. */
  shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.options.live.delete(this);
    this.session.selected?.release();
    const waiter = this.inputWaiter;
    this.inputWaiter = undefined;
    waiter?.();
  }
}

/** A command's context: methods on the prototype, not closures per command (an IDLE holds its context for hours). */
class ConnectionCommandContext implements CommandContext {
  constructor(
    readonly connection: ImapConnection,
    readonly command: Command,
    private readonly afterActions: AfterResponse[],
  ) {}

  get app(): AppContext {
    return this.connection.app;
  }

  get session(): Session {
    return this.connection.session;
  }

  get args(): Command['args'] {
    return this.command.args;
  }

  untagged(text: string): Promise<void> {
    return this.connection.writeLine(`* ${text}`);
  }

  untaggedChunks(chunks: OutputChunk[]): Promise<void> {
    return this.connection.writeUntagged(chunks);
  }

  continuation(text: string): Promise<void> {
    return this.connection.writeLine(`+ ${text}`);
  }

  after(action: AfterResponse): void {
    this.afterActions.push(action);
  }

  readLine(): Promise<Buffer | null> {
    return this.connection.readLine();
  }
}

function maxLiteralBytes(name: string): number {
  return name === 'APPEND' ? MAX_APPEND_BYTES : MAX_OTHER_LITERAL_BYTES;
}

function newReceiver(): ImapReceiver {
  return new ImapReceiver({ literalMode: 'literal+', maxLiteralBytes });
}
