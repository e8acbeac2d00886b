/**
 * The JMAP API request (RFC 8620 §3): the Request object's checks (request-level errors, §3.6.1),
 * method calls in order with result references (§3.7) and creation ids (§3.3), method-level errors
 * (§3.6.2). Transport (HTTP, authentication) is in http.ts.
 */
import type { AppContext } from '../context.ts';
import { type Args, type Call, CORE, CORE_LIMITS, isObject, type JmapAccount, MAIL, MethodError, type MethodSpec } from './core.ts';
import { EMAIL_METHODS } from './email.ts';
import { EMAIL_QUERY_METHODS } from './email-query.ts';
import { MAILBOX_METHODS } from './mailbox.ts';

export const CAPABILITIES = [CORE, MAIL];

/** RFC 8620 §4 Core/echo. */
const CORE_METHODS: Record<string, MethodSpec> = {
  'Core/echo': { capability: CORE, run: async (_call, args) => args },
};

const METHODS: Record<string, MethodSpec> = { ...CORE_METHODS, ...MAILBOX_METHODS, ...EMAIL_METHODS, ...EMAIL_QUERY_METHODS };

/** A request-level error (RFC 8620 §3.6.1), answered as problem+json. */
export class RequestError extends Error {
  constructor(
    readonly type: 'unknownCapability' | 'notJSON' | 'notRequest' | 'limit',
    detail: string,
    readonly limit?: string,
  ) {
    super(detail);
  }

  problem(): Record<string, unknown> {
    return { type: `urn:ietf:params:jmap:error:${this.type}`, status: 400, detail: this.message, ...(this.limit ? { limit: this.limit } : {}) };
  }
}

type Invocation = [string, Args, string];

interface Request {
  using: string[];
  methodCalls: Invocation[];
  createdIds?: Record<string, string>;
}

/** §3.3: the Request object's shape, or notRequest. */
function checkRequest(body: unknown): Request {
  if (!isObject(body)) throw new RequestError('notRequest', 'the request is not a JSON object');
  const { using, methodCalls, createdIds } = body;
  if (!Array.isArray(using) || !using.every((u) => typeof u === 'string')) throw new RequestError('notRequest', 'using must be a list of capability names');
  if (!Array.isArray(methodCalls)) throw new RequestError('notRequest', 'methodCalls must be a list of invocations');
  for (const call of methodCalls) {
    if (!Array.isArray(call) || call.length !== 3 || typeof call[0] !== 'string' || !isObject(call[1]) || typeof call[2] !== 'string') {
      throw new RequestError('notRequest', 'each invocation is [name, arguments object, method call id]');
    }
  }
  if (createdIds !== undefined && (!isObject(createdIds) || !Object.values(createdIds).every((v) => typeof v === 'string'))) {
    throw new RequestError('notRequest', 'createdIds must map creation ids to ids');
  }
  for (const capability of using) if (!CAPABILITIES.includes(capability)) throw new RequestError('unknownCapability', `unknown capability ${capability}`);
  if (methodCalls.length > CORE_LIMITS.maxCallsInRequest) {
    throw new RequestError('limit', `at most ${CORE_LIMITS.maxCallsInRequest} method calls per request`, 'maxCallsInRequest');
  }
  return body as unknown as Request;
}

/** RFC 8620 §3.7 ResultReference's path: a JSON Pointer where `*` maps over an array (and flattens arrays of arrays). */
export function evaluatePointer(value: unknown, path: string): unknown {
  if (path === '') return value;
  if (!path.startsWith('/')) throw new Error('not a pointer');
  const tokens = path
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  const walk = (at: unknown, rest: string[]): unknown => {
    if (rest.length === 0) return at;
    const [token, ...tail] = rest as [string, ...string[]];
    if (Array.isArray(at)) {
      if (token === '*') {
        return at.flatMap((item) => {
          const result = walk(item, tail);
          return Array.isArray(result) ? result : [result];
        });
      }
      if (!/^(0|[1-9][0-9]*)$/.test(token) || Number(token) >= at.length) throw new Error('no such item');
      return walk(at[Number(token)], tail);
    }
    if (isObject(at) && Object.hasOwn(at, token)) return walk(at[token], tail);
    throw new Error('no such member');
  };
  return walk(value, tokens);
}

/** Arguments with their `#name` result references replaced (§3.7). */
function resolveReferences(args: Args, responses: Invocation[]): Args {
  const out: Args = {};
  for (const [key, value] of Object.entries(args)) {
    if (!key.startsWith('#')) {
      out[key] = value;
      continue;
    }
    const name = key.slice(1);
    if (Object.hasOwn(args, name)) throw new MethodError('invalidArguments', `both ${name} and #${name} are given`);
    if (!isObject(value) || typeof value.resultOf !== 'string' || typeof value.name !== 'string' || typeof value.path !== 'string') {
      throw new MethodError('invalidResultReference', `#${name} is not a ResultReference`);
    }
    const source = responses.find((r) => r[2] === value.resultOf);
    if (!source || source[0] !== value.name) throw new MethodError('invalidResultReference', `no ${value.name} response for ${value.resultOf}`);
    try {
      out[name] = evaluatePointer(source[1], value.path);
    } catch {
      throw new MethodError('invalidResultReference', `${value.path} does not point into the ${value.name} response`);
    }
  }
  return out;
}

export interface Response {
  methodResponses: Invocation[];
  createdIds?: Record<string, string>;
  sessionState: string;
}

/** Runs the method calls of a request, in order (§3.3). Throws RequestError for request-level errors. */
export async function runRequest(app: AppContext, account: JmapAccount, body: unknown, sessionState: string): Promise<Response> {
  const request = checkRequest(body);
  const call: Call = { app, account, createdIds: new Map(Object.entries(request.createdIds ?? {})) };
  const responses: Invocation[] = [];
  for (const [name, rawArgs, callId] of request.methodCalls) {
    const method = Object.hasOwn(METHODS, name) ? METHODS[name] : undefined;
    try {
      // §3.6.2 unknownMethod: a method the server does not know, or whose capability the request did not use.
      if (!method || !request.using.includes(method.capability)) throw new MethodError('unknownMethod', `unknown method ${name}`);
      const args = resolveReferences(rawArgs, responses);
      responses.push([name, await method.run(call, args), callId]);
    } catch (error) {
      if (error instanceof MethodError) responses.push(['error', error.toJSON(), callId]);
      else {
        app.log.error({ event: 'jmap.method_failed', method: name, account: account.id, err: error }, 'jmap.method_failed');
        responses.push(['error', { type: 'serverFail', description: 'an unexpected error happened; it was logged' }, callId]);
      }
    }
  }
  const response: Response = { methodResponses: responses, sessionState };
  if (request.createdIds !== undefined) response.createdIds = Object.fromEntries(call.createdIds);
  return response;
}
