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
 *
 * Literals are decided on as they are announced, before a byte of them is read (RFC 3501 §7.5, RFC
 * 7888 §4): the command must be valid in the session's state, before login only a few kilobytes are
 * accepted, and APPEND's messages are streamed to spools on disk rather than held.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { AppContext } from '../../context.ts';
import { type Command, ImapReceiver, LITERAL_CONTINUATION_TEXT, type LiteralAnnouncement, type ReceiverError, type ReceiverEvent } from '../proto/index.ts';
import { capabilities } from './capabilities.ts';
import { type AfterResponse, bad, CONTINUES, type CommandContext, type CommandResult, type Continues, type LiteralDecision } from './command.ts';
import { replyForError, serverBug } from './errors.ts';
import {
  MAX_APPEND_BYTES,
  MAX_COMMAND_BYTES,
  MAX_DISCARDED_LITERAL_BYTES,
  MAX_OTHER_LITERAL_BYTES,
  MAX_PREAUTH_COMMAND_BYTES,
  MAX_PREAUTH_LITERAL_BYTES,
} from './limits.ts';
import { SpooledLiteral } from './literals.ts';
import { registry } from './registry.ts';
import type { ChangeWaker } from './selected.ts';
import { Session } from './session.ts';
import { asciiText } from './text.ts';
import { announceChanges } from './updates.ts';
import { type OutputChunk, ResponseWriter } from './writer.ts';

