/**
 * The heavy mix of bench/imap (issue 16), after the stress test outsiders ran (imaptest's default
 * states, 10 clients over 10 users, `logout=0`): each client repeats a cycle, one command at a time,
 * on its user's INBOX of realistic messages (bench/imap/messages.ts; the "real mbox" of the issue is
 * not available offline):
 *
 *   [LOGIN]  LIST "" "*" (1/2)  SELECT INBOX  FETCH ENVELOPE of 10 messages  FETCH BODYSTRUCTURE of
 *   one  FETCH BODY.PEEK[] of one  STORE ±flag or ±keyword on one (1/2)  STORE +\Deleted on one then
 *   EXPUNGE  APPEND  STATUS INBOX (1/2)  [LOGOUT]
 *
 * The messages are picked at random (seeded PRNG: the same sequence for Facteur and Dovecot). LOGIN
 * and LOGOUT are in the cycle only with `logins` (a new connection each cycle); without, the client
 * stays logged in (logout=0). A minimal client on a raw socket that skips literals: the generator
 * shares the 2 cores with the servers, so it must cost little.
 */
import { connect, type Socket } from 'node:net';
import { makeMessage, prng } from './messages.ts';

export const HEAVY_COMMANDS = [
  'LOGIN',
  'LIST',
  'SELECT',
  'FETCH ENVELOPE',
  'FETCH BODYSTRUCTURE',
  'FETCH BODY[]',
  'STORE',
  'EXPUNGE',
  'APPEND',
  'STATUS',
  'LOGOUT',
] as const;
export type HeavyCommand = (typeof HEAVY_COMMANDS)[number];

interface Reply {
  status: string;
  line: string;
}

