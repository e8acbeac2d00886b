/**
 * The selected folder as one session sees it (RFC 3501 §2.3.1.2): message sequence numbers map to
 * UIDs in this session's view, which changes only when the session announces a change. Changes made by
 * others (or by this session in another command) are read from the store by MODSEQ and kept pending
 * until a point where the session may report them: EXPUNGE never while a FETCH, STORE or SEARCH is
 * running (§7.4.1), EXISTS and flag changes at the end of any command.
 */
import type { Kysely } from 'kysely';
import {
  type ChangeListener,
  changesSince,
  type IndexEntry,
  loadMailboxColumns,
  type MailboxColumns,
  type MailChange,
  type MailChanges,
  sameFlags,
} from '../../mailstore/index.ts';
import type { Database, MailboxesTable } from '../../store/index.ts';
import { expandSequenceSet, isWithin, ProtocolSyntaxError, type SequenceSet } from '../proto/index.ts';

export interface Announcements {
  /** UIDs expunged, with the sequence numbers to report, in the order to send them. */
  expunged: Array<{ uid: number; seq: number }>;
  /** The new message count, when it changed. */
  exists?: number;
  /** How many messages were added at the end of the view (their UIDs are the last ones of `allUids()`). */
  added: number;
  /** Messages whose flags changed, with their sequence numbers after the expunges. */
  flags: Array<{ seq: number; entry: IndexEntry }>;
  /** Keywords the session had not been told of: FLAGS and PERMANENTFLAGS must come first (RFC 3501 §7.2.6). */
  newKeywords: boolean;
}

const isKeyword = (flag: string) => !flag.startsWith('\\');

/** Longest time a watching view trusts the change feed alone before reading the store again. */
const RECHECK_MS = 1000;

/** Messages kept in the index cache over all folders (about 20 bytes each), least recently selected out. */
const MAX_CACHED_MESSAGES = 2_000_000;
/** Folders kept in the index cache (an entry costs a few hundred bytes besides its messages). */
const MAX_CACHED_FOLDERS = 50_000;

interface CachedIndex {
  uidValidity: number;
  modseq: number;
  index: MailboxColumns;
}

/**
 * The indexes of folders as the last SELECT read them, shared by the sessions of this process.
 * An entry is exact at the MODSEQ it was read at: every change raises the folder's MODSEQ (whichever
 * node made it) and expunges stay listed in expunged_messages while the folder exists, so a later
 * SELECT starts from it and reads only the changes since, like any session catching up.
 *
 * The arrays of an entry are never changed: sessions share them (ten sessions of one INBOX hold one
 * index) and copy them at their first change (`SelectedMailbox.own`).
 */
const indexCache = new Map<string, CachedIndex>();
let cachedMessages = 0;

function forget(id: string, entry: CachedIndex): void {
  indexCache.delete(id);
  cachedMessages -= entry.index.uids.length;
}

/** The folder's cached index (shared: not to be changed) and the MODSEQ it is exact at (at most the folder's current one). */
function cachedIndex(mailbox: MailboxesTable): CachedIndex | undefined {
  const cached = indexCache.get(mailbox.id);
  if (!cached) return undefined;
  forget(mailbox.id, cached);
  if (cached.modseq > Number(mailbox.highest_modseq) || cached.uidValidity !== Number(mailbox.uid_validity)) return undefined;
  indexCache.set(mailbox.id, cached); // most recently used last
  cachedMessages += cached.index.uids.length;
  return cached;
}

/** Keeps `index` as the folder's at `modseq`; from now on its arrays must not change. False when too large to keep. */
function rememberIndex(mailbox: MailboxesTable, modseq: number, index: MailboxColumns): boolean {
  const size = index.uids.length;
  if (size > MAX_CACHED_MESSAGES) return false;
  const previous = indexCache.get(mailbox.id);
  if (previous) forget(mailbox.id, previous);
  for (const [id, entry] of indexCache) {
    if (cachedMessages + size <= MAX_CACHED_MESSAGES && indexCache.size < MAX_CACHED_FOLDERS) break;
    forget(id, entry);
  }
  indexCache.set(mailbox.id, { uidValidity: Number(mailbox.uid_validity), modseq, index });
  cachedMessages += size;
  return true;
}

/** Told when the change feed reports a change of the selected folder (a connection in IDLE). */
export interface ChangeWaker {
  selectedMailboxChanged(): void;
}

