/**
 * Mail-side helpers for tests: an SMTP conversation over a raw socket (to send exactly the bytes a
 * test needs, smuggling attempts included) and reading what the mailstore holds for an account.
 */
import { connect, type Socket } from 'node:net';
import { text } from 'node:stream/consumers';
import type { AppContext } from '../../src/context.ts';
import { readContent } from '../../src/mailstore/index.ts';

/** A line-oriented SMTP client that returns each full reply (multi-line replies joined). */
export class RawSmtp {
  private buffer = '';
  private waiters: ((reply: string) => void)[] = [];
  private replies: string[] = [];

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => {
      this.buffer += data;
      for (;;) {
        const match = /^(\d{3}) .*\r\n/m.exec(this.buffer);
        if (!match) break;
        const end = match.index + match[0].length;
        const reply = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end);
        const waiter = this.waiters.shift();
        if (waiter) waiter(reply);
        else this.replies.push(reply);
      }
    });
  }

  static async open(port: number): Promise<RawSmtp> {
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new RawSmtp(socket);
    await client.reply();
    return client;
  }

  reply(): Promise<string> {
    const ready = this.replies.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Writes and waits for the socket to drain when its buffer is full (back-pressure). */
  async write(data: Buffer): Promise<void> {
    if (!this.socket.write(data)) await new Promise((resolve) => this.socket.once('drain', resolve));
  }

  async command(line: string): Promise<string> {
    this.send(`${line}\r\n`);
    return this.reply();
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface StoredMessage {
  uid: number;
  mailbox: string;
  raw: string;
  flags: string[];
}

/** The messages of an account's mailbox (default INBOX), with their raw bytes from the blob store. */
export async function messagesOf(ctx: AppContext, address: string, mailbox = 'INBOX'): Promise<StoredMessage[]> {
  const rows = await ctx.db
    .selectFrom('messages')
    .innerJoin('mailboxes', 'mailboxes.id', 'messages.mailbox_id')
    .innerJoin('accounts', 'accounts.id', 'messages.account_id')
    .select(['messages.uid', 'messages.blob_id', 'messages.flags', 'mailboxes.name'])
    .where('accounts.address', '=', address.toLowerCase())
    .where('mailboxes.name', '=', mailbox)
    .orderBy('messages.uid')
    .execute();
  return Promise.all(
    rows.map(async (row) => ({
      uid: Number(row.uid),
      mailbox: row.name,
      flags: JSON.parse(row.flags) as string[],
      raw: await text(readContent(ctx, row.blob_id)),
    })),
  );
}
