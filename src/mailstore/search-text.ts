/**
 * Full-text search of messages (RFC 3501 §6.4.4 TEXT, BODY, SUBJECT, FROM, TO, CC, BCC), shared by IMAP
 * and JMAP: the text of a content is extracted once, at delivery, into `message_texts` (migration 012)
 * in the transaction that files the message, and searched there instead of parsing stored messages.
 *
 * Why trigrams and not a word index: IMAP's SEARCH matches substrings ("voic" finds "invoice", "e-mail"
 * finds "re-e-mail"), case-insensitively. A word index (FTS5's unicode61, tsvector) finds words, so it
 * could only narrow the candidates and every candidate would still need the substring test. A trigram
 * index answers a substring of 3 or more characters itself: SQLite FTS5's `trigram` tokenizer matches a
 * phrase of consecutive trigrams, which is exactly the substring; PostgreSQL's pg_trgm narrows with its
 * GIN index and rechecks `LIKE` on the row. Strings of 1 or 2 characters have no trigram: they are
 * tested on the stored text of the folder's messages (`instr` / `strpos`), no MIME parse either way.
 * Text is stored case-folded (mime/search-text.ts) and the searched string folded the same way, so the
 * databases compare bytes: the result is "the folded string is a substring of the folded text".
 */
import { type Kysely, SqliteAdapter, sql, type Transaction } from 'kysely';
import type { AppContext } from '../context.ts';
import { extractSearchText, foldForSearch, type MessageMetadata, type ReadRange, type SearchText } from '../mime/index.ts';
import type { BlobRef, Database } from '../store/index.ts';
import { readContent } from './blobs.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** What a search looks into: TEXT is the header and the body (RFC 3501 §6.4.4); the others one field each. */
export type TextSearchKey = 'text' | 'body' | 'subject' | 'from' | 'to' | 'cc' | 'bcc';

export interface TextSearchScope {
  accountId: string;
  /** The folders searched (one for IMAP, several for a JMAP query). */
  mailboxIds: string[];
  /**
   * Only messages with a UID at least this: those just added to a folder, whose text alone is new
   * (IMAP's RFC 5267 §4.3 search contexts; a message's text never changes).
   */
  fromUid?: number;
}

export interface TextMatch {
  mailboxId: string;
  uid: number;
  /** The message's row id. */
  id: string;
}

/** Shortest string a trigram index can answer. */
const TRIGRAM = 3;
/** Contents per batch of the backfill: bounds the memory of one batch. */
const BACKFILL_BATCH = 200;
/** Ids per `IN (…)` list. */
const IDS_PER_QUERY = 500;

const COLUMN_OF = { subject: 'subject', from: 'from_field', to: 'to_field', cc: 'cc_field', bcc: 'bcc_field', body: 'body' } as const;

function isSqlite(db: Db): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}

/** The columns a key looks into. */
function columnsOf(key: TextSearchKey): Array<'headers' | (typeof COLUMN_OF)[keyof typeof COLUMN_OF]> {
  return key === 'text' ? ['headers', 'body'] : [COLUMN_OF[key]];
}

/** `LIKE` pattern of a literal substring, with `\` escaping (PostgreSQL's default escape character). */
function likePattern(value: string): string {
  return `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** FTS5 query: a column filter and the string as one quoted phrase (its trigrams, consecutive). */
function ftsQuery(key: 'text' | 'body', value: string): string {
  return `${key === 'text' ? '{headers body}' : 'body'} : "${value.replace(/"/g, '""')}"`;
}

/**
 * The messages of some folders of an account whose `key` contains `value`, case-insensitively (RFC 3501
 * §6.4.4), in folder then UID order. Only messages whose text is indexed can match; every message
 * delivered since migration 012 is, and `indexMissingTexts` does the others.
 */
export async function searchMessageText(db: Db, scope: TextSearchScope, key: TextSearchKey, value: string): Promise<TextMatch[]> {
  if (scope.mailboxIds.length === 0) return [];
  const needle = foldForSearch(value);
  const out: TextMatch[] = [];
  for (let i = 0; i < scope.mailboxIds.length; i += IDS_PER_QUERY) {
    const mailboxIds = scope.mailboxIds.slice(i, i + IDS_PER_QUERY);
    const rows = await searchIn(db, scope.accountId, mailboxIds, key, needle, scope.fromUid);
    for (const row of rows) out.push({ mailboxId: row.mailbox_id, uid: Number(row.uid), id: row.id });
  }
  return out.sort((a, b) => (a.mailboxId === b.mailboxId ? a.uid - b.uid : a.mailboxId < b.mailboxId ? -1 : 1));
}

interface Row {
  mailbox_id: string;
  uid: number;
  id: string;
}

