/**
 * Email/query (RFC 8621 §4.4): filters and sorts over the account's messages, with collapseThreads and
 * the windowing of RFC 8620 §5.5. The account's index (ids, folders, threads, sizes, dates, flags and
 * the sort keys stored at delivery) is read once per query; text conditions use the mailstore's
 * full-text search (`searchMessageText`, the one IMAP SEARCH uses).
 */

import { type MessageColumnValues, parseFlags, searchMessageText, type TextSearchKey } from '../mailstore/index.ts';
import type { MessageMetadata } from '../mime/index.ts';
import {
  type Args,
  type Call,
  checkAccount,
  checkKnown,
  invalidArguments,
  isObject,
  MAIL,
  MethodError,
  type MethodSpec,
  optionalBoolean,
  resolveId,
} from './core.ts';
import { flagOf } from './keywords.ts';
import { window } from './mailbox.ts';
import { accountMailboxes, encodeState, snapshotOf } from './state.ts';

type Entry = Pick<
  MessageColumnValues,
  'id' | 'mailbox_id' | 'thread_id' | 'size' | 'internal_date' | 'flags' | 'sort_subject' | 'sort_from' | 'sort_to' | 'sent_date'
> & { flagSet: Set<string>; thread: string };

const TEXT_KEYS: Record<string, TextSearchKey> = { text: 'text', from: 'from', to: 'to', cc: 'cc', bcc: 'bcc', subject: 'subject', body: 'body' };
const SORTS = ['receivedAt', 'size', 'from', 'to', 'subject', 'sentAt', 'hasKeyword', 'allInThreadHaveKeyword', 'someInThreadHaveKeyword'];
export const EMAIL_QUERY_SORTS = SORTS;

interface Evaluation {
  call: Call;
  mailboxIds: string[];
  threads: Map<string, Entry[]>;
  texts: Map<string, Set<string>>;
  /** What hasAttachment and header conditions read, loaded only when the filter has one. */
  metadata?: Map<string, Pick<MessageMetadata, 'headerFields'> & { hasAttachment: boolean }>;
}

const unsupported = (description: string) => new MethodError('unsupportedFilter', description);

function keywordArg(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) throw unsupported(`${name} is a keyword`);
  return flagOf(value).toLowerCase();
}

function dateArg(value: unknown, name: string): number {
  const millis = typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(millis)) throw unsupported(`${name} is a UTCDate`);
  return millis;
}

function sizeArg(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw unsupported(`${name} is an unsigned integer`);
  return value;
}

/** Ids matching each text condition, searched before the filter runs (each search is one query). */
async function collectTexts(filter: unknown, evaluation: Evaluation): Promise<void> {
  if (!isObject(filter)) throw unsupported('a filter is an object');
  if ('operator' in filter) {
    if (!['AND', 'OR', 'NOT'].includes(String(filter.operator))) throw unsupported(`unknown operator ${String(filter.operator)}`);
    if (!Array.isArray(filter.conditions)) throw unsupported('conditions must be a list');
    for (const c of filter.conditions) await collectTexts(c, evaluation);
    return;
  }
  for (const [key, value] of Object.entries(filter)) {
    if ((key === 'hasAttachment' || key === 'header') && !evaluation.metadata) evaluation.metadata = await loadMetadata(evaluation);
    const textKey = TEXT_KEYS[key];
    if (!textKey) continue;
    if (typeof value !== 'string') throw unsupported(`${key} is a string`);
    const cacheKey = `${key}\u0000${value}`;
    if (evaluation.texts.has(cacheKey)) continue;
    const matches = await searchMessageText(
      evaluation.call.app.db,
      { accountId: evaluation.call.account.id, mailboxIds: evaluation.mailboxIds },
      textKey,
      value,
    );
    evaluation.texts.set(cacheKey, new Set(matches.map((m) => m.id)));
  }
}

async function loadMetadata(evaluation: Evaluation): Promise<NonNullable<Evaluation['metadata']>> {
  const rows = await evaluation.call.app.db.selectFrom('messages').select(['id', 'metadata']).where('account_id', '=', evaluation.call.account.id).execute();
  const out: NonNullable<Evaluation['metadata']> = new Map();
  for (const row of rows) {
    const metadata = JSON.parse(row.metadata) as MessageMetadata;
    out.set(row.id, { headerFields: metadata.headerFields, hasAttachment: metadata.summary.hasAttachments });
  }
  return out;
}

/** RFC 8621 §4.4.1 header: [name] (the field exists) or [name, value] (an instance contains value, case-insensitively). */
function headerMatches(entry: Entry, value: unknown, evaluation: Evaluation): boolean {
  if (!Array.isArray(value) || value.length < 1 || value.length > 2 || !value.every((v) => typeof v === 'string')) {
    throw unsupported('header is [name] or [name, value]');
  }
  const values = evaluation.metadata?.get(entry.id)?.headerFields[(value[0] as string).toLowerCase()];
  if (!values || values.length === 0) return false;
  if (value.length === 1) return true;
  const needle = (value[1] as string).toLowerCase();
  return values.some((v) => v.toLowerCase().includes(needle));
}

