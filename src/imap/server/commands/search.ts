/**
 * SEARCH and UID SEARCH (RFC 3501 §6.4.4) with every key, CHARSET UTF-8, CONDSTORE's MODSEQ key and
 * response (RFC 7162 §3.1.5) and ESEARCH's RETURN options (RFC 4731). Flags, UIDs and MODSEQs come
 * from the session's view; sizes, dates and header fields from the stored metadata; BODY and TEXT
 * read the message and search its decoded text parts. Comparisons ignore case (RFC 3501: substring,
 * case-insensitive).
 */
import { type MessageColumn, readContent, readMessageColumns } from '../../../mailstore/index.ts';
import { decodeEncodedWords, loadMailparser, type MessageMetadata, writtenDateOf } from '../../../mime/index.ts';
import type { MessagesTable } from '../../../store/index.ts';
import { contains, formatSequenceSet, parseSearchArgs, type SearchKey } from '../../proto/index.ts';
import { bad, type CommandContext, defineCommand, ok, SELECTED } from '../command.ts';
import { enableCondstore } from '../condstore.ts';
import type { SelectedMailbox } from '../selected.ts';
import { quoted } from '../text.ts';
import { uidRanges } from '../updates.ts';

/** Messages above this size are searched in their raw form: parsing them whole would cost too much memory. */
const MAX_PARSED_SEARCH_BYTES = 10 * 1024 * 1024;
/** Messages per read when only small columns are needed (a subject, a size, a date). */
const COLUMN_BATCH = 5000;
/** Messages per read when the metadata or the content is needed: bounds memory for SEARCH TEXT of a large folder. */
const ROW_BATCH = 200;

type Row = Partial<Pick<MessagesTable, MessageColumn>>;

/** Columns that never change once a message is stored (a UID names one message for good in its UIDVALIDITY). */
const IMMUTABLE_COLUMNS: ReadonlySet<MessageColumn> = new Set<MessageColumn>(['subject', 'from_address']);
/** Rows kept over all folders and columns, least recently searched folder out. */
const MAX_CACHED_ROWS = 200_000;

interface ColumnCache {
  uidValidity: number;
  rows: Map<number, Row>;
}

/**
 * SEARCH SUBJECT / FROM rows of this process's folders: reading every row's subject again at each search
 * cost more than the rest of the search (bench/imap: 4 ms per search of a 2,000-message folder, the
 * largest cost of the mixed load). Only the UIDs not seen yet are read; rows are immutable, so
 * nothing is ever stale (an expunged message is left out by the view, like a row not found).
 */
const columnCaches = new Map<string, ColumnCache>();
let cachedRows = 0;
/** The store the cache was filled from: another store (tests run several apps in one process) starts afresh. */
let cachedDb: object | undefined;

function columnCache(ctx: CommandContext, selected: SelectedMailbox, column: MessageColumn): ColumnCache {
  if (cachedDb !== ctx.app.db) {
    columnCaches.clear();
    cachedRows = 0;
    cachedDb = ctx.app.db;
  }
  const key = `${selected.id}\u0000${column}`;
  let cache = columnCaches.get(key);
  if (cache) columnCaches.delete(key);
  if (cache && cache.uidValidity !== selected.uidValidity) {
    cachedRows -= cache.rows.size;
    cache = undefined;
  }
  cache ??= { uidValidity: selected.uidValidity, rows: new Map() };
  columnCaches.set(key, cache);
  return cache;
}

/** The rows of `uids` (ascending) for one immutable column, read from the store only for UIDs not cached. */
async function cachedColumnRows(
  ctx: CommandContext,
  selected: SelectedMailbox,
  column: MessageColumn,
  uids: readonly number[],
  from: number,
  end: number,
): Promise<Row[]> {
  const cache = columnCache(ctx, selected, column);
  let low = -1;
  let high = -1;
  for (let j = from; j < end; j++) {
    const uid = uids[j] as number;
    if (cache.rows.has(uid)) continue;
    if (low < 0) low = uid;
    high = uid;
  }
  if (low >= 0) {
    for (const row of await readMessageColumns(ctx.app.db, selected.id, low, high, [column])) {
      const uid = Number(row.uid);
      if (cache.rows.has(uid)) continue;
      cache.rows.set(uid, { uid, [column]: row[column] } as Row);
      cachedRows++;
    }
    for (const [key, other] of columnCaches) {
      if (cachedRows <= MAX_CACHED_ROWS || other === cache) break;
      columnCaches.delete(key);
      cachedRows -= other.rows.size;
    }
  }
  const rows: Row[] = [];
  for (let j = from; j < end; j++) {
    const row = cache.rows.get(uids[j] as number);
    if (row) rows.push(row);
  }
  return rows;
}

interface Candidate {
  seq: number;
  uid: number;
  flags: readonly string[];
  modseq: number;
  row?: Row;
  /** Parsed from the row at first use. */
  metadata?: MessageMetadata;
  /** Decoded body text, read at most once per message. */
  body?: string;
}

