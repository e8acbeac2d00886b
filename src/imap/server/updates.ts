/**
 * Untagged updates about the selected folder (RFC 3501 §7.3.1 EXISTS, §7.4.1 EXPUNGE, §7.4.2 FETCH
 * FLAGS; RFC 7162 §3.2.10 VANISHED when QRESYNC is on; RFC 5267 §4.3 ESEARCH ADDTO and REMOVEFROM of
 * the session's search contexts): read from the store, then reported at a point where the client can
 * take them.
 */
import { claimRecent } from '../../mailstore/index.ts';
import { formatSequenceSet } from '../proto/index.ts';
import type { ImapConnection } from './connection.ts';
import { flagList, flagsAnnouncement } from './flags.ts';

/** Ranges of consecutive UIDs, for a compact VANISHED. */
export function uidRanges(uids: number[]): Array<[number, number]> {
  const sorted = [...uids].sort((a, b) => a - b);
  const out: Array<[number, number]> = [];
  for (const uid of sorted) {
    const last = out.at(-1);
    if (last && uid === last[1] + 1) last[1] = uid;
    else out.push([uid, uid]);
  }
  return out;
}

export async function announceChanges(connection: ImapConnection, options: { allowExpunge: boolean; force?: boolean }): Promise<void> {
  const { session, app } = connection;
  const selected = session.selected;
  if (!selected) return;
  await selected.sync(app.db, options.force);
  const lastKnown = selected.lastUid;
  const news = selected.announce(options.allowExpunge);
  // RFC 3501 §2.3.2: new messages are recent in the first session told of them (not in EXAMINE's).
  if (selected.lastUid > lastKnown && !selected.readOnly) {
    const claim = await claimRecent(app, selected.id, selected.lastUid);
    if (claim) selected.addRecent(claim.from, claim.to);
  }
  // RFC 3501 §7.2.6: a keyword new to the session is in FLAGS before any FETCH shows it.
  if (news.newKeywords) for (const line of flagsAnnouncement(selected.keywords, selected.readOnly)) await connection.writeLine(`* ${line}`);
  const contexts = session.searchContexts?.size ? session.searchContexts : undefined;
  if (news.expunged.length > 0) {
    // RFC 5267 §4.3.4: REMOVEFROM before the expunge responses, while the message numbers are still valid.
    if (contexts) for (const line of contexts.removeExpunged(news.expunged)) await connection.writeLine(`* ${line}`);
    if (session.qresync) await connection.writeLine(`* VANISHED ${formatSequenceSet(uidRanges(news.expunged.map((e) => e.uid)))}`);
    else for (const { seq } of news.expunged) await connection.writeLine(`* ${seq} EXPUNGE`);
  }
  if (news.exists !== undefined) {
    // RFC 3501 §7.3.2: RECENT comes with a change of the message count.
    await connection.writeLine(`* ${news.exists} EXISTS`);
    await connection.writeLine(`* ${selected.recentCount} RECENT`);
  }
  for (const { seq, entry } of news.flags) {
    const modseq = session.condstore ? ` MODSEQ (${entry.modseq})` : '';
    await connection.writeLine(`* ${seq} FETCH (UID ${entry.uid} FLAGS ${flagList(selected.shownFlags(entry.uid, entry.flags))}${modseq})`);
  }
  const account = session.account;
  if (contexts && account) {
    // RFC 5267 §4.3.3: ADDTO after the EXISTS of new messages and the FETCH of changed flags.
    const added = news.added > 0 ? selected.allUids().slice(-news.added) : [];
    const scope = { db: app.db, accountId: account.id, selected };
    await contexts.report(
      scope,
      added,
      news.flags.map((f) => f.entry.uid),
      (line) => connection.writeLine(`* ${line}`),
    );
  }
}
