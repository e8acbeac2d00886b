/**
 * Commands on the messages of the selected folder: STORE (RFC 3501 §6.4.6, with CONDSTORE's
 * UNCHANGEDSINCE, RFC 7162 §3.1.3), EXPUNGE and UID EXPUNGE (§6.4.3, RFC 4315 §2.1), COPY and MOVE
 * (§6.4.7, RFC 6851) with UIDPLUS's COPYUID (RFC 4315 §3).
 */
import { copyMessages, expungeMessages, findMailbox, updateFlags } from '../../../mailstore/index.ts';
import { text } from '../../../shared/errors.ts';
import { ArgReader, formatSequenceSet, parseMailboxArg, parseSequenceSet, parseStoreArgs } from '../../proto/index.ts';
import { type CommandContext, defineCommand, no, ok, SELECTED } from '../command.ts';
import { flagList } from '../flags.ts';
import type { SelectedMailbox } from '../selected.ts';
import { uidRanges } from '../updates.ts';

function selectedOf(ctx: CommandContext): { selected: SelectedMailbox; accountId: string } {
  const selected = ctx.session.selected;
  const account = ctx.session.account;
  if (!selected || !account) throw new Error('selected-state command without a selected folder');
  return { selected, accountId: account.id };
}

function readOnly() {
  return no('The folder is open read-only (EXAMINE)', 'READ-ONLY');
}

export const store = defineCommand({
  name: 'STORE',
  states: SELECTED,
  holdsExpunges: true,
  async run(ctx) {
    const args = parseStoreArgs(ctx.args);
    const { selected, accountId } = selectedOf(ctx);
    if (selected.readOnly) return readOnly();
    const targets = selected.resolve(args.sequence, ctx.command.uid);
    if (args.unchangedSince !== undefined) ctx.session.condstore = true;
    const result = await updateFlags(
      ctx.app,
      { accountId, mailboxId: selected.id },
      targets.map((t) => t.uid),
      { mode: args.action, flags: args.flags },
      { unchangedSince: args.unchangedSince },
    );
    selected.noteOwnFlags(result.changed);
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
      if (!args.silent) parts.push(`FLAGS ${flagList(entry.flags)}`);
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

export const expunge = defineCommand({
  name: 'EXPUNGE',
  states: SELECTED,
  async run(ctx) {
    const reader = new ArgReader(ctx.args);
    const set = ctx.command.uid ? parseSequenceSet(reader.atom('UID set')) : undefined;
    reader.end();
    const { selected, accountId } = selectedOf(ctx);
    if (selected.readOnly) return readOnly();
    const uids = set ? selected.resolve(set, true).map((t) => t.uid) : undefined;
    if (uids && uids.length === 0) return ok('EXPUNGE completed');
    await expungeMessages(ctx.app, { accountId, mailboxId: selected.id }, uids);
    // The connection reports the EXPUNGE (or VANISHED) responses before the tagged OK.
    return ok('EXPUNGE completed');
  },
});

function copyOrMove(name: 'COPY' | 'MOVE') {
  return defineCommand({
    name,
    states: SELECTED,
    async run(ctx) {
      const reader = new ArgReader(ctx.args);
      const set = parseSequenceSet(reader.atom('sequence set'));
      const target = parseMailboxArg(reader.next('destination mailbox'), { utf8Accept: ctx.session.utf8 });
      reader.end();
      const { selected, accountId } = selectedOf(ctx);
      const move = name === 'MOVE';
      if (move && selected.readOnly) return readOnly();
      const destination = await findMailbox(ctx.app.db, accountId, target);
      // RFC 3501 §6.4.7: [TRYCREATE] tells the client it may create the folder and try again.
      if (!destination) return no(ctx.session.say(text('No such folder', 'Ce dossier n’existe pas')), 'TRYCREATE');
      const targets = selected.resolve(set, ctx.command.uid);
      if (targets.length === 0) return ok(`${name} completed`);
      const result = await copyMessages(
        ctx.app,
        { accountId, mailboxId: selected.id },
        targets.map((t) => t.uid),
        destination,
        { move },
      );
      const code = `COPYUID ${result.uidValidity} ${formatSequenceSet(uidRanges(result.pairs.map((p) => p[0])))} ${formatSequenceSet(uidRanges(result.pairs.map((p) => p[1])))}`;
      if (move) {
        // RFC 6851 §4.3: COPYUID comes in an untagged OK before the expunges.
        await ctx.untagged(`OK [${code}] Moved`);
        return ok('MOVE completed');
      }
      return ok('COPY completed', code);
    },
  });
}
export const copy = copyOrMove('COPY');
export const move = copyOrMove('MOVE');