function threadHas(evaluation: Evaluation, entry: Entry, flag: string, mode: 'all' | 'some' | 'none'): boolean {
  const members = evaluation.threads.get(entry.thread) ?? [entry];
  if (mode === 'all') return members.every((m) => m.flagSet.has(flag));
  const some = members.some((m) => m.flagSet.has(flag));
  return mode === 'some' ? some : !some;
}

/** RFC 8621 §4.4.1 FilterCondition and RFC 8620 §5.5 FilterOperator. */
function matches(entry: Entry, filter: Record<string, unknown>, evaluation: Evaluation): boolean {
  if ('operator' in filter) {
    const results = (filter.conditions as unknown[]).map((c) => matches(entry, c as Record<string, unknown>, evaluation));
    if (filter.operator === 'AND') return results.every(Boolean);
    if (filter.operator === 'OR') return results.some(Boolean);
    return !results.some(Boolean);
  }
  for (const [key, value] of Object.entries(filter)) {
    switch (key) {
      case 'inMailbox':
        if (typeof value !== 'string') throw unsupported('inMailbox is an id');
        if (entry.mailbox_id !== resolveId(evaluation.call, value)) return false;
        break;
      case 'inMailboxOtherThan':
        if (!Array.isArray(value)) throw unsupported('inMailboxOtherThan is a list of ids');
        if (value.map((id) => resolveId(evaluation.call, String(id))).includes(entry.mailbox_id)) return false;
        break;
      case 'before':
        if (!(Number(entry.internal_date) < dateArg(value, key))) return false;
        break;
      case 'after':
        if (!(Number(entry.internal_date) >= dateArg(value, key))) return false;
        break;
      case 'minSize':
        if (!(Number(entry.size) >= sizeArg(value, key))) return false;
        break;
      case 'maxSize':
        if (!(Number(entry.size) < sizeArg(value, key))) return false;
        break;
      case 'hasKeyword':
        if (!entry.flagSet.has(keywordArg(value, key))) return false;
        break;
      case 'notKeyword':
        if (entry.flagSet.has(keywordArg(value, key))) return false;
        break;
      case 'allInThreadHaveKeyword':
        if (!threadHas(evaluation, entry, keywordArg(value, key), 'all')) return false;
        break;
      case 'someInThreadHaveKeyword':
        if (!threadHas(evaluation, entry, keywordArg(value, key), 'some')) return false;
        break;
      case 'noneInThreadHaveKeyword':
        if (!threadHas(evaluation, entry, keywordArg(value, key), 'none')) return false;
        break;
      case 'hasAttachment':
        if (typeof value !== 'boolean') throw unsupported('hasAttachment is a boolean');
        if ((evaluation.metadata?.get(entry.id)?.hasAttachment ?? false) !== value) return false;
        break;
      case 'header':
        if (!headerMatches(entry, value, evaluation)) return false;
        break;
      default: {
        if (TEXT_KEYS[key]) {
          if (!evaluation.texts.get(`${key}\u0000${value as string}`)?.has(entry.id)) return false;
          break;
        }
        throw unsupported(`the filter condition ${key} is not supported`);
      }
    }
  }
  return true;
}

type Comparator = (a: Entry, b: Entry) => number;

function comparatorOf(sort: unknown, evaluation: Evaluation): Comparator {
  if (!isObject(sort) || typeof sort.property !== 'string') throw invalidArguments('a sort is { property, isAscending }');
  if (!SORTS.includes(sort.property)) throw new MethodError('unsupportedSort', `cannot sort by ${sort.property}`);
  if (sort.collation !== undefined && !['i;ascii-casemap', 'i;octet', 'i;unicode-casemap'].includes(String(sort.collation))) {
    throw new MethodError('unsupportedSort', `unknown collation ${String(sort.collation)}`);
  }
  const direction = sort.isAscending === false ? -1 : 1;
  const byText = (key: (e: Entry) => string | null) => (a: Entry, b: Entry) => {
    const x = key(a) ?? '';
    const y = key(b) ?? '';
    return direction * (x < y ? -1 : x > y ? 1 : 0);
  };
  const byNumber = (key: (e: Entry) => number) => (a: Entry, b: Entry) => direction * (key(a) - key(b));
  const keyword = () => {
    if (typeof sort.keyword !== 'string') throw invalidArguments(`${sort.property} needs a keyword`);
    return flagOf(sort.keyword).toLowerCase();
  };
  switch (sort.property) {
    case 'receivedAt':
      return byNumber((e) => Number(e.internal_date));
    case 'size':
      return byNumber((e) => Number(e.size));
    case 'sentAt':
      return byNumber((e) => Number(e.sent_date ?? e.internal_date));
    case 'from':
      return byText((e) => e.sort_from);
    case 'to':
      return byText((e) => e.sort_to);
    case 'subject':
      return byText((e) => e.sort_subject);
    case 'hasKeyword': {
      const flag = keyword();
      return byNumber((e) => (e.flagSet.has(flag) ? 1 : 0));
    }
    case 'allInThreadHaveKeyword': {
      const flag = keyword();
      return byNumber((e) => (threadHas(evaluation, e, flag, 'all') ? 1 : 0));
    }
    default: {
      const flag = keyword();
      return byNumber((e) => (threadHas(evaluation, e, flag, 'some') ? 1 : 0));
    }
  }
}

