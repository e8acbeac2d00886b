/**
 * Sequence sets (RFC 3501 §9 `sequence-set`): message sequence numbers or UIDs, `*` for the largest
 * in use, ranges in either order (`4:2` is `2:4`). `$` (RFC 5182 SEARCHRES) is refused.
 */
import { ProtocolSyntaxError } from './errors.ts';

/** RFC 3501 §9 `nz-number`: a 32-bit unsigned integer, not zero. */
export const MAX_SEQUENCE_NUMBER = 0xffff_ffff;

/** `'*'` is the largest number in use (the message count, or the highest UID). */
export type SequenceBound = number | '*';

export interface SequenceRange {
  start: SequenceBound;
  end: SequenceBound;
}

/** As sent, in order; resolve it with `expandSequenceSet` once the maximum is known. */
export type SequenceSet = readonly SequenceRange[];

function parseBound(text: string, allowStar: boolean): SequenceBound {
  if (text === '*') {
    if (!allowStar) throw new ProtocolSyntaxError('"*" is not allowed in this sequence set');
    return '*';
  }
  if (!/^[1-9][0-9]{0,9}$/.test(text)) {
    throw new ProtocolSyntaxError(text === '0' || /^0+$/.test(text) ? 'sequence numbers start at 1, not 0' : `invalid sequence number "${text}"`);
  }
  const value = Number(text);
  if (value > MAX_SEQUENCE_NUMBER) throw new ProtocolSyntaxError(`sequence number ${text} is over 4294967295`);
  return value;
}

/** Parses `1,3:5,7:*`; throws ProtocolSyntaxError on empty, `0`, `$` and anything else. */
export function parseSequenceSet(text: string, options: { allowStar?: boolean } = {}): SequenceSet {
  const allowStar = options.allowStar ?? true;
  if (text === '') throw new ProtocolSyntaxError('empty sequence set');
  if (text === '$') throw new ProtocolSyntaxError('"$" (SEARCHRES) is not supported');
  return text.split(',').map((element) => {
    const parts = element.split(':');
    if (parts.length > 2 || parts.some((part) => part === '')) throw new ProtocolSyntaxError(`invalid sequence set "${text}"`);
    const start = parseBound(parts[0]!, allowStar);
    const end = parts.length === 2 ? parseBound(parts[1]!, allowStar) : start;
    return { start, end };
  });
}

const resolve = (bound: SequenceBound, max: number) => (bound === '*' ? max : bound);

/** Whether `n` is in the set, `max` being the value of `*`. */
export function contains(set: SequenceSet, n: number, max: number): boolean {
  return set.some(({ start, end }) => {
    const a = resolve(start, max);
    const b = resolve(end, max);
    return n >= Math.min(a, b) && n <= Math.max(a, b);
  });
}

/**
 * The set as sorted, merged, inclusive `[low, high]` ranges within `1..max` (`max` is the value of
 * `*`). Numbers above `max` name nothing and are dropped, as RFC 3501 §6.4.8 asks for UIDs; for
 * sequence numbers the caller checks `isWithin` first (RFC 3501 §7.1.3 wants BAD for those).
 */
export function expandSequenceSet(set: SequenceSet, max: number): Array<[number, number]> {
  const ranges = set
    .map(({ start, end }): [number, number] => {
      const a = resolve(start, max);
      const b = resolve(end, max);
      return [Math.min(a, b), Math.min(Math.max(a, b), max)];
    })
    .filter(([low, high]) => low <= high && high >= 1)
    .sort((x, y) => x[0] - y[0]);
  const merged: Array<[number, number]> = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1] + 1) last[1] = Math.max(last[1], range[1]);
    else merged.push([range[0], range[1]]);
  }
  return merged;
}

/** Whether every explicit number of the set is at most `max` (sequence numbers past the end are a BAD). */
export function isWithin(set: SequenceSet, max: number): boolean {
  return set.every(({ start, end }) => (start === '*' || start <= max) && (end === '*' || end <= max));
}

/** `[[1,3],[5,5]]` → `1:3,5`, for COPYUID, APPENDUID and ESEARCH ALL (RFC 4315, RFC 4731). */
export function formatSequenceSet(ranges: ReadonlyArray<readonly [number, number]>): string {
  return ranges.map(([low, high]) => (low === high ? String(low) : `${low}:${high}`)).join(',');
}