async function searchIn(db: Db, accountId: string, mailboxIds: string[], key: TextSearchKey, needle: string, fromUid?: number): Promise<Row[]> {
  const indexed = (key === 'body' || key === 'text') && [...needle].length >= TRIGRAM;
  const sqlite = isSqlite(db);
  // A few new messages (`fromUid`): their texts are read and tested, rather than asking FTS5 about the whole account.
  if (indexed && sqlite && fromUid === undefined) {
    // FTS5 first (CROSS JOIN keeps SQLite from running the full-text query once per message of the folder).
    const { rows } = await sql<Row>`
      select m.mailbox_id, m.uid, m.id from message_texts_fts
        cross join message_texts t on t.id = message_texts_fts.rowid
        cross join messages m on m.blob_id = t.blob_id
      where message_texts_fts match ${ftsQuery(key as 'text' | 'body', needle)}
        and m.account_id = ${accountId} and m.mailbox_id in (${sql.join(mailboxIds)})`.execute(db);
    return rows;
  }
  const columns = columnsOf(key);
  // FTS5's trigram tokenizer is case-sensitive over the folded text (migration 012): `instr` is the same test.
  const test = (column: string) =>
    sqlite
      ? sql<boolean>`instr(${sql.ref(`t.${column}`)}, ${needle}) > 0`
      : indexed
        ? sql<boolean>`${sql.ref(`t.${column}`)} like ${likePattern(needle)}`
        : sql<boolean>`strpos(${sql.ref(`t.${column}`)}, ${needle}) > 0`;
  let query = db
    .selectFrom('messages as m')
    .innerJoin('message_texts as t', 't.blob_id', 'm.blob_id')
    .select(['m.mailbox_id', 'm.uid', 'm.id'])
    .where('m.account_id', '=', accountId)
    .where('m.mailbox_id', 'in', mailboxIds);
  if (fromUid !== undefined) query = query.where('m.uid', '>=', fromUid);
  return query.where(sql<boolean>`(${sql.join(columns.map(test), sql` or `)})`).execute();
}

/** Reads ranges of a content: from memory while it is not stored yet (a small one at delivery), else from the store. */
function rangeReader(ctx: AppContext, blob: Pick<BlobRef, 'id' | 'inline'>): ReadRange {
  const inline = blob.inline;
  if (inline) return async (start, end) => Buffer.from(inline.subarray(start, end));
  return async (start, end) => {
    const chunks: Buffer[] = [];
    for await (const chunk of readContent(ctx, blob.id, { start, end })) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
}

/**
 * Extractions running at once in a process. Each is CPU-bound and holds up to a few megabytes of decoded
 * text: 20 concurrent 40 MB APPENDs extracting side by side grew the process by 200 MB, for no gain on
 * two cores. Others wait their turn (before the commit, so nothing is acknowledged earlier).
 */
const MAX_CONCURRENT_EXTRACTIONS = 2;
let extracting = 0;
const waitingToExtract: (() => void)[] = [];

async function inTurn<T>(work: () => Promise<T>): Promise<T> {
  if (extracting < MAX_CONCURRENT_EXTRACTIONS) extracting++;
  else await new Promise<void>((resolve) => waitingToExtract.push(resolve)); // the slot is handed over as it is
  try {
    return await work();
  } finally {
    const next = waitingToExtract.shift();
    if (next) next();
    else extracting--;
  }
}

/** The searchable text of a content (read from memory or the store, never parsed whole). */
export function searchTextOf(ctx: AppContext, blob: Pick<BlobRef, 'id' | 'inline'>, metadata: MessageMetadata): Promise<SearchText> {
  return inTurn(() => extractSearchText(metadata, rangeReader(ctx, blob)));
}

/** Stores a content's text in the caller's transaction (the one filing its message); kept if already there. */
export async function storeSearchText(trx: Transaction<Database>, blobId: string, text: SearchText): Promise<void> {
  await trx
    .insertInto('message_texts')
    .values({
      blob_id: blobId,
      headers: text.headers,
      subject: text.subject,
      from_field: text.from,
      to_field: text.to,
      cc_field: text.cc,
      bcc_field: text.bcc,
      body: text.body,
    })
    .onConflict((oc) => oc.column('blob_id').doNothing())
    .execute();
}

/** Removes, in the caller's transaction, the texts of these contents that no message uses any more (expunge, folder deletion). */
export async function dropUnusedTexts(trx: Transaction<Database>, blobIds: Iterable<string>): Promise<void> {
  const ids = [...new Set(blobIds)];
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
    await trx
      .deleteFrom('message_texts')
      .where('blob_id', 'in', ids.slice(i, i + IDS_PER_QUERY))
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('messages').select('messages.id').whereRef('messages.blob_id', '=', 'message_texts.blob_id'))),
      )
      .execute();
  }
}

/**
 * Indexes the messages whose text is missing: those stored before migration 012 (the `search.index`
 * job, at start and hourly). A content that cannot be read is indexed with its header fields and no
 * body, so that it is not tried again for ever. Returns how many contents were indexed.
 */
export async function indexMissingTexts(ctx: AppContext): Promise<number> {
  let indexed = 0;
  for (;;) {
    const rows = await ctx.db
      .selectFrom('messages as m')
      .leftJoin('message_texts as t', 't.blob_id', 'm.blob_id')
      .where('t.id', 'is', null)
      .select(['m.blob_id', 'm.metadata'])
      .limit(BACKFILL_BATCH)
      .execute();
    if (rows.length === 0) break;
    const texts = new Map<string, SearchText>();
    for (const row of rows) {
      if (texts.has(row.blob_id)) continue;
      const metadata = JSON.parse(row.metadata) as MessageMetadata;
      try {
        texts.set(row.blob_id, await searchTextOf(ctx, { id: row.blob_id }, metadata));
      } catch (error) {
        ctx.log.warn({ event: 'search.index_failed', blobId: row.blob_id, err: error }, 'search.index_failed');
        texts.set(row.blob_id, await extractSearchText(metadata, async () => Buffer.alloc(0)));
      }
    }
    await ctx.mail.committer.run(async (trx) => {
      for (const [blobId, text] of texts) {
        // Still used: the message may have been expunged since it was read.
        const used = await trx.selectFrom('messages').select('id').where('blob_id', '=', blobId).limit(1).executeTakeFirst();
        if (used) await storeSearchText(trx, blobId, text);
      }
    });
    indexed += texts.size;
  }
  if (indexed > 0) ctx.log.info({ event: 'search.indexed', contents: indexed }, 'search.indexed');
  return indexed;
}
