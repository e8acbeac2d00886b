/**
 * FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8) with CONDSTORE's CHANGEDSINCE and MODSEQ (RFC 7162
 * §3.1.4), QRESYNC's VANISHED (§3.2.6) and BINARY (RFC 3516, binary.ts). ENVELOPE and BODYSTRUCTURE come from the metadata stored
 * with the message; body sections are streamed from the blob store by byte range, one message at a
 * time, so memory does not grow with message or folder size.
 */
import { Readable } from 'node:stream';
import { readContent, readHeaderBlocks, readMessages, type StoredMessage, updateFlags } from '../../../mailstore/index.ts';
import type { MessageMetadata } from '../../../mime/index.ts';
import {
  encodeItems,
  type FetchItem,
  formatDateTime,
  formatSequenceSet,
  type Item,
  literal,
  type Partial,
  parseFetchArgs,
  replaceNul,
  streamed,
} from '../../proto/index.ts';
import { binaryItem, binarySizeItem } from '../binary.ts';
import { bad, type CommandContext, defineCommand, ok, SELECTED } from '../command.ts';
import { enableCondstore } from '../condstore.ts';
import { flagList } from '../flags.ts';
import { FETCH_BATCH } from '../limits.ts';
import { filterHeader, type SectionRange, type SectionSpec, sectionRange } from '../sections.ts';
import type { SelectedMailbox } from '../selected.ts';
import { bodyStructureItem, envelopeItem } from '../structure.ts';
import { vanishedEarlier } from '../vanished.ts';
import type { OutputChunk, StreamedLiteral } from '../writer.ts';

const UNTAGGED_PREFIX = Buffer.from('* ');
const CRLF = Buffer.from('\r\n');

/** Items answered from the session's view alone, without reading the message row. */
const VIEW_ONLY = new Set(['UID', 'FLAGS', 'MODSEQ']);

function needsRow(items: FetchItem[]): boolean {
  return items.some((item) => item.kind !== 'simple' || !VIEW_ONLY.has(item.name));
}

/** A stored message's bytes as a plain literal may carry them: NUL replaced (RFC 3501 §9 CHAR8; encode.ts NUL_REPLACEMENT). */
async function* withoutNul(content: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const chunk of content) yield replaceNul(chunk);
}

/** The bytes [start, end) of a stored message, streamed when written. */
function contentLiteral(ctx: CommandContext, row: StoredMessage, range: { start: number; end: number }): Item {
  const source: StreamedLiteral = {
    size: Math.max(0, range.end - range.start),
    open: (): Readable => Readable.from(withoutNul(readContent(ctx.app, row.blob_id, range) as AsyncIterable<Buffer>)),
  };
  return streamed(source);
}

/** RFC 3501 §6.4.5 partial fetch: `<start.length>` of the section's bytes. */
function applyPartial(range: { start: number; end: number }, partial: Partial | undefined): { start: number; end: number } {
  if (!partial) return range;
  const start = Math.min(range.end, range.start + partial.start);
  const end = partial.length === undefined ? range.end : Math.min(range.end, start + partial.length);
  return { start, end };
}

async function readBytes(ctx: CommandContext, row: StoredMessage, range: { start: number; end: number }): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of readContent(ctx.app, row.blob_id, range) as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts);
}

async function sectionItem(ctx: CommandContext, row: StoredMessage, range: SectionRange | undefined, partial: Partial | undefined): Promise<Item> {
  if (!range) return literal(Buffer.alloc(0));
  if (range.filter) return filteredHeader(await readBytes(ctx, row, range), range.filter.names, range.filter.not, partial);
  return contentLiteral(ctx, row, applyPartial(range, partial));
}

/** RFC 3501 §6.4.5 HEADER.FIELDS (.NOT): the fields kept, then the partial range of that. */
function filteredHeader(header: Buffer, names: string[], not: boolean, partial: Partial | undefined): Item {
  const kept = filterHeader(header, names, not);
  if (!partial) return literal(kept);
  const cut = applyPartial({ start: 0, end: kept.length }, partial);
  return literal(kept.subarray(cut.start, cut.end));
}

/** Items that need the parsed metadata (whole-message bodies and a folder sync's header fields do without). */
function needsMetadata(item: FetchItem): boolean {
  if (item.kind === 'simple') return ['ENVELOPE', 'BODY', 'BODYSTRUCTURE', 'RFC822.HEADER', 'RFC822.TEXT'].includes(item.name);
  if (item.kind === 'section') return !isTopHeaderFields(item) && !(item.section.part.length === 0 && !item.section.text);
  return true;
}

/**
 * The rows of a batch, with their metadata only when an item needs it, and the header blocks of a
 * folder sync read in one go; a message whose header block could not be read that way (a content kept
 * as a file, a header over 64 KB) gets its metadata after all, to find its header the usual way.
 */