/**
 * The columns a key needs: SUBJECT and FROM use the decoded `subject` and `from_address` columns,
 * sizes and dates theirs; only other header fields need the metadata (JSON, parsed per message), and
 * BODY and TEXT the content.
 */
function columnsOf(key: SearchKey, out: Set<MessageColumn>): Set<MessageColumn> {
  switch (key.type) {
    case 'header':
      if (key.value !== '' && key.field === 'subject') out.add('subject');
      else if (key.value !== '' && key.field === 'from') out.add('from_address');
      else out.add('metadata');
      break;
    case 'date':
      // SENT* compare the Date field as written (its envelope copy in the metadata), not the instant in sent_date.
      out.add(key.of === 'internal' ? 'internal_date' : 'metadata');
      break;
    case 'size':
      out.add('size');
      break;
    case 'body':
    case 'text':
      out.add('blob_id').add('metadata');
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

function needsBody(key: SearchKey): boolean {
  switch (key.type) {
    case 'body':
    case 'text':
      return true;
    case 'not':
      return needsBody(key.key);
    case 'or':
      return needsBody(key.left) || needsBody(key.right);
    case 'and':
      return key.keys.some(needsBody);
    default:
      return false;
  }
}

function usesModseq(key: SearchKey): boolean {
  if (key.type === 'modseq') return true;
  if (key.type === 'not') return usesModseq(key.key);
  if (key.type === 'or') return usesModseq(key.left) || usesModseq(key.right);
  if (key.type === 'and') return key.keys.some(usesModseq);
  return false;
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

async function bodyText(ctx: CommandContext, candidate: Candidate): Promise<string> {
  if (candidate.body !== undefined) return candidate.body;
  const blobId = candidate.row?.blob_id;
  if (!blobId) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of readContent(ctx.app, blobId) as AsyncIterable<Buffer>) chunks.push(chunk);
  const raw = Buffer.concat(chunks);
  const headerSize = metadataOf(candidate)?.headerSize ?? 0;
  if (raw.length > MAX_PARSED_SEARCH_BYTES) candidate.body = raw.subarray(headerSize).toString('utf8');
  else {
    const { simpleParser } = await loadMailparser();
    const parsed = await simpleParser(raw, { skipImageLinks: true, skipHtmlToText: false });
    candidate.body = [parsed.text ?? '', typeof parsed.html === 'string' ? parsed.html.replace(/<[^>]*>/g, ' ') : ''].join('\n');
  }
  return candidate.body;
}

/** Every key but BODY and TEXT, answered without waiting. */
function matchesNow(key: SearchKey, c: Candidate, selected: SelectedMailbox): boolean {
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
    case 'header':
      if (key.value !== '' && key.field === 'subject') return includes(c.row?.subject ?? '', key.value);
      if (key.value !== '' && key.field === 'from') return includes(c.row?.from_address ?? '', key.value);
      {
        const metadata = metadataOf(c);
        return metadata ? headerMatches(metadata, key.field, key.value) : false;
      }
    case 'date': {
      if (key.of === 'internal') return compareDay(dayOf(Number(c.row?.internal_date ?? 0)), key.op, key.date);
      // RFC 3501 §6.4.4: "the Date: header (disregarding time and timezone)": the calendar date as written.
      const written = metadataOf(c)?.envelope.date;
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
      return !matchesNow(key.key, c, selected);
    case 'or':
      return matchesNow(key.left, c, selected) || matchesNow(key.right, c, selected);
    case 'and':
      for (const k of key.keys) if (!matchesNow(k, c, selected)) return false;
      return true;
    case 'body':
    case 'text':
      throw new Error('BODY and TEXT are matched by matches()');
  }
}

async function matches(ctx: CommandContext, key: SearchKey, c: Candidate, selected: SelectedMailbox): Promise<boolean> {
  switch (key.type) {
    case 'body':
      return includes(await bodyText(ctx, c), key.value);
    case 'text': {
      const metadata = metadataOf(c);
      return (
        (metadata ? Object.values(metadata.headerFields).some((vs) => vs.some((v) => includes(decodeEncodedWords(v), key.value))) : false) ||
        includes(await bodyText(ctx, c), key.value)
      );
    }
    case 'not':
      return !(await matches(ctx, key.key, c, selected));
    case 'or':
      return (await matches(ctx, key.left, c, selected)) || (await matches(ctx, key.right, c, selected));
    case 'and':
      for (const k of key.keys) if (!(await matches(ctx, k, c, selected))) return false;
      return true;
    default:
      return matchesNow(key, c, selected);
  }
}

export const search = defineCommand({
  name: 'SEARCH',
  states: SELECTED,
  holdsExpunges: true,
  async run(ctx) {
    const args = parseSearchArgs(ctx.args);
    const selected = ctx.session.selected;
    if (!selected) return bad('No folder selected');
    if (args.return?.includes('SAVE')) return bad('SEARCHRES (SAVE) is not supported');
    const withModseq = usesModseq(args.key);
    if (withModseq) await enableCondstore(ctx);
    const matched = await findMatches(ctx, selected, args.key);
    const numbers = matched.map((m) => (ctx.command.uid ? m.uid : m.seq));
    const modseqs: ModseqsOfMatches = { first: matched[0]?.modseq ?? 0, last: matched.at(-1)?.modseq ?? 0, highest: 0 };
    for (const m of matched) if (m.modseq > modseqs.highest) modseqs.highest = m.modseq;
    if (args.return === null) {
      const modseq = withModseq && numbers.length > 0 ? ` (MODSEQ ${modseqs.highest})` : '';
      await ctx.untagged(`SEARCH${numbers.map((n) => ` ${n}`).join('')}${modseq}`);
    } else {
      await ctx.untagged(esearch(ctx, args.return, numbers, withModseq ? esearchModseq(args.return, modseqs) : undefined));
    }
    return ok('SEARCH completed');
  },
});

export interface SearchMatch {
  seq: number;
  uid: number;
  modseq: number;
}

/**
 * The messages of the session's view that satisfy `key`, in mailbox order: SEARCH's evaluation, shared
 * with SORT and THREAD (RFC 5256 §3: they search first, with the same keys).
 */
export async function findMatches(ctx: CommandContext, selected: SelectedMailbox, key: SearchKey): Promise<SearchMatch[]> {
  const columns = [...columnsOf(key, new Set())];
  const withRow = columns.length > 0;
  const withBody = needsBody(key);
  const batchSize = columns.includes('metadata') ? ROW_BATCH : COLUMN_BATCH;
  const cachedColumn = columns.length === 1 && IMMUTABLE_COLUMNS.has(columns[0] as MessageColumn) ? columns[0] : undefined;
  const all = selected.allUids();
  const matched: SearchMatch[] = [];
  // Without BODY or TEXT nothing is kept per message: one candidate serves them all (100,000 messages).
  const reused: Candidate = { seq: 0, uid: 0, flags: [], modseq: 0 };
  for (let i = 0; i < all.length; i += batchSize) {
    const end = Math.min(i + batchSize, all.length);
    // Rows by UID range, in UID order like the view: walked side by side (rows of messages the view
    // does not hold yet are passed over; a message without a row was expunged meanwhile).
    const rows = !withRow
      ? []
      : cachedColumn
        ? await cachedColumnRows(ctx, selected, cachedColumn, all, i, end)
        : await readMessageColumns(ctx.app.db, selected.id, all[i] as number, all[end - 1] as number, columns);
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
      const c: Candidate = withBody ? { seq: 0, uid: 0, flags: [], modseq: 0 } : reused;
      c.seq = j + 1;
      c.uid = uid;
      c.flags = selected.flagsAt(j + 1);
      c.modseq = selected.modseqAt(j + 1);
      c.row = row;
      c.metadata = undefined;
      if (!(withBody ? await matches(ctx, key, c, selected) : matchesNow(key, c, selected))) continue;
      matched.push({ seq: c.seq, uid, modseq: c.modseq });
    }
  }
  return matched;
}

/** MODSEQs of the matches: of the first (MIN), of the last (MAX), and the highest of all. */
interface ModseqsOfMatches {
  first: number;
  last: number;
  highest: number;
}

/**
 * RFC 4731 §3.2 (with RFC 7162 §3.1.10): a single MIN or MAX gives the MODSEQ of that message, MIN and
 * MAX alone the higher of the two, anything else (ALL, COUNT, `RETURN ()` which means ALL) the highest.
 */
function esearchModseq(options: string[], modseqs: ModseqsOfMatches): number {
  const min = options.includes('MIN');
  const max = options.includes('MAX');
  if (options.length === 0 || options.includes('ALL') || options.includes('COUNT') || (!min && !max)) return modseqs.highest;
  if (min && max) return Math.max(modseqs.first, modseqs.last);
  return min ? modseqs.first : modseqs.last;
}

/** RFC 4731 §3.1: `ESEARCH (TAG "a1") UID MIN 2 MAX 9 COUNT 3 ALL 2,5,9`, only what was asked. */
function esearch(ctx: CommandContext, options: string[], numbers: number[], modseq: number | undefined): string {
  const parts = [`ESEARCH (TAG ${quoted(ctx.command.tag)})`];
  if (ctx.command.uid) parts.push('UID');
  // Numbers come in sequence order, which is also UID order: the first is the smallest.
  if (numbers.length > 0) {
    if (options.includes('MIN')) parts.push(`MIN ${numbers[0]}`);
    if (options.includes('MAX')) parts.push(`MAX ${numbers.at(-1)}`);
    if (options.includes('ALL')) parts.push(`ALL ${formatSequenceSet(uidRanges(numbers))}`);
  }
  if (options.includes('COUNT')) parts.push(`COUNT ${numbers.length}`);
  if (modseq !== undefined && numbers.length > 0) parts.push(`MODSEQ ${modseq}`);
  return parts.join(' ');
}
