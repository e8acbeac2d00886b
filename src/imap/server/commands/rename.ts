/** RENAME (RFC 3501 §6.3.5). */
import { renameMailbox } from '../../../mailstore/index.ts';
import { ArgReader, parseMailboxArg } from '../../proto/index.ts';
import { AUTHENTICATED, defineCommand, ok } from '../command.ts';
import { accountId, newMailboxName } from './mailbox-args.ts';

export const rename = defineCommand({
  name: 'RENAME',
  states: AUTHENTICATED,
  async run(ctx) {
    const reader = new ArgReader(ctx.args);
    const from = parseMailboxArg(reader.next('existing mailbox name'), { utf8Accept: ctx.session.utf8 });
    const to = newMailboxName(() => parseMailboxArg(reader.next('new mailbox name'), { utf8Accept: ctx.session.utf8 }));
    reader.end();
    await renameMailbox(ctx.app, accountId(ctx), from, to);
    return ok('RENAME completed');
  },
});
