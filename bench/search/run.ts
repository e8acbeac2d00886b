/**
 * bench/search: full-text SEARCH on a 100,000-message folder (target: BODY and TEXT under 1 s), on the
 * engine of FACTEUR_TEST_ENGINE (sqlite | postgres, with FACTEUR_TEST_DATABASE_URL), in the same run:
 *  1. the cost added to a delivery: `--deliveries` messages of 2–20 KB (bench/imap/messages.ts) through
 *     the real write path (receiveMessage + deliverMessage, 64 in flight), and on `--sample` of them the
 *     text extraction (mime/search-text.ts) and the storing of the text with its index, per message;
 *  2. the folder filled up to `--messages` by inserting rows directly (message rows and their text rows,
 *     distinct texts of `--chars` characters, through the same index: FTS5 triggers, GIN), timed: the
 *     write path would take hours on a shared 2-core machine, and what is measured here is the search;
 *  3. the text and index size on disk (SQLite: dbstat; PostgreSQL: pg_total_relation_size);
 *  4. UID SEARCH over a raw IMAP connection: BODY/TEXT with a word in most messages, a rare phrase, a
 *     string in none, 1 and 2 characters; SUBJECT and FROM; then keys read from the rows (SENTSINCE,
 *     SENTBEFORE, LARGER, UNSEEN). Median and worst of `--repeat` runs each.
 *
 *   FACTEUR_TEST_ENGINE=sqlite node --import tsx bench/search/run.ts [--messages 100000] [--deliveries 1000]
 */
import { cpus, loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import {
  deliverMessage,
  type IncomingMessage,
  receiveMessage,
  searchMessageText,
  searchTextOf,
  storeSearchText,
  type TextSearchKey,
} from '../../src/mailstore/index.ts';
import type { SearchText } from '../../src/mime/index.ts';
import { newId } from '../../src/shared/ids.ts';
import type { MessagesTable, MessageTextsTable } from '../../src/store/index.ts';
import { setupMailAccount } from '../../test/helpers/client.ts';
import { RawImap } from '../../test/helpers/imap.ts';
import { engine, startTestService } from '../../test/helpers/service.ts';
import { makeMessage, prng } from '../imap/messages.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    deliveries: { type: 'string', default: '1000' },
    sample: { type: 'string', default: '500' },
    chars: { type: 'string', default: '3000' },
    repeat: { type: 'string', default: '3' },
  },
});
const COUNT = Number(values.messages);
const DELIVERIES = Math.min(Number(values.deliveries), COUNT);
const SAMPLE = Math.min(Number(values.sample), DELIVERIES);
const CHARS = Number(values.chars);
const REPEAT = Number(values.repeat);
const USER = 'big@search-bench.test';
const PASSWORD = 'bench-password-1';
const IN_FLIGHT = 64;
/** Rows per INSERT of the direct fill (SQLite allows 32,766 parameters: 16 columns × 1,000 rows). */
const ROWS_PER_INSERT = 1000;

const VOCABULARY = (
  'invoice meeting project budget quarterly report review schedule update deadline contract proposal customer support release ' +
  'planning agenda minutes travel expense approval hiring onboarding security incident migration database backup network outage ' +
  'holiday newsletter webinar feedback survey design prototype launch marketing analytics dashboard renewal licence training ' +
  'workshop conference lunch réunion été café crème déjà garçon naïve über straße résumé façade señor año jalapeño smörgåsbord ' +
  'the of and to in is for on with as at by from this that be are was it an or not have has will can please thanks regards ' +
  'tomorrow monday friday office team client server invoice-2026 e-mail follow-up sign-off re-send q3 q4 kpi roi eta asap'
).split(' ');

function syntheticText(rand: () => number, index: number, chars: number): string {
  const words: string[] = [];
  let size = 0;
  while (size < chars) {
    const word = VOCABULARY[Math.floor(rand() * VOCABULARY.length)] as string;
    words.push(rand() < 0.08 ? `${word}.` : word);
    size += word.length + 1;
  }
  words.splice(Math.floor(rand() * words.length), 0, `ref-${index.toString(36)}`);
  return words.join(' ');
}

