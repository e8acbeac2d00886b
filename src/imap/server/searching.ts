/**
 * How a search program (RFC 3501 §6.4.4) is evaluated against the session's view of the folder: shared by
 * SEARCH, SORT and THREAD (`findMatches`, every message) and by RFC 5267 §4.3 search contexts
 * (`matchUids`, only the messages that changed). Flags, UIDs and MODSEQs come from the session's view;
 * sizes, dates and header fields from the stored metadata; TEXT, BODY, SUBJECT, FROM, TO, CC and BCC from
 * the mailstore's text index (searchMessageText: extracted at delivery, no message parsed here).
 * Comparisons ignore case (RFC 3501: substring, case-insensitive).
 */
import type { Kysely } from 'kysely';
import {
  type MessageColumn,
  type MessageColumnValues,
  readMessageColumns,
  readMessageColumnsOf,
  searchMessageText,
  type TextSearchKey,
} from '../../mailstore/index.ts';
import { decodeEncodedWords, type MessageMetadata, writtenDateOf } from '../../mime/index.ts';
import type { Database } from '../../store/index.ts';
import { contains, expandSequenceSet, type SearchKey, type SequenceRange } from '../proto/index.ts';
import type { CommandContext } from './command.ts';
import type { SelectedMailbox } from './selected.ts';

/** Messages per read when only small columns are needed (a size, a date). */
const COLUMN_BATCH = 5000;
/** Messages per read when the metadata is needed (HEADER of other fields): bounds memory on a large folder. */
const ROW_BATCH = 200;

type Row = Partial<Pick<MessageColumnValues, MessageColumn>>;

/** Where a search looks: the session's view of one folder of an account. */
export interface SearchScope {
  db: Kysely<Database>;
  accountId: string;
  selected: SelectedMailbox;
}

interface Candidate {
  seq: number;
  uid: number;
  flags: readonly string[];
  modseq: number;
  row?: Row;
  /** Parsed from the row at first use. */
  metadata?: MessageMetadata;
}

export interface SearchMatch {
  seq: number;
  uid: number;
  modseq: number;
}

/** Header fields searched in the text index (RFC 3501 §6.4.4 SUBJECT, FROM, TO, CC, BCC, and HEADER of the same fields). */
const INDEXED_FIELDS: ReadonlySet<string> = new Set(['subject', 'from', 'to', 'cc', 'bcc']);

/** The text index's key for a search key it answers, else undefined (an empty HEADER value tests the field's presence). */
function textKeyOf(key: SearchKey): TextSearchKey | undefined {
  if (key.type === 'body' || key.type === 'text') return key.type;
  if (key.type === 'header' && key.value !== '' && INDEXED_FIELDS.has(key.field)) return key.field as TextSearchKey;
  return undefined;
}

/** UIDs of the folder matching each text key of the search, asked of the mailstore once per key. */
export type TextHits = Map<SearchKey, Set<number>>;

/**
 * The text keys' hits, added to `hits`: of the whole folder, or from `fromUid` on (messages just added:
 * a message's text never changes, so the hits of the others stay right).
 */
export async function findTextHits(scope: SearchScope, key: SearchKey, hits: TextHits, fromUid?: number): Promise<TextHits> {
  const textKey = textKeyOf(key);
  if (textKey && (key.type === 'body' || key.type === 'text' || key.type === 'header')) {
    const where = { accountId: scope.accountId, mailboxIds: [scope.selected.id], ...(fromUid === undefined ? {} : { fromUid }) };
    const found = await searchMessageText(scope.db, where, textKey, key.value);
    const set = hits.get(key) ?? new Set<number>();
    for (const match of found) set.add(match.uid);
    hits.set(key, set);
  } else if (key.type === 'not') await findTextHits(scope, key.key, hits, fromUid);
  else if (key.type === 'or') {
    await findTextHits(scope, key.left, hits, fromUid);
    await findTextHits(scope, key.right, hits, fromUid);
  } else if (key.type === 'and') for (const k of key.keys) await findTextHits(scope, k, hits, fromUid);
  return hits;
}

/**
 * The columns a key needs: sizes and dates theirs; header fields outside the text index need the
 * metadata (JSON, parsed per message); the text keys none (their UIDs come from the text index).
 */
function columnsOf(key: SearchKey, out: Set<MessageColumn>): Set<MessageColumn> {
  switch (key.type) {
    case 'header':
      if (!textKeyOf(key)) out.add('metadata');
      break;
    case 'date':
      // SENT* compare the Date field as written (its envelope copy in the metadata, read by the database), not the instant in sent_date.
      out.add(key.of === 'internal' ? 'internal_date' : 'written_date');
      break;
    case 'size':
      out.add('size');
      break;
    case 'not':
      columnsOf(key.key, out);
      break;
    case 'or':
      columnsOf(key.left, out);
      columnsOf(key.right, out);
      break;
    case 'and':
      for (const k of key.keys) columnsOf(k, out);
      break;
  }
  return out;
}

