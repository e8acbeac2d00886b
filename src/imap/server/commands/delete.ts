/** DELETE (RFC 3501 §6.3.4). */
import { deleteMailbox } from '../../../mailstore/index.ts';
import { AUTHENTICATED, defineCommand, ok } from '../command.ts';
import { accountId, oneMailbox } from './mailbox-args.ts';

export const del = defineCommand({
  name: 'DELETE',
  states: AUTHENTICATED,
  async run(ctx) {
    const name = oneMailbox(ctx);
    if (ctx.session.selected?.mailbox.name === name) ctx.session.unselect();
    await deleteMailbox(ctx.app, accountId(ctx), name);
    return ok('DELETE completed');
  },
});
