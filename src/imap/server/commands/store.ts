/** STORE and UID STORE (RFC 3501 §6.4.6, §6.4.8), with CONDSTORE's UNCHANGEDSINCE (RFC 7162 §3.1.3). */
import { updateFlags } from '../../../mailstore/index.ts';
import { formatSequenceSet, parseStoreArgs } from '../../proto/index.ts';
import { defineCommand, ok, SELECTED } from '../command.ts';
import { enableCondstore } from '../condstore.ts';
import { flagList, flagsAnnouncement } from '../flags.ts';
import { uidRanges } from '../updates.ts';
import { readOnly, selectedOf } from './selected-folder.ts';

export const store = defineCommand({
  name: 'STORE',
  states: SELECTED,
  holdsExpunges: true,
  async run(ctx) {
    const args = parseStoreArgs(ctx.args);
    const { selected, accountId } = selectedOf(ctx);
    if (selected.readOnly) return readOnly();
    const targets = selected.resolve(args.sequence, ctx.command.uid);
    if (args.unchangedSince !== undefined) await enableCondstore(ctx);
    const result = await updateFlags(
      ctx.app,
      { accountId, mailboxId: selected.id },
      targets.map((t) => t.uid),
      { mode: args.action, flags: args.flags },
      { unchangedSince: args.unchangedSince },
    );
    // RFC 3501 §7.2.6: a keyword new to the folder is announced in FLAGS before the FETCH responses show it.
    if (selected.noteOwnFlags(result.changed)) for (const line of flagsAnnouncement(selected.keywords, false)) await ctx.untagged(line);
    // RFC 5267 §4.3: this session's own changes move its search contexts' results too (reported after the FETCH).
    ctx.session.searchContexts?.noteFlagChanges(result.changed.map((c) => c.uid));
    const modified = new Set(result.modified);
    const changed = new Set(result.changed.map((c) => c.uid));
    for (const { seq, uid } of targets) {
      if (modified.has(uid)) continue;
      // .SILENT: no FETCH, except that CONDSTORE clients learn the new MODSEQ of what changed, and a
      // conditional STORE answers every message it did not refuse (RFC 7162 §3.1.3).
      if (args.silent && !(ctx.session.condstore && (changed.has(uid) || args.unchangedSince !== undefined))) continue;
      const entry = selected.entry(uid);
      if (!entry) continue;
      // RFC 3501 §6.4.8: UID STORE responses carry the UID; plain STORE ones need not (RFC 7162 §3.1.3 examples).
      const parts = ctx.command.uid ? [`UID ${uid}`] : [];
      if (!args.silent) parts.push(`FLAGS ${flagList(selected.shownFlags(uid, entry.flags))}`);
      if (ctx.session.condstore) parts.push(`MODSEQ (${entry.modseq})`);
      await ctx.untagged(`${seq} FETCH (${parts.join(' ')})`);
    }
    if (modified.size > 0) {
      const numbers = targets.filter((t) => modified.has(t.uid)).map((t) => (ctx.command.uid ? t.uid : t.seq));
      return ok('Conditional STORE failed for some messages', `MODIFIED ${formatSequenceSet(uidRanges(numbers))}`);
    }
    return ok('STORE completed');
  },
});