async function readBatch(
  ctx: CommandContext,
  selected: SelectedMailbox,
  batch: Array<{ uid: number }>,
  withMetadata: boolean,
  withHeaderFields: boolean,
): Promise<{ rows: StoredMessage[]; headerBlocks: Map<string, Buffer> | undefined }> {
  const uids = batch.map((t) => t.uid);
  let rows = await readMessages(ctx.app.db, selected.id, uids, { metadata: withMetadata });
  if (!withHeaderFields || rows.length === 0) return { rows, headerBlocks: undefined };
  const headerBlocks = await readHeaderBlocks(
    ctx.app,
    rows.map((row) => row.blob_id),
  );
  const lacking = withMetadata ? [] : rows.filter((row) => !headerBlocks.has(row.blob_id)).map((row) => Number(row.uid));
  if (lacking.length > 0) {
    const full = new Map((await readMessages(ctx.app.db, selected.id, lacking)).map((row) => [Number(row.uid), row]));
    // A row gone between the two reads was expunged meanwhile: left out, like any such message.
    rows = rows.flatMap((row) => (headerBlocks.has(row.blob_id) ? [row] : (full.get(Number(row.uid)) ?? [])));
  }
  return { rows, headerBlocks };
}

/** HEADER.FIELDS (.NOT) of the message itself: what mail clients fetch of every message when they sync a folder. */
function isTopHeaderFields(item: FetchItem): boolean {
  return item.kind === 'section' && item.section.part.length === 0 && (item.section.text === 'HEADER.FIELDS' || item.section.text === 'HEADER.FIELDS.NOT');
}

/** The byte range of a section; the whole message (BODY[], RFC822) needs only the row, not its parsed metadata. */
function rangeOf(row: StoredMessage, metadata: () => MessageMetadata, section: SectionSpec): SectionRange | undefined {
  if (section.part.length === 0 && !section.text) return { start: 0, end: Number(row.size) };
  return sectionRange(metadata(), section);
}

async function fetchItems(
  ctx: CommandContext,
  items: FetchItem[],
  seq: number,
  uid: number,
  selected: SelectedMailbox,
  row: StoredMessage | undefined,
  headerBlocks: Map<string, Buffer> | undefined,
): Promise<Item[]> {
  const out: Item[] = [];
  // Parsed at first need: FLAGS, sizes, dates and whole-message bodies do without.
  let parsed: MessageMetadata | undefined;
  const metadata = () => {
    parsed ??= JSON.parse(row?.metadata ?? 'null') as MessageMetadata;
    return parsed;
  };
  for (const item of items) {
    if (item.kind === 'simple') {
      switch (item.name) {
        case 'UID':
          out.push('UID', uid);
          break;
        case 'FLAGS':
          out.push('FLAGS', [...selected.flagsAt(seq)]);
          break;
        case 'MODSEQ':
          out.push('MODSEQ', [selected.modseqAt(seq)]);
          break;
        case 'INTERNALDATE':
          out.push('INTERNALDATE', { kind: 'string', value: formatDateTime(Number(row?.internal_date ?? 0)) });
          break;
        case 'RFC822.SIZE':
          out.push('RFC822.SIZE', Number(row?.size ?? 0));
          break;
        case 'ENVELOPE':
          if (row) out.push('ENVELOPE', envelopeItem(metadata().envelope));
          break;
        case 'BODY':
        case 'BODYSTRUCTURE':
          if (row) out.push(item.name, bodyStructureItem(metadata().bodyStructure, item.name === 'BODYSTRUCTURE'));
          break;
        case 'RFC822':
          if (row) out.push('RFC822', await sectionItem(ctx, row, rangeOf(row, metadata, { part: [] }), undefined));
          break;
        case 'RFC822.HEADER':
          if (row) out.push('RFC822.HEADER', await sectionItem(ctx, row, rangeOf(row, metadata, { part: [], text: 'HEADER' }), undefined));
          break;
        case 'RFC822.TEXT':
          if (row) out.push('RFC822.TEXT', await sectionItem(ctx, row, rangeOf(row, metadata, { part: [], text: 'TEXT' }), undefined));
          break;
      }
    } else if (item.kind === 'section' && row) {
      const block = isTopHeaderFields(item) ? headerBlocks?.get(row.blob_id) : undefined;
      if (block) out.push(item.response, filteredHeader(block, item.section.fields ?? [], item.section.text === 'HEADER.FIELDS.NOT', item.partial));
      else out.push(item.response, await sectionItem(ctx, row, rangeOf(row, metadata, item.section), item.partial));
    } else if (item.kind === 'binary' && row) {
      out.push(item.response, await binaryItem(ctx.app, row, metadata(), item.part, item.partial));
    } else if (item.kind === 'binary-size' && row) {
      out.push(item.response, await binarySizeItem(ctx.app, row, metadata(), item.part));
    }
  }
  return out;
}

/** Messages whose view-only FETCH lines are written at once (about 60 bytes each). */
const VIEW_LINES_PER_WRITE = 1000;
/** Encoded bytes of row-based FETCH responses gathered before one write (streamed bodies go as they come). */
const ROW_BYTES_PER_WRITE = 64 * 1024;

/**
 * UID, FLAGS and MODSEQ come from the session's view: the lines are built as text, a thousand per write,
 * instead of encoding items and awaiting a socket write per message (FETCH 1:* (FLAGS) of a large folder).
 */