/** Failed commands in a row before the connection is closed (a client sending garbage in a loop). */
const MAX_BAD_COMMANDS = 20;
/** After a BYE for a refused literal, how long the client has to close before the socket is destroyed. */
const BYE_GRACE_MS = 2000;
/** RFC 3501 §6.4.8: the commands UID may prefix (with RFC 6851 MOVE and RFC 4315 UID EXPUNGE). */
const UID_COMMANDS = new Set(['FETCH', 'STORE', 'SEARCH', 'SORT', 'THREAD', 'COPY', 'MOVE', 'EXPUNGE']);

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
  private receiver: ImapReceiver;
  /** The literals the command being received has streamed so far; removed once it has run or was refused. */
  private spooled: SpooledLiteral[] = [];
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
    this.receiver = this.newReceiver();
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
    // Loopback is all of 127.0.0.0/8 (RFC 1122 §3.2.1.3), as in POP3.
    const ip = this.session.remoteAddress.replace(/^::ffff:/, '');
    return this.options.allowPlaintextOnLoopback && (ip.startsWith('127.') || ip === '::1');
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
    if (this.closed) return; // a BYE was sent: nothing more is read
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
        if (event.type === 'command') await this.runCommand(event.command, this.takeSpooled());
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
      case 'literal':
        await this.decideLiteral(event.announcement);
        return;
      case 'literal-data':
        await this.spooled.at(-1)?.write(event.data);
        return;
      case 'error':
        await this.disposeSpooled(this.takeSpooled());
        await this.writeReceiverError(event);
        if (event.literal && this.mustCloseFor(event.literal)) await this.closeForLiteral();
        else if (this.idleTag !== undefined)
          this.receiver.expectLine(); // an overlong line during IDLE: still waiting for DONE
        else await this.countBad();
        return;
      case 'command':
        await this.runCommand(event.command, this.takeSpooled());
        return;
    }
  }

  /**
   * RFC 3501 §7.5: a literal announced is accepted (a continuation for `{n}`) only when its command
   * may run now and the command's own checks pass (APPEND: the folder exists, the size and the quota
   * allow it); otherwise the command is answered at once and the literal never read.
   */
  private async decideLiteral(announcement: LiteralAnnouncement): Promise<void> {
    let decision: LiteralDecision;
    const spec = registry.get(announcement.commandName);
    const refusal = this.refusalFor(announcement.commandName, announcement.uid);
    if (refusal || !spec) decision = refusal ?? bad('Unknown command');
    else if (!spec.literal) decision = 'keep';
    else {
      try {
        decision = await spec.literal(this, announcement);
      } catch (error) {
        decision = this.resultOfError(error, announcement.commandName);
      }
    }
    if (this.closed) return;
    if (typeof decision === 'object') {
      this.receiver.refuseLiteral();
      await this.disposeSpooled(this.takeSpooled());
      await this.finishCommand(announcement.tag, announcement.commandName, decision);
      if (this.mustCloseFor(announcement)) await this.closeForLiteral();
      return;
    }
    const error = this.receiver.acceptLiteral(decision);
    if (error) {
      await this.handle(error);
      return;
    }
    if (decision === 'stream') this.spooled.push(new SpooledLiteral(this.app, announcement.size, announcement.binary));
    if (announcement.sync) await this.writer.line(`+ ${LITERAL_CONTINUATION_TEXT}`);
  }

  /**
   * RFC 7888 §4: the bytes of a refused non-synchronizing literal come anyway. When there are more
   * than a literal may have (a few KB before login), the connection is closed rather than reading them.
   */
  private mustCloseFor(literal: { size: number; sync: boolean }): boolean {
    if (literal.sync) return false;
    return literal.size > (this.session.state === 'not-authenticated' ? MAX_PREAUTH_LITERAL_BYTES : MAX_DISCARDED_LITERAL_BYTES);
  }

  private async closeForLiteral(): Promise<void> {
    if (this.closed) return;
    await this.writer.line('* BYE [TOOBIG] Literal refused; closing the connection');
    this.shutdown();
    this.socket.pause();
    this.socket.end();
    // A client that keeps sending would keep the socket half open: it gets BYE_GRACE_MS to close.
    const socket = this.socket;
    setTimeout(() => socket.destroy(), BYE_GRACE_MS).unref();
  }

  private takeSpooled(): SpooledLiteral[] {
    const spooled = this.spooled;
    if (spooled.length > 0) this.spooled = [];
    return spooled;
  }

  private async disposeSpooled(spooled: SpooledLiteral[]): Promise<void> {
    for (const literal of spooled) await literal.dispose().catch(() => {});
  }

  /** Why a command may not run now (RFC 3501 §6: each command has the states it is valid in), if it may not. */
  private refusalFor(name: string, uid: boolean): CommandResult | undefined {
    const spec = registry.get(name);
    if (!spec) return bad(`Unknown command ${name.slice(0, 40)}`);
    if (!spec.states.includes(this.session.state)) return bad(`${name} is not allowed now`);
    if (uid && !UID_COMMANDS.has(name)) return bad(`UID ${name} does not exist`);
    return undefined;
  }

  /** A command's error as its reply: module errors mapped, anything else logged as a server bug. */
  private resultOfError(error: unknown, name: string): CommandResult {
    const mapped = replyForError(error, this.session);
    if (mapped) return mapped;
    const correlationId = randomBytes(4).toString('hex');
    this.log.error({ err: error, event: 'imap.command_failed', command: name, correlationId }, 'imap.command_failed');
    return serverBug(correlationId, this.session);
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

  private writeReceiverError(event: ReceiverError): Promise<void> {
    return this.writer.line(`${event.tag ?? '*'} ${event.status} ${event.code ? `[${event.code}] ` : ''}${event.message}`);
  }

  private async countBad(): Promise<void> {
    if (++this.badCommands < MAX_BAD_COMMANDS) return;
    await this.writer.line('* BYE Too many invalid commands');
    this.socket.end();
    this.shutdown();
  }

  private async runCommand(command: Command, spooled: SpooledLiteral[]): Promise<void> {
    const spec = registry.get(command.name);
    const afterActions: AfterResponse[] = [];
    let result: CommandResult | Continues;
    const refusal = this.refusalFor(command.name, command.uid);
    if (refusal || !spec) {
      result = refusal ?? bad('Unknown command');
      await this.disposeSpooled(spooled);
    } else {
      const ctx = new ConnectionCommandContext(this, command, afterActions, spooled);
      try {
        result = await spec.run(ctx);
      } catch (error) {
        result = this.resultOfError(error, command.name);
      } finally {
        await this.disposeSpooled(spooled);
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
    this.writer.flush(); // the tagged OK goes out in clear before TLS takes the socket
    this.socket.off('data', onSocketData);
    this.receiver = this.newReceiver();
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
   * Literal limits follow the session's state when a literal is announced: a few kilobytes before
   * login; once logged in, APPEND's size limit (its messages are streamed, not kept) and 64 KiB for
   * any other literal.
   */
  private newReceiver(): ImapReceiver {
    const session = this.session;
    return new ImapReceiver({
      literalMode: 'literal+',
      decideLiterals: true,
      maxLiteralBytes: (name) => {
        if (session.state === 'not-authenticated') return MAX_PREAUTH_LITERAL_BYTES;
        return name === 'APPEND' ? MAX_APPEND_BYTES : MAX_OTHER_LITERAL_BYTES;
      },
      maxCommandBytes: () => (session.state === 'not-authenticated' ? MAX_PREAUTH_COMMAND_BYTES : MAX_COMMAND_BYTES),
    });
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
    void this.disposeSpooled(this.takeSpooled());
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
    private readonly spooledLiterals: SpooledLiteral[],
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

  spooled(index: number): SpooledLiteral {
    const literal = this.spooledLiterals[index];
    if (!literal) throw new Error(`no streamed literal ${index}`);
    return literal;
  }
}
