/**
 * Messages of a folder as IMAP, POP3 and the webmail use them: the index of a folder (UIDs, flags,
 * MODSEQs), flag changes with RFC 7162 mod-sequences, expunge, copy and move. Every change is one
 * transaction of the group committer (acknowledged only once durable), then announced on the change feed.
 */
import { type Expression, type Kysely, type SqlBool, SqliteAdapter, sql, type Transaction } from 'kysely';
import type { AppContext } from '../context.ts';
import { AppError, text } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { Database, MailboxesTable, MessagesTable } from '../store/index.ts';
import { releaseContents, tryAgain } from './blobs.ts';
import { judgementOfFlags, judgementOfMove, recordJudgementsIn } from './judgements.ts';
import { dropUnusedTexts } from './search-text.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** UIDs per `IN (…)` list: well under SQLite's and PostgreSQL's parameter limits. */
const UIDS_PER_QUERY = 500;

export interface IndexEntry {
  uid: number;
  modseq: number;
  /** Possibly shared with other entries (see `sharedFlags`): never modified in place. */
  flags: readonly string[];
}

export function parseFlags(json: string): string[] {
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? value.filter((f): f is string => typeof f === 'string') : [];
}

/** Distinct flag lists remembered by `sharedFlags`; past this, the table starts again (a bound, not an LRU). */
const MAX_SHARED_FLAG_LISTS = 4096;
const sharedFlagLists = new Map<string, readonly string[]>();

/**
 * The flags of a stored JSON array as one frozen array shared by every message with the same text:
 * most messages of a folder have one of a handful of flag sets, so a 100,000-message index parses a
 * few lists instead of 100,000 (bench/imap SELECT) and holds one array per distinct set.
 */
export function sharedFlags(json: string): readonly string[] {
  let flags = sharedFlagLists.get(json);
  if (flags === undefined) {
    flags = Object.freeze(parseFlags(json));
    if (sharedFlagLists.size >= MAX_SHARED_FLAG_LISTS) sharedFlagLists.clear();
    sharedFlagLists.set(json, flags);
  }
  return flags;
}

/**
 * A condition "the message has this flag", the same on SQLite and PostgreSQL: flags are a JSON array, so
 * the flag is searched with its JSON quoting, and `!` escapes LIKE's wildcards (backslashes stay literal).
 */
export function hasFlagSql(flag: string): Expression<SqlBool> {
  const pattern = `%${JSON.stringify(flag).replace(/[!%_]/g, (c) => `!${c}`)}%`;
  return sql<SqlBool>`flags like ${pattern} escape '!'`;
}

function* chunks<T>(items: T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** Every message of a folder in UID order, with what a selected IMAP session keeps in memory. */
export async function loadMailboxIndex(db: Db, mailboxId: string): Promise<IndexEntry[]> {
  const index = await loadMailboxColumns(db, mailboxId);
  return index.uids.map((uid, i) => ({ uid, modseq: index.modseqs[i] as number, flags: index.flags[i] as readonly string[] }));
}

/** The index of a folder as parallel arrays in UID order (no object per message); flag lists are shared. */
export interface MailboxColumns {
  uids: number[];
  modseqs: number[];
  flags: Array<readonly string[]>;
}

/**
 * `loadMailboxIndex` as columns, for IMAP's SELECT of large folders. On SQLite the rows come back as
 * one string built by SQLite (`uid modseq flags` lines): a driver object per row cost more than the
 * query itself (bench/imap SELECT of 100,000 messages). PostgreSQL reads rows (over the network they
 * arrive as text anyway).
 */
export async function loadMailboxColumns(db: Db, mailboxId: string): Promise<MailboxColumns> {
  if (db.getExecutor().adapter instanceof SqliteAdapter) {
    const { rows } = await sql<{ lines: string | null }>`
      select group_concat(uid || ' ' || modseq || ' ' || flags, char(10) order by uid) as lines
      from messages where mailbox_id = ${mailboxId}`.execute(db);
    return parseIndexLines(rows[0]?.lines ?? null);
  }
  const rows = await db.selectFrom('messages').select(['uid', 'modseq', 'flags']).where('mailbox_id', '=', mailboxId).orderBy('uid').execute();
  const n = rows.length;
  const uids = new Array<number>(n);
  const modseqs = new Array<number>(n);
  const flags = new Array<readonly string[]>(n);
  for (let i = 0; i < n; i++) {
    const row = rows[i] as (typeof rows)[number];
    uids[i] = Number(row.uid);
    modseqs[i] = Number(row.modseq);
    flags[i] = sharedFlags(row.flags);
  }
  return { uids, modseqs, flags };
}

/** `uid modseq flags-json` lines (JSON text holds no raw newline, numbers no space). */
function parseIndexLines(text: string | null): MailboxColumns {
  const uids: number[] = [];
  const modseqs: number[] = [];
  const flags: Array<readonly string[]> = [];
  if (text === null || text === '') return { uids, modseqs, flags };
  let at = 0;
  while (at < text.length) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    const first = text.indexOf(' ', at);
    const second = text.indexOf(' ', first + 1);
    uids.push(Number(text.slice(at, first)));
    modseqs.push(Number(text.slice(first + 1, second)));
    flags.push(sharedFlags(text.slice(second + 1, end)));
    at = end + 1;
  }
  return { uids, modseqs, flags };
}

