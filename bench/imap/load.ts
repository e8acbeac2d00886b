/**
 * The mixed load of bench/imap: `clients` imapflow connections, each on one account's INBOX, issue
 * operations back to back for `seconds`, chosen by a seeded PRNG (the same sequence for Facteur and
 * Dovecot), while `idlers` more connections sit in IDLE on the same INBOXes and time how long after an
 * APPEND was sent they hear the new message (EXISTS) and how many flag changes (FETCH FLAGS) reach them.
 *
 * Mix (weights): SELECT 8, FETCH 50 × (UID FLAGS ENVELOPE) 22, FETCH one full message (BODY.PEEK[]) 20,
 * UID SEARCH SUBJECT 10, UID SEARCH by flags (UNSEEN / FLAGGED) 10, STORE ±\Flagged or ±\Seen 18,
 * APPEND 12.
 */
import { ImapFlow } from 'imapflow';
import { makeMessage, prng, SEARCH_WORDS } from './messages.ts';

export interface LoadOptions {
  port: number;
  users: string[];
  password: string;
  clients: number;
  idlers: number;
  seconds: number;
  seed: number;
  /** Called once every connection is open and idling, right before the timed window (CPU snapshot). */
  onStart?: () => Promise<void>;
  /** Called at the end of the timed window, before the connections close. */
  onEnd?: () => Promise<void>;
}

export interface LoadResult {
  seconds: number;
  ops: number;
  errors: number;
  firstErrors: string[];
  latencies: Map<string, number[]>;
  idleNotified: number;
  idleFlagEvents: number;
  idleLatencies: number[];
}

const MIX: Array<[string, number]> = [
  ['SELECT', 8],
  ['FETCH envelopes', 22],
  ['FETCH body', 20],
  ['SEARCH subject', 10],
  ['SEARCH flags', 10],
  ['STORE', 18],
  ['APPEND', 12],
];
const TOTAL_WEIGHT = MIX.reduce((sum, [, w]) => sum + w, 0);

function pick(rand: () => number): string {
  let r = rand() * TOTAL_WEIGHT;
  for (const [name, weight] of MIX) {
    r -= weight;
    if (r < 0) return name;
  }
  return MIX[0]?.[0] as string;
}

function client(port: number, user: string, password: string): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port,
    secure: false,
    doSTARTTLS: false,
    auth: { user, pass: password },
    logger: false,
    disableAutoIdle: true,
    disableCompression: true,
    connectionTimeout: 60_000,
    greetingTimeout: 60_000,
  });
}

async function connectAll<T>(count: number, open: (i: number) => Promise<T>, parallel = 10): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await open(i);
      }
    }),
  );
  return out;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { users, password } = options;
  const latencies = new Map<string, number[]>(MIX.map(([name]) => [name, []]));
  const appendLog = new Map<string, number[]>(users.map((u) => [u, []]));
  const result: LoadResult = {
    seconds: 0,
    ops: 0,
    errors: 0,
    firstErrors: [],
    latencies,
    idleNotified: 0,
    idleFlagEvents: 0,
    idleLatencies: [],
  };
  let measuring = false;

  // Idlers first, so they hear every append of the window.
  const idlers = await connectAll(options.idlers, async (i) => {
    const user = users[i % users.length] as string;
    const c = client(options.port, user, password);
    c.on('error', () => {});
    await c.connect();
    await c.mailboxOpen('INBOX');
    let cursor = 0;
    c.on('exists', (event: { count: number; prevCount: number }) => {
      if (!measuring) return;
      const log = appendLog.get(user) as number[];
      const now = performance.now();
      for (let k = event.prevCount; k < event.count; k++) {
        const sent = log[cursor++];
        if (sent !== undefined) result.idleLatencies.push(now - sent);
        result.idleNotified++;
      }
    });
    c.on('flags', () => {
      if (measuring) result.idleFlagEvents++;
    });
    void c.idle().catch(() => {});
    return c;
  });

  const workers = await connectAll(options.clients, async (i) => {
    const user = users[i % users.length] as string;
    const c = client(options.port, user, password);
    c.on('error', () => {});
    await c.connect();
    await c.mailboxOpen('INBOX');
    return { c, user, rand: prng(options.seed * 7919 + i), appends: 0, index: i };
  });

  await options.onStart?.();
  measuring = true;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  await Promise.all(
    workers.map(async (w) => {
      const { c, rand, user } = w;
      while (performance.now() < deadline && c.usable) {
        const op = pick(rand);
        const exists = c.mailbox ? c.mailbox.exists : 0;
        const seq = 1 + Math.floor(rand() * Math.max(1, exists));
        const word = SEARCH_WORDS[Math.floor(rand() * SEARCH_WORDS.length)] as string;
        const coin = rand();
        // Generated before the clock starts: the message bytes are not the server's work.
        const appended = op === 'APPEND' ? makeMessage(1_000_000 + w.index * 100_000 + w.appends++, user, 7).raw : undefined;
        const t0 = performance.now();
        try {
          switch (op) {
            case 'SELECT':
              await c.mailboxOpen('INBOX');
              break;
            case 'FETCH envelopes': {
              const from = Math.max(1, Math.min(seq, exists - 49));
              await c.fetchAll(`${from}:${Math.min(exists, from + 49)}`, { uid: true, flags: true, envelope: true });
              break;
            }
            case 'FETCH body':
              await c.fetchOne(String(seq), { uid: true, source: true });
              break;
            case 'SEARCH subject':
              await c.search({ subject: word }, { uid: true });
              break;
            case 'SEARCH flags':
              await c.search(coin < 0.5 ? { seen: false } : { flagged: true }, { uid: true });
              break;
            case 'STORE': {
              const flag = coin < 0.5 ? '\\Flagged' : '\\Seen';
              if (rand() < 0.5) await c.messageFlagsAdd(String(seq), [flag]);
              else await c.messageFlagsRemove(String(seq), [flag]);
              break;
            }
            case 'APPEND':
              (appendLog.get(user) as number[]).push(t0);
              await c.append('INBOX', appended as Buffer, ['\\Seen']);
              break;
          }
          const t1 = performance.now();
          if (t1 <= deadline) {
            latencies.get(op)?.push(t1 - t0);
            result.ops++;
          }
        } catch (error) {
          result.errors++;
          if (result.firstErrors.length < 5) result.firstErrors.push(`${op}: ${(error as Error).message}`);
        }
      }
    }),
  );
  result.seconds = (performance.now() - started) / 1000;
  measuring = false;
  await options.onEnd?.();
  await Promise.all([...workers.map((w) => w.c.logout().catch(() => {})), ...idlers.map((c) => c.logout().catch(() => {}))]);
  return result;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}
