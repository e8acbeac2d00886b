/**
 * A minimal IMAP client on a raw socket, for the parts of bench/imap where a full client would cost
 * too much: 10,000 IDLE connections (the generator's memory) and timing one command precisely (100k
 * SELECT). It reads lines only: commands whose responses carry literals are not sent through it.
 */
import { connect, type Socket } from 'node:net';

export class RawImap {
  private tail = '';
  private waiter:
    | { tag: string; resolve: (r: { lines: string[]; bytes: number; ms: number }) => void; lines: string[]; bytes: number; t0: number; keep: boolean }
    | undefined;
  private next = 0;
  /** Untagged lines seen outside a command (IDLE updates), when `listen` is set. */
  onUntagged: ((line: string) => void) | undefined;
  private greeted: Promise<void>;

  private constructor(readonly socket: Socket) {
    let greet: () => void = () => {};
    this.greeted = new Promise((resolve) => {
      greet = resolve;
    });
    let first = true;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      const text = this.tail + chunk;
      const lines = text.split('\r\n');
      this.tail = lines.pop() ?? '';
      for (const line of lines) {
        if (first) {
          first = false;
          greet();
          continue;
        }
        const w = this.waiter;
        if (w) {
          w.bytes += line.length + 2;
          if (line.startsWith(`${w.tag} `) || (w.tag === '+' && line.startsWith('+'))) {
            this.waiter = undefined;
            w.lines.push(line);
            w.resolve({ lines: w.lines, bytes: w.bytes, ms: performance.now() - w.t0 });
            continue;
          }
          if (w.keep) w.lines.push(line);
        } else this.onUntagged?.(line);
      }
    });
  }

  static async open(port: number): Promise<RawImap> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.on('error', () => {});
    const imap = new RawImap(socket);
    await imap.greeted;
    return imap;
  }

  /**
   * Sends a command and resolves at its tagged response (or at a continuation when `untilContinuation`),
   * with the time from sending to the last line. Untagged lines are kept only with `keep`.
   */
  command(
    text: string,
    options: { keep?: boolean; untilContinuation?: boolean } = {},
  ): Promise<{ lines: string[]; bytes: number; ms: number; status: string }> {
    const tag = options.untilContinuation ? '+' : `r${++this.next}`;
    const sentTag = options.untilContinuation ? `r${++this.next}` : tag;
    return new Promise((resolve) => {
      this.waiter = {
        tag,
        lines: [],
        bytes: 0,
        t0: performance.now(),
        keep: options.keep ?? false,
        resolve: (r) => {
          const last = r.lines.at(-1) ?? '';
          resolve({ ...r, status: last.split(' ')[1] ?? '' });
        },
      };
      this.socket.write(`${sentTag} ${text}\r\n`);
    });
  }

  /** Sends bytes without waiting (IDLE's DONE, an APPEND literal). */
  write(text: string | Buffer): void {
    this.socket.write(text);
  }

  close(): void {
    this.socket.destroy();
  }
}