export type StoredMessage = Pick<MessagesTable, 'id' | 'uid' | 'modseq' | 'blob_id' | 'size' | 'internal_date' | 'flags' | 'metadata'>;

/** Rows read a chunk of UIDs at a time (parameter limits), returned in UID order. */
async function byUidChunks<R extends { uid: number }>(uids: number[], read: (part: number[]) => Promise<R[]>): Promise<R[]> {
  const out: R[] = [];
  for (const part of chunks(uids, UIDS_PER_QUERY)) out.push(...(await read(part)));
  return out.sort((a, b) => Number(a.uid) - Number(b.uid));
}

/**
 * The stored rows of some messages of a folder, in UID order. Without `metadata`, the rows come with
 * an empty one: the metadata is kilobytes of JSON per message that a listing or a whole-message fetch
 * does not use.
 */
export function readMessages(db: Db, mailboxId: string, uids: number[], options: { metadata?: boolean } = {}): Promise<StoredMessage[]> {
  const metadata = options.metadata ?? true;
  return byUidChunks(uids, (part) =>
    db
      .selectFrom('messages')
      .select(['id', 'uid', 'modseq', 'blob_id', 'size', 'internal_date', 'flags'])
      .select(metadata ? sql<string>`metadata`.as('metadata') : sql<string>`''`.as('metadata'))
      .where('mailbox_id', '=', mailboxId)
      .where('uid', 'in', part)
      .execute(),
  );
}

/**
 * What a search or a sort reads of a message: a column of the table, or `written_date`, its Date field
 * as written (RFC 3501 §6.4.4 SENT*: the calendar date as written), taken out of the metadata by the
 * database: a folder of 100,000 messages is not carried over and parsed as JSON for one field.
 */
export type MessageColumn = keyof MessagesTable | 'written_date';
export type MessageColumnValues = MessagesTable & { written_date: string | null };

function selectionOf(db: Db, column: MessageColumn) {
  if (column !== 'written_date') return sql.ref(column).as(column);
  const written =
    db.getExecutor().adapter instanceof SqliteAdapter
      ? sql<string | null>`json_extract(metadata, '$.envelope.date')`
      : sql<string | null>`(metadata::json -> 'envelope' ->> 'date')`;
  return written.as('written_date');
}

/**
 * Some columns of the messages of a folder whose UIDs lie in [fromUid, toUid], in UID order: SEARCH
 * reads only what its keys need (a subject, a size) instead of whole rows with their metadata, and by
 * range rather than by lists of UIDs.
 */
export async function readMessageColumns<C extends MessageColumn>(
  db: Db,
  mailboxId: string,
  fromUid: number,
  toUid: number,
  columns: readonly C[],
): Promise<Array<Pick<MessageColumnValues, C | 'uid'>>> {
  const wanted = [...new Set<MessageColumn>(['uid', ...columns])];
  const rows = await db
    .selectFrom('messages')
    .select(wanted.map((column) => selectionOf(db, column)))
    .where('mailbox_id', '=', mailboxId)
    .where('uid', '>=', fromUid)
    .where('uid', '<=', toUid)
    .orderBy('uid')
    .execute();
  return rows as unknown as Array<Pick<MessageColumnValues, C | 'uid'>>;
}

