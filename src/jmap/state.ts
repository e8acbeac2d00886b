/**
 * JMAP states from the mailstore's MODSEQs (RFC 8620 §1.6 `state`, §5.2 /changes): a state is a
 * snapshot of the account's folders, each as (id, HIGHESTMODSEQ, UIDNEXT, a digest of its name, role and
 * subscription), compressed into the state string. Every change to a message raises its folder's
 * MODSEQ and every expunge is kept with its MODSEQ (and since migration 018, the row's id), so the
 * changes between a state and now are computed from the store alone: exact across restarts and nodes,
 * with nothing kept in memory. One state serves Mailbox, Email and Thread (§1.6 allows a state to
 * change when nothing of that type did).
 */
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Kysely } from 'kysely';
import type { Database, MailboxesTable } from '../store/index.ts';
import { MethodError } from './core.ts';

export interface FolderMark {
  modseq: number;
  uidNext: number;
  digest: string;
}

export type Snapshot = Map<string, FolderMark>;

const VERSION = 1;

function digestOf(mailbox: Pick<MailboxesTable, 'name' | 'special_use' | 'subscribed'>): string {
  return createHash('sha256')
    .update(`${mailbox.name}\u0000${mailbox.special_use ?? ''}\u0000${mailbox.subscribed}`)
    .digest('base64url')
    .slice(0, 6);
}

export function snapshotOf(mailboxes: readonly MailboxesTable[]): Snapshot {
  const snapshot: Snapshot = new Map();
  for (const m of mailboxes) snapshot.set(m.id, { modseq: Number(m.highest_modseq), uidNext: Number(m.uid_next), digest: digestOf(m) });
  return snapshot;
}

export function encodeState(snapshot: Snapshot): string {
  const entries = [...snapshot].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([id, m]) => [id, m.modseq, m.uidNext, m.digest]);
  return deflateRawSync(Buffer.from(JSON.stringify([VERSION, entries]))).toString('base64url');
}

/** The snapshot a state string holds; an unreadable state cannot be compared (§5.2 cannotCalculateChanges). */
export function decodeState(state: string): Snapshot {
  try {
    const [version, entries] = JSON.parse(inflateRawSync(Buffer.from(state, 'base64url'), { maxOutputLength: 1 << 22 }).toString()) as [number, unknown];
    if (version !== VERSION || !Array.isArray(entries)) throw new Error('version');
    const snapshot: Snapshot = new Map();
    for (const entry of entries) {
      const [id, modseq, uidNext, digest] = entry as [string, number, number, string];
      if (typeof id !== 'string' || !Number.isSafeInteger(modseq) || !Number.isSafeInteger(uidNext) || typeof digest !== 'string') throw new Error('entry');
      snapshot.set(id, { modseq, uidNext, digest });
    }
    return snapshot;
  } catch {
    throw new MethodError('cannotCalculateChanges', 'this state is not one this server gave');
  }
}

export async function accountMailboxes(db: Kysely<Database>, accountId: string): Promise<MailboxesTable[]> {
  return db.selectFrom('mailboxes').selectAll().where('account_id', '=', accountId).orderBy('name').execute();
}

export async function accountState(db: Kysely<Database>, accountId: string): Promise<string> {
  return encodeState(snapshotOf(await accountMailboxes(db, accountId)));
}

export interface Changes {
  created: string[];
  updated: string[];
  destroyed: string[];
}

export interface MessageChanges {
  emails: Changes;
  threads: Changes;
}

const tooOld = () => new MethodError('cannotCalculateChanges', 'changes since this state are no longer known: fetch again');

/**
 * The Emails and Threads created, updated and destroyed between a snapshot and now (RFC 8621 §4.3,
 * §3.2). Per folder: rows whose MODSEQ is above the snapshot's are new (UID at or above the old UIDNEXT)
 * or changed; expunges above it are gone, unless the same row id is still present (a move keeps the
 * id: the Email was updated, its mailboxIds changed). A folder deleted since, or an expunge history
 * trimmed past the snapshot, cannot be answered exactly: cannotCalculateChanges.
 */
