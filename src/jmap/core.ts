/**
 * What every JMAP method shares (RFC 8620): the capabilities and their limits, method-level errors
 * (§3.6.2), the context a method runs in, and argument checks that answer `invalidArguments`.
 */
import type { AppContext } from '../context.ts';

export const CORE = 'urn:ietf:params:jmap:core';
export const MAIL = 'urn:ietf:params:jmap:mail';

/** RFC 8620 §2 `urn:ietf:params:jmap:core` capability: the limits this server enforces. */
export const CORE_LIMITS = {
  /** The contract's 50 MB attachment limit (upload arrives with a later part of issue 12). */
  maxSizeUpload: 50_000_000,
  maxConcurrentUpload: 4,
  /** A request body larger than this is refused with urn:ietf:params:jmap:error:limit (§3.6.1). */
  maxSizeRequest: 10_000_000,
  maxConcurrentRequests: 8,
  maxCallsInRequest: 32,
  maxObjectsInGet: 500,
  maxObjectsInSet: 500,
  collationAlgorithms: ['i;ascii-casemap', 'i;octet', 'i;unicode-casemap'],
} as const;

/** Most ids one /changes answer lists (RFC 8620 §5.2 lets the server cap maxChanges). */
export const MAX_CHANGES = 5000;
/** Most ids one /query answer lists when the client asks for more or for no limit (§5.5). */
export const MAX_QUERY_LIMIT = 1000;

/** Requests under way per account, refused past a limit (RFC 8620 §2 maxConcurrentRequests), in one process. */
export class RequestCounter {
  private readonly running = new Map<string, number>();

  constructor(readonly limit: number) {}

  /** Counts a request in; false when the account already has `limit` under way. */
  enter(accountId: string): boolean {
    const now = this.running.get(accountId) ?? 0;
    if (now >= this.limit) return false;
    this.running.set(accountId, now + 1);
    return true;
  }

  leave(accountId: string): void {
    const left = (this.running.get(accountId) ?? 1) - 1;
    if (left > 0) this.running.set(accountId, left);
    else this.running.delete(accountId);
  }

  size(): number {
    return this.running.size;
  }
}

/** A method-level error (RFC 8620 §3.6.2): the method call answers ["error", { type, … }, callId]. */
export class MethodError extends Error {
  constructor(
    readonly type: string,
    description?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(description ?? type);
  }

  toJSON(): Record<string, unknown> {
    return { type: this.type, ...(this.message !== this.type ? { description: this.message } : {}), ...this.extra };
  }
}

export const invalidArguments = (description: string) => new MethodError('invalidArguments', description);

export type Args = Record<string, unknown>;

export interface JmapAccount {
  id: string;
  customerId: string;
  address: string;
}

/** One API request: the account it acts on and the creation ids made so far (RFC 8620 §3.3, §5.3). */
export interface Call {
  app: AppContext;
  account: JmapAccount;
  createdIds: Map<string, string>;
}

export interface MethodSpec {
  capability: string;
  run(call: Call, args: Args): Promise<Args>;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 8620 §1.2: an Id is 1-255 octets of URL-safe base64 characters. */
export function isId(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{1,255}$/.test(value);
}

/** The account a method acts on: only the caller's own (§3.6.2 accountNotFound otherwise). */
export function checkAccount(call: Call, args: Args): string {
  const accountId = args.accountId;
  if (typeof accountId !== 'string') throw invalidArguments('accountId must be a string');
  if (accountId !== call.account.id) throw new MethodError('accountNotFound');
  return accountId;
}

/** Refuses arguments the method does not know (RFC 8620 §3.6.2: invalidArguments). */
export function checkKnown(args: Args, known: readonly string[]): void {
  for (const key of Object.keys(args)) if (!known.includes(key)) throw invalidArguments(`unknown argument ${key}`);
}

export function optionalString(args: Args, name: string): string | null {
  const value = args[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalidArguments(`${name} must be a string`);
  return value;
}

export function optionalBoolean(args: Args, name: string, fallback: boolean): boolean {
  const value = args[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw invalidArguments(`${name} must be a boolean`);
  return value;
}

/** An UnsignedInt (RFC 8620 §1.3), or the fallback when absent. */
export function optionalUnsigned(args: Args, name: string, fallback: number | null): number | null {
  const value = args[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw invalidArguments(`${name} must be an unsigned integer`);
  return value;
}

/** An Int (RFC 8620 §1.3), or the fallback when absent. */
export function optionalInt(args: Args, name: string, fallback: number): number {
  const value = args[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw invalidArguments(`${name} must be an integer`);
  return value;
}

/** A list of ids, or null (RFC 8620 §5.1 `ids`); a `#creationId` is resolved (§5.3). */
export function optionalIds(call: Call, args: Args, name: string): string[] | null {
  const value = args[name];
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || !value.every((id) => typeof id === 'string')) throw invalidArguments(`${name} must be a list of ids`);
  return value.map((id: string) => resolveId(call, id));
}

/** `#creationId` → the id the record got earlier in this request (RFC 8620 §5.3); other ids as they are. */
export function resolveId(call: Call, id: string): string {
  if (!id.startsWith('#')) return id;
  return call.createdIds.get(id.slice(1)) ?? id;
}

/** The `properties` argument: null for the default set; unknown names are invalidArguments (§5.1). */
export function optionalProperties(args: Args, name: string, allowed: (property: string) => boolean): string[] | null {
  const value = args[name];
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || !value.every((p) => typeof p === 'string')) throw invalidArguments(`${name} must be a list of property names`);
  for (const property of value) if (!allowed(property)) throw invalidArguments(`unknown property ${property}`);
  return [...new Set(value as string[])];
}

/** Ids asked for beyond maxObjectsInGet (RFC 8620 §5.1: requestTooLarge). */
export function checkGetSize(ids: readonly string[] | null): void {
  if (ids && ids.length > CORE_LIMITS.maxObjectsInGet) throw new MethodError('requestTooLarge', `more than ${CORE_LIMITS.maxObjectsInGet} ids`);
}

/**
 * The arguments every /set takes (RFC 8620 §5.3): `ifInState` against the current state
 * (stateMismatch), `create`, `update` and `destroy` well formed and within maxObjectsInSet.
 */
export function setArguments(args: Args, oldState: string): { create: Record<string, unknown>; update: Record<string, unknown>; destroy: string[] } {
  const ifInState = optionalString(args, 'ifInState');
  if (ifInState !== null && ifInState !== oldState) throw new MethodError('stateMismatch');
  const create = args.create ?? {};
  const update = args.update ?? {};
  const destroy = args.destroy ?? [];
  if (!isObject(create)) throw invalidArguments('create must be an object');
  if (!isObject(update)) throw invalidArguments('update must be an object');
  if (!Array.isArray(destroy) || !destroy.every((id) => typeof id === 'string')) throw invalidArguments('destroy must be a list of ids');
  if (Object.keys(create).length + Object.keys(update).length + destroy.length > CORE_LIMITS.maxObjectsInSet) throw new MethodError('requestTooLarge');
  return { create, update, destroy: destroy as string[] };
}

export function pick(object: Record<string, unknown>, properties: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const property of properties) if (property in object) out[property] = object[property];
  return out;
}