/** One IMAP connection: commands one at a time; untagged EXISTS / EXPUNGE keep the message count. */
class Client {
  private buffer = Buffer.alloc(0);
  private literalLeft = 0;
  private waiting: { tag: string; resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  private greeted: (() => void) | undefined;
  private next = 0;
  exists = 0;
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.waiting?.reject(new Error('connection closed'));
      this.waiting = undefined;
    });
  }

  static async open(port: number): Promise<Client> {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    const client = new Client(socket);
    await new Promise<void>((resolve, reject) => {
      client.greeted = resolve;
      socket.once('error', reject);
    });
    return client;
  }

  private receive(chunk: Buffer): void {
    let data = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    let at = 0;
    for (;;) {
      if (this.literalLeft > 0) {
        const take = Math.min(this.literalLeft, data.length - at);
        this.literalLeft -= take;
        at += take;
        if (this.literalLeft > 0) break;
      }
      const end = data.indexOf('\r\n', at);
      if (end < 0) break;
      const line = data.toString('latin1', at, end);
      at = end + 2;
      const literal = /\{(\d+)\}$/.exec(line);
      if (literal) this.literalLeft = Number(literal[1]);
      this.line(line);
    }
    data = data.subarray(at);
    this.buffer = data.length ? Buffer.from(data) : Buffer.alloc(0);
  }

  private line(line: string): void {
    if (this.greeted) {
      const greeted = this.greeted;
      this.greeted = undefined;
      greeted();
      return;
    }
    if (line.startsWith('* ')) {
      const m = /^\* (\d+) (EXISTS|EXPUNGE)/.exec(line);
      if (m) this.exists = m[2] === 'EXISTS' ? Number(m[1]) : this.exists - 1;
      return;
    }
    const w = this.waiting;
    if (w && line.startsWith(`${w.tag} `)) {
      this.waiting = undefined;
      w.resolve({ status: line.split(' ')[1] ?? '', line });
    }
  }

  command(text: string | Buffer, suffix?: Buffer): Promise<Reply> {
    const tag = `h${++this.next}`;
    return new Promise<Reply>((resolve, reject) => {
      this.waiting = { tag, resolve, reject };
      this.socket.write(`${tag} `);
      this.socket.write(text);
      if (suffix) this.socket.write(suffix);
      this.socket.write('\r\n');
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface HeavyOptions {
  port: number;
  users: string[];
  password: string;
  clients: number;
  seconds: number;
  seed: number;
  /**
   * Index of the first message APPENDed (bench/imap/messages.ts), different for every run: Facteur
   * stores a content once, so a message appended again in a later run would cost it less.
   */
  messageBase: number;
  /** LOGIN and LOGOUT in every cycle (a new connection each), or stay logged in (logout=0). */
  logins: boolean;
  /** Called once every client is connected (and logged in without `logins`), right before the timed window. */
  onStart?: () => Promise<void>;
  onEnd?: () => Promise<void>;
}

export interface HeavyResult {
  seconds: number;
  commands: number;
  cycles: number;
  errors: number;
  firstErrors: string[];
  latencies: Map<HeavyCommand, number[]>;
}

const KEYWORDS = ['$Label1', '$Label2', 'Project', '$Forwarded'];
const FLAGS = ['\\Flagged', '\\Seen', '\\Answered'];

export async function runHeavy(options: HeavyOptions): Promise<HeavyResult> {
  const latencies = new Map<HeavyCommand, number[]>(HEAVY_COMMANDS.map((c) => [c, []]));
  const result: HeavyResult = { seconds: 0, commands: 0, cycles: 0, errors: 0, firstErrors: [], latencies };
  let deadline = Number.POSITIVE_INFINITY;

  async function timed(client: Client, name: HeavyCommand, text: string | Buffer, suffix?: Buffer): Promise<Reply> {
    const t0 = performance.now();
    const reply = await client.command(text, suffix);
    const t1 = performance.now();
    if (reply.status !== 'OK') throw new Error(`${name}: ${reply.line.slice(0, 200)}`);
    if (t1 <= deadline) {
      latencies.get(name)?.push(t1 - t0);
      result.commands++;
    }
    return reply;
  }

  async function login(i: number, timedLogin: boolean): Promise<Client> {
    const client = await Client.open(options.port);
    const user = options.users[i % options.users.length] as string;
    const text = `LOGIN ${user} ${options.password}`;
    if (timedLogin) await timed(client, 'LOGIN', text);
    else if ((await client.command(text)).status !== 'OK') throw new Error(`LOGIN ${user} failed`);
    return client;
  }

  // Without logins, every client logs in before the window (its login is not measured).
  const standing = options.logins ? [] : await Promise.all(Array.from({ length: options.clients }, (_, i) => login(i, false)));
  await options.onStart?.();
  const started = performance.now();
  deadline = started + options.seconds * 1000;
  await Promise.all(
    Array.from({ length: options.clients }, async (_, i) => {
      const rand = prng(options.seed * 7919 + i);
      const user = options.users[i % options.users.length] as string;
      let appended = 0;
      let client = standing[i];
      const pickSeq = (c: Client) => 1 + Math.floor(rand() * Math.max(1, c.exists));
      while (performance.now() < deadline) {
        // Generated before the clock starts: the message bytes are not the server's work.
        const message = makeMessage(options.messageBase + i * 10_000 + appended++, user, 11).raw;
        const draws = Array.from({ length: 12 }, () => rand());
        const d = (k: number) => draws[k] as number;
        try {
          if (!client || client.closed) client = await login(i, true);
          const c = client;
          if (d(0) < 0.5) await timed(c, 'LIST', 'LIST "" "*"');
          await timed(c, 'SELECT', 'SELECT INBOX');
          if (c.exists > 0) {
            const from = pickSeq(c);
            await timed(c, 'FETCH ENVELOPE', `FETCH ${from}:${Math.min(c.exists, from + 9)} (UID FLAGS ENVELOPE)`);
            await timed(c, 'FETCH BODYSTRUCTURE', `FETCH ${pickSeq(c)} (UID BODYSTRUCTURE)`);
            await timed(c, 'FETCH BODY[]', `FETCH ${pickSeq(c)} (UID BODY.PEEK[])`);
            if (d(1) < 0.5) {
              const flag = d(2) < 0.5 ? (FLAGS[Math.floor(d(3) * FLAGS.length)] as string) : (KEYWORDS[Math.floor(d(3) * KEYWORDS.length)] as string);
              await timed(c, 'STORE', `STORE ${pickSeq(c)} ${d(4) < 0.6 ? '+' : '-'}FLAGS (${flag})`);
            }
            await timed(c, 'STORE', `STORE ${pickSeq(c)} +FLAGS (\\Deleted)`);
            await timed(c, 'EXPUNGE', 'EXPUNGE');
          }
          await timed(c, 'APPEND', `APPEND INBOX (\\Seen) {${message.length}+}\r\n`, message);
          if (d(5) < 0.5) await timed(c, 'STATUS', 'STATUS INBOX (MESSAGES UNSEEN UIDNEXT)');
          if (options.logins) {
            await timed(c, 'LOGOUT', 'LOGOUT');
            c.close();
            client = undefined;
          }
          if (performance.now() <= deadline) result.cycles++;
        } catch (error) {
          if (performance.now() > deadline) break;
          result.errors++;
          if (result.firstErrors.length < 5) result.firstErrors.push((error as Error).message);
          client?.close();
          client = undefined;
        }
      }
      client?.close();
    }),
  );
  result.seconds = (performance.now() - started) / 1000;
  await options.onEnd?.();
  return result;
}