export class SelectedMailbox implements ChangeListener {
  /**
   * The view as parallel arrays in sequence order: message n is uids[n - 1], with its MODSEQ and flags
   * at the same index (no object or map entry per message: a 100,000-message folder is three arrays,
   * the flag lists shared between messages). A UID's index is found by binary search.
   */
  private uids: number[];
  private modseqs: number[];
  private flags: Array<readonly string[]>;
  /** The three arrays are the index cache's, shared with other sessions: copied before any change. */
  private shared: boolean;
  /** Changes read from the store but not yet announced (made at first use: most views never have any, 10,000 IDLE). */
  private pendingExpunged: Set<number> | undefined;
  private pendingFlags: Set<number> | undefined;
  private pendingNew: IndexEntry[] | undefined;
  /** UIDs this session shows as \Recent, as ranges (from, to] (made at first use: most sessions have none). */
  private recentRanges: Array<[number, number]> | undefined;
  /** Highest MODSEQ whose changes this view has read (announced or pending). */
  private syncedModseq: number;
  /** The feed and account this view listens to (set while watching). */
  private watching: { changes: MailChanges; accountId: string } | undefined;
  /** Told of each change of this folder the feed reports (set while the session is in IDLE). */
  waker: ChangeWaker | undefined;
  /** The change feed said something happened to this folder since the last read of the store. */
  private dirty = true;
  /** When the store was last read (performance.now()). */
  private checkedAt = 0;
  /**
   * Keywords this session was told of in FLAGS (RFC 3501 §7.2.6: a client learns the folder's flags from
   * FLAGS, and a FETCH must not show one it was never told of). Those of the view at SELECT, then each
   * new one as it appears; never fewer while selected.
   */
  private knownKeywords = new Set<string>();

  private constructor(
    readonly mailbox: MailboxesTable,
    readonly readOnly: boolean,
    index: MailboxColumns,
    modseq: number,
    shared: boolean,
  ) {
    this.uids = index.uids;
    this.modseqs = index.modseqs;
    this.flags = index.flags;
    this.shared = shared;
    this.syncedModseq = modseq;
  }

  /** Adds the keywords of these flag lists not known yet; true if there were any. */
  private learnKeywords(lists: Iterable<readonly string[]>): boolean {
    let learned = false;
    let previous: readonly string[] | undefined;
    for (const flags of lists) {
      if (flags === previous) continue; // flag lists are shared between messages: one look per list is enough
      previous = flags;
      for (const flag of flags) {
        if (!isKeyword(flag) || this.knownKeywords.has(flag)) continue;
        this.knownKeywords.add(flag);
        learned = true;
      }
    }
    return learned;
  }

  /** The keywords announced to this session, in the order they were learnt. */
  get keywords(): readonly string[] {
    return [...this.knownKeywords];
  }

  static async open(db: Kysely<Database>, mailbox: MailboxesTable, readOnly: boolean): Promise<SelectedMailbox> {
    // The index is read after the folder row, so nothing between the two is missed: a later change has a higher MODSEQ.
    const cached = cachedIndex(mailbox);
    if (cached) {
      const view = new SelectedMailbox(mailbox, readOnly, cached.index, cached.modseq, true);
      if (cached.modseq < Number(mailbox.highest_modseq)) {
        // Caught up like a session between commands; nothing is reported (SELECT reports the result).
        await view.sync(db, true);
        view.announce(true);
        view.share(mailbox);
      }
      view.learnKeywords(view.flags);
      return view;
    }
    const loaded = await loadMailboxColumns(db, mailbox.id);
    // Exact copies: the loaded arrays grew by pushes, up to twice their length.
    const index = { uids: loaded.uids.slice(), modseqs: loaded.modseqs.slice(), flags: loaded.flags.slice() };
    const shared = rememberIndex(mailbox, Number(mailbox.highest_modseq), index);
    const view = new SelectedMailbox(mailbox, readOnly, index, Number(mailbox.highest_modseq), shared);
    view.learnKeywords(view.flags);
    return view;
  }

  /** Gives this view's arrays to the index cache; the view copies them again before its next change. */
  private share(mailbox: MailboxesTable): void {
    this.shared = rememberIndex(mailbox, this.syncedModseq, { uids: this.uids, modseqs: this.modseqs, flags: this.flags });
  }

  /** Copy on write: the first change of a view that shares the cache's arrays works on copies of them. */
  private own(): void {
    if (!this.shared) return;
    this.uids = this.uids.slice();
    this.modseqs = this.modseqs.slice();
    this.flags = this.flags.slice();
    this.shared = false;
  }

  /**
   * Listens to the account's change feed: until it reports a change of this folder, `sync` skips its
   * query (one per command otherwise), except once every RECHECK_MS for changes the feed does not carry
   * (another node's, as long as no transport joins the nodes' feeds).
   */
  watch(changes: MailChanges, accountId: string): void {
    this.release();
    this.watching = { changes, accountId };
    changes.listen(accountId, this);
  }

