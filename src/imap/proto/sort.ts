/**
 * SORT and THREAD arguments (RFC 5256 §3, RFC 5957 §4 DISPLAYFROM/DISPLAYTO) and the extended SORT's
 * RETURN options (RFC 5267 §3 ESORT, §4.4 PARTIAL). The charset is mandatory and the search criteria
 * are SEARCH's (parsed by parseSearchArgs, so the keys are the same everywhere).
 */
import { ProtocolSyntaxError } from './errors.ts';
import { ArgReader } from './reader.ts';
import { parsePartialRange, parseSearchArgs, type SearchArgs, type SearchKey } from './search.ts';
import { describeValue, type Value } from './values.ts';

export const SORT_KEYS = ['ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO', 'DISPLAYFROM', 'DISPLAYTO'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface SortCriterion {
  key: SortKey;
  reverse: boolean;
}

/** RFC 4731 / RFC 5267 result options of an extended SORT; `partial` is the range asked (low <= high). */
export interface SortReturn {
  min: boolean;
  max: boolean;
  count: boolean;
  all: boolean;
  partial?: [number, number];
}

export interface SortArgs {
  /** null: a plain `* SORT` response; otherwise an ESEARCH response (RFC 5267 §3). */
  return: SortReturn | null;
  criteria: SortCriterion[];
  charset: SearchArgs['charset'];
  key: SearchKey;
}

export const THREAD_ALGORITHMS = ['ORDEREDSUBJECT', 'REFERENCES'] as const;
export type ThreadAlgorithm = (typeof THREAD_ALGORITHMS)[number];

export interface ThreadArgs {
  algorithm: ThreadAlgorithm;
  charset: SearchArgs['charset'];
  key: SearchKey;
}

/** `charset 1*(SP search-key)` (RFC 5256 §5): SEARCH's parser with the charset in front. */
function parseCriteria(reader: ArgReader): Pick<SearchArgs, 'charset' | 'key'> {
  const charset = reader.next('charset');
  const rest: Value[] = [];
  while (!reader.done) rest.push(reader.next('search key'));
  if (rest.length === 0) throw new ProtocolSyntaxError('missing search criteria');
  const { charset: name, key } = parseSearchArgs([{ type: 'atom', value: 'CHARSET' }, charset, ...rest]);
  return { charset: name, key };
}

/** `[RETURN (options)] (criteria) charset search-key...` (RFC 5256 §5, RFC 5267 §5 extended-sort). */
export function parseSortArgs(args: readonly Value[]): SortArgs {
  const reader = new ArgReader(args);
  let returnOptions: SortReturn | null = null;
  if (reader.peekKeyword() === 'RETURN') {
    reader.next('RETURN');
    returnOptions = parseSortReturn(reader.list('RETURN options'));
  }
  const criteria = parseSortCriteria(reader.list('sort criteria'));
  return { return: returnOptions, criteria, ...parseCriteria(reader) };
}

function parseSortCriteria(values: readonly Value[]): SortCriterion[] {
  if (values.length === 0) throw new ProtocolSyntaxError('empty sort criteria');
  const reader = new ArgReader(values);
  const out: SortCriterion[] = [];
  while (!reader.done) {
    let name = reader.keyword('sort key');
    const reverse = name === 'REVERSE';
    if (reverse) name = reader.keyword('sort key after REVERSE');
    const key = SORT_KEYS.find((k) => k === name);
    if (!key) throw new ProtocolSyntaxError(`unknown sort key ${name}`);
    out.push({ key, reverse });
  }
  return out;
}

/**
 * MIN MAX COUNT ALL (RFC 4731 as adapted by RFC 5267 §3.1), PARTIAL (§4.4) and CONTEXT (§4.2, a hint,
 * ignored). `RETURN ()` means ALL. UPDATE (§4.3) is refused: CONTEXT=SORT is not offered (only CONTEXT=SEARCH).
 */
export function parseSortReturn(values: readonly Value[]): SortReturn {
  const out: SortReturn = { min: false, max: false, count: false, all: values.length === 0 };
  const reader = new ArgReader(values);
  while (!reader.done) {
    const value = reader.next('RETURN option');
    const name = value.type === 'atom' && !value.section ? value.value.toUpperCase() : '';
    if (name === 'MIN') out.min = true;
    else if (name === 'MAX') out.max = true;
    else if (name === 'COUNT') out.count = true;
    else if (name === 'ALL') out.all = true;
    else if (name === 'CONTEXT') continue;
    else if (name === 'PARTIAL') {
      if (out.partial) throw new ProtocolSyntaxError('more than one PARTIAL');
      out.partial = parsePartialRange(reader.atom('PARTIAL range'));
    } else throw new ProtocolSyntaxError(`unknown RETURN option ${describeValue(value)}`);
  }
  // RFC 5267 §4.4: "either one PARTIAL, one ALL, or neither PARTIAL nor ALL is allowed".
  if (out.partial && out.all) throw new ProtocolSyntaxError('PARTIAL and ALL cannot both be asked');
  return out;
}

/** `thread-alg charset search-key...` (RFC 5256 §5). */
export function parseThreadArgs(args: readonly Value[]): ThreadArgs {
  const reader = new ArgReader(args);
  const name = reader.keyword('threading algorithm');
  const algorithm = THREAD_ALGORITHMS.find((a) => a === name);
  if (!algorithm) throw new ProtocolSyntaxError(`unknown threading algorithm ${name}`);
  return { algorithm, ...parseCriteria(reader) };
}