async function fetchFromView(ctx: CommandContext, items: FetchItem[], targets: Array<{ seq: number; uid: number }>, selected: SelectedMailbox): Promise<void> {
  const names = items.map((item) => item.response);
  let lines: string[] = [];
  for (const { seq, uid } of targets) {
    let line = `* ${seq} FETCH (`;
    for (let k = 0; k < names.length; k++) {
      if (k > 0) line += ' ';
      const name = names[k];
      if (name === 'UID') line += `UID ${uid}`;
      else if (name === 'FLAGS') line += `FLAGS ${flagList(selected.flagsAt(seq))}`;
      else line += `MODSEQ (${selected.modseqAt(seq)})`;
    }
    lines.push(`${line})`);
    if (lines.length >= VIEW_LINES_PER_WRITE) {
      await ctx.connection.writeLine(lines.join('\r\n'));
      lines = [];
    }
  }
  if (lines.length > 0) await ctx.connection.writeLine(lines.join('\r\n'));
}

/** RFC 3501 §6.4.5: fetching a body section without PEEK sets \Seen (not in a read-only folder). */
async function markSeen(ctx: CommandContext, selected: SelectedMailbox, uids: number[]): Promise<Set<number>> {
  const account = ctx.session.account;
  const unseen = uids.filter((uid) => !selected.entry(uid)?.flags.includes('\\Seen'));
  if (!account || unseen.length === 0 || selected.readOnly) return new Set();
  const result = await updateFlags(ctx.app, { accountId: account.id, mailboxId: selected.id }, unseen, { mode: 'add', flags: ['\\Seen'] });
  selected.noteOwnFlags(result.changed);
  return new Set(result.changed.map((c) => c.uid));
}

export const fetch = defineCommand({
  name: 'FETCH',
  states: SELECTED,
  holdsExpunges: true,
  async run(ctx) {
    const args = parseFetchArgs(ctx.args, { uid: ctx.command.uid });
    const selected = ctx.session.selected;
    if (!selected) return bad('No folder selected');
    if (args.vanished && !ctx.session.qresync) return bad('VANISHED needs QRESYNC to be enabled');
    if (args.changedSince !== undefined || args.items.some((item) => item.response === 'MODSEQ')) await enableCondstore(ctx);
    let targets = selected.resolve(args.sequence, ctx.command.uid);
    if (args.vanished && args.changedSince !== undefined) {
      const gone = await vanishedEarlier(ctx.app.db, selected, { sinceModseq: args.changedSince, known: args.sequence });
      if (gone.length > 0) await ctx.untagged(`VANISHED (EARLIER) ${formatSequenceSet(gone)}`);
    }
    const since = args.changedSince;
    if (since !== undefined) targets = targets.filter((t) => (selected.entry(t.uid)?.modseq ?? 0) > since);
    const seenNow = args.marksSeen
      ? await markSeen(
          ctx,
          selected,
          targets.map((t) => t.uid),
        )
      : new Set<number>();
    if (!needsRow(args.items) && seenNow.size === 0) {
      await fetchFromView(ctx, args.items, targets, selected);
      return ok('FETCH completed');
    }
    const withRows = needsRow(args.items);
    const withHeaderFields = args.items.some(isTopHeaderFields);
    const encodeOptions = { utf8Accept: ctx.session.utf8 };
    const withFlags = [...args.items, { kind: 'simple', name: 'FLAGS', response: 'FLAGS' } as FetchItem];
    const asksFlags = args.items.some((it) => it.response === 'FLAGS');
    const withMetadata = args.items.some(needsMetadata);
    for (let i = 0; i < targets.length; i += FETCH_BATCH) {
      const batch = targets.slice(i, i + FETCH_BATCH);
      const { rows, headerBlocks } = withRows ? await readBatch(ctx, selected, batch, withMetadata, withHeaderFields) : { rows: [], headerBlocks: undefined };
      const byUid = new Map(rows.map((row) => [Number(row.uid), row]));
      // The responses of several messages go out in one write; a streamed body is copied in its turn.
      let pending: OutputChunk[] = [];
      let pendingBytes = 0;
      for (const { seq, uid } of batch) {
        const row = byUid.get(uid);
        if (withRows && !row) continue; // expunged meanwhile by another session: reported later
        // A message that just got \Seen reports its new flags (RFC 3501 §6.4.5).
        const items = seenNow.has(uid) && !asksFlags ? withFlags : args.items;
        const values = await fetchItems(ctx, items, seq, uid, selected, row, headerBlocks);
        pending.push(UNTAGGED_PREFIX);
        for (const chunk of encodeItems<StreamedLiteral>([seq, 'FETCH', values], encodeOptions)) {
          pending.push(chunk);
          if (Buffer.isBuffer(chunk)) pendingBytes += chunk.length;
        }
        pending.push(CRLF);
        if (pendingBytes >= ROW_BYTES_PER_WRITE) {
          await ctx.connection.writeChunks(pending);
          pending = [];
          pendingBytes = 0;
        }
      }
      if (pending.length > 0) await ctx.connection.writeChunks(pending);
    }
    return ok('FETCH completed');
  },
});