/**
 * Some columns of the messages of a folder with the given UIDs, in UID order: for a few messages spread
 * over a large folder (those whose flags just changed), where a range would read everything between them.
 */
export async function readMessageColumnsOf<C extends MessageColumn>(
  db: Db,
  mailboxId: string,
  uids: readonly number[],
  columns: readonly C[],
): Promise<Array<Pick<MessageColumnValues, C | 'uid'>>> {
  const wanted = [...new Set<MessageColumn>(['uid', ...columns])];
  const out: Array<Pick<MessageColumnValues, C | 'uid'>> = [];
  for (let i = 0; i < uids.length; i += UIDS_PER_QUERY) {
    const rows = await db
      .selectFrom('messages')
      .select(wanted.map((column) => selectionOf(db, column)))
      .where('mailbox_id', '=', mailboxId)
      .where('uid', 'in', uids.slice(i, i + UIDS_PER_QUERY))
      .execute();
    out.push(...(rows as unknown as Array<Pick<MessageColumnValues, C | 'uid'>>));
  }
  return out.sort((a, b) => Number(a.uid) - Number(b.uid));
}

export interface MailboxChanges {
  highestModseq: number;
  /** New messages and messages whose flags changed since, in UID order. */
  changed: IndexEntry[];
  /**
   * UIDs expunged since; null when the expunge history was trimmed past `sinceModseq` (retention), and
   * then `present` lists every UID of the folder, so the caller can tell which of the UIDs it knew are gone.
   */
  expunged: number[] | null;
  present?: number[];
}

/** What happened in a folder after `sinceModseq` (RFC 7162 §3.1: every change raises the folder's MODSEQ). */
export async function changesSince(db: Db, mailboxId: string, sinceModseq: number): Promise<MailboxChanges> {
  const mailbox = await db.selectFrom('mailboxes').select(['highest_modseq', 'expunged_floor']).where('id', '=', mailboxId).executeTakeFirst();
  const highestModseq = Number(mailbox?.highest_modseq ?? sinceModseq);
  if (highestModseq <= sinceModseq) return { highestModseq, changed: [], expunged: [] };
  const historyComplete = Number(mailbox?.expunged_floor ?? 0) <= sinceModseq;
  const changed = await db
    .selectFrom('messages')
    .select(['uid', 'modseq', 'flags'])
    .where('mailbox_id', '=', mailboxId)
    .where('modseq', '>', sinceModseq)
    .orderBy('uid')
    .execute();
  const expunged = historyComplete ? await expungedSince(db, mailboxId, sinceModseq) : null;
  const present = historyComplete ? undefined : await presentUids(db, mailboxId);
  return {
    highestModseq,
    changed: changed.map((row) => ({ uid: Number(row.uid), modseq: Number(row.modseq), flags: sharedFlags(row.flags) })),
    expunged,
    ...(present ? { present } : {}),
  };
}

/** UIDs expunged after `sinceModseq` (QRESYNC's VANISHED (EARLIER), RFC 7162 §3.2.5.1). */
export async function expungedSince(db: Db, mailboxId: string, sinceModseq: number): Promise<number[]> {
  const rows = await db
    .selectFrom('expunged_messages')
    .select('uid')
    .where('mailbox_id', '=', mailboxId)
    .where('modseq', '>', sinceModseq)
    .orderBy('uid')
    .execute();
  return rows.map((row) => Number(row.uid));
}

async function presentUids(db: Db, mailboxId: string): Promise<number[]> {
  const rows = await db.selectFrom('messages').select('uid').where('mailbox_id', '=', mailboxId).orderBy('uid').execute();
  return rows.map((row) => Number(row.uid));
}

export interface ExpungeHistory {
  /** UIDs expunged after the MODSEQ asked for, when `complete`. */
  uids: number[];
  /** False when the history was trimmed past that MODSEQ (`retention.expungeHistoryPerFolder`): `uids` is then empty. */
  complete: boolean;
  /** The folder's UIDNEXT: no UID at or above it was ever given. */
  uidNext: number;
}

