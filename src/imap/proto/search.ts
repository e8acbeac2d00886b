/**
 * SEARCH arguments (RFC 3501 §6.4.4, RFC 4731 ESEARCH RETURN options, RFC 5267 §4 CONTEXT, UPDATE and
 * PARTIAL, RFC 7162 §3.1.5 MODSEQ) as a typed tree. Top-level keys are ANDed.
 */

import { parseFlag, parseFlagValue } from './args.ts';
import { parseSearchDate } from './datetime.ts';
import { BadCharsetError, ProtocolSyntaxError, SEARCH_CHARSETS } from './errors.ts';
import { ArgReader, parseModseq } from './reader.ts';
import { parseSequenceSet, type SequenceSet } from './sequence.ts';
import { MAX_NUMBER } from './tokenizer.ts';
import { describeValue, type Value } from './values.ts';

/** Nesting of NOT, OR and parentheses: deep enough for any client, shallow enough for the stack. */
export const MAX_SEARCH_DEPTH = 64;

export type SearchKey =
  | { type: 'all' }
  /** Message sequence numbers (a bare sequence set). */
  | { type: 'seq'; set: SequenceSet }
  | { type: 'uid'; set: SequenceSet }
  /** ANSWERED, SEEN, KEYWORD x... (`present: true`) and their UN- forms (`present: false`). */
  | { type: 'flag'; flag: string; present: boolean }
  /** RECENT; NEW is `and(recent, not seen)`, OLD is `not(recent)` (RFC 3501 §6.4.4). */
  | { type: 'recent' }
  /** HEADER name value, and FROM, TO, CC, BCC, SUBJECT; `field` lower-cased. Empty value: the field exists. */
  | { type: 'header'; field: string; value: string }
  | { type: 'body'; value: string }
  /** Header or body. */
  | { type: 'text'; value: string }
  /** BEFORE/ON/SINCE (internal date) and SENTBEFORE/SENTON/SENTSINCE (Date: header); `date` is `yyyy-mm-dd`. */
  | { type: 'date'; of: 'internal' | 'sent'; op: 'before' | 'on' | 'since'; date: string }
  | { type: 'size'; op: 'larger' | 'smaller'; size: number }
  /** RFC 7162 §3.1.5: mod-sequence >= `modseq`; `entry` restricts it to one flag's changes. */
  | { type: 'modseq'; modseq: number; entry?: { flag: string; scope: 'priv' | 'shared' | 'all' } }
  | { type: 'not'; key: SearchKey }
  | { type: 'or'; left: SearchKey; right: SearchKey }
  | { type: 'and'; keys: SearchKey[] };

/**
 * RFC 4731 §3.1 result options (SAVE is RFC 5182); RFC 5267 §4.2 CONTEXT (a hint), §4.3 UPDATE and
 * §4.4 PARTIAL (its range in `SearchArgs.partial`).
 */
export type SearchReturnOption = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE' | 'CONTEXT' | 'UPDATE' | 'PARTIAL';
const RETURN_OPTIONS: readonly SearchReturnOption[] = ['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE', 'CONTEXT', 'UPDATE', 'PARTIAL'];

export interface SearchArgs {
  charset: (typeof SEARCH_CHARSETS)[number];
  /** null: a plain `* SEARCH` response; otherwise an ESEARCH response (`RETURN ()` means ALL). */
  return: SearchReturnOption[] | null;
  /** RFC 5267 §4.4 `PARTIAL low:high`: the positions of the results asked, 1-based (low <= high); only with PARTIAL. */
  partial?: [number, number];
  /** One key; several top-level keys come as `and`. */
  key: SearchKey;
}

