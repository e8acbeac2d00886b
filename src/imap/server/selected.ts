/**
 * The selected folder as one session sees it (RFC 3501 §2.3.1.2): message sequence numbers map to
 * UIDs in this session's view, which changes only when the session announces a change. Changes made by
 * others (or by this session in another command) are read from the store by MODSEQ and kept pending
 * until a point where the session may report them: EXPUNGE never while a FETCH, STORE or SEARCH is
 * running (§7.4.1), EXISTS and flag changes at the end of any command.
 */
import type { Kysely } from 'kysely';
import { changesSince, type IndexEntry, loadMailboxIndex, sameFlags } from '../../mailstore/index.ts';
import type { Database, MailboxesTable } from '../../store/index.ts';
import { expandSequenceSet, isWithin, ProtocolSyntaxError, type SequenceSet } from '../proto/index.ts';

export interface Announcements {
  /** UIDs expunged, with the sequence numbers to report, in the order to send them. */
  expunged: Array<{ uid: number; seq: number }>;
  /** The new message count, when it changed. */
  exists?: number;
  /** Messages whose flags changed, with their sequence numbers after the expunges. */
  flags: Array<{ seq: number; entry: IndexEntry }>;
}

export class SelectedMailbox {
  /** UIDs in sequence order: message n is uids[n - 1]. */
  private uids: number[];
  private readonly entries = new Map<number, IndexEntry>();
  /** Changes read from the store but not yet announced. */
  private readonly pendingExpunged = new Set<number>();
  private readonly pendingFlags = new Set<number>();
  private pendingNew: IndexEntry[] = [];
  /** Highest MODSEQ whose changes this view has read (announced or pending). */
  private syncedModseq: number;

  private constructor(
    readonly mailbox: MailboxesTable,
    readonly readOnly: boolean,
    entries: IndexEntry[],
  ) {
    this.uids = entries.map((e) => e.uid);
    for (const entry of entries) this.entries.set(entry.uid, entry);
    this.syncedModseq = Number(mailbox.highest_modseq);
  }

  static async open(db: Kysely<Database>, mailbox: MailboxesTable, readOnly: boolean): Promise<SelectedMailbox> {
    // The index is read after the folder row, so nothing between the two is missed: a later change has a higher MODSEQ.
    const entries = await loadMailboxIndex(db, mailbox.id);
    return new SelectedMailbox(mailbox, readOnly, entries);
  }

  get id(): string {
    return this.mailbox.id;
  }

  get uidValidity(): number {
    return Number(this.mailbox.uid_validity);
  }

  get count(): number {
    return this.uids.length;
  }

  get highestModseq(): number {
    return this.syncedModseq;
  }

  /** The UID after the last one this view knows (for SELECT's UIDNEXT use the folder's counter). */
  get lastUid(): number {
    return this.uids.at(-1) ?? 0;
  }

  uidAt(seq: number): number | undefined {
    return this.uids[seq - 1];
  }

