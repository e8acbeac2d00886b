/**
 * A raw IMAP client for conversation tests: sends exactly the bytes a test writes and returns the
 * server's responses line by line, literals included (`{n}` followed by n bytes stays in its line),
 * so tests can compare them with the RFC's examples.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface TaggedReply {
  /** Untagged and continuation lines received before the tagged one, CRLF removed (literals kept inline). */
  lines: string[];
  /** The tagged line, e.g. `a1 OK [READ-WRITE] SELECT completed`. */
  tagged: string;
}

export class RawImap {
  private buffer = Buffer.alloc(0);
  private lines: string[] = [];
  private waiters: Array<() => void> = [];
  private counter = 0;
  closed = false;

  private constructor(private socket: Socket) {
    this.listen(socket);
  }

  /** The client's port: names the connection on the server's side (test/helpers/processes.ts). */
  get localPort(): number {
    return this.socket.localPort as number;
  }

  private listen(socket: Socket): void {
    socket.on('data', (data: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, data]);
      this.parse();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const waiter of this.waiters.splice(0)) waiter();
    });
    socket.on('error', () => {});
  }

  /** Splits complete response lines out of the buffer, keeping each `{n}` literal inside its line. */
  private parse(): void {
    let start = 0;
    let line = '';
    for (;;) {
      const end = this.buffer.indexOf('\r\n', start);
      if (end < 0) break;
      const piece = this.buffer.subarray(start, end).toString('latin1');
      const literal = /\{(\d+)\}$/.exec(piece);
      if (literal) {
        const size = Number(literal[1]);
        if (this.buffer.length < end + 2 + size) break;
        line += `${piece}\r\n${this.buffer.subarray(end + 2, end + 2 + size).toString('latin1')}`;
        start = end + 2 + size;
        continue;
      }
      this.lines.push(line + piece);
      line = '';
      start = end + 2;
      this.buffer = this.buffer.subarray(start);
      start = 0;
    }
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** `localAddress` binds the client's end (e.g. 127.0.0.2: Linux routes all of 127/8 to lo), so the service sees another source. */
  static async open(port: number, options: { tls?: { ca: string }; localAddress?: string } = {}): Promise<RawImap> {
    const at = { port, host: '127.0.0.1', ...(options.localAddress ? { localAddress: options.localAddress } : {}) };
    const socket = options.tls ? tlsConnect({ ...at, ca: options.tls.ca, servername: 'localhost' }) : connect(at);
    await new Promise((resolve, reject) => socket.once(options.tls ? 'secureConnect' : 'connect', resolve).once('error', reject));
    const client = new RawImap(socket);
    await client.line();
    return client;
  }

  /** The next response line (waits for it). */
  async line(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.closed) throw new Error('connection closed');
      if (Date.now() > deadline) throw new Error('no response line in time');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.lines.shift() as string;
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends `tag command` and collects every line up to the tagged response. */
  async command(command: string, tag = `a${++this.counter}`): Promise<TaggedReply> {
    this.send(`${tag} ${command}\r\n`);
    return this.until(tag);
  }

  /** Collects lines until the tagged response of `tag`. */
  async until(tag: string): Promise<TaggedReply> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.line();
      if (line.startsWith(`${tag} `)) return { lines, tagged: line };
      lines.push(line);
    }
  }

  /** Upgrades the connection after a successful STARTTLS. */
  async startTls(ca: string): Promise<void> {
    this.socket.removeAllListeners('data');
    const secure = tlsConnect({ socket: this.socket, ca, servername: 'localhost' });
    await new Promise((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    this.socket = secure;
    this.buffer = Buffer.alloc(0);
    this.listen(secure);
  }

  close(): void {
    this.socket.destroy();
  }
}