/** The expunges after `sinceModseq`, if the folder still remembers them all (RFC 7162 §3.2.5.1, §3.2.6). */
export async function readExpungeHistory(db: Db, mailboxId: string, sinceModseq: number): Promise<ExpungeHistory> {
  const mailbox = await db.selectFrom('mailboxes').select(['uid_next', 'expunged_floor']).where('id', '=', mailboxId).executeTakeFirst();
  const uidNext = Number(mailbox?.uid_next ?? 1);
  if (Number(mailbox?.expunged_floor ?? 0) > sinceModseq) return { uids: [], complete: false, uidNext };
  return { uids: await expungedSince(db, mailboxId, sinceModseq), complete: true, uidNext };
}

/** Raises a folder's MODSEQ by one and returns the new value: the mod-sequence of one change. */
async function nextModseq(trx: Transaction<Database>, mailboxId: string): Promise<number> {
  const row = await trx
    .updateTable('mailboxes')
    .set((eb) => ({ highest_modseq: eb('highest_modseq', '+', 1) }))
    .where('id', '=', mailboxId)
    .returning('highest_modseq')
    .executeTakeFirst();
  if (!row) throw new AppError('not-found', 'mailbox-not-found', text('No such folder', 'Ce dossier n’existe pas'));
  return Number(row.highest_modseq);
}

export interface FlagUpdate {
  mode: 'set' | 'add' | 'remove';
  flags: string[];
}

/** Flags compare without regard to case (RFC 3501 §2.3.2); the first spelling is kept. */
function applyFlagUpdate(current: string[], update: FlagUpdate): string[] {
  const lower = (flags: string[]) => new Set(flags.map((f) => f.toLowerCase()));
  if (update.mode === 'set') return dedupe(update.flags);
  if (update.mode === 'add') {
    const have = lower(current);
    return [...current, ...dedupe(update.flags).filter((f) => !have.has(f.toLowerCase()))];
  }
  const removing = lower(update.flags);
  return current.filter((f) => !removing.has(f.toLowerCase()));
}