/** Whether some key of the program passes `test`. */
function uses(key: SearchKey, test: (key: SearchKey) => boolean): boolean {
  if (test(key)) return true;
  if (key.type === 'not') return uses(key.key, test);
  if (key.type === 'or') return uses(key.left, test) || uses(key.right, test);
  if (key.type === 'and') return key.keys.some((k) => uses(k, test));
  return false;
}

export function usesModseq(key: SearchKey): boolean {
  return uses(key, (k) => k.type === 'modseq');
}

/**
 * Whether the program can change its answer for a message already in the folder: only through its
 * flags and MODSEQ (sizes, dates, headers and text never change; \Recent is fixed for the session).
 */
export function dependsOnFlags(key: SearchKey): boolean {
  return uses(key, (k) => k.type === 'flag' || k.type === 'modseq');
}

/** Whether a UID set of the program uses `*`, the highest UID: its answer moves with the folder's last message. */
export function usesHighestUid(key: SearchKey): boolean {
  return uses(key, (k) => k.type === 'uid' && k.set.some((range) => range.start === '*' || range.end === '*'));
}

/**
 * The program with its message sequence numbers replaced by the UIDs they name now (RFC 5267 §4.3, last
 * paragraph: sequence numbers are evaluated when the command is received). Exact: the messages between
 * two messages of the view are those of the view, and new messages have higher UIDs than all of them.
 */
export function withSequenceNumbersAsUids(key: SearchKey, selected: SelectedMailbox): SearchKey {
  switch (key.type) {
    case 'seq': {
      const set: SequenceRange[] = [];
      for (const [low, high] of expandSequenceSet(key.set, selected.count)) {
        set.push({ start: selected.uidAt(low) as number, end: selected.uidAt(high) as number });
      }
      return { type: 'uid', set };
    }
    case 'not':
      return { type: 'not', key: withSequenceNumbersAsUids(key.key, selected) };
    case 'or':
      return { type: 'or', left: withSequenceNumbersAsUids(key.left, selected), right: withSequenceNumbersAsUids(key.right, selected) };
    case 'and':
      return { type: 'and', keys: key.keys.map((k) => withSequenceNumbersAsUids(k, selected)) };
    default:
      return key;
  }
}

/** `yyyy-mm-dd` of an instant, in UTC (RFC 3501 compares dates, disregarding time and timezone). */
function dayOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

function compareDay(day: string, op: 'before' | 'on' | 'since', date: string): boolean {
  if (op === 'before') return day < date;
  if (op === 'on') return day === date;
  return day >= date;
}

function includes(haystack: string, needle: string): boolean {
  return haystack.toLowerCase().includes(needle.toLowerCase());
}

function headerMatches(metadata: MessageMetadata, field: string, value: string): boolean {
  const values = metadata.headerFields[field];
  if (!values || values.length === 0) return false;
  if (value === '') return true;
  return values.some((raw) => includes(decodeEncodedWords(raw), value) || includes(raw, value));
}

function metadataOf(c: Candidate): MessageMetadata | undefined {
  if (c.metadata === undefined && c.row?.metadata !== undefined) c.metadata = JSON.parse(c.row.metadata) as MessageMetadata;
  return c.metadata;
}

/** Whether a message matches: the text keys' UIDs were found beforehand (`hits`). */
function matchesNow(key: SearchKey, c: Candidate, selected: SelectedMailbox, hits: TextHits): boolean {
  switch (key.type) {
    case 'all':
      return true;
    case 'seq':
      return contains(key.set, c.seq, selected.count);
    case 'uid':
      return contains(key.set, c.uid, selected.lastUid);
    case 'flag': {
      const want = key.flag;
      // Flags are stored in their canonical case: the exact test decides almost always, without a lower-cased copy.
      for (const f of c.flags) if (f === want || (f.length === want.length && f.toLowerCase() === want.toLowerCase())) return key.present;
      return !key.present;
    }
    case 'recent':
      return selected.isRecent(c.uid);
    case 'header': {
      const found = hits.get(key);
      if (found) return found.has(c.uid);
      const metadata = metadataOf(c);
      return metadata ? headerMatches(metadata, key.field, key.value) : false;
    }
    case 'date': {
      if (key.of === 'internal') return compareDay(dayOf(Number(c.row?.internal_date ?? 0)), key.op, key.date);
      // RFC 3501 §6.4.4: "the Date: header (disregarding time and timezone)": the calendar date as written.
      const written = c.row?.written_date;
      const day = written ? writtenDateOf(written) : null;
      return day === null ? false : compareDay(day, key.op, key.date);
    }
    case 'size': {
      const size = Number(c.row?.size ?? 0);
      return key.op === 'larger' ? size > key.size : size < key.size;
    }
    case 'modseq':
      return c.modseq >= key.modseq;
    case 'not':
      return !matchesNow(key.key, c, selected, hits);
    case 'or':
      return matchesNow(key.left, c, selected, hits) || matchesNow(key.right, c, selected, hits);
    case 'and':
      for (const k of key.keys) if (!matchesNow(k, c, selected, hits)) return false;
      return true;
    case 'body':
    case 'text':
      return hits.get(key)?.has(c.uid) ?? false;
  }
}

