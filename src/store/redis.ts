/**
 * The Redis connection nodes share when scaled out (`redisUrl`, DESIGN: "Redis (limits, change feed,
 * locks) when scaled out"). ioredis is loaded only when one is configured. Commands fail at once while
 * Redis is unreachable (no queue that grows meanwhile); ioredis reconnects by itself. An unreachable
 * Redis at start-up stops the start with a message that names the setting.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** How long start-up waits for Redis. */
const CONNECT_TIMEOUT_MS = 5000;

export type { Redis };

export async function connectRedis(url: string, log: Logger, role = 'commands'): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  client.on('error', (error: Error) => log.warn({ event: 'redis.error', role, err: error }, 'redis.error'));
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new Error(`redisUrl (FACTEUR_REDIS_URL): cannot reach Redis at ${redacted(url)}: ${(error as Error).message}`);
  }
  return client;
}

/** The URL without its password, for messages. */
function redacted(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured URL';
  }
}

/**
 * Runs a Lua script by its SHA-1 (EVALSHA), sending its text only when Redis does not know it yet
 * (NOSCRIPT: first use, or after a restart): scripts that run per message or per login stay small on the wire.
 */
export async function runScript(redis: Redis, script: string, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
  const sha = scriptSha(script);
  try {
    return await redis.evalsha(sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error as Error).message?.includes('NOSCRIPT')) throw error;
    return redis.eval(script, keys.length, ...keys, ...args);
  }
}

const shas = new Map<string, string>();
function scriptSha(script: string): string {
  let sha = shas.get(script);
  if (!sha) {
    sha = createHash('sha1').update(script).digest('hex');
    shas.set(script, sha);
  }
  return sha;
}