function dedupe(flags: string[]): string[] {
  const seen = new Set<string>();
  return flags.filter((f) => {
    const key = f.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Whether two flag lists hold the same flags, without regard to order or case. */
export function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a.map((f) => f.toLowerCase()));
  return b.every((f) => set.has(f.toLowerCase()));
}

export interface FlagUpdateResult {
  /** Messages whose flags changed, with their new flags and MODSEQ. */
  changed: IndexEntry[];
  /** Messages left alone because they changed after UNCHANGEDSINCE (RFC 7162 §3.1.3). */
  modified: number[];
}

/** STORE (RFC 3501 §6.4.6) with CONDSTORE's UNCHANGEDSINCE: one new MODSEQ for every message it changes. */
export async function updateFlags(
  ctx: AppContext,
  scope: { accountId: string; mailboxId: string },
  uids: number[],
  update: FlagUpdate,
  options: { unchangedSince?: number } = {},
): Promise<FlagUpdateResult> {
  let judged = false;
  const result = await ctx.mail.committer.run(async (trx) => {
    judged = false; // a batch retried by the committer starts again
    const changed: IndexEntry[] = [];
    const modified: number[] = [];
    let modseq: number | undefined;
    for (const part of chunks(uids, UIDS_PER_QUERY)) {
      const rows = await trx
        .selectFrom('messages')
        .select(['id', 'uid', 'modseq', 'flags', 'blob_id', 'customer_id'])
        .where('mailbox_id', '=', scope.mailboxId)
        .where('account_id', '=', scope.accountId)
        .where('uid', 'in', part)
        .execute();
      for (const row of rows) {
        if (options.unchangedSince !== undefined && Number(row.modseq) > options.unchangedSince) {
          modified.push(Number(row.uid));
          continue;
        }
        const before = parseFlags(row.flags);
        const after = applyFlagUpdate(before, update);
        if (sameFlags(before, after)) continue;
        modseq ??= await nextModseq(trx, scope.mailboxId);
        await trx
          .updateTable('messages')
          .set({ flags: JSON.stringify(after), modseq })
          .where('id', '=', row.id)
          .execute();
        changed.push({ uid: Number(row.uid), modseq, flags: after });
        const judgement = judgementOfFlags(before, after);
        if (judgement) {
          await recordJudgementsIn(
            trx,
            [{ customerId: row.customer_id, accountId: scope.accountId, blobId: row.blob_id }],
            judgement,
            'keyword',
            ctx.clock.now(),
          );
          judged = true;
        }
      }
    }
    return { changed: changed.sort((a, b) => a.uid - b.uid), modified: modified.sort((a, b) => a - b) };
  });
  if (judged) ctx.mail.judged?.();
  const last = result.changed.at(-1);
  if (last) ctx.mail.changes.publish({ type: 'flags', accountId: scope.accountId, mailboxId: scope.mailboxId, modseq: last.modseq });
  return result;
}

/** Deletes message rows and releases what they held: blob references and quota use. */
export async function removeMessages(
  trx: Transaction<Database>,
  messages: Array<Pick<MessagesTable, 'id' | 'blob_id' | 'size' | 'account_id'>>,
): Promise<void> {
  const perAccount = new Map<string, { bytes: number; count: number }>();
  for (const message of messages) {
    const usage = perAccount.get(message.account_id) ?? { bytes: 0, count: 0 };
    usage.bytes += Number(message.size);
    usage.count += 1;
    perAccount.set(message.account_id, usage);
  }
  for (const part of chunks(messages, UIDS_PER_QUERY)) {
    await trx
      .deleteFrom('messages')
      .where(
        'id',
        'in',
        part.map((m) => m.id),
      )
      .execute();
  }
  await releaseContents(
    trx,
    messages.map((m) => m.blob_id),
  );
  await dropUnusedTexts(
    trx,
    messages.map((m) => m.blob_id),
  );
  for (const [accountId, usage] of perAccount) {
    await trx
      .updateTable('mail_usage')
      .set((eb) => ({ used_bytes: eb('used_bytes', '-', usage.bytes), message_count: eb('message_count', '-', usage.count) }))
      .where('account_id', '=', accountId)
      .execute();
  }
}

/** An expunged row as the history keeps it: its UID for IMAP, its id and conversation for JMAP (migration 018). */
export interface ExpungedRow {
  uid: number;
  id: string;
  thread_id: string | null;
}

export async function recordExpunged(trx: Transaction<Database>, mailboxId: string, rows: ExpungedRow[], modseq: number): Promise<void> {
  for (const part of chunks(rows, UIDS_PER_QUERY)) {
    await trx
      .insertInto('expunged_messages')
      .values(part.map((row) => ({ mailbox_id: mailboxId, uid: Number(row.uid), modseq, message_id: row.id, thread_id: row.thread_id })))
      .onConflict((oc) =>
        oc.columns(['mailbox_id', 'uid']).doUpdateSet((eb) => ({ modseq, message_id: eb.ref('excluded.message_id'), thread_id: eb.ref('excluded.thread_id') })),
      )
      .execute();
  }
}

/**
 * EXPUNGE (RFC 3501 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1): removes the messages flagged \Deleted,
 * among `uids` when given. With `flagged: false` (POP3's UPDATE state, RFC 1939 §6), removes exactly
 * `uids`, whatever their flags. Returns the UIDs removed, in order.
 */
export async function expungeMessages(
  ctx: AppContext,
  scope: { accountId: string; mailboxId: string },
  uids?: number[],
  options: { flagged: boolean } = { flagged: true },
): Promise<number[]> {
  const removed = await ctx.mail.committer.run(async (trx) => {
    // The UIDs flagged \Deleted come from the folder's index alone (migration 017): a whole-folder
    // EXPUNGE read every row of the folder (kilobytes of metadata each) to test its flags.
    let targets = uids;
    if (options.flagged) {
      const flagged = await trx.selectFrom('messages').select('uid').where('mailbox_id', '=', scope.mailboxId).where(hasFlagSql('\\Deleted')).execute();
      const wanted = uids && new Set(uids);
      targets = flagged.map((row) => Number(row.uid)).filter((uid) => !wanted || wanted.has(uid));
    }
    const rowsOf = (part?: number[]) => {
      let query = trx
        .selectFrom('messages')
        .select(['id', 'uid', 'blob_id', 'size', 'account_id', 'thread_id'])
        .where('mailbox_id', '=', scope.mailboxId)
        .where('account_id', '=', scope.accountId);
      if (part) query = query.where('uid', 'in', part);
      return query.execute();
    };
    const rows = [];
    if (targets === undefined) rows.push(...(await rowsOf()));
    else {
      for (const part of chunks(targets, UIDS_PER_QUERY)) rows.push(...(await rowsOf(part)));
    }
    if (rows.length === 0) return [];
    const modseq = await nextModseq(trx, scope.mailboxId);
    await removeMessages(trx, rows);
    await recordExpunged(trx, scope.mailboxId, rows, modseq);
    return rows.map((row) => Number(row.uid)).sort((a, b) => a - b);
  });
  if (removed.length > 0) ctx.mail.changes.publish({ type: 'expunge', accountId: scope.accountId, mailboxId: scope.mailboxId });
  return removed;
}

export interface CopyResult {
  /** UIDVALIDITY of the destination, for UIDPLUS's COPYUID (RFC 4315 §3). */
  uidValidity: number;
  /** [source UID, new UID] in source UID order. */
  pairs: Array<[number, number]>;
}

function overQuota(): AppError {
  return new AppError('over-quota', 'over-quota', text('The mailbox is full', 'La boîte aux lettres est pleine'));
}

/**
 * COPY (RFC 3501 §6.4.7) and MOVE (RFC 6851): the messages keep their content, flags and internal date
 * and get new UIDs in the destination. A copy counts against the quota (a move does not), all or nothing.
 */
export async function copyMessages(
  ctx: AppContext,
  scope: { accountId: string; mailboxId: string },
  uids: number[],
  destination: MailboxesTable,
  options: { move: boolean },
): Promise<CopyResult> {
  let judged = false;
  const result = await ctx.mail.committer.run(async (trx) => {
    judged = false;
    const rows = await fullRows(trx, scope, uids);
    const bytes = rows.reduce((sum, row) => sum + Number(row.size), 0);
    if (!options.move && rows.length > 0) await checkQuota(trx, scope.accountId, bytes);
    if (rows.length === 0) return { uidValidity: Number(destination.uid_validity), pairs: [] as Array<[number, number]> };

    const counters = await trx
      .updateTable('mailboxes')
      .set((eb) => ({ uid_next: eb('uid_next', '+', rows.length), highest_modseq: eb('highest_modseq', '+', 1) }))
      .where('id', '=', destination.id)
      .where('account_id', '=', scope.accountId)
      .returning(['uid_next', 'highest_modseq', 'uid_validity'])
      .executeTakeFirst();
    if (!counters) throw new AppError('not-found', 'mailbox-not-found', text('No such folder', 'Ce dossier n’existe pas'));
    let uid = Number(counters.uid_next) - rows.length;
    const modseq = Number(counters.highest_modseq);
    const now = ctx.clock.now();
    const pairs: Array<[number, number]> = [];
    if (options.move) {
      // A moved message keeps its row id (JMAP's Email id, RFC 8621 §4: immutable, mailboxIds changes):
      // the source rows go first, then come back under the destination with new UIDs.
      const sourceModseq = await nextModseq(trx, scope.mailboxId);
      for (const part of chunks(rows, UIDS_PER_QUERY)) {
        await trx
          .deleteFrom('messages')
          .where(
            'id',
            'in',
            part.map((r) => r.id),
          )
          .execute();
      }
      await recordExpunged(trx, scope.mailboxId, rows, sourceModseq);
    }
    for (const row of rows) {
      const newUid = uid++;
      pairs.push([Number(row.uid), newUid]);
      await trx
        .insertInto('messages')
        .values({ ...row, id: options.move ? row.id : newId('msg'), mailbox_id: destination.id, uid: newUid, modseq, created_at: now })
        .execute();
    }
    if (!options.move) await addReferences(trx, scope.accountId, rows);
    judged = await recordJudgementOfMove(ctx, trx, scope, destination, rows, options.move);
    return { uidValidity: Number(counters.uid_validity), pairs };
  });
  if (judged) ctx.mail.judged?.();
  if (result.pairs.length > 0) {
    ctx.mail.changes.publish({ type: 'new', accountId: scope.accountId, mailboxId: destination.id });
    if (options.move) ctx.mail.changes.publish({ type: 'expunge', accountId: scope.accountId, mailboxId: scope.mailboxId });
  }
  return result;
}

/** A move into or out of Junk is the user's judgement of those messages (mailstore/judgements.ts). */
async function recordJudgementOfMove(
  ctx: AppContext,
  trx: Transaction<Database>,
  scope: { accountId: string; mailboxId: string },
  destination: MailboxesTable,
  rows: MessagesTable[],
  move: boolean,
): Promise<boolean> {
  const source = await trx.selectFrom('mailboxes').select('special_use').where('id', '=', scope.mailboxId).executeTakeFirst();
  const judgement = judgementOfMove(source?.special_use ?? null, destination.special_use);
  if (!judgement) return false;
  const judgedRows = rows.map((row) => ({ customerId: row.customer_id, accountId: scope.accountId, blobId: row.blob_id }));
  await recordJudgementsIn(trx, judgedRows, judgement, move ? 'imap-move' : 'imap-copy', ctx.clock.now());
  return true;
}

async function checkQuota(trx: Transaction<Database>, accountId: string, adding: number): Promise<void> {
  const row = await trx
    .selectFrom('accounts')
    .innerJoin('classes', 'classes.id', 'accounts.class_id')
    .leftJoin('mail_usage', 'mail_usage.account_id', 'accounts.id')
    .select(['classes.quota_bytes', 'mail_usage.used_bytes'])
    .where('accounts.id', '=', accountId)
    .executeTakeFirst();
  if (!row || Number(row.used_bytes ?? 0) + adding > Number(row.quota_bytes)) throw overQuota();
}

/** Whole rows of some messages of the account's folder, in UID order. */
function fullRows(trx: Transaction<Database>, scope: { accountId: string; mailboxId: string }, uids: number[]): Promise<MessagesTable[]> {
  return byUidChunks(uids, (part) =>
    trx
      .selectFrom('messages')
      .selectAll()
      .where('mailbox_id', '=', scope.mailboxId)
      .where('account_id', '=', scope.accountId)
      .where('uid', 'in', part)
      .execute(),
  );
}

/**
 * Copies hold one more reference to their blobs and count in the quota. A content the collector has
 * condemned is not referenced again (a message still using it should make that impossible: the check
 * keeps it so whatever the collector's timing), and the copy fails to be retried.
 */
async function addReferences(trx: Transaction<Database>, accountId: string, rows: MessagesTable[]): Promise<void> {
  const perBlob = new Map<string, number>();
  let bytes = 0;
  for (const row of rows) {
    perBlob.set(row.blob_id, (perBlob.get(row.blob_id) ?? 0) + 1);
    bytes += Number(row.size);
  }
  for (const [blobId, count] of perBlob) {
    const referenced = await trx
      .updateTable('blobs')
      .set((eb) => ({ refcount: eb('refcount', '+', count) }))
      .where('id', '=', blobId)
      .where('condemned_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    if (!referenced) throw tryAgain('blob-missing');
  }
  await trx
    .updateTable('mail_usage')
    .set((eb) => ({ used_bytes: eb('used_bytes', '+', bytes), message_count: eb('message_count', '+', rows.length) }))
    .where('account_id', '=', accountId)
    .execute();
}

/** The account's quota and use, in octets (RFC 9208 STORAGE is reported in units of 1024 octets). */
export async function quotaOf(db: Db, accountId: string): Promise<{ usedBytes: number; limitBytes: number; messages: number } | undefined> {
  const row = await db
    .selectFrom('accounts')
    .innerJoin('classes', 'classes.id', 'accounts.class_id')
    .leftJoin('mail_usage', 'mail_usage.account_id', 'accounts.id')
    .select(['classes.quota_bytes', 'mail_usage.used_bytes', 'mail_usage.message_count'])
    .where('accounts.id', '=', accountId)
    .executeTakeFirst();
  if (!row) return undefined;
  return { usedBytes: Number(row.used_bytes ?? 0), limitBytes: Number(row.quota_bytes), messages: Number(row.message_count ?? 0) };
}
