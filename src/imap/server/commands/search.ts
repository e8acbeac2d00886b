/**
 * SEARCH and UID SEARCH (RFC 3501 §6.4.4) with every key, CHARSET UTF-8, CONDSTORE's MODSEQ key and
 * response (RFC 7162 §3.1.5) and ESEARCH's RETURN options (RFC 4731). Flags, UIDs and MODSEQs come
 * from the session's view; sizes, dates and header fields from the stored metadata; BODY and TEXT
 * read the message and search its decoded text parts. Comparisons ignore case (RFC 3501: substring,
 * case-insensitive).
 */
import { simpleParser } from 'mailparser';
import { readContent, readMessages, type StoredMessage } from '../../../mailstore/index.ts';
import { decodeEncodedWords, type MessageMetadata } from '../../../mime/index.ts';
import { contains, formatSequenceSet, parseSearchArgs, type SearchKey } from '../../proto/index.ts';
import { bad, type CommandContext, defineCommand, ok, SELECTED } from '../command.ts';
import { FETCH_BATCH } from '../limits.ts';
import type { SelectedMailbox } from '../selected.ts';
import { quoted } from '../text.ts';
import { uidRanges } from '../updates.ts';

/** Messages above this size are searched in their raw form: parsing them whole would cost too much memory. */
const MAX_PARSED_SEARCH_BYTES = 10 * 1024 * 1024;

interface Candidate {
  seq: number;
  uid: number;
  flags: string[];
  modseq: number;
  row?: StoredMessage;
  metadata?: MessageMetadata;
  /** Decoded body text, read at most once per message. */
  body?: string;
}

function needs(key: SearchKey, what: 'row' | 'body'): boolean {
  switch (key.type) {
    case 'header':
    case 'date':
    case 'size':
      return what === 'row';
    case 'body':
    case 'text':
      return true;
    case 'not':
      return needs(key.key, what);
    case 'or':
      return needs(key.left, what) || needs(key.right, what);
    case 'and':
      return key.keys.some((k) => needs(k, what));
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

async function bodyText(ctx: CommandContext, candidate: Candidate): Promise<string> {
  if (candidate.body !== undefined) return candidate.body;
  const row = candidate.row;
  if (!row) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of readContent(ctx.app, row.blob_id) as AsyncIterable<Buffer>) chunks.push(chunk);
  const raw = Buffer.concat(chunks);
  const headerSize = candidate.metadata?.headerSize ?? 0;
  if (raw.length > MAX_PARSED_SEARCH_BYTES) candidate.body = raw.subarray(headerSize).toString('utf8');
  else {
    const parsed = await simpleParser(raw, { skipImageLinks: true, skipHtmlToText: false });
    candidate.body = [parsed.text ?? '', typeof parsed.html === 'string' ? parsed.html.replace(/<[^>]*>/g, ' ') : ''].join('\n');
  }
  return candidate.body;
}

async function matches(ctx: CommandContext, key: SearchKey, c: Candidate, selected: SelectedMailbox): Promise<boolean> {
  switch (key.type) {
    case 'all':
      return true;
    case 'seq':
      return contains(key.set, c.seq, selected.count);
    case 'uid':
      return contains(key.set, c.uid, selected.lastUid);
    case 'flag':
      return c.flags.some((f) => f.toLowerCase() === key.flag.toLowerCase()) === key.present;
    case 'recent':
      return false; // no message is recent (see flags.ts)
    case 'header':
      return c.metadata ? headerMatches(c.metadata, key.field, key.value) : false;
    case 'body':
      return includes(await bodyText(ctx, c), key.value);
    case 'text':
      return (
        (c.metadata ? Object.values(c.metadata.headerFields).some((vs) => vs.some((v) => includes(decodeEncodedWords(v), key.value))) : false) ||
        includes(await bodyText(ctx, c), key.value)
      );
    case 'date': {
      const at = key.of === 'internal' ? Number(c.row?.internal_date ?? 0) : c.metadata?.summary.date;
      return at === null || at === undefined ? false : compareDay(dayOf(at), key.op, key.date);
    }
    case 'size': {
      const size = Number(c.row?.size ?? 0);
      return key.op === 'larger' ? size > key.size : size < key.size;
    }
    case 'modseq':
      return c.modseq >= key.modseq;
    case 'not':
      return !(await matches(ctx, key.key, c, selected));
    case 'or':
      return (await matches(ctx, key.left, c, selected)) || (await matches(ctx, key.right, c, selected));
    case 'and':
      for (const k of key.keys) if (!(await matches(ctx, k, c, selected))) return false;
      return true;
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
    if (withModseq) ctx.session.condstore = true;
    const withRow = needs(args.key, 'row') || needs(args.key, 'body');
    const all = selected.allUids();
    const found: Candidate[] = [];
    for (let i = 0; i < all.length; i += FETCH_BATCH) {
      const batch: Candidate[] = [];
      for (let j = i; j < Math.min(i + FETCH_BATCH, all.length); j++) {
        const uid = all[j] as number;
        const entry = selected.entry(uid);
        if (entry) batch.push({ seq: j + 1, uid, flags: entry.flags, modseq: entry.modseq });
      }
      if (withRow) {
        const rows = new Map(
          (
            await readMessages(
              ctx.app.db,
              selected.id,
              batch.map((c) => c.uid),
            )
          ).map((r) => [Number(r.uid), r]),
        );
        for (const c of batch) {
          c.row = rows.get(c.uid);
          if (c.row) c.metadata = JSON.parse(c.row.metadata) as MessageMetadata;
        }
      }
      for (const c of batch) {
        if (withRow && !c.row) continue;
        if (await matches(ctx, args.key, c, selected)) found.push(c);
        c.body = undefined;
      }
    }
    const numbers = found.map((c) => (ctx.command.uid ? c.uid : c.seq));
    const highest = found.reduce((max, c) => Math.max(max, c.modseq), 0);
    if (args.return === null) {
      const modseq = withModseq && found.length > 0 ? ` (MODSEQ ${highest})` : '';
      await ctx.untagged(`SEARCH${numbers.map((n) => ` ${n}`).join('')}${modseq}`);
    } else {
      await ctx.untagged(esearch(ctx, args.return, numbers, withModseq ? highest : undefined));
    }
    return ok('SEARCH completed');
  },
});

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