/** `[RETURN (options)] [CHARSET name] key...` — throws BadCharsetError for an unsupported charset. */
export function parseSearchArgs(args: readonly Value[]): SearchArgs {
  const reader = new ArgReader(args);
  let returnOptions: SearchReturnOption[] | null = null;
  let partial: [number, number] | undefined;
  if (reader.peekKeyword() === 'RETURN') {
    reader.next('RETURN');
    ({ options: returnOptions, partial } = parseReturnOptions(reader.list('RETURN options')));
  }
  let charset: SearchArgs['charset'] = 'US-ASCII';
  if (reader.peekKeyword() === 'CHARSET') {
    reader.next('CHARSET');
    const name = reader.astring('charset name').toString('latin1').toUpperCase();
    const known = SEARCH_CHARSETS.find((candidate) => candidate === name);
    if (!known) throw new BadCharsetError(name);
    charset = known;
  }
  if (reader.done) throw new ProtocolSyntaxError('missing search criteria');
  const keys: SearchKey[] = [];
  while (!reader.done) keys.push(parseSearchKey(reader, 0));
  const key: SearchKey = keys.length === 1 ? keys[0]! : { type: 'and', keys };
  return partial ? { charset, return: returnOptions, partial, key } : { charset, return: returnOptions, key };
}

/**
 * `RETURN (option...)`: RFC 4731 §3.1 (`RETURN ()` means ALL) and RFC 5267 §4. A single command has
 * at most one PARTIAL or ALL (RFC 5267 §4.4), and PARTIAL is followed by its range.
 */
function parseReturnOptions(values: readonly Value[]): { options: SearchReturnOption[]; partial?: [number, number] } {
  if (values.length === 0) return { options: ['ALL'] };
  const reader = new ArgReader(values);
  const options: SearchReturnOption[] = [];
  let partial: [number, number] | undefined;
  while (!reader.done) {
    const value = reader.next('RETURN option');
    const name = value.type === 'atom' && !value.section ? value.value.toUpperCase() : '';
    const option = RETURN_OPTIONS.find((candidate) => candidate === name);
    if (!option) throw new ProtocolSyntaxError(`unknown SEARCH RETURN option ${describeValue(value)}`);
    if (option === 'PARTIAL') {
      if (partial) throw new ProtocolSyntaxError('more than one PARTIAL');
      partial = parsePartialRange(reader.atom('PARTIAL range'));
    }
    if (!options.includes(option)) options.push(option);
  }
  // RFC 5267 §4.4: "either one PARTIAL, one ALL, or neither PARTIAL nor ALL is allowed".
  if (partial && options.includes('ALL')) throw new ProtocolSyntaxError('PARTIAL and ALL cannot both be asked');
  return partial ? { options, partial } : { options };
}

/** RFC 5267 §5 `partial-range = nz-number ":" nz-number`, either order ("500:400 is the same as 400:500"), no `*`. */
export function parsePartialRange(text: string): [number, number] {
  const match = /^(\d{1,10}):(\d{1,10})$/.exec(text);
  const low = Number(match?.[1]);
  const high = Number(match?.[2]);
  if (!match || low < 1 || high < 1 || low > MAX_NUMBER || high > MAX_NUMBER) throw new ProtocolSyntaxError(`invalid PARTIAL range ${text}`);
  return low <= high ? [low, high] : [high, low];
}

const FLAG_KEYS: Record<string, { flag: string; present: boolean }> = {
  ANSWERED: { flag: '\\Answered', present: true },
  DELETED: { flag: '\\Deleted', present: true },
  DRAFT: { flag: '\\Draft', present: true },
  FLAGGED: { flag: '\\Flagged', present: true },
  SEEN: { flag: '\\Seen', present: true },
  UNANSWERED: { flag: '\\Answered', present: false },
  UNDELETED: { flag: '\\Deleted', present: false },
  UNDRAFT: { flag: '\\Draft', present: false },
  UNFLAGGED: { flag: '\\Flagged', present: false },
  UNSEEN: { flag: '\\Seen', present: false },
};
const HEADER_KEYS: Record<string, string> = { BCC: 'bcc', CC: 'cc', FROM: 'from', SUBJECT: 'subject', TO: 'to' };
const DATE_KEYS: Record<string, { of: 'internal' | 'sent'; op: 'before' | 'on' | 'since' }> = {
  BEFORE: { of: 'internal', op: 'before' },
  ON: { of: 'internal', op: 'on' },
  SINCE: { of: 'internal', op: 'since' },
  SENTBEFORE: { of: 'sent', op: 'before' },
  SENTON: { of: 'sent', op: 'on' },
  SENTSINCE: { of: 'sent', op: 'since' },
};
const SEQUENCE_SET = /^[\d*:,$]+$/;