const THREAD_KEYS = ['allInThreadHaveKeyword', 'someInThreadHaveKeyword', 'noneInThreadHaveKeyword'];

function mentionsThreads(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(mentionsThreads);
  if (!isObject(value)) return false;
  return Object.entries(value).some(
    ([key, v]) => THREAD_KEYS.includes(key) || v === 'allInThreadHaveKeyword' || v === 'someInThreadHaveKeyword' || mentionsThreads(v),
  );
}

/** The one folder a filter confines the query to (inMailbox at the top, alone or in an AND), or null. */
function oneMailbox(call: Call, filter: unknown, sort: unknown): string | null {
  if (mentionsThreads(filter) || mentionsThreads(sort) || !isObject(filter)) return null;
  const conditions = filter.operator === 'AND' && Array.isArray(filter.conditions) ? filter.conditions : 'operator' in filter ? [] : [filter];
  for (const condition of conditions) {
    if (isObject(condition) && !('operator' in condition) && typeof condition.inMailbox === 'string') return resolveId(call, condition.inMailbox);
  }
  return null;
}

/** RFC 8620 §5.5 /query, RFC 8621 §4.4. */
async function queryEmails(call: Call, args: Args): Promise<Args> {
  checkKnown(args, ['accountId', 'filter', 'sort', 'position', 'anchor', 'anchorOffset', 'limit', 'calculateTotal', 'collapseThreads']);
  const accountId = checkAccount(call, args);
  const mailboxes = await accountMailboxes(call.app.db, accountId);
  // The webmail's common query is one folder's messages: read only that folder, unless a thread condition
  // or sort needs the whole conversations (which may span folders).
  const only = oneMailbox(call, args.filter, args.sort);
  let query = call.app.db
    .selectFrom('messages')
    .select(['id', 'mailbox_id', 'thread_id', 'size', 'internal_date', 'flags', 'sort_subject', 'sort_from', 'sort_to', 'sent_date'])
    .where('account_id', '=', accountId);
  if (only !== null) query = query.where('mailbox_id', '=', only);
  const rows = await query.execute();
  const entries: Entry[] = rows.map((r) => ({ ...r, flagSet: new Set(parseFlags(r.flags).map((f) => f.toLowerCase())), thread: r.thread_id ?? r.id }));
  const evaluation: Evaluation = { call, mailboxIds: only !== null ? [only] : mailboxes.map((m) => m.id), threads: new Map(), texts: new Map() };
  for (const e of entries) {
    const members = evaluation.threads.get(e.thread);
    if (members) members.push(e);
    else evaluation.threads.set(e.thread, [e]);
  }
  const filter = args.filter ?? null;
  if (filter !== null) await collectTexts(filter, evaluation);
  let found = filter === null ? entries : entries.filter((e) => matches(e, filter as Record<string, unknown>, evaluation));
  const sort = args.sort ?? [{ property: 'receivedAt', isAscending: false }];
  if (!Array.isArray(sort)) throw invalidArguments('sort must be a list');
  const comparators = sort.map((s) => comparatorOf(s, evaluation));
  found.sort((a, b) => {
    for (const c of comparators) {
      const r = c(a, b);
      if (r !== 0) return r;
    }
    return Number(b.internal_date) - Number(a.internal_date) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  });
  const collapse = optionalBoolean(args, 'collapseThreads', false);
  if (collapse) {
    const seen = new Set<string>();
    found = found.filter((e) => {
      if (seen.has(e.thread)) return false;
      seen.add(e.thread);
      return true;
    });
  }
  return {
    accountId,
    queryState: encodeState(snapshotOf(mailboxes)),
    canCalculateChanges: false,
    collapseThreads: collapse,
    ...window(
      call,
      args,
      found.map((e) => e.id),
    ),
  };
}

export const EMAIL_QUERY_METHODS: Record<string, MethodSpec> = {
  'Email/query': { capability: MAIL, run: queryEmails },
};
