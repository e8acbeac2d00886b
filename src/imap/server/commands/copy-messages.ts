/**
 * What COPY and MOVE (RFC 3501 §6.4.7, RFC 6851) share: one command that copies, or moves, with
 * UIDPLUS's COPYUID (RFC 4315 §3).
 */
import { copyMessages, findMailbox } from '../../../mailstore/index.ts';
import { text } from '../../../shared/errors.ts';
import { ArgReader, formatSequenceSet, parseMailboxArg, parseSequenceSet } from '../../proto/index.ts';
import { defineCommand, no, ok, SELECTED } from '../command.ts';
import { uidRanges } from '../updates.ts';
import { readOnly, selectedOf } from './selected-folder.ts';

export function copyOrMove(name: 'COPY' | 'MOVE') {
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
