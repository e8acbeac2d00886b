/**
 * SEARCH and UID SEARCH (RFC 3501 §6.4.4) with every key, CHARSET UTF-8, CONDSTORE's MODSEQ key and
 * response (RFC 7162 §3.1.5) and ESEARCH's RETURN options (RFC 4731). Flags, UIDs and MODSEQs come
 * from the session's view; sizes, dates and header fields from the stored metadata; TEXT, BODY, SUBJECT,
 * FROM, TO, CC and BCC from the mailstore's text index (searchMessageText: extracted at delivery, no
 * message parsed here). Comparisons ignore case (RFC 3501: substring, case-insensitive).
 */
import { type MessageColumn, readMessageColumns, searchMessageText, type TextSearchKey } from '../../../mailstore/index.ts';
import { decodeEncodedWords, type MessageMetadata, writtenDateOf } from '../../../mime/index.ts';
import type { MessagesTable } from '../../../store/index.ts';
import { contains, formatSequenceSet, parseSearchArgs, type SearchKey } from '../../proto/index.ts';
import { bad, type CommandContext, defineCommand, ok, SELECTED } from '../command.ts';
import { enableCondstore } from '../condstore.ts';
import type { SelectedMailbox } from '../selected.ts';
import { quoted } from '../text.ts';
import { uidRanges } from '../updates.ts';
import { selectedOf } from './selected-folder.ts';

/** Messages per read when only small columns are needed (a size, a date). */
const COLUMN_BATCH = 5000;
/** Messages per read when the metadata is needed (HEADER of other fields): bounds memory on a large folder. */
const ROW_BATCH = 200;

type Row = Partial<Pick<MessagesTable, MessageColumn>>;

interface Candidate {
  seq: number;
  uid: number;
  flags: readonly string[];
  modseq: number;
  row?: Row;
  /** Parsed from the row at first use. */
  metadata?: MessageMetadata;
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
type TextHits = Map<SearchKey, ReadonlySet<number>>;

async function findTextHits(ctx: CommandContext, key: SearchKey, hits: TextHits): Promise<TextHits> {
  const textKey = textKeyOf(key);
  if (textKey && (key.type === 'body' || key.type === 'text' || key.type === 'header')) {
    const { selected, accountId } = selectedOf(ctx);
    const found = await searchMessageText(ctx.app.db, { accountId, mailboxIds: [selected.id] }, textKey, key.value);
    hits.set(key, new Set(found.map((match) => match.uid)));
  } else if (key.type === 'not') await findTextHits(ctx, key.key, hits);
  else if (key.type === 'or') {
    await findTextHits(ctx, key.left, hits);
    await findTextHits(ctx, key.right, hits);
  } else if (key.type === 'and') for (const k of key.keys) await findTextHits(ctx, k, hits);
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
      // SENT* compare the Date field as written (its envelope copy in the metadata), not the instant in sent_date.
      out.add(key.of === 'internal' ? 'internal_date' : 'metadata');
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
  const batchSize = columns.includes('metadata') ? ROW_BATCH : COLUMN_BATCH;
  const hits = await findTextHits(ctx, key, new Map());
  const all = selected.allUids();
  const matched: SearchMatch[] = [];
  // Nothing is kept per message: one candidate serves them all (100,000 messages).
  const c: Candidate = { seq: 0, uid: 0, flags: [], modseq: 0 };
  for (let i = 0; i < all.length; i += batchSize) {
    const end = Math.min(i + batchSize, all.length);
    // Rows by UID range, in UID order like the view: walked side by side (rows of messages the view
    // does not hold yet are passed over; a message without a row was expunged meanwhile).
    const rows = withRow ? await readMessageColumns(ctx.app.db, selected.id, all[i] as number, all[end - 1] as number, columns) : [];
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
      c.seq = j + 1;
      c.uid = uid;
      c.flags = selected.flagsAt(j + 1);
      c.modseq = selected.modseqAt(j + 1);
      c.row = row;
      c.metadata = undefined;
      if (!matchesNow(key, c, selected, hits)) continue;
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
