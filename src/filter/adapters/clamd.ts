/**
 * The ClamAV adapter (issue 5, R-V1): a check that streams the message to clamd with its INSTREAM
 * command and reports a signature it finds as malware (source `clamav`).
 *
 * Protocol (clamd(8)): `zINSTREAM\0`, then chunks each prefixed by its length as 4 bytes big-endian,
 * then a zero-length chunk; clamd answers one NUL-terminated line, `stream: OK`,
 * `stream: <Signature> FOUND`, or `… ERROR` (e.g. `INSTREAM size limit exceeded. ERROR` once the
 * stream passes clamd's StreamMaxLength, after which it closes the connection). clamd decodes the MIME
 * parts and opens archives itself (ScanMail, ScanArchive: on by default).
 *
 * The address is the `clamd` setting: `host:port` (`[::1]:3310` for IPv6) or a unix socket path.
 * Anything but OK or FOUND throws — an error line, a size limit, a refused connection, a timeout — and
 * the pipeline fails safe (the message is held, never delivered unscanned).
 */
import net from 'node:net';
import { AppError, text } from '../../shared/errors.ts';
import type { Check, CheckResult, FilterInput } from '../types.ts';

export interface ClamdOptions {
  /** `host:port` or a unix socket path (the `clamd` setting). */
  address: string;
  /** Longest one scan may take (connect, upload, scan, answer). */
  timeoutMs?: number;
  /**
   * clamd's StreamMaxLength when known: larger messages fail at once instead of being sent. Without it,
   * clamd's own "size limit exceeded" answer is the failure.
   */
  maxStreamBytes?: number;
}

export interface ClamdCheck extends Check {
  /** `zPING` → `PONG`; throws when clamd does not answer so (health checks). */
  ping(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** Chunks sent to clamd are at most this long (the input's own chunks are split). */
const CHUNK_BYTES = 64 * 1024;
/** clamd's answers are one short line. */
const MAX_REPLY_BYTES = 64 * 1024;

type Target = { path: string } | { host: string; port: number };

export function parseClamdAddress(address: string): Target {
  const value = address.trim();
  if (value.startsWith('unix:')) return { path: value.slice(5) };
  if (value.includes('/')) return { path: value };
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(value);
  const plain = /^([^:]+):(\d+)$/.exec(value);
  const match = bracketed ?? plain;
  const port = Number(match?.[2]);
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`clamd must be host:port or a socket path: ${address}`);
  return { host: match[1]!, port };
}

function failure(en: string, fr: string, cause?: unknown): AppError {
  return new AppError('temp', 'clamd-failed', text(`ClamAV scan failed: ${en}`, `L'analyse ClamAV a échoué : ${fr}`), { cause });
}

/**
 * One exchange with clamd: sends `command`, then what `send` writes, and resolves with the reply (up
 * to its NUL). clamd may answer and close before everything is sent (size limit): its answer wins over
 * the write error that follows.
 */
function exchange(target: Target, timeoutMs: number, command: string, send?: (write: (data: Buffer) => Promise<boolean>) => Promise<void>): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = 'path' in target ? net.connect({ path: target.path }) : net.connect({ host: target.host, port: target.port });
    const chunks: Buffer[] = [];
    let length = 0;
    let settled = false;
    let writeError: unknown;
    const timer = setTimeout(() => finish(failure(`no answer within ${timeoutMs} ms`, `pas de réponse en ${timeoutMs} ms`)), timeoutMs);

    function finish(error: unknown, reply?: string) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (reply !== undefined) resolve(reply);
      else reject(error instanceof AppError ? error : failure(describe(error), describe(error), error));
    }
    function replyText(): string | undefined {
      const all = Buffer.concat(chunks);
      const end = all.indexOf(0);
      if (end >= 0) return all.subarray(0, end).toString('utf8').trim();
      return undefined;
    }

