/**
 * RFC 5267 §4.3 search contexts (CONTEXT=SEARCH): a SEARCH or UID SEARCH with RETURN (UPDATE) keeps its
 * program and the UIDs it matches while the folder stays selected, and the session reports each change
 * of that set as `* ESEARCH (TAG "t") [UID] ADDTO (0 set)` or `REMOVEFROM (0 set)`: position 0, the set
 * in mailbox order (§4.3.3, §4.3.4), UIDs for UID SEARCH and message numbers for SEARCH (§4.3.2).
 *
 * Only what changed is evaluated again, never the whole folder (a folder may hold 100,000 messages):
 * - new messages, after their EXISTS, with the text keys' hits asked of the index for them alone;
 * - messages whose flags changed (another session's, announced as FETCH, or this session's STORE),
 *   after the FETCH, and only when the program looks at flags or MODSEQ; the text hits of the folder
 *   are then kept, a message's text never changing;
 * - expunged messages leave the set, REMOVEFROM coming before their EXPUNGE (or VANISHED).
 * Message sequence numbers in the program are replaced at command time by the UIDs they name (§4.3,
 * last paragraph). A program with `*` in a UID set is evaluated again whole when the last UID moves:
 * rare, and `*` then names another message.
 *
 * A context ends when the folder is left (Session.unselect) or with CANCELUPDATE (§4.3.5).
 */
import { formatSequenceSet, type SearchKey } from '../proto/index.ts';
import { dependsOnFlags, findTextHits, matchAll, matchUids, type SearchScope, type TextHits, usesHighestUid } from './searching.ts';
import type { SelectedMailbox } from './selected.ts';
import { quoted } from './text.ts';
import { uidRanges } from './updates.ts';

/**
 * RFC 5267 §4.3.1: contexts a session keeps at once (at least one must be offered; each holds the set
 * of UIDs it matches, up to the folder's size). Past it, the search is answered with `NO [NOUPDATE]`.
 */
export const MAX_SEARCH_CONTEXTS = 5;

interface SearchContext {
  tag: string;
  /** UID SEARCH: the updates carry UIDs; SEARCH: message numbers. */
  byUid: boolean;
  /** The program, sequence numbers replaced by UIDs. */
  key: SearchKey;
  /** UIDs the client was told match. */
  matched: Set<number>;
  /** The program looks at flags or MODSEQ: flag changes are evaluated, and the text hits kept for them. */
  flagged: boolean;
  /** The text keys' hits over the folder (for `flagged` programs only; undefined otherwise). */
  hits: TextHits | undefined;
  /** The text hits are known for every UID up to this one. */
  textKnownTo: number;
  /** The program has `*` in a UID set: a new last UID means evaluating it whole again. */
  highestUid: boolean;
  /** The view's last UID when the program was last evaluated. */
  lastUid: number;
  /** UIDs to evaluate again (new messages, flags changed), kept until reported: a failed read is retried. */
  pending: Set<number>;
}

export class SearchContexts {
  private readonly contexts = new Map<string, SearchContext>();

  get size(): number {
    return this.contexts.size;
  }

  has(tag: string): boolean {
    return this.contexts.has(tag);
  }

  /**
   * Keeps a search: `key` with its sequence numbers already replaced (`withSequenceNumbersAsUids`),
   * `matched` its UIDs in the view now, `hits` its text keys' hits.
   */
  add(tag: string, byUid: boolean, key: SearchKey, matched: Iterable<number>, hits: TextHits, selected: SelectedMailbox): void {
    const flagged = dependsOnFlags(key);
    this.contexts.set(tag, {
      tag,
      byUid,
      key,
      matched: new Set(matched),
      flagged,
      hits: flagged ? hits : undefined,
      textKnownTo: selected.lastUid,
      highestUid: usesHighestUid(key),
      lastUid: selected.lastUid,
      pending: new Set(),
    });
  }

  /** RFC 5267 §4.3.5 CANCELUPDATE: no more updates for `tag`; false when no context has it. */
  cancel(tag: string): boolean {
    return this.contexts.delete(tag);
  }

  /** Flags this session changed itself (STORE): evaluated at the next report, like another session's. */
  noteFlagChanges(uids: Iterable<number>): void {
    const flagged = [...this.contexts.values()].filter((context) => context.flagged);
    if (flagged.length === 0) return;
    for (const uid of uids) for (const context of flagged) context.pending.add(uid);
  }

