/**
 * smtp-server pauses 100 ms before each greeting and hangs up (421) on a client that talks during
 * the pause: spam bots often do not wait for the banner. On the MX, as Postfix's postscreen does
 * (`postscreen_greet_ttl`), a client address that has waited for the greeting once is remembered for
 * a day and greeted at once afterwards; talking too soon again makes it be paused anew. Without
 * this, every connection of a sending MTA costs 100 ms of idle wait, the bound on a session's rate.
 * Applied once, on the connection class; only servers given a `greetPause` option change.
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { Clock } from '../../shared/clock.ts';

/** smtp-server's own pause before the greeting. */
export const GREET_PAUSE_MS = 100;
/** How long a client that waited for the greeting is greeted without pause (postscreen's default). */
export const GREET_PASS_TTL_MS = 24 * 3600_000;
/** Client addresses remembered at most; the oldest are forgotten first. */
export const GREET_PASS_MAX = 50_000;

/** The addresses that passed the greeting test lately. */
export class GreetPasses {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = GREET_PASS_TTL_MS,
    private readonly max = GREET_PASS_MAX,
  ) {}

  passed(ip: string): boolean {
    const until = this.until.get(ip);
    if (until === undefined) return false;
    if (until > this.clock.now()) return true;
    this.until.delete(ip);
    return false;
  }

  remember(ip: string): void {
    this.until.delete(ip); // re-inserted last: the Map's order is the order of expiry
    this.until.set(ip, this.clock.now() + this.ttlMs);
    if (this.until.size > this.max) this.until.delete(this.until.keys().next().value as string);
  }

  forget(ip: string): void {
    this.until.delete(ip);
  }
}

interface Connection {
  remoteAddress: string;
  _ready: boolean;
  _closing: boolean;
  _closed: boolean;
  _server: { options: { greetPause?: GreetPasses; maxClients?: number }; connections: Set<unknown> };
  name: string;
  init(): void;
  connectionReady(): void;
  send(code: number, data: unknown, context?: unknown): void;
  _setListeners(callback: () => void): void;
}

let applied = false;

export function useGreetPasses(): void {
  if (applied) return;
  applied = true;
  const prototype = SMTPConnection.prototype as unknown as Connection;
  const init = prototype.init;
  const send = prototype.send;
  // The library's init, with the pause skipped for remembered clients and a pass recorded after it.
  prototype.init = function (this: Connection) {
    const passes = this._server.options.greetPause;
    if (!passes) return init.call(this);
    this._setListeners(() => {
      const { maxClients } = this._server.options;
      if (maxClients && this._server.connections.size > maxClients) {
        return this.send(421, `${this.name} Too many connected clients, try again in a moment`, false);
      }
      if (passes.passed(this.remoteAddress)) return this.connectionReady();
      const timer = setTimeout(() => {
        if (!this._closing && !this._closed) passes.remember(this.remoteAddress);
        this.connectionReady();
      }, GREET_PAUSE_MS);
      timer.unref();
    });
  };
  // Before the greeting, a 421 is "you talk too soon" (or too many clients): no pass for that address.
  prototype.send = function (this: Connection, code: number, data: unknown, context?: unknown) {
    if (code === 421 && !this._ready) this._server.options.greetPause?.forget(this.remoteAddress);
    return send.call(this, code, data, context);
  };
}
