/**
 * The Redis connection nodes share when scaled out (`redisUrl`, DESIGN: "Redis (limits, change feed,
 * locks) when scaled out"). ioredis is loaded only when one is configured. Commands fail at once while
 * Redis is unreachable (no queue that grows meanwhile); ioredis reconnects by itself. An unreachable
 * Redis at start-up stops the start with a message that names the setting.
 */
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
