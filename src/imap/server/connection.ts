/**
 * One IMAP connection: bytes in through the receiver, one command at a time through the registry,
 * responses out through the writer. While a command runs the socket is paused, so a client that sends
 * faster than it reads cannot make the server buffer without bound. STARTTLS throws away whatever the
 * client sent after the command (RFC 3501 §6.2.1: no command injection across the upgrade).
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { AppContext } from '../../context.ts';
import { type Command, ImapReceiver, LITERAL_CONTINUATION_TEXT, type ReceiverEvent } from '../proto/index.ts';
import { capabilities } from './capabilities.ts';
import { type AfterResponse, bad, type CommandContext, type CommandResult } from './command.ts';
import { replyForError, serverBug } from './errors.ts';
import { MAX_APPEND_BYTES, MAX_OTHER_LITERAL_BYTES } from './limits.ts';
import { registry } from './registry.ts';
import { Session } from './session.ts';
import { asciiText } from './text.ts';
import { announceChanges } from './updates.ts';
import { type OutputChunk, ResponseWriter } from './writer.ts';

/** RFC 3501 §5.4: an authenticated client is logged out after at least 30 minutes of inactivity. */
const AUTOLOGOUT_MS = 30 * 60_000;
/** Before login, a silent client is dropped sooner. */
const PREAUTH_TIMEOUT_MS = 2 * 60_000;
/** Failed commands in a row before the connection is closed (a client sending garbage in a loop). */
const MAX_BAD_COMMANDS = 20;

export interface ConnectionOptions {
  secureContext: import('node:tls').SecureContext;
  /** Port with implicit TLS (IMAPS): the socket is already a TLSSocket. */
  implicitTls: boolean;
  /** Setting mailAccess.allowPlaintextOnLoopback. */
  allowPlaintextOnLoopback: boolean;
}

export class ImapConnection {
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
  private readonly onData = (chunk: Buffer) => this.receive(chunk);

  constructor(
    readonly app: AppContext,
    private socket: Socket,
    readonly options: ConnectionOptions,
  ) {
    const id = randomBytes(6).toString('hex');
    this.session = new Session(id, socket.remoteAddress ?? '', options.implicitTls);
    this.writer = new ResponseWriter(socket);
    this.attach(socket);
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

  private attach(socket: Socket): void {
    socket.on('data', this.onData);
    socket.on('error', (error) => this.log.debug({ err: error, event: 'imap.socket_error' }, 'imap.socket_error'));
    socket.on('close', () => this.shutdown());
    socket.setTimeout(PREAUTH_TIMEOUT_MS, () => void this.timeout());
  }

  private async timeout(): Promise<void> {
    await this.writer.line('* BYE Autologout; idle for too long').catch(() => {});
    this.socket.end();
  }

  private receive(chunk: Buffer): void {
    this.receiver.push(chunk);
    const waiter = this.inputWaiter;
    this.inputWaiter = undefined;
    if (waiter) waiter();
    else void this.pump();
  }

  /**
   * The next line the client sends, outside the command syntax (AUTHENTICATE responses, IDLE's DONE).
   * Resolves with null when the connection closes first.
   */
  async readLine(): Promise<Buffer | null> {
    return (await this.readLineUnless(undefined)) ?? null;
  }

  /**
   * `readLine`, but resolves with undefined as soon as `woken()` is true, checked at the start and after
   * each `wake()` (IDLE waits for DONE or a change with one pending promise, not a race per change).
   */
  async readLineUnless(woken: (() => boolean) | undefined): Promise<Buffer | null | undefined> {
    this.receiver.expectLine();
    for (;;) {
      if (this.closed) return null;
      if (woken?.()) return undefined;
      const event = this.receiver.next();
      if (event?.type === 'line') return event.line;
      if (event) {
        // Only lines come in line mode; anything else is a receiver limit (an overlong line).
        if (event.type === 'error') await this.writer.line(`${event.tag ?? '*'} ${event.status} ${event.message}`);
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

  /** Wakes a `readLineUnless` waiting for input, so that it checks its condition. */
  wake(): void {
    const waiter = this.inputWaiter;
    this.inputWaiter = undefined;
    waiter?.();
  }

  /** Handles every complete event; the socket stays paused while a command runs. */
  private async pump(): Promise<void> {
    if (this.busy || this.closed) return;
    this.busy = true;
    this.socket.pause();
    try {
      for (;;) {
        if (this.closed) return;
        const event = this.receiver.next();
        if (!event) break;
        // Commands directly: one async frame less held by each connection in IDLE.
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
        return; // a line nobody asked for (cannot happen: line mode is only set by readLine)
      case 'error':
        await this.writer.line(`${event.tag ?? '*'} ${event.status} ${event.code ? `[${event.code}] ` : ''}${event.message}`);
        await this.countBad();
        return;
      case 'command':
        await this.runCommand(event.command);
        return;
    }
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
    let result: CommandResult;
    if (!spec) result = bad(`Unknown command ${command.name.slice(0, 40)}`);
    else if (!spec.states.includes(this.session.state)) result = bad(`${command.name} is not allowed now`);
    else if (command.uid && !['FETCH', 'STORE', 'SEARCH', 'COPY', 'MOVE', 'EXPUNGE'].includes(command.name)) result = bad(`UID ${command.name} does not exist`);
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
    if (this.closed) return;
    if (this.session.selected && command.name !== 'LOGOUT') {
      // NOOP and CHECK are how clients poll (RFC 3501 §6.1.2): they always read the store.
      await announceChanges(this, { allowExpunge: !spec?.holdsExpunges, force: command.name === 'NOOP' || command.name === 'CHECK' });
    }
    const text = this.session.utf8 ? result.text : asciiText(result.text);
    await this.writer.line(`${command.tag} ${result.status} ${result.code ? `[${result.code}] ` : ''}${text}`);
    // The tagged BAD first, then the BYE when it was one too many.
    if (result.status === 'BAD') await this.countBad();
    else this.badCommands = 0;
    if (this.closed) return;
    for (const action of afterActions) await action();
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
    this.socket.setTimeout(AUTOLOGOUT_MS);
  }

  /**
   * RFC 3501 §6.2.1: after the tagged OK, TLS starts on the same socket. Bytes the client sent after
   * STARTTLS (before the handshake) are thrown away with the old receiver.
   */
  async startTls(): Promise<void> {
    this.socket.off('data', this.onData);
    this.receiver = newReceiver();
    const secure = new TLSSocket(this.socket, { isServer: true, secureContext: this.options.secureContext });
    this.socket = secure;
    this.writer.replaceSocket(secure);
    this.session.secure = true;
    this.attach(secure);
    secure.setTimeout(PREAUTH_TIMEOUT_MS);
  }

  logout(): void {
    this.socket.end();
    this.shutdown();
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
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
