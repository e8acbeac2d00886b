/**
 * The sort values of a folder's messages, per sort key, kept in this process between commands: they
 * never change once a message is stored (a UID names one message for good in its UIDVALIDITY), so a
 * second SORT of a 100,000-message folder reads only the messages that arrived since (webmails sort
 * again at every page and every change). Values are the stored keys of migration 011: no message is parsed.
 */
import { type MessageColumn, octetOrderKey, readMessageColumns } from '../../mailstore/index.ts';
import type { SortKey } from '../proto/index.ts';
import type { CommandContext } from './command.ts';
import type { SelectedMailbox } from './selected.ts';

export type SortValue = number | string;

/** What THREAD needs of a message (RFC 5256 §3), from the same stored keys. */
export interface ThreadRecord {
  messageId: string | null;
  references: readonly string[];
  subject: string;
  isReply: boolean;
  sentDate: number;
}

/** Values kept over all folders and keys, least recently sorted folder out (about 50 MB at most). */
const MAX_CACHED_VALUES = 1_000_000;

type Row = Partial<Record<MessageColumn, unknown>>;

/** The stored columns of each key and its value (RFC 5256 §3, RFC 5957 §4). */
const KEYS: Record<SortKey, { columns: MessageColumn[]; value(row: Row): SortValue }> = {
  ARRIVAL: { columns: ['internal_date'], value: (row) => Number(row.internal_date ?? 0) },
  // RFC 5256 §2.2: without a usable Date field, the internal date stands in.
  DATE: { columns: ['sent_date', 'internal_date'], value: (row) => Number(row.sent_date ?? row.internal_date ?? 0) },
  SIZE: { columns: ['size'], value: (row) => Number(row.size ?? 0) },
  // Strings are folded at delivery (i;unicode-casemap) and rewritten here so that `<` is their octet order.
  CC: { columns: ['sort_cc'], value: (row) => octetOrderKey(String(row.sort_cc ?? '')) },
  FROM: { columns: ['sort_from'], value: (row) => octetOrderKey(String(row.sort_from ?? '')) },
  SUBJECT: { columns: ['sort_subject'], value: (row) => octetOrderKey(String(row.sort_subject ?? '')) },
  TO: { columns: ['sort_to'], value: (row) => octetOrderKey(String(row.sort_to ?? '')) },
  DISPLAYFROM: { columns: ['sort_display_from'], value: (row) => octetOrderKey(String(row.sort_display_from ?? '')) },
  DISPLAYTO: { columns: ['sort_display_to'], value: (row) => octetOrderKey(String(row.sort_display_to ?? '')) },
};

interface KeyCache {
  uidValidity: number;
  values: Map<number, SortValue | ThreadRecord>;
}

const caches = new Map<string, KeyCache>();
let cachedValues = 0;
/** The store the cache was filled from: another store (tests run several apps in one process) starts afresh. */
let cachedDb: object | undefined;

function cacheOf(ctx: CommandContext, selected: SelectedMailbox, key: SortKey | 'THREAD'): KeyCache {
  if (cachedDb !== ctx.app.db) {
    caches.clear();
    cachedValues = 0;
    cachedDb = ctx.app.db;
  }
  const name = `${selected.id}\u0000${key}`;
  let cache = caches.get(name);
  if (cache) caches.delete(name);
  if (cache && cache.uidValidity !== selected.uidValidity) {
    cachedValues -= cache.values.size;
    cache = undefined;
  }
  cache ??= { uidValidity: selected.uidValidity, values: new Map() };
  caches.set(name, cache);
  return cache;
}

/** The values of `key` for `uids` (ascending), read from the store only for UIDs not seen before. */
export function sortValues(ctx: CommandContext, selected: SelectedMailbox, key: SortKey, uids: readonly number[]): Promise<Map<number, SortValue>> {
  const spec = KEYS[key];
  return cachedValuesOf(ctx, selected, key, uids, spec.columns, spec.value) as Promise<Map<number, SortValue>>;
}

const THREAD_COLUMNS: MessageColumn[] = ['sort_subject', 'subject_is_reply', 'sent_date', 'internal_date', 'thread_message_id', 'thread_references'];

function parseReferences(json: unknown): string[] {
  if (typeof json !== 'string') return [];
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string') : [];
}

function threadRecordOf(row: Row): ThreadRecord {
  return {
    messageId: typeof row.thread_message_id === 'string' ? row.thread_message_id : null,
    references: parseReferences(row.thread_references),
    subject: String(row.sort_subject ?? ''),
    isReply: row.subject_is_reply === 1,
    sentDate: Number(row.sent_date ?? row.internal_date ?? 0),
  };
}

/** What THREAD needs of `uids` (ascending), read from the store only for UIDs not seen before. */
export function threadRecords(ctx: CommandContext, selected: SelectedMailbox, uids: readonly number[]): Promise<Map<number, ThreadRecord>> {
  return cachedValuesOf(ctx, selected, 'THREAD', uids, THREAD_COLUMNS, threadRecordOf) as Promise<Map<number, ThreadRecord>>;
}

async function cachedValuesOf(
  ctx: CommandContext,
  selected: SelectedMailbox,
  key: SortKey | 'THREAD',
  uids: readonly number[],
  columns: MessageColumn[],
  value: (row: Row) => SortValue | ThreadRecord,
): Promise<Map<number, SortValue | ThreadRecord>> {
  const cache = cacheOf(ctx, selected, key);
  let low = -1;
  let high = -1;
  for (const uid of uids) {
    if (cache.values.has(uid)) continue;
    if (low < 0) low = uid;
    high = uid;
  }
  if (low >= 0) {
    const first = columns[0] as MessageColumn;
    for (const row of await readMessageColumns(ctx.app.db, selected.id, low, high, columns)) {
      const uid = Number(row.uid);
      if (cache.values.has(uid)) continue;
      // A row without keys yet (stored before migration 011 and not filled) is read again next time.
      if (first.startsWith('sort_') && row[first] === null) continue;
      cache.values.set(uid, value(row as Row));
      cachedValues++;
    }
    for (const [name, other] of caches) {
      if (cachedValues <= MAX_CACHED_VALUES || other === cache) break;
      caches.delete(name);
      cachedValues -= other.values.size;
    }
  }
  return cache.values;
}