  /**
   * RFC 5267 §4.3.4: REMOVEFROM for the matched messages about to be reported expunged, sent before the
   * EXPUNGE (or VANISHED) responses, with the message numbers they have until then.
   */
  removeExpunged(expunged: ReadonlyArray<{ uid: number; seq: number }>): string[] {
    const lines: string[] = [];
    for (const context of this.contexts.values()) {
      const removed: number[] = [];
      for (const { uid, seq } of expunged) {
        context.pending.delete(uid);
        for (const hits of context.hits?.values() ?? []) hits.delete(uid);
        if (context.matched.delete(uid)) removed.push(context.byUid ? uid : seq);
      }
      if (removed.length > 0) lines.push(`${prefixOf(context)} REMOVEFROM (0 ${formatSequenceSet(uidRanges(removed))})`);
    }
    return lines;
  }

  /**
   * RFC 5267 §4.3.3: after the EXISTS and FETCH responses, ADDTO and REMOVEFROM for the new messages
   * (`added`, in UID order) and those whose flags changed (`changed`), the view being up to date;
   * `send` writes an update as an untagged response.
   */
  async report(scope: SearchScope, added: readonly number[], changed: readonly number[], send: (line: string) => Promise<void>): Promise<void> {
    // Noted first in every context: if a read fails, what is still pending is evaluated at the next report.
    for (const context of this.contexts.values()) {
      for (const uid of added) context.pending.add(uid);
      if (context.flagged) for (const uid of changed) context.pending.add(uid);
    }
    // Each sent as soon as it is known: when a later context's read fails, an update already applied was sent.
    for (const context of this.contexts.values()) {
      const line = context.highestUid && context.lastUid !== scope.selected.lastUid ? await reevaluate(scope, context) : await update(scope, context);
      if (line) await send(line);
    }
  }
}

function prefixOf(context: SearchContext): string {
  return `ESEARCH (TAG ${quoted(context.tag)})${context.byUid ? ' UID' : ''}`;
}

/** Evaluates the pending messages again and applies the differences; the update to send, if any. */
async function update(scope: SearchScope, context: SearchContext): Promise<string | undefined> {
  if (context.pending.size === 0) return undefined;
  const { selected } = scope;
  const uids = [...context.pending].sort((a, b) => a - b);
  // New messages: their text hits alone (added to the kept ones, or for this evaluation only).
  const newest = uids.at(-1) as number;
  let hits = context.hits ?? new Map();
  if (newest > context.textKnownTo) hits = await findTextHits(scope, context.key, context.hits ?? new Map(), context.textKnownTo + 1);
  const now = new Set((await matchUids(scope, context.key, hits, uids)).map((m) => m.uid));
  const added: number[] = [];
  const removed: number[] = [];
  for (const uid of uids) {
    // Expunged meanwhile (not reported yet): it leaves the set with its EXPUNGE.
    if (selected.isExpunged(uid) || selected.seqOf(uid) === undefined) continue;
    if (now.has(uid) && !context.matched.has(uid)) added.push(uid);
    else if (!now.has(uid) && context.matched.has(uid)) removed.push(uid);
  }
  for (const uid of added) context.matched.add(uid);
  for (const uid of removed) context.matched.delete(uid);
  context.textKnownTo = Math.max(context.textKnownTo, Math.min(newest, selected.lastUid));
  context.lastUid = selected.lastUid;
  context.pending.clear();
  return updateLine(context, selected, added, removed);
}

/** The program evaluated whole again (its `*` names another message now); the differences to send. */
async function reevaluate(scope: SearchScope, context: SearchContext): Promise<string | undefined> {
  const { selected } = scope;
  const hits = await findTextHits(scope, context.key, new Map());
  const now = new Set((await matchAll(scope, context.key, hits)).map((m) => m.uid));
  const added = [...now].filter((uid) => !context.matched.has(uid));
  const removed = [...context.matched].filter((uid) => !now.has(uid) && !selected.isExpunged(uid)).sort((a, b) => a - b);
  for (const uid of added) context.matched.add(uid);
  for (const uid of removed) context.matched.delete(uid);
  if (context.flagged) context.hits = hits;
  context.textKnownTo = selected.lastUid;
  context.lastUid = selected.lastUid;
  context.pending.clear();
  return updateLine(context, selected, added, removed);
}

/** `* ESEARCH (TAG "t") UID REMOVEFROM (0 set) ADDTO (0 set)`, numbers valid in the view as it is now. */
function updateLine(context: SearchContext, selected: SelectedMailbox, added: number[], removed: number[]): string | undefined {
  if (added.length === 0 && removed.length === 0) return undefined;
  const numbers = (uids: number[]) => formatSequenceSet(uidRanges(context.byUid ? uids : uids.map((uid) => selected.seqOf(uid) as number)));
  const parts = [prefixOf(context)];
  if (removed.length > 0) parts.push(`REMOVEFROM (0 ${numbers(removed)})`);
  if (added.length > 0) parts.push(`ADDTO (0 ${numbers(added)})`);
  return parts.join(' ');
}
