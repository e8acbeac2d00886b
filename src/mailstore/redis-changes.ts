/**
 * The change feed between nodes over Redis pub/sub (DESIGN: "Redis pub/sub across nodes"): every node
 * publishes its changes on one channel and tells its own listeners of the others'. Messages carry the
 * sending node's id, so a node ignores its own (it told its listeners already).
 *
 * Losing a message costs latency, not data: a session still reads the store by MODSEQ at its next
 * command, at the latest RECHECK_MS after the last read (imap/server/selected.ts). So publishing never
 * waits for Redis, and a Redis that is down is logged, not fatal; ioredis reconnects and subscribes again.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ChangeTransport, MailChange, MailChanges } from './changes.ts';

const CHANNEL = 'facteur:mail-changes';
/** How long start-up waits for Redis before it gives up with an error that names the setting. */
const CONNECT_TIMEOUT_MS = 5000;

interface Envelope {
  node: string;
  change: MailChange;
}

export async function connectRedisChanges(url: string, changes: MailChanges, log: Logger): Promise<ChangeTransport> {
  const { Redis } = await import('ioredis');
  const node = randomBytes(8).toString('hex');
  const options = { lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 1 };
  // The publisher queues nothing while disconnected (a change that cannot go is dropped and logged).
  const publisher = new Redis(url, { ...options, enableOfflineQueue: false });
  const subscriber = new Redis(url, options);
  for (const [role, client] of [
    ['publisher', publisher],
    ['subscriber', subscriber],
  ] as const) {
    client.on('error', (error: Error) => log.warn({ event: 'changes.redis_error', role, err: error }, 'changes.redis_error'));
  }
  try {
    await Promise.all([publisher.connect(), subscriber.connect()]);
    await subscriber.subscribe(CHANNEL);
  } catch (error) {
    publisher.disconnect();
    subscriber.disconnect();
    throw new Error(`redisUrl (FACTEUR_REDIS_URL): cannot reach Redis at ${redacted(url)}: ${(error as Error).message}`);
  }
  subscriber.on('message', (_channel: string, text: string) => {
    const received = parse(text);
    if (received && received.node !== node) changes.receive(received.change);
  });
  return {
    send(change) {
      const message: Envelope = { node, change };
      publisher.publish(CHANNEL, JSON.stringify(message)).catch((error: Error) => {
        log.warn({ event: 'changes.redis_publish_failed', account: change.accountId, err: error }, 'changes.redis_publish_failed');
      });
    },
    async close() {
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
    },
  };
}

function parse(text: string): Envelope | undefined {
  try {
    const value = JSON.parse(text) as Envelope;
    return typeof value?.node === 'string' && typeof value.change?.accountId === 'string' && typeof value.change.mailboxId === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
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
