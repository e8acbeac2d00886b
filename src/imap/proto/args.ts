/**
 * Argument parsers of the commands that take more than a mailbox name: STORE, STATUS, LIST,
 * SELECT/EXAMINE, APPEND (FETCH and SEARCH have files of their own). Each takes the command's
 * `args` and returns a typed value or throws ProtocolSyntaxError.
 */
import { type Buffer, isUtf8 } from 'node:buffer';
import { parseDateTime } from './datetime.ts';
import { ProtocolSyntaxError } from './errors.ts';
import { decodeMailboxName, decodeModifiedUtf7, InvalidMailboxNameError } from './mailbox.ts';
import { ArgReader } from './reader.ts';
import { parseSequenceSet, type SequenceSet } from './sequence.ts';
import type { Value } from './values.ts';

/** Options that change how arguments are decoded once the client enabled UTF8=ACCEPT (RFC 6855). */
export interface ParseOptions {
  utf8Accept?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Flags (RFC 3501 §2.3.2)

/** The system flags a client may set, in their canonical case. `\Recent` is the server's alone. */
export const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'] as const;
const SYSTEM_FLAG_BY_UPPER = new Map(SYSTEM_FLAGS.map((flag) => [flag.toUpperCase(), flag]));
/** RFC 3501 `atom` for keywords: no wildcards, quoted-specials or `]`. */
const KEYWORD = /^[!#$&'+-[^-z|}~]+$/;

/** One flag: a system flag (canonical case) or a keyword. Refuses `\Recent` and unknown `\` flags. */
export function parseFlag(text: string): string {
  if (text.startsWith('\\')) {
    const flag = SYSTEM_FLAG_BY_UPPER.get(text.toUpperCase());
    if (flag) return flag;
    if (text.toUpperCase() === '\\RECENT') throw new ProtocolSyntaxError('\\Recent cannot be set by a client');
    throw new ProtocolSyntaxError(`unknown system flag ${text}`);
  }
  if (!KEYWORD.test(text)) throw new ProtocolSyntaxError(`invalid keyword "${text}"`);
  return text;
}

/**
 * One flag argument. The tokenizer reads the atom `NIL` as nil, but in a flag position it is only an
 * atom: RFC 3501 §9 `flag-keyword = atom`, and NIL is a valid atom (`STORE 1 +FLAGS NIL`).
 */
export function parseFlagValue(value: Value): string {
  if (value.type === 'nil') return 'NIL';
  if (value.type !== 'atom' || value.section) throw new ProtocolSyntaxError('flags are atoms like \\Seen or $Label');
  return parseFlag(value.value);
}

function parseFlagValues(values: readonly Value[]): string[] {
  return [...new Set(values.map(parseFlagValue))];
}

/** A flag list `(\Seen $Label)`. */
export function parseFlagList(value: Value): string[] {
  if (value.type !== 'list') throw new ProtocolSyntaxError('expected a flag list in parentheses');
  return parseFlagValues(value.items);
}

/** A mailbox argument → its Unicode name (modified UTF-7 decoded, INBOX normalised). */
export function parseMailboxArg(value: Value, options: ParseOptions = {}): string {
  const reader = new ArgReader([value]);
  return decodeMailboxName(reader.astring('mailbox name'), options);
}

// ---------------------------------------------------------------------------------------------
// STORE (RFC 3501 §6.4.6, RFC 7162 §3.1.3)

export interface StoreArgs {
  sequence: SequenceSet;
  /** `set` for FLAGS, `add` for +FLAGS, `remove` for -FLAGS. */
  action: 'set' | 'add' | 'remove';
  /** `.SILENT`: no untagged FETCH for the change (RFC 3501 §6.4.6). */
  silent: boolean;
  flags: string[];
  /** RFC 7162 `(UNCHANGEDSINCE n)`; 0 is allowed (it fails for every message with a mod-sequence). */
  unchangedSince?: number;
}

/** `sequence-set [(UNCHANGEDSINCE n)] [+|-]FLAGS[.SILENT] (flags) | flag...` */
export function parseStoreArgs(args: readonly Value[]): StoreArgs {
  const reader = new ArgReader(args);
  const sequence = parseSequenceSet(reader.atom('sequence set'));
  const modifiers = reader.optionalList();
  let unchangedSince: number | undefined;
  if (modifiers) unchangedSince = parseUnchangedSince(modifiers);
  const item = /^([+-]?)FLAGS(\.SILENT)?$/.exec(reader.keyword('FLAGS, +FLAGS or -FLAGS'));
  if (!item) throw new ProtocolSyntaxError('expected FLAGS, +FLAGS or -FLAGS (optionally .SILENT)');
  const action = item[1] === '+' ? 'add' : item[1] === '-' ? 'remove' : 'set';
  const list = reader.optionalList();
  const flags = parseFlagValues(list ?? reader.rest());
  if (!list && flags.length === 0) throw new ProtocolSyntaxError('missing flags');
  reader.end();
  const result: StoreArgs = { sequence, action, silent: item[2] !== undefined, flags };
  if (unchangedSince !== undefined) result.unchangedSince = unchangedSince;
  return result;
}

function parseUnchangedSince(modifiers: readonly Value[]): number {
  const reader = new ArgReader(modifiers);
  if (reader.keyword('store modifier') !== 'UNCHANGEDSINCE') throw new ProtocolSyntaxError('unknown STORE modifier (only UNCHANGEDSINCE)');
  const value = reader.modseq('UNCHANGEDSINCE value', true);
  reader.end();
  return value;
}

// ---------------------------------------------------------------------------------------------
// STATUS (RFC 3501 §6.3.10, RFC 7162 §3.1.6 HIGHESTMODSEQ, RFC 8438 SIZE, RFC 9208 §4.1.4 DELETED and DELETED-STORAGE)

export const STATUS_ITEMS = ['MESSAGES', 'RECENT', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'HIGHESTMODSEQ', 'SIZE', 'DELETED', 'DELETED-STORAGE'] as const;
export type StatusItem = (typeof STATUS_ITEMS)[number];

export function parseStatusItems(values: readonly Value[]): StatusItem[] {
  if (values.length === 0) throw new ProtocolSyntaxError('empty STATUS item list');
  const items = values.map((value) => {
    const name = value.type === 'atom' ? value.value.toUpperCase() : '';
    if (!(STATUS_ITEMS as readonly string[]).includes(name))
      throw new ProtocolSyntaxError(`unknown STATUS item ${value.type === 'atom' ? value.value : ''}`.trim());
    return name as StatusItem;
  });
  return [...new Set(items)];
}

export interface StatusArgs {
  mailbox: string;
  items: StatusItem[];
}

/** `mailbox (item...)` */
export function parseStatusArgs(args: readonly Value[], options: ParseOptions = {}): StatusArgs {
  const reader = new ArgReader(args);
  const mailbox = parseMailboxArg(reader.next('mailbox name'), options);
  const items = parseStatusItems(reader.list('STATUS items'));
  reader.end();
  return { mailbox, items };
}

// ---------------------------------------------------------------------------------------------
// LIST (RFC 3501 §6.3.8, RFC 5258 LIST-EXTENDED, RFC 5819 LIST-STATUS, RFC 6154 SPECIAL-USE)

export interface ListArgs {
  /** True when any LIST-EXTENDED syntax was used (selection options, several patterns, RETURN). */
  extended: boolean;
  selection: { subscribed: boolean; remote: boolean; recursiveMatch: boolean; specialUse: boolean };
  /** Unicode, not normalised (it is a prefix, "" allowed). */
  reference: string;
  /** Unicode patterns with `*` and `%`; `[""]` asks for the delimiter (RFC 3501 §6.3.8); none when no name can match. */
  patterns: string[];
  return: { subscribed: boolean; children: boolean; specialUse: boolean; status: StatusItem[] | null };
}

const SELECTION_OPTIONS = { SUBSCRIBED: 'subscribed', REMOTE: 'remote', RECURSIVEMATCH: 'recursiveMatch', 'SPECIAL-USE': 'specialUse' } as const;

/** A pattern or reference → Unicode; null when it is not modified UTF-7 (or UTF-8): it then matches no name. */
function decodePattern(bytes: Buffer, options: ParseOptions): string | null {
  if (options.utf8Accept) return isUtf8(bytes) ? bytes.toString('utf8') : null;
  try {
    return decodeModifiedUtf7(bytes.toString('latin1'));
  } catch (error) {
    if (error instanceof InvalidMailboxNameError) return null;
    throw error;
  }
}

/** `[(selection)] reference pattern|(patterns) [RETURN (options)]`; also LSUB's `reference pattern`. */
export function parseListArgs(args: readonly Value[], options: ParseOptions = {}): ListArgs {
  const reader = new ArgReader(args);
  const result: ListArgs = {
    extended: false,
    selection: { subscribed: false, remote: false, recursiveMatch: false, specialUse: false },
    reference: '',
    patterns: [],
    return: { subscribed: false, children: false, specialUse: false, status: null },
  };
  const selection = reader.optionalList();
  if (selection) {
    result.extended = true;
    for (const value of selection) {
      const name = value.type === 'atom' ? value.value.toUpperCase() : '';
      const key = SELECTION_OPTIONS[name as keyof typeof SELECTION_OPTIONS];
      if (!key) throw new ProtocolSyntaxError(`unknown LIST selection option ${value.type === 'atom' ? value.value : ''}`.trim());
      result.selection[key] = true;
    }
    // RFC 5258 §3.1 and §6 (list-select-mod-opt needs a list-select-base-opt): RECURSIVEMATCH needs SUBSCRIBED,
    // the one base option; REMOTE and SPECIAL-USE (RFC 6154 §6) are independent options and do not count.
    if (result.selection.recursiveMatch && !result.selection.subscribed) throw new ProtocolSyntaxError('RECURSIVEMATCH needs the SUBSCRIBED selection option');
  }
  const reference = decodePattern(reader.astring('reference name'), options);
  const patterns = reader.optionalList();
  let decoded: Array<string | null>;
  if (patterns) {
    result.extended = true;
    if (patterns.length === 0) throw new ProtocolSyntaxError('empty pattern list');
    decoded = patterns.map((value) => decodePattern(new ArgReader([value]).astring('mailbox pattern'), options));
  } else {
    decoded = [decodePattern(reader.astring('mailbox pattern'), options)];
  }
  // RFC 3501 §6.3.8: a pattern no name can match (not modified UTF-7) is a listing with no match, not an error.
  result.reference = reference ?? '';
  result.patterns = reference === null ? [] : decoded.filter((pattern) => pattern !== null);
  if (!reader.done) {
    if (reader.keyword('RETURN') !== 'RETURN') throw new ProtocolSyntaxError('expected RETURN after the pattern');
    result.extended = true;
    parseListReturn(reader.list('RETURN options'), result.return);
  }
  reader.end();
  return result;
}

function parseListReturn(values: readonly Value[], into: ListArgs['return']): void {
  const reader = new ArgReader(values);
  while (!reader.done) {
    const option = reader.keyword('RETURN option');
    if (option === 'SUBSCRIBED') into.subscribed = true;
    else if (option === 'CHILDREN') into.children = true;
    else if (option === 'SPECIAL-USE') into.specialUse = true;
    else if (option === 'STATUS') into.status = parseStatusItems(reader.list('STATUS items'));
    else throw new ProtocolSyntaxError(`unknown LIST RETURN option ${option}`);
  }
}

// ---------------------------------------------------------------------------------------------
// SELECT / EXAMINE (RFC 3501 §6.3.1, RFC 7162 §3.1.8 CONDSTORE, §3.2.5 QRESYNC)

export interface QresyncParams {
  uidValidity: number;
  modseq: number;
  /** UIDs the client knows; no `*` (RFC 7162 §3.2.5). */
  knownUids?: SequenceSet;
  /** Message sequence numbers and their UIDs, pairwise, to find expunges quickly. */
  sequenceMatch?: { sequences: SequenceSet; uids: SequenceSet };
}

export interface SelectArgs {
  mailbox: string;
  condstore: boolean;
  qresync?: QresyncParams;
}

export function parseSelectArgs(args: readonly Value[], options: ParseOptions = {}): SelectArgs {
  const reader = new ArgReader(args);
  const result: SelectArgs = { mailbox: parseMailboxArg(reader.next('mailbox name'), options), condstore: false };
  const params = reader.optionalList();
  reader.end();
  if (!params) return result;
  const paramReader = new ArgReader(params);
  while (!paramReader.done) {
    const name = paramReader.keyword('SELECT parameter');
    if (name === 'CONDSTORE') result.condstore = true;
    else if (name === 'QRESYNC') result.qresync = parseQresync(paramReader.list('QRESYNC parameters'));
    else throw new ProtocolSyntaxError(`unknown SELECT parameter ${name}`);
  }
  return result;
}

function parseQresync(values: readonly Value[]): QresyncParams {
  const reader = new ArgReader(values);
  const qresync: QresyncParams = { uidValidity: reader.nzNumber('UIDVALIDITY'), modseq: reader.modseq('mod-sequence') };
  if (!reader.done && reader.peek()?.type === 'atom') qresync.knownUids = parseSequenceSet(reader.atom('known UIDs'), { allowStar: false });
  const match = reader.optionalList();
  if (match) {
    const matchReader = new ArgReader(match);
    const sequences = parseSequenceSet(matchReader.atom('known sequence set'), { allowStar: false });
    const uids = parseSequenceSet(matchReader.atom('known UID set'), { allowStar: false });
    matchReader.end();
    qresync.sequenceMatch = { sequences, uids };
  }
  reader.end();
  return qresync;
}

// ---------------------------------------------------------------------------------------------
// APPEND (RFC 3501 §6.3.11, RFC 3516 §4.4 literal8)

export interface AppendArgs {
  mailbox: string;
  flags: string[];
  /** Epoch milliseconds of the date-time argument, if given (else the server uses now). */
  internalDate?: number;
  message: Buffer;
  /** Sent as a literal8 `~{n}` (RFC 3516): may contain NUL and binary parts. */
  binary: boolean;
}

export function parseAppendArgs(args: readonly Value[], options: ParseOptions = {}): AppendArgs {
  const reader = new ArgReader(args);
  const mailbox = parseMailboxArg(reader.next('mailbox name'), options);
  const list = reader.optionalList();
  const flags = list ? parseFlagValues(list) : [];
  let internalDate: number | undefined;
  const next = reader.peek();
  if (next?.type === 'string' && !next.literal) internalDate = parseDateTime(reader.string('date-time').toString('latin1'));
  const message = reader.next('message literal');
  if (message.type !== 'string' || !message.literal) throw new ProtocolSyntaxError('the message must be sent as a literal');
  reader.end();
  const binary = message.binary === true;
  // RFC 3516 §4.4: NUL only in a literal8.
  if (!binary && message.value.includes(0)) throw new ProtocolSyntaxError('NUL in a message sent as a plain literal (use ~{n})');
  const result: AppendArgs = { mailbox, flags, message: message.value, binary };
  if (internalDate !== undefined) result.internalDate = internalDate;
  return result;
}