  mailChanged(change: MailChange): void {
    const mine = change.mailboxId === this.mailbox.id || change.type === 'resync';
    if (!mine && change.type !== 'mailboxes') return;
    this.dirty = true;
    if (mine) this.waker?.selectedMailboxChanged();
  }

  /** Stops listening to the change feed (the folder is left, the connection closed). */
  release(): void {
    this.watching?.changes.unlisten(this.watching.accountId, this);
    this.watching = undefined;
    this.waker = undefined;
    this.dirty = true;
  }

  /** The change feed reported a change of this folder since the store was last read. */
  get changedSinceSync(): boolean {
    return this.dirty;
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
    const i = this.indexOf(uid);
    return i < 0 ? undefined : i + 1;
  }

  private indexOf(uid: number): number {
    let lo = 0;
    let hi = this.uids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const at = this.uids[mid] as number;
      if (at === uid) return mid;
      if (at < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The entry of a UID, or undefined when it was expunged (announced or not). */
  entry(uid: number): IndexEntry | undefined {
    if (this.pendingExpunged?.has(uid)) return undefined;
    const i = this.indexOf(uid);
    return i < 0 ? undefined : { uid, modseq: this.modseqs[i] as number, flags: this.flags[i] as readonly string[] };
  }

  /** Flags of message `seq` (1-based) as this session shows them (\Recent included), whether or not it was expunged meanwhile. */
  flagsAt(seq: number): readonly string[] {
    return this.shownFlags(this.uids[seq - 1] ?? 0, this.flags[seq - 1] ?? []);
  }

  /** RFC 3501 §2.3.2: this session is the first told of the messages with UIDs in (from, to]. */
  addRecent(from: number, to: number): void {
    if (to <= from) return;
    this.recentRanges ??= [];
    this.recentRanges.push([from, to]);
  }

  isRecent(uid: number): boolean {
    for (const [from, to] of this.recentRanges ?? []) if (uid > from && uid <= to) return true;
    return false;
  }

  /** Messages of the view with \Recent (RFC 3501 §7.3.2 RECENT). */
  get recentCount(): number {
    let count = 0;
    for (const [from, to] of this.recentRanges ?? []) count += this.firstIndexAtLeast(to + 1) - this.firstIndexAtLeast(from + 1);
    return count;
  }

  /** The stored flags of a message, plus \Recent when it is recent in this session (never stored, never set by a client). */
  shownFlags(uid: number, flags: readonly string[]): readonly string[] {
    return this.recentRanges && this.isRecent(uid) ? [...flags, '\\Recent'] : flags;
  }

  /** MODSEQ of message `seq` (1-based). */
  modseqAt(seq: number): number {
    return this.modseqs[seq - 1] ?? 0;
  }

  /** Every UID of the view in sequence order (expunged-but-unannounced ones included: they still have a number). */
  allUids(): readonly number[] {
    return this.uids;
  }

  isExpunged(uid: number): boolean {
    return this.pendingExpunged?.has(uid) === true;
  }

  /**
   * The messages a sequence set names, in sequence order: by sequence number (every number must exist,
   * RFC 3501 §7.1.3) or by UID (`*` is the highest UID, unknown UIDs are ignored, §6.4.8). Messages
   * expunged but not yet announced are left out.
   */
  resolve(set: SequenceSet, byUid: boolean): Array<{ seq: number; uid: number }> {
    const out: Array<{ seq: number; uid: number }> = [];
    const expunged = this.pendingExpunged;
    if (byUid) {
      for (const [low, high] of expandSequenceSet(set, this.lastUid)) {
        for (let i = this.firstIndexAtLeast(low); i < this.uids.length && (this.uids[i] as number) <= high; i++) {
          const uid = this.uids[i] as number;
          if (!expunged?.has(uid)) out.push({ seq: i + 1, uid });
        }
      }
      return out;
    }
    if (!isWithin(set, this.uids.length)) throw new ProtocolSyntaxError('Invalid message sequence number');
    for (const [low, high] of expandSequenceSet(set, this.uids.length)) {
      for (let seq = low; seq <= high; seq++) {
        const uid = this.uids[seq - 1] as number;
        if (!expunged?.has(uid)) out.push({ seq, uid });
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

  /**
   * Records flags this session itself just set, so they are not announced back to it as someone else's
   * change. True when they hold a keyword the session was not told of (announce it before any FETCH).
   */
  noteOwnFlags(changed: IndexEntry[]): boolean {
    const newKeywords = this.learnKeywords(changed.map((entry) => entry.flags));
    for (const entry of changed) {
      if (this.pendingExpunged?.has(entry.uid)) continue;
      const i = this.indexOf(entry.uid);
      if (i < 0) continue;
      this.own();
      this.modseqs[i] = entry.modseq;
      this.flags[i] = entry.flags;
    }
    return newKeywords;
  }

  /**
   * Reads what changed in the store since the last sync; nothing is announced yet. Without `force`,
   * skipped while the change feed reported nothing for this folder (and the last read is recent).
   */
  async sync(db: Kysely<Database>, force = false): Promise<void> {
    const now = performance.now();
    if (!force && !this.dirty && this.watching && now - this.checkedAt < RECHECK_MS) return;
    // Cleared before the read: a change reported while it runs makes the next sync read again.
    this.dirty = false;
    this.checkedAt = now;
    const changes = await changesSince(db, this.mailbox.id, this.syncedModseq);
    if (changes.highestModseq <= this.syncedModseq) return;
    const newest = this.pendingNew?.at(-1)?.uid ?? this.lastUid;
    // Expunge history trimmed past this view (retention): what is gone is what the view has and the folder has not.
    const present = changes.present ? new Set(changes.present) : undefined;
    const expunged = changes.expunged ?? [...this.uids, ...(this.pendingNew ?? []).map((e) => e.uid)].filter((uid) => !present?.has(uid));
    for (const uid of expunged) {
      if (this.indexOf(uid) >= 0) {
        this.pendingExpunged ??= new Set();
        this.pendingExpunged.add(uid);
      }
      if (this.pendingNew) this.pendingNew = this.pendingNew.filter((e) => e.uid !== uid);
    }
    for (const entry of changes.changed) {
      if (entry.uid > newest) {
        this.pendingNew ??= [];
        this.pendingNew.push(entry);
        continue;
      }
      const pendingNew = this.pendingNew?.findIndex((e) => e.uid === entry.uid) ?? -1;
      if (this.pendingNew && pendingNew >= 0) {
        this.pendingNew[pendingNew] = entry;
        continue;
      }
      const i = this.indexOf(entry.uid);
      if (i < 0 || this.pendingExpunged?.has(entry.uid)) continue;
      if (!sameFlags(this.flags[i] as readonly string[], entry.flags)) {
        this.pendingFlags ??= new Set();
        this.pendingFlags.add(entry.uid);
      }
      this.own();
      this.modseqs[i] = entry.modseq;
      this.flags[i] = entry.flags;
    }
    this.syncedModseq = changes.highestModseq;
  }

  /**
   * Applies pending changes to the view and says what to tell the client. With `allowExpunge` false
   * (during FETCH, STORE, SEARCH), expunges stay pending and the sequence numbers do not move.
   */
  announce(allowExpunge: boolean): Announcements {
    const out: Announcements = { expunged: [], added: 0, flags: [], newKeywords: false };
    const pendingExpunged = this.pendingExpunged;
    if (allowExpunge && pendingExpunged) {
      // Highest sequence number first: each EXPUNGE then leaves the numbers still to report unchanged.
      for (let i = this.uids.length - 1; i >= 0; i--) {
        const uid = this.uids[i] as number;
        if (!pendingExpunged.has(uid)) continue;
        out.expunged.push({ uid, seq: i + 1 });
        this.pendingFlags?.delete(uid);
      }
      const uids: number[] = [];
      const modseqs: number[] = [];
      const flags: Array<readonly string[]> = [];
      for (let i = 0; i < this.uids.length; i++) {
        const uid = this.uids[i] as number;
        if (pendingExpunged.has(uid)) continue;
        uids.push(uid);
        modseqs.push(this.modseqs[i] as number);
        flags.push(this.flags[i] as readonly string[]);
      }
      this.uids = uids;
      this.modseqs = modseqs;
      this.flags = flags;
      this.shared = false;
      this.pendingExpunged = undefined;
    }
    if (this.pendingNew && this.pendingNew.length > 0) {
      out.newKeywords = this.learnKeywords(this.pendingNew.map((entry) => entry.flags));
      this.own();
      for (const entry of this.pendingNew) {
        this.uids.push(entry.uid);
        this.modseqs.push(entry.modseq);
        this.flags.push(entry.flags);
      }
      out.added = this.pendingNew.length;
      this.pendingNew = undefined;
      out.exists = this.uids.length;
    } else if (out.expunged.length > 0) {
      out.exists = undefined;
    }
    if (!this.pendingFlags) return out;
    for (const uid of this.pendingFlags) {
      const i = this.indexOf(uid);
      if (i >= 0) out.flags.push({ seq: i + 1, entry: { uid, modseq: this.modseqs[i] as number, flags: this.flags[i] as readonly string[] } });
    }
    this.pendingFlags = undefined;
    out.flags.sort((a, b) => a.seq - b.seq);
    if (this.learnKeywords(out.flags.map((f) => f.entry.flags))) out.newKeywords = true;
    return out;
  }
}