  /** Sequence number of a UID, by binary search; undefined when the view does not hold it. */
  seqOf(uid: number): number | undefined {
    let lo = 0;
    let hi = this.uids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const at = this.uids[mid] as number;
      if (at === uid) return mid + 1;
      if (at < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** The entry of a UID, or undefined when it was expunged (announced or not). */
  entry(uid: number): IndexEntry | undefined {
    return this.pendingExpunged.has(uid) ? undefined : this.entries.get(uid);
  }

  /** Every UID of the view in sequence order (expunged-but-unannounced ones included: they still have a number). */
  allUids(): readonly number[] {
    return this.uids;
  }

  isExpunged(uid: number): boolean {
    return this.pendingExpunged.has(uid);
  }

  /**
   * The messages a sequence set names, in sequence order: by sequence number (every number must exist,
   * RFC 3501 §7.1.3) or by UID (`*` is the highest UID, unknown UIDs are ignored, §6.4.8). Messages
   * expunged but not yet announced are left out.
   */
  resolve(set: SequenceSet, byUid: boolean): Array<{ seq: number; uid: number }> {
    const out: Array<{ seq: number; uid: number }> = [];
    if (byUid) {
      for (const [low, high] of expandSequenceSet(set, this.lastUid)) {
        for (let i = this.firstIndexAtLeast(low); i < this.uids.length && (this.uids[i] as number) <= high; i++) {
          const uid = this.uids[i] as number;
          if (!this.pendingExpunged.has(uid)) out.push({ seq: i + 1, uid });
        }
      }
      return out;
    }
    if (!isWithin(set, this.uids.length)) throw new ProtocolSyntaxError('Invalid message sequence number');
    for (const [low, high] of expandSequenceSet(set, this.uids.length)) {
      for (let seq = low; seq <= high; seq++) {
        const uid = this.uids[seq - 1] as number;
        if (!this.pendingExpunged.has(uid)) out.push({ seq, uid });
      }
    }
    return out;
  }

  private firstIndexAtLeast(uid: number): number {
    let lo = 0;
    let hi = this.uids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.uids[mid] as number) < uid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Records flags this session itself just set, so they are not announced back to it as someone else's change. */
  noteOwnFlags(changed: IndexEntry[]): void {
    for (const entry of changed) {
      if (this.entries.has(entry.uid) && !this.pendingExpunged.has(entry.uid)) this.entries.set(entry.uid, entry);
    }
  }

  /** Reads what changed in the store since the last sync; nothing is announced yet. */
  async sync(db: Kysely<Database>): Promise<void> {
    const changes = await changesSince(db, this.mailbox.id, this.syncedModseq);
    if (changes.highestModseq <= this.syncedModseq) return;
    const newest = this.pendingNew.at(-1)?.uid ?? this.lastUid;
    for (const uid of changes.expunged) {
      if (this.entries.has(uid)) this.pendingExpunged.add(uid);
      this.pendingNew = this.pendingNew.filter((e) => e.uid !== uid);
    }
    for (const entry of changes.changed) {
      if (entry.uid > newest) {
        this.pendingNew.push(entry);
        continue;
      }
      const pendingNew = this.pendingNew.findIndex((e) => e.uid === entry.uid);
      if (pendingNew >= 0) {
        this.pendingNew[pendingNew] = entry;
        continue;
      }
      const known = this.entries.get(entry.uid);
      if (!known || this.pendingExpunged.has(entry.uid)) continue;
      if (!sameFlags(known.flags, entry.flags)) this.pendingFlags.add(entry.uid);
      this.entries.set(entry.uid, entry);
    }
    this.syncedModseq = changes.highestModseq;
  }

  /**
   * Applies pending changes to the view and says what to tell the client. With `allowExpunge` false
   * (during FETCH, STORE, SEARCH), expunges stay pending and the sequence numbers do not move.
   */
  announce(allowExpunge: boolean): Announcements {
    const out: Announcements = { expunged: [], flags: [] };
    if (allowExpunge && this.pendingExpunged.size > 0) {
      // Highest sequence number first: each EXPUNGE then leaves the numbers still to report unchanged.
      for (let i = this.uids.length - 1; i >= 0; i--) {
        const uid = this.uids[i] as number;
        if (!this.pendingExpunged.has(uid)) continue;
        out.expunged.push({ uid, seq: i + 1 });
        this.entries.delete(uid);
        this.pendingFlags.delete(uid);
      }
      this.uids = this.uids.filter((uid) => !this.pendingExpunged.has(uid));
      this.pendingExpunged.clear();
    }
    if (this.pendingNew.length > 0) {
      for (const entry of this.pendingNew) {
        this.uids.push(entry.uid);
        this.entries.set(entry.uid, entry);
      }
      this.pendingNew = [];
      out.exists = this.uids.length;
    } else if (out.expunged.length > 0) {
      out.exists = undefined;
    }
    for (const uid of this.pendingFlags) {
      const seq = this.seqOf(uid);
      const entry = this.entries.get(uid);
      if (seq !== undefined && entry) out.flags.push({ seq, entry });
    }
    this.pendingFlags.clear();
    out.flags.sort((a, b) => a.seq - b.seq);
    return out;
  }
}
