/** GETQUOTAROOT (RFC 9208 §4.1.2): every folder is under the account's one quota root "" (see quota-roots.ts). */
import { findMailbox } from '../../../mailstore/index.ts';
import { AppError, text } from '../../../shared/errors.ts';
import { ArgReader, parseMailboxArg } from '../../proto/index.ts';
import { AUTHENTICATED, defineCommand, ok } from '../command.ts';
import { accountId, mailboxName } from './mailbox-args.ts';
import { quotaLine } from './quota-roots.ts';

export const getquotaroot = defineCommand({
  name: 'GETQUOTAROOT',
  states: AUTHENTICATED,
  async run(ctx) {
    const reader = new ArgReader(ctx.args);
    const name = parseMailboxArg(reader.next('mailbox name'), { utf8Accept: ctx.session.utf8 });
    reader.end();
    // RFC 9208 §4.1.2: the argument is an existing mailbox.
    if (!(await findMailbox(ctx.app.db, accountId(ctx), name)))
      throw new AppError('not-found', 'mailbox-not-found', text('No such folder', 'Ce dossier n’existe pas'));
    await ctx.untagged(`QUOTAROOT ${mailboxName(ctx, name)} ""`);
    await ctx.untagged(await quotaLine(ctx));
    return ok('GETQUOTAROOT completed');
  },
});