/**
 * The messages of the session's view that satisfy `key`, in mailbox order: SEARCH's evaluation, shared
 * with SORT and THREAD (RFC 5256 §3: they search first, with the same keys).
 */
export async function findMatches(ctx: CommandContext, selected: SelectedMailbox, key: SearchKey): Promise<SearchMatch[]> {
  const account = ctx.session.account;
  if (!account) throw new Error('search without a logged-in account');
  const scope: SearchScope = { db: ctx.app.db, accountId: account.id, selected };
  return matchAll(scope, key, await findTextHits(scope, key, new Map()));
}

/** Every message of the view that satisfies `key`, the text keys' hits given. */
export async function matchAll(scope: SearchScope, key: SearchKey, hits: TextHits): Promise<SearchMatch[]> {
  const { db, selected } = scope;
  const columns = [...columnsOf(key, new Set())];
  const withRow = columns.length > 0;
  const batchSize = columns.includes('metadata') ? ROW_BATCH : COLUMN_BATCH;
  const all = selected.allUids();
  const matched: SearchMatch[] = [];
  // Nothing is kept per message: one candidate serves them all (100,000 messages).
  const c: Candidate = { seq: 0, uid: 0, flags: [], modseq: 0 };
  for (let i = 0; i < all.length; i += batchSize) {
    const end = Math.min(i + batchSize, all.length);
    // Rows by UID range, in UID order like the view: walked side by side (rows of messages the view
    // does not hold yet are passed over; a message without a row was expunged meanwhile).
    const rows = withRow ? await readMessageColumns(db, selected.id, all[i] as number, all[end - 1] as number, columns) : [];
    let r = 0;
    for (let j = i; j < end; j++) {
      const uid = all[j] as number;
      if (selected.isExpunged(uid)) continue;
      let row: Row | undefined;
      if (withRow) {
        while (r < rows.length && Number(rows[r]?.uid) < uid) r++;
        row = rows[r];
        if (!row || Number(row.uid) !== uid) continue;
      }
      if (matchesAt(key, c, selected, hits, j + 1, uid, row)) matched.push({ seq: c.seq, uid, modseq: c.modseq });
    }
  }
  return matched;
}

/**
 * The messages among `uids` (ascending) that satisfy `key`: what RFC 5267 §4.3 contexts re-evaluate
 * (new messages, changed flags) instead of the whole folder. UIDs the view does not hold, or holds as
 * expunged, are left out. Rows are read by UID lists, the messages being anywhere in the folder.
 */
export async function matchUids(scope: SearchScope, key: SearchKey, hits: TextHits, uids: readonly number[]): Promise<SearchMatch[]> {
  const { db, selected } = scope;
  const columns = [...columnsOf(key, new Set())];
  const withRow = columns.length > 0;
  const batchSize = columns.includes('metadata') ? ROW_BATCH : COLUMN_BATCH;
  const matched: SearchMatch[] = [];
  const c: Candidate = { seq: 0, uid: 0, flags: [], modseq: 0 };
  for (let i = 0; i < uids.length; i += batchSize) {
    const batch: Array<{ uid: number; seq: number }> = [];
    for (const uid of uids.slice(i, i + batchSize)) {
      const seq = selected.isExpunged(uid) ? undefined : selected.seqOf(uid);
      if (seq !== undefined) batch.push({ uid, seq });
    }
    const rows =
      withRow && batch.length > 0
        ? await readMessageColumnsOf(
            db,
            selected.id,
            batch.map((m) => m.uid),
            columns,
          )
        : [];
    let r = 0;
    for (const { uid, seq } of batch) {
      let row: Row | undefined;
      if (withRow) {
        while (r < rows.length && Number(rows[r]?.uid) < uid) r++;
        row = rows[r];
        if (!row || Number(row.uid) !== uid) continue;
      }
      if (matchesAt(key, c, selected, hits, seq, uid, row)) matched.push({ seq, uid, modseq: c.modseq });
    }
  }
  return matched;
}

/** Fills the candidate with message `seq` of the view and tests it. */
function matchesAt(key: SearchKey, c: Candidate, selected: SelectedMailbox, hits: TextHits, seq: number, uid: number, row: Row | undefined): boolean {
  c.seq = seq;
  c.uid = uid;
  c.flags = selected.flagsAt(seq);
  c.modseq = selected.modseqAt(seq);
  c.row = row;
  c.metadata = undefined;
  return matchesNow(key, c, selected, hits);
}
