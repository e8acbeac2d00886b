/**
 * FETCH arguments (RFC 3501 §6.4.5, RFC 3516 BINARY, RFC 7162 CHANGEDSINCE and VANISHED): the
 * sequence set, the attributes as typed items, each with the exact text its response echoes.
 */
import { ProtocolSyntaxError } from './errors.ts';
import { ArgReader, parseModseq } from './reader.ts';
import { parseSequenceSet, type SequenceSet } from './sequence.ts';
import { MAX_NUMBER } from './tokenizer.ts';
import { describeValue, type Partial, type Value } from './values.ts';

/** Attributes that are a name alone. `BODY` without a section is the non-extensible BODYSTRUCTURE. */
export const SIMPLE_FETCH_ATTRIBUTES = [
  'UID',
  'FLAGS',
  'INTERNALDATE',
  'RFC822.SIZE',
  'ENVELOPE',
  'BODY',
  'BODYSTRUCTURE',
  'MODSEQ',
  'RFC822',
  'RFC822.HEADER',
  'RFC822.TEXT',
] as const;
export type SimpleFetchAttribute = (typeof SIMPLE_FETCH_ATTRIBUTES)[number];

/** RFC 3501 §6.4.5 macros; they may not be combined with other attributes. */
const MACROS: Record<string, SimpleFetchAttribute[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

/** What of a (part of a) message a `BODY[...]` section names (RFC 3501 §6.4.5). */
export type SectionText = 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';

export interface Section {
  /** Part numbers, `[]` for the whole message: `BODY[1.2.TEXT]` → `[1, 2]`. */
  part: number[];
  /** Absent: the whole part (`BODY[]`, `BODY[1.2]`). */
  text?: SectionText;
  /** Upper-cased field names of HEADER.FIELDS and HEADER.FIELDS.NOT. */
  fields?: string[];
}

export type FetchItem =
  /** `response` is the name to answer with. */
  | { kind: 'simple'; name: SimpleFetchAttribute; response: string }
  /** BODY[section]<partial> and BODY.PEEK[...]; `response` is e.g. `BODY[HEADER.FIELDS (FROM TO)]<0>`. */
  | { kind: 'section'; peek: boolean; section: Section; partial?: Partial; response: string }
  /** BINARY[part]<partial> and BINARY.PEEK (RFC 3516 §4.2): the part decoded from its transfer encoding. */
  | { kind: 'binary'; peek: boolean; part: number[]; partial?: Partial; response: string }
  /** BINARY.SIZE[part] (RFC 3516 §4.2). */
  | { kind: 'binary-size'; part: number[]; response: string };

export interface FetchArgs {
  sequence: SequenceSet;
  /**
   * In the order of the request, duplicates removed. UID FETCH gets UID first if not asked
   * (RFC 3501 §6.4.8); CHANGEDSINCE adds MODSEQ if not asked (RFC 7162 §3.1.4.1).
   */
  items: FetchItem[];
  /** RFC 7162 §3.1.4.1 `CHANGEDSINCE n`. */
  changedSince?: number;
  /** RFC 7162 §3.2.6 `VANISHED`: only with UID FETCH and CHANGEDSINCE. */
  vanished: boolean;
  /** Some item sets \Seen (BODY[...], BINARY[...], RFC822, RFC822.TEXT without PEEK). */
  marksSeen: boolean;
}

const simple = (name: SimpleFetchAttribute): FetchItem => ({ kind: 'simple', name, response: name });

/** `sequence-set (att...) | att | ALL | FAST | FULL [(CHANGEDSINCE n [VANISHED])]` */
export function parseFetchArgs(args: readonly Value[], options: { uid?: boolean } = {}): FetchArgs {
  const reader = new ArgReader(args);
  const sequence = parseSequenceSet(reader.atom('sequence set'));
  const attributes = reader.next('fetch attributes');
  let items: FetchItem[];
  const macro = attributes.type === 'atom' && !attributes.section ? MACROS[attributes.value.toUpperCase()] : undefined;
  if (macro) {
    items = macro.map(simple);
  } else if (attributes.type === 'list') {
    if (attributes.items.length === 0) throw new ProtocolSyntaxError('empty fetch attribute list');
    items = attributes.items.map(parseFetchAttribute);
  } else {
    items = [parseFetchAttribute(attributes)];
  }
  const result: FetchArgs = { sequence, items: [], vanished: false, marksSeen: false };
  const modifiers = reader.optionalList();
  reader.end();
  if (modifiers) parseFetchModifiers(modifiers, result, options.uid === true);
  if (options.uid && !items.some((item) => item.response === 'UID')) items.unshift(simple('UID'));
  if (result.changedSince !== undefined && !items.some((item) => item.response === 'MODSEQ')) items.push(simple('MODSEQ'));
  const seen = new Set<string>();
  result.items = items.filter((item) => !seen.has(item.response) && seen.add(item.response));
  result.marksSeen = result.items.some(marksSeen);
  return result;
}

function marksSeen(item: FetchItem): boolean {
  if (item.kind === 'section' || item.kind === 'binary') return !item.peek;
  return item.kind === 'simple' && (item.name === 'RFC822' || item.name === 'RFC822.TEXT');
}

function parseFetchModifiers(values: readonly Value[], into: FetchArgs, uid: boolean): void {
  const reader = new ArgReader(values);
  while (!reader.done) {
    const name = reader.keyword('FETCH modifier');
    if (name === 'CHANGEDSINCE') into.changedSince = parseModseq(reader.atom('CHANGEDSINCE value'), 'CHANGEDSINCE value');
    else if (name === 'VANISHED') into.vanished = true;
    else throw new ProtocolSyntaxError(`unknown FETCH modifier ${name}`);
  }
  if (into.vanished && !uid) throw new ProtocolSyntaxError('VANISHED is only allowed in UID FETCH');
  if (into.vanished && into.changedSince === undefined) throw new ProtocolSyntaxError('VANISHED needs CHANGEDSINCE');
}

/** One fetch attribute (not a macro). */
export function parseFetchAttribute(value: Value): FetchItem {
  if (value.type !== 'atom') throw new ProtocolSyntaxError(`invalid fetch attribute ${describeValue(value)}`);
  const name = value.value.toUpperCase();
  if (!value.section) {
    if ((SIMPLE_FETCH_ATTRIBUTES as readonly string[]).includes(name)) return simple(name as SimpleFetchAttribute);
    if (MACROS[name]) throw new ProtocolSyntaxError(`${name} cannot be combined with other attributes`);
    throw new ProtocolSyntaxError(`unknown fetch attribute ${value.value}`);
  }
  if (name === 'BODY' || name === 'BODY.PEEK') return parseBodySection(value.section, value.partial, name === 'BODY.PEEK');
  const part = parseBinaryPart(value.section);
  const partText = part.join('.');
  if (name === 'BINARY.SIZE') {
    if (value.partial) throw new ProtocolSyntaxError('BINARY.SIZE takes no partial');
    return { kind: 'binary-size', part, response: `BINARY.SIZE[${partText}]` };
  }
  const item: FetchItem = { kind: 'binary', peek: name === 'BINARY.PEEK', part, response: `BINARY[${partText}]${originText(value.partial)}` };
  if (value.partial) item.partial = value.partial;
  return item;
}

/** RFC 3501 §7.4.2: a partial fetch answers `<origin>` only, e.g. `BODY[]<0>` for `BODY[]<0.2048>`. */
function originText(partial: Partial | undefined): string {
  return partial ? `<${partial.start}>` : '';
}

function parsePartNumbers(texts: readonly string[]): number[] {
  return texts.map((text) => {
    if (!/^[1-9]\d{0,9}$/.test(text) || Number(text) > MAX_NUMBER) throw new ProtocolSyntaxError(`invalid part number "${text}"`);
    return Number(text);
  });
}

function parseBinaryPart(section: readonly Value[]): number[] {
  if (section.length === 0) return [];
  const only = section[0]!;
  if (section.length > 1 || only.type !== 'atom') throw new ProtocolSyntaxError('BINARY takes part numbers only, like BINARY[1.2]');
  return parsePartNumbers(only.value.split('.'));
}

const SECTION_TEXTS: readonly SectionText[] = ['HEADER', 'HEADER.FIELDS', 'HEADER.FIELDS.NOT', 'TEXT', 'MIME'];
/** RFC 5322 §3.6.8 field name: printable ASCII except colon. */
const FIELD_NAME = /^[!-9;-~]+$/;

function parseBodySection(values: readonly Value[], partial: Partial | undefined, peek: boolean): FetchItem {
  const section = parseSection(values);
  const item: FetchItem = { kind: 'section', peek, section, response: `BODY[${formatSection(section)}]${originText(partial)}` };
  if (partial) item.partial = partial;
  return item;
}

function parseSection(values: readonly Value[]): Section {
  if (values.length === 0) return { part: [] };
  const reader = new ArgReader(values);
  const words = reader.atom('section').toUpperCase().split('.');
  const firstText = words.findIndex((word) => !/^\d+$/.test(word));
  const part = parsePartNumbers(firstText === -1 ? words : words.slice(0, firstText));
  const section: Section = { part };
  if (firstText !== -1) {
    const text = words.slice(firstText).join('.');
    if (!(SECTION_TEXTS as readonly string[]).includes(text)) throw new ProtocolSyntaxError(`invalid section "${words.join('.')}"`);
    if (text === 'MIME' && part.length === 0) throw new ProtocolSyntaxError('MIME needs a part number, like 1.MIME');
    section.text = text as SectionText;
  }
  if (section.text === 'HEADER.FIELDS' || section.text === 'HEADER.FIELDS.NOT') {
    const fields = reader.list('header field names');
    if (fields.length === 0) throw new ProtocolSyntaxError('empty header field list');
    section.fields = fields.map((field) => {
      const name = new ArgReader([field]).astring('header field name').toString('latin1').toUpperCase();
      if (!FIELD_NAME.test(name)) throw new ProtocolSyntaxError(`invalid header field name "${name}"`);
      return name;
    });
  }
  reader.end();
  return section;
}

/** Field names echoed as atoms when they can be, else as quoted strings (FIELD_NAME has no CR, LF or 8-bit). */
function formatFieldName(name: string): string {
  return /^[^(){%*"\\\]]+$/.test(name) ? name : `"${name.replace(/["\\]/g, '\\$&')}"`;
}

/** The section text as echoed in the response: `1.2.HEADER.FIELDS (FROM TO)`. */
export function formatSection(section: Section): string {
  const words: string[] = section.part.map(String);
  if (section.text) words.push(section.text);
  const fields = section.fields ? ` (${section.fields.map(formatFieldName).join(' ')})` : '';
  return words.join('.') + fields;
}
