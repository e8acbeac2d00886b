/**
 * What a command module declares (name, the states it may run in, whether EXPUNGE responses must wait
 * while it runs) and what it gets to run: the session, its arguments and the ways to answer. The registry
 * checks the state before any handler runs (STYLE.md: one small module per command).
 */
import type { AppContext } from '../../context.ts';
import type { Command, LiteralAnnouncement, Value } from '../proto/index.ts';
import type { ImapConnection } from './connection.ts';
import type { SpooledLiteral } from './literals.ts';
import type { Session } from './session.ts';
import type { OutputChunk } from './writer.ts';

export type State = 'not-authenticated' | 'authenticated' | 'selected';

export interface CommandResult {
  status: 'OK' | 'NO' | 'BAD';
  /** Response code without brackets, e.g. `READ-WRITE`, `COPYUID 1 2:3 4:5`. */
  code?: string;
  text: string;
}

/**
 * What IDLE returns (RFC 2177): the command goes on as a state of the connection, which writes its
 * tagged response when the client ends it.
 */
export const CONTINUES = { status: 'continues' } as const;
export type Continues = typeof CONTINUES;

/** Sent after the tagged response (e.g. STARTTLS upgrades, LOGOUT closes). */
export type AfterResponse = () => Promise<void> | void;

export interface CommandContext {
  app: AppContext;
  session: Session;
  connection: ImapConnection;
  command: Command;
  /** The arguments, after the command name. */
  args: Value[];
  /** `* <text>` from pieces already encoded (use `untaggedItems` for structured data). */
  untagged(text: string): Promise<void>;
  /** `* ` then encoded chunks (literals, streamed bodies) then CRLF. */
  untaggedChunks(chunks: OutputChunk[]): Promise<void>;
  /** `+ <text>` continuation request. */
  continuation(text: string): Promise<void>;
  /** Runs once the tagged response is written. */
  after(action: AfterResponse): void;
  /** The client's next line, outside the command syntax (AUTHENTICATE, IDLE's DONE); null if it left. */
  readLine(): Promise<Buffer | null>;
  /** The literal the command streamed as its `index`-th (a `streamed` value in its arguments). */
  spooled(index: number): SpooledLiteral;
}

/**
 * What to do with a literal announced (RFC 3501 §7.5), before any of its bytes is read: keep it in
 * the command's arguments (small ones), stream it to a spool (APPEND's messages), or refuse the
 * command (a tagged NO or BAD instead of the continuation).
 */
export type LiteralDecision = 'keep' | 'stream' | CommandResult;

/** What a command's `literal` hook may use: the session as it is when the literal is announced. */
export interface LiteralContext {
  app: AppContext;
  session: Session;
}

export interface CommandSpec {
  name: string;
  states: readonly State[];
  /**
   * RFC 3501 §7.4.1: no EXPUNGE response while FETCH, STORE or SEARCH runs (sequence numbers the client
   * is using must not move). Set for those commands; UID variants are safe but keep the rule too.
   */
  holdsExpunges?: boolean;
  /**
   * Decides about each literal of the command as it is announced (the state is checked before).
   * Without it, literals within the limits are kept.
   */
  literal?(ctx: LiteralContext, announcement: LiteralAnnouncement): Promise<LiteralDecision>;
  run(ctx: CommandContext): Promise<CommandResult | Continues>;
}

export function defineCommand(spec: CommandSpec): CommandSpec {
  return spec;
}

export const ANY_STATE: readonly State[] = ['not-authenticated', 'authenticated', 'selected'];
/** RFC 3501 §6.2: STARTTLS, LOGIN and AUTHENTICATE. */
export const NOT_AUTHENTICATED: readonly State[] = ['not-authenticated'];
export const AUTHENTICATED: readonly State[] = ['authenticated', 'selected'];
export const SELECTED: readonly State[] = ['selected'];

export function ok(text: string, code?: string): CommandResult {
  return { status: 'OK', text, code };
}
export function no(text: string, code?: string): CommandResult {
  return { status: 'NO', text, code };
}
export function bad(text: string, code?: string): CommandResult {
  return { status: 'BAD', text, code };
}