export async function messageChangesSince(db: Kysely<Database>, accountId: string, since: Snapshot, now: readonly MailboxesTable[]): Promise<MessageChanges> {
  const present = new Map<string, { isNew: boolean; threadId: string }>();
  const gone = new Map<string, string>();
  const current = new Set(now.map((m) => m.id));
  for (const [id, mark] of since) if (!current.has(id) && mark.uidNext > 1) throw tooOld();
  for (const mailbox of now) {
    const mark = since.get(mailbox.id);
    const modseq = mark?.modseq ?? 0;
    const uidNext = mark?.uidNext ?? 1;
    if (mark && Number(mailbox.highest_modseq) <= modseq) continue;
    if (mark && Number(mailbox.expunged_floor) > modseq) throw tooOld();
    const rows = await db.selectFrom('messages').select(['id', 'uid', 'thread_id']).where('mailbox_id', '=', mailbox.id).where('modseq', '>', modseq).execute();
    for (const row of rows) present.set(row.id, { isNew: Number(row.uid) >= uidNext, threadId: row.thread_id ?? row.id });
    if (!mark) continue;
    const expunged = await db
      .selectFrom('expunged_messages')
      .select(['uid', 'message_id', 'thread_id'])
      .where('mailbox_id', '=', mailbox.id)
      .where('modseq', '>', modseq)
      .execute();
    for (const row of expunged) {
      if (Number(row.uid) >= uidNext) continue; // came and went after the snapshot
      if (row.message_id === null) throw tooOld();
      gone.set(row.message_id, row.thread_id ?? row.message_id);
    }
  }
  const emails: Changes = { created: [], updated: [], destroyed: [] };
  const touchedThreads = new Set<string>();
  for (const [id, info] of present) {
    touchedThreads.add(info.threadId);
    if (info.isNew && !gone.has(id)) emails.created.push(id);
    else emails.updated.push(id);
  }
  for (const [id, threadId] of gone) {
    if (present.has(id)) continue;
    emails.destroyed.push(id);
    touchedThreads.add(threadId);
  }
  return { emails, threads: await threadChanges(db, accountId, touchedThreads, emails) };
}

/** A thread is destroyed when none of its messages is left, created when all of its messages are new. */
async function threadChanges(db: Kysely<Database>, accountId: string, touched: Set<string>, emails: Changes): Promise<Changes> {
  const threads: Changes = { created: [], updated: [], destroyed: [] };
  if (touched.size === 0) return threads;
  const ids = [...touched];
  const remaining = new Map<string, string[]>();
  for (let i = 0; i < ids.length; i += 500) {
    const part = ids.slice(i, i + 500);
    const rows = await db
      .selectFrom('messages')
      .select(['id', 'thread_id'])
      .where('account_id', '=', accountId)
      .where((eb) => eb.or([eb('thread_id', 'in', part), eb.and([eb('thread_id', 'is', null), eb('id', 'in', part)])]))
      .execute();
    for (const row of rows) {
      const thread = row.thread_id ?? row.id;
      const list = remaining.get(thread) ?? [];
      list.push(row.id);
      remaining.set(thread, list);
    }
  }
  const created = new Set(emails.created);
  for (const thread of ids) {
    const members = remaining.get(thread);
    if (!members) threads.destroyed.push(thread);
    else if (members.every((id) => created.has(id))) threads.created.push(thread);
    else threads.updated.push(thread);
  }
  return threads;
}

export interface MailboxChanges extends Changes {
  /** Only the counts changed (RFC 8621 §2.2 updatedProperties), or null when anything else may have. */
  countsOnly: boolean;
}

export function mailboxChangesSince(since: Snapshot, now: Snapshot): MailboxChanges {
  const changes: MailboxChanges = { created: [], updated: [], destroyed: [], countsOnly: true };
  for (const [id, mark] of now) {
    const old = since.get(id);
    if (!old) changes.created.push(id);
    else if (old.digest !== mark.digest) {
      changes.updated.push(id);
      changes.countsOnly = false;
    } else if (old.modseq !== mark.modseq || old.uidNext !== mark.uidNext) changes.updated.push(id);
  }
  for (const id of since.keys()) if (!now.has(id)) changes.destroyed.push(id);
  return changes;
}
