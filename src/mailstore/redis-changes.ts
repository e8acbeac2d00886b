/**
 * The change feed between nodes over Redis pub/sub (DESIGN: "Redis pub/sub across nodes"): every node
 * publishes its changes on one channel and tells its own listeners of the others'. Messages carry the
 * sending node's id, so a node ignores its own (it told its listeners already).
 *
 * Losing a message costs latency, not data: a session still reads the store by MODSEQ at its next
 * command, at the latest RECHECK_MS after the last read (imap/server/selected.ts), and when the
 * subscription comes back after Redis was away, every listener is told to look again (an IDLE session
 * sends no command). So publishing never waits for Redis, and a Redis that is down is logged (once per
 * outage), not fatal; ioredis reconnects and subscribes again.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { connectRedis, type Redis } from '../store/index.ts';
import type { ChangeTransport, MailChange, MailChanges } from './changes.ts';

const CHANNEL = 'facteur:mail-changes';

interface Envelope {
  node: string;
  change: MailChange;
}

/** `redis` publishes; a connection of its own subscribes (a subscribed connection runs no other command). */
export async function connectRedisChanges(redis: Redis, url: string, changes: MailChanges, log: Logger): Promise<ChangeTransport> {
  const node = randomBytes(8).toString('hex');
  const subscriber = await connectRedis(url, log, 'change feed');
  try {
    await subscriber.subscribe(CHANNEL);
  } catch (error) {
    subscriber.disconnect();
    throw error;
  }
  subscriber.on('message', (_channel: string, text: string) => {
    const received = parse(text);
    if (received && received.node !== node) changes.receive(received.change);
  });
  // Connected already: a later `ready` is a reconnection, after which changes may have been missed.
  subscriber.on('ready', () => changes.resyncAll());
  let publishFailing = false;
  redis.on('ready', () => {
    publishFailing = false;
  });
  return {
    send(change) {
      const message: Envelope = { node, change };
      redis.publish(CHANNEL, JSON.stringify(message)).catch((error: Error) => {
        if (publishFailing) return;
        publishFailing = true;
        log.warn({ event: 'changes.redis_publish_failed', account: change.accountId, err: error }, 'changes.redis_publish_failed');
      });
    },
    async close() {
      await subscriber.quit().catch(() => subscriber.disconnect());
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