function parseSearchKey(reader: ArgReader, depth: number): SearchKey {
  if (depth > MAX_SEARCH_DEPTH) throw new ProtocolSyntaxError(`search criteria nested deeper than ${MAX_SEARCH_DEPTH}`);
  const value = reader.next('search key');
  if (value.type === 'list') return parseKeyGroup(value.items, depth + 1);
  if (value.type !== 'atom' || value.section) throw new ProtocolSyntaxError(`expected a search key, got ${describeValue(value)}`);
  if (SEQUENCE_SET.test(value.value)) return { type: 'seq', set: parseSequenceSet(value.value) };
  const name = value.value.toUpperCase();
  const flagKey = FLAG_KEYS[name];
  if (flagKey) return { type: 'flag', ...flagKey };
  const header = HEADER_KEYS[name];
  if (header) return { type: 'header', field: header, value: reader.text(`${name} value`) };
  const dateKey = DATE_KEYS[name];
  if (dateKey) return { type: 'date', ...dateKey, date: parseSearchDate(reader.astring(`${name} date`).toString('latin1')) };
  switch (name) {
    case 'ALL':
      return { type: 'all' };
    case 'RECENT':
      return { type: 'recent' };
    case 'NEW':
      return { type: 'and', keys: [{ type: 'recent' }, { type: 'flag', flag: '\\Seen', present: false }] };
    case 'OLD':
      return { type: 'not', key: { type: 'recent' } };
    case 'KEYWORD':
    case 'UNKEYWORD':
      return { type: 'flag', flag: parseFlagValue(reader.next(`${name} flag`)), present: name === 'KEYWORD' };
    case 'HEADER': {
      const field = reader.astring('header field name').toString('latin1').toLowerCase();
      return { type: 'header', field, value: reader.text('header value') };
    }
    case 'BODY':
      return { type: 'body', value: reader.text('BODY value') };
    case 'TEXT':
      return { type: 'text', value: reader.text('TEXT value') };
    case 'LARGER':
    case 'SMALLER':
      return { type: 'size', op: name === 'LARGER' ? 'larger' : 'smaller', size: reader.number(`${name} size`) };
    case 'UID':
      return { type: 'uid', set: parseSequenceSet(reader.atom('UID set')) };
    case 'NOT':
      return { type: 'not', key: parseSearchKey(reader, depth + 1) };
    case 'OR': {
      const left = parseSearchKey(reader, depth + 1);
      return { type: 'or', left, right: parseSearchKey(reader, depth + 1) };
    }
    case 'MODSEQ':
      return parseModseqKey(reader);
    default:
      throw new ProtocolSyntaxError(`unknown search key ${value.value}`);
  }
}

function parseKeyGroup(values: readonly Value[], depth: number): SearchKey {
  if (values.length === 0) throw new ProtocolSyntaxError('empty parenthesized search key');
  const reader = new ArgReader(values);
  const keys: SearchKey[] = [];
  while (!reader.done) keys.push(parseSearchKey(reader, depth));
  return keys.length === 1 ? keys[0]! : { type: 'and', keys };
}

/** `MODSEQ ["/flags/<flag>" priv|shared|all] <mod-sequence-valzer>` (RFC 7162 §3.1.5). */
function parseModseqKey(reader: ArgReader): SearchKey {
  const next = reader.peek();
  if (next?.type === 'string') {
    const entryName = reader.string('MODSEQ entry name').toString('latin1');
    if (!entryName.startsWith('/flags/')) throw new ProtocolSyntaxError(`invalid MODSEQ entry name "${entryName}" (expected "/flags/<flag>")`);
    const flag = parseFlag(entryName.slice('/flags/'.length));
    const scope = reader.keyword('MODSEQ entry type').toLowerCase();
    if (scope !== 'priv' && scope !== 'shared' && scope !== 'all') throw new ProtocolSyntaxError('MODSEQ entry type must be priv, shared or all');
    return { type: 'modseq', modseq: parseModseq(reader.atom('MODSEQ value'), 'MODSEQ value', true), entry: { flag, scope } };
  }
  return { type: 'modseq', modseq: parseModseq(reader.atom('MODSEQ value'), 'MODSEQ value', true) };
}