    socket.on('data', (data: Buffer) => {
      chunks.push(data);
      length += data.length;
      const reply = replyText();
      if (reply !== undefined) finish(null, reply);
      else if (length > MAX_REPLY_BYTES) finish(failure('its answer is too long', 'sa réponse est trop longue'));
    });
    // A refused connection, or EPIPE/ECONNRESET while sending: 'close' follows, and what clamd said
    // before closing (its reason) wins over the error.
    socket.on('error', (error) => {
      writeError ??= error;
    });
    socket.on('close', () => {
      const said = Buffer.concat(chunks).toString('utf8').replace(/\0/g, '').trim();
      if (said) finish(null, said);
      else finish(writeError ?? failure('it closed the connection without answering', 'il a fermé la connexion sans répondre'));
    });

    const write = (data: Buffer): Promise<boolean> =>
      new Promise((done) => {
        if (settled || socket.destroyed || !socket.writable) return done(false);
        if (socket.write(data)) return done(true);
        const onDrain = () => {
          socket.off('close', onClose);
          done(true);
        };
        const onClose = () => {
          socket.off('drain', onDrain);
          done(false);
        };
        socket.once('drain', onDrain);
        socket.once('close', onClose);
      });

    socket.once('connect', () => {
      void (async () => {
        if (!(await write(Buffer.from(`z${command}\0`, 'latin1')))) return;
        if (send) await send(write);
      })().catch((error: unknown) => finish(error));
    });
  });
}

function describe(error: unknown): string {
  if (error instanceof Error) return (error as NodeJS.ErrnoException).code ? `${(error as NodeJS.ErrnoException).code} ${error.message}` : error.message;
  return String(error);
}

export function createClamdCheck(options: ClamdOptions): ClamdCheck {
  const target = parseClamdAddress(options.address);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  async function run(input: FilterInput): Promise<CheckResult> {
    if (options.maxStreamBytes !== undefined && input.size > options.maxStreamBytes) {
      throw failure(
        `the message (${input.size} bytes) is larger than clamd's StreamMaxLength (${options.maxStreamBytes})`,
        `le message (${input.size} octets) dépasse la StreamMaxLength de clamd (${options.maxStreamBytes})`,
      );
    }
    const reply = await exchange(target, timeoutMs, 'INSTREAM', async (write) => {
      const prefix = Buffer.alloc(4);
      for await (const data of input.content()) {
        for (let offset = 0; offset < data.length; offset += CHUNK_BYTES) {
          const piece = data.subarray(offset, offset + CHUNK_BYTES);
          prefix.writeUInt32BE(piece.length, 0);
          if (!(await write(Buffer.concat([prefix, piece])))) return;
        }
      }
      await write(Buffer.alloc(4)); // the zero-length chunk: end of stream
    });
    return parseScanReply(reply);
  }

  async function ping(): Promise<void> {
    const reply = await exchange(target, Math.min(timeoutMs, 5000), 'PING');
    if (reply !== 'PONG') throw failure(`it answered "${reply.slice(0, 200)}" to PING`, `il a répondu « ${reply.slice(0, 200)} » à PING`);
  }

  return { name: 'clamav', run, ping };
}

/** `stream: OK` → no malware; `stream: NAME FOUND` → malware NAME; anything else throws. */
export function parseScanReply(reply: string): CheckResult {
  const line = reply.replace(/^\d+:\s*/, ''); // an IDSESSION reply carries its request number
  if (/^stream: OK$/.test(line)) return { symbols: [] };
  const found = /^stream: (.+) FOUND$/.exec(line);
  if (found) {
    const name = found[1]!.trim();
    return {
      symbols: [],
      malware: { name, reason: text(`Malware ${name} found`, `Logiciel malveillant ${name} détecté`), source: 'clamav' },
    };
  }
  if (/size limit exceeded/i.test(line)) {
    throw failure(`the message is larger than clamd's StreamMaxLength (${line})`, `le message dépasse la StreamMaxLength de clamd (${line})`);
  }
  throw failure(`clamd answered "${line.slice(0, 300)}"`, `clamd a répondu « ${line.slice(0, 300)} »`);
}
