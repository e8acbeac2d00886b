/**
 * QRESYNC's VANISHED (EARLIER) (RFC 7162 §3.2.5.1 for SELECT, §3.2.6 for UID FETCH): the UIDs, among
 * those the client may know, that left the folder after its MODSEQ.
 *
 * The expunge history of a folder is capped (`retention.expungeHistoryPerFolder`). When the client's
 * MODSEQ is older than what remains, the answer must still be complete, so the server reports every UID
 * the client may know that is not in the folder now (RFC 7162 §5.1 describes this as compliant), narrowed
 * by the client's message sequence match data when it sent some (§3.2.5.2).
 */
import { readExpungeHistory } from '../../mailstore/index.ts';
import { contains, expandSequenceSet, MAX_SEQUENCE_NUMBER, type SequenceSet } from '../proto/index.ts';
import type { SelectedMailbox } from './selected.ts';
import { uidRanges } from './updates.ts';

type Db = Parameters<typeof readExpungeHistory>[0];

export interface VanishedQuery {
  sinceModseq: number;
  /** The UIDs the client may know; absent: `1:<UIDNEXT-1>` (§3.2.5.1). */
  known?: SequenceSet;
  /** §3.2.5.2: sequence numbers and the UIDs the client has for them, pairwise. */
  sequenceMatch?: { sequences: SequenceSet; uids: SequenceSet };
}

/** The ranges to send in VANISHED (EARLIER), sorted and merged; empty when nothing vanished. */
export async function vanishedEarlier(db: Db, selected: SelectedMailbox, query: VanishedQuery): Promise<Array<[number, number]>> {
  const history = await readExpungeHistory(db, selected.id, query.sinceModseq);
  if (history.complete) {
    const known = query.known;
    return uidRanges(known ? history.uids.filter((uid) => contains(known, uid, MAX_SEQUENCE_NUMBER)) : history.uids);
  }
  const maxUid = history.uidNext - 1;
  const mayKnow = expandSequenceSet(query.known ?? [{ start: 1, end: '*' }], maxUid);
  const above = matchedUpTo(selected, query.sequenceMatch);
  return missingFrom(
    mayKnow.map(([low, high]): [number, number] => [Math.max(low, above + 1), high]).filter(([low, high]) => low <= high),
    selected.allUids(),
  );
}

/**
 * §3.2.5.2: pairs are compared in order with the folder as it is; while they match, the client knows of
 * every expunge up to that UID. Returns the highest UID so covered (0 when none).
 */
function matchedUpTo(selected: SelectedMailbox, match: VanishedQuery['sequenceMatch']): number {
  if (!match) return 0;
  const seqs = expandSequenceSet(match.sequences, MAX_SEQUENCE_NUMBER).flatMap(([low, high]) => spread(low, high));
  const uids = expandSequenceSet(match.uids, MAX_SEQUENCE_NUMBER).flatMap(([low, high]) => spread(low, high));
  if (seqs.length !== uids.length) return 0;
  const present = selected.allUids();
  let covered = 0;
  for (let i = 0; i < seqs.length; i++) {
    if (present[(seqs[i] as number) - 1] !== uids[i]) break;
    covered = uids[i] as number;
  }
  return covered;
}

/** Sequence match data is a small sample (§3.2.5.2); a range beyond this is not expanded. */
const MAX_MATCH_PAIRS = 10_000;

function spread(low: number, high: number): number[] {
  const out: number[] = [];
  for (let n = low; n <= high && out.length < MAX_MATCH_PAIRS; n++) out.push(n);
  return out;
}

/** The parts of sorted, merged `ranges` that hold none of the sorted UIDs `present`. */
export function missingFrom(ranges: ReadonlyArray<readonly [number, number]>, present: readonly number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let i = 0;
  for (const [low, high] of ranges) {
    while (i < present.length && (present[i] as number) < low) i++;
    let from = low;
    while (i < present.length && (present[i] as number) <= high) {
      const uid = present[i] as number;
      if (uid > from) out.push([from, uid - 1]);
      from = uid + 1;
      i++;
    }
    if (from <= high) out.push([from, high]);
  }
  return out;
}
