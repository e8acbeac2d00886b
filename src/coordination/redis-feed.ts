/**
 * Messages between nodes over Redis pub/sub (the change feed: DESIGN "Redis pub/sub across nodes"):
 * every node publishes on a channel and hears the others'. Messages carry the sending node's id, so a
 * node ignores its own (it told its listeners already).
 *
 * Losing a message costs latency, not data: a listener still reads the store (an IMAP session by MODSEQ
 * at its next command, imap/server/selected.ts), and when the subscription comes back after Redis was
 * away every listener is told (`lost`) to look again. So publishing never waits for Redis, and a Redis
 * that is down is logged (once per outage), not fatal; ioredis reconnects and subscribes again.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { connectRedis, type Redis } from '../store/index.ts';
import type { FeedListener } from './index.ts';

interface Envelope {
  node: string;
  text: string;
}

export interface RedisFeed {
  publish(channel: string, text: string): void;
  subscribe(channel: string, listener: FeedListener): Promise<void>;
  close(): Promise<void>;
}

/** `redis` publishes; a connection of its own subscribes (a subscribed connection runs no other command). */
export async function connectRedisFeed(redis: Redis, url: string, prefix: string, log: Logger): Promise<RedisFeed> {
  const node = randomBytes(8).toString('hex');
  const subscriber = await connectRedis(url, log, 'feed');
  const listeners = new Map<string, FeedListener[]>();
  subscriber.on('message', (channel: string, raw: string) => {
    const received = parse(raw);
    if (!received || received.node === node) return;
    for (const listener of listeners.get(channel.slice(prefix.length)) ?? []) listener.message(received.text);
  });
  // Connected already: a later `ready` is a reconnection, after which messages may have been missed.
  subscriber.on('ready', () => {
    for (const list of listeners.values()) for (const listener of list) listener.lost?.();
  });
  let publishFailing = false;
  redis.on('ready', () => {
    publishFailing = false;
  });
  return {
    publish(channel, text) {
      const message: Envelope = { node, text };
      redis.publish(prefix + channel, JSON.stringify(message)).catch((error: Error) => {
        if (publishFailing) return;
        publishFailing = true;
        log.warn({ event: 'feed.redis_publish_failed', channel, err: error }, 'feed.redis_publish_failed');
      });
    },
    async subscribe(channel, listener) {
      const list = listeners.get(channel) ?? [];
      listeners.set(channel, [...list, listener]);
      if (list.length === 0) await subscriber.subscribe(prefix + channel);
    },
    async close() {
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}

function parse(raw: string): Envelope | undefined {
  try {
    const value = JSON.parse(raw) as Envelope;
    return typeof value?.node === 'string' && typeof value.text === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
