/** CLOSE (RFC 3501 §6.4.2), which expunges when the folder is writable. */
import { expungeMessages } from '../../../mailstore/index.ts';
import { ArgReader } from '../../proto/index.ts';
import { defineCommand, ok, SELECTED } from '../command.ts';

export const close = defineCommand({
  name: 'CLOSE',
  states: SELECTED,
  async run(ctx) {
    new ArgReader(ctx.args).end();
    const selected = ctx.session.selected;
    const account = ctx.session.account;
    // RFC 3501 §6.4.2: expunge silently (no untagged EXPUNGE), then leave the folder.
    ctx.session.unselect();
    if (selected && account && !selected.readOnly) await expungeMessages(ctx.app, { accountId: account.id, mailboxId: selected.id });
    return ok('CLOSE completed');
  },
});