const service = await startTestService({
  overrides: { roles: ['web', 'imap'], ports: { http: 0, imap: 0, imaps: 0 }, mailAccess: { allowPlaintextOnLoopback: true }, logLevel: 'warn' },
});
try {
  const { accountId } = await setupMailAccount(service, 'Search bench', { address: USER, password: PASSWORD });
  const ctx = service.ctx;

  // 1. Deliveries through the write path, and what the text adds to each.
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (;;) {
        const i = next++;
        if (i >= DELIVERIES) return;
        const m = makeMessage(i, USER, 7);
        const received = await receiveMessage(ctx, Readable.from([m.raw]), { maxBytes: 1 << 22 });
        const [result] = await deliverMessage(ctx, received, [{ accountId, flags: m.flags, internalDate: m.internalDate.getTime() }]);
        if (!result?.ok) throw new Error(`delivery failed: ${JSON.stringify(result)}`);
      }
    }),
  );
  const deliverMs = (performance.now() - t0) / DELIVERIES;
  const samples: IncomingMessage[] = [];
  for (let i = 0; i < SAMPLE; i++) samples.push(await receiveMessage(ctx, Readable.from([makeMessage(COUNT + i, USER, 9).raw]), { maxBytes: 1 << 22 }));
  const t1 = performance.now();
  const texts: SearchText[] = [];
  for (const s of samples) texts.push(await searchTextOf(ctx, s.blob, s.metadata));
  const extractUs = ((performance.now() - t1) * 1000) / SAMPLE;
  const t2 = performance.now();
  // Committed in batches like the group committer's (FTS5 writes its segments at commit): texts of no message, harmless here.
  for (let i = 0; i < samples.length; i += IN_FLIGHT) {
    await ctx.db.transaction().execute(async (trx) => {
      for (const [k, s] of samples.slice(i, i + IN_FLIGHT).entries()) await storeSearchText(trx, s.blob.id, texts[i + k] as SearchText);
    });
  }
  const storeUs = ((performance.now() - t2) * 1000) / SAMPLE;
  const sampleChars = texts.reduce((sum, t) => sum + t.body.length + t.headers.length, 0) / SAMPLE;

  // 2. The rest of the folder, rows inserted directly (each its own content and text).
  const inbox = await ctx.db.selectFrom('mailboxes').selectAll().where('account_id', '=', accountId).where('name', '=', 'INBOX').executeTakeFirstOrThrow();
  const template = await ctx.db.selectFrom('messages').selectAll().where('mailbox_id', '=', inbox.id).limit(1).executeTakeFirstOrThrow();
  const t3 = performance.now();
  const rand = prng(42);
  let uid = Number(inbox.uid_next);
  for (let start = DELIVERIES; start < COUNT; start += ROWS_PER_INSERT) {
    const n = Math.min(ROWS_PER_INSERT, COUNT - start);
    const messages: MessagesTable[] = [];
    const textRows: Array<Omit<MessageTextsTable, 'id'>> = [];
    for (let k = 0; k < n; k++) {
      const index = start + k;
      const blobId = `bench-${index}`;
      const subject = `${syntheticText(rand, index, 30)} #${index}`;
      const from = `${VOCABULARY[index % VOCABULARY.length]} <sender${index % 500}@example.org>`;
      messages.push({ ...template, id: newId('msg'), uid: uid++, modseq: uid, blob_id: blobId, subject, from_address: from, message_id: `<${index}@bench>` });
      textRows.push({
        blob_id: blobId,
        headers: `from: ${from}\nto: ${USER}\nsubject: ${subject}\nmessage-id: <${index}@bench>`.toLowerCase(),
        subject: subject.toLowerCase(),
        from_field: from.toLowerCase(),
        to_field: USER,
        cc_field: '',
        bcc_field: '',
        body: syntheticText(rand, index, CHARS).toLowerCase(),
      });
    }
    await ctx.db.transaction().execute(async (trx) => {
      await trx.insertInto('messages').values(messages).execute();
      await trx.insertInto('message_texts').values(textRows).execute();
    });
    if ((start - DELIVERIES) % 20_000 < ROWS_PER_INSERT) console.error(`  … ${start + n} messages, ${((performance.now() - t3) / 1000).toFixed(0)} s`);
  }
  await ctx.db.updateTable('mailboxes').set({ uid_next: uid, highest_modseq: uid }).where('id', '=', inbox.id).execute();
  const fillMs = performance.now() - t3;
  if (engine === 'postgres') await sql`vacuum analyze`.execute(ctx.db);

  // 3. Size on disk.
  let textBytes: number;
  let messageBytes: number;
  if (engine === 'sqlite') {
    const size = async (like: string) =>
      Number((await sql<{ bytes: number }>`select coalesce(sum(pgsize), 0) as bytes from dbstat where name like ${like}`.execute(ctx.db)).rows[0]?.bytes);
    textBytes = (await size('message_texts%')) + (await size('sqlite_autoindex_message_texts%')) + (await size('messages_blob'));
    messageBytes = await size('messages%');
  } else {
    const size = async (table: string) =>
      Number((await sql<{ bytes: number }>`select pg_total_relation_size(${table}) as bytes`.execute(ctx.db)).rows[0]?.bytes);
    textBytes = await size('message_texts');
    messageBytes = await size('messages');
  }
  const texts100k = await ctx.db
    .selectFrom('message_texts')
    .select((eb) => eb.fn.sum<number>(sql`length(body) + length(headers)`).as('chars'))
    .executeTakeFirst();

  console.log(`bench/search on ${engine}: one folder of ${COUNT} messages, load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores`);
  console.log(`  ${DELIVERIES} deliveries through deliverMessage: ${deliverMs.toFixed(2)} ms/message (${IN_FLIGHT} in flight, group-committed)`);
  console.log(
    `  added per delivery (mean of ${SAMPLE}, ${sampleChars.toFixed(0)} chars of text): extraction ${extractUs.toFixed(0)} µs, storing text + index ${storeUs.toFixed(0)} µs`,
  );
  console.log(
    `  direct fill of ${COUNT - DELIVERIES} messages (${CHARS}-char texts): ${(fillMs / 1000).toFixed(1)} s (${((fillMs * 1000) / Math.max(1, COUNT - DELIVERIES)).toFixed(0)} µs/message)`,
  );
  console.log(
    `  on disk: texts + index ${(textBytes / 1048576).toFixed(1)} MiB for ${(Number(texts100k?.chars ?? 0) / 1048576).toFixed(1)} M chars of text; messages table and indexes ${(messageBytes / 1048576).toFixed(1)} MiB`,
  );

  // 4. Searches: the mailstore function alone, then the whole IMAP command; each row printed once measured.
  const imap = await RawImap.open(service.imapPort as number);
  await imap.command(`LOGIN ${USER} ${PASSWORD}`);
  const t4 = performance.now();
  const selected = await imap.command('SELECT INBOX');
  console.log(`  SELECT INBOX ${(performance.now() - t4).toFixed(0)} ms (${selected.lines.find((l) => / EXISTS$/.test(l)) ?? '?'})`);
  const searches: Array<[string, string]> = [
    ['BODY', 'invoice'],
    ['BODY', 'budget quarterly report'],
    ['BODY', `ref-${(COUNT - 7).toString(36)}`],
    ['BODY', 'zebra-not-there'],
    ['BODY', 'çon'],
    ['BODY', 'ée'],
    ['BODY', 'q'],
    ['TEXT', 'invoice'],
    ['TEXT', 'budget quarterly report'],
    ['TEXT', 'zebra-not-there'],
    ['SUBJECT', 'budget'],
    ['FROM', 'sender42@'],
  ];
  const median = (times: number[]) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] as number;
  /** The reply of `tag`, waiting as long as a slow search needs (the helper's `until` gives up after 10 s). */
  const reply = async (tag: string) => {
    const lines: string[] = [];
    for (;;) {
      const line = await imap.line(300_000);
      if (line.startsWith(`${tag} `)) return { lines, tagged: line };
      lines.push(line);
    }
  };
  for (const [key, value] of searches) {
    const direct: number[] = [];
    let found = 0;
    for (let r = 0; r < REPEAT; r++) {
      const t = performance.now();
      found = (await searchMessageText(ctx.db, { accountId, mailboxIds: [inbox.id] }, key.toLowerCase() as TextSearchKey, value)).length;
      direct.push(performance.now() - t);
    }
    const times: number[] = [];
    let hits = 0;
    for (let r = 0; r < REPEAT; r++) {
      const bytes = Buffer.from(value, 'utf8');
      const t = performance.now();
      imap.send(Buffer.concat([Buffer.from(`s UID SEARCH CHARSET UTF-8 ${key} {${bytes.length}+}\r\n`), bytes, Buffer.from('\r\n')]));
      const answer = await reply('s');
      times.push(performance.now() - t);
      if (!/ OK /.test(answer.tagged)) throw new Error(answer.tagged);
      hits = (answer.lines.find((l) => l.startsWith('* SEARCH'))?.split(' ').length ?? 2) - 2;
    }
    if (hits !== found) throw new Error(`${key} ${value}: IMAP found ${hits}, the mailstore ${found}`);
    console.log(
      `  UID SEARCH ${`${key} ${JSON.stringify(value)}`.padEnd(34)} ${String(hits).padStart(7)} hits  median ${median(times).toFixed(0).padStart(5)} ms  max ${Math.max(...times).toFixed(0)} ms  (searchMessageText ${median(direct).toFixed(0)} ms)`,
    );
  }
  // Keys answered from the message rows, not the text index: SENT* read each message's metadata (the
  // Date field as written), LARGER its size column.
  for (const criteria of ['SENTSINCE 1-Jan-2020', 'SENTBEFORE 1-Jan-2000', 'LARGER 10000', 'UNSEEN']) {
    const times: number[] = [];
    let hits = 0;
    for (let r = 0; r < REPEAT; r++) {
      const t = performance.now();
      imap.send(`s UID SEARCH ${criteria}\r\n`);
      const answer = await reply('s');
      times.push(performance.now() - t);
      if (!/ OK /.test(answer.tagged)) throw new Error(answer.tagged);
      hits = (answer.lines.find((l) => l.startsWith('* SEARCH'))?.split(' ').length ?? 2) - 2;
    }
    console.log(
      `  UID SEARCH ${criteria.padEnd(34)} ${String(hits).padStart(7)} hits  median ${median(times).toFixed(0).padStart(5)} ms  max ${Math.max(...times).toFixed(0)} ms`,
    );
  }
  imap.close();
} finally {
  await service.close();
}
