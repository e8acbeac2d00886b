/** CREATE (RFC 3501 §6.3.3). */
import { createMailbox } from '../../../mailstore/index.ts';
import { AUTHENTICATED, defineCommand, ok } from '../command.ts';
import { accountId, newMailboxName, oneMailbox } from './mailbox-args.ts';

export const create = defineCommand({
  name: 'CREATE',
  states: AUTHENTICATED,
  async run(ctx) {
    // RFC 3501 §6.3.3: a trailing delimiter only says the client means to create inferiors under it.
    const name = newMailboxName(() => oneMailbox(ctx)).replace(/\/$/, '');
    await createMailbox(ctx.app, accountId(ctx), name);
    return ok('CREATE completed');
  },
});
