/** EXPUNGE and UID EXPUNGE (RFC 3501 §6.4.3, RFC 4315 §2.1). */
import { expungeMessages } from '../../../mailstore/index.ts';
import { ArgReader, parseSequenceSet } from '../../proto/index.ts';
import { defineCommand, ok, SELECTED } from '../command.ts';
import { readOnly, selectedOf } from './selected-folder.ts';

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
