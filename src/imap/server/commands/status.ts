/**
 * STATUS (RFC 3501 §6.3.10) with HIGHESTMODSEQ (RFC 7162), SIZE (RFC 8438) and DELETED /
 * DELETED-STORAGE (RFC 9208 §4.1.4).
 */
import { findMailbox } from '../../../mailstore/index.ts';
import { AppError, text } from '../../../shared/errors.ts';
import { parseStatusArgs } from '../../proto/index.ts';
import { AUTHENTICATED, defineCommand, ok } from '../command.ts';
import { accountId } from './mailbox-args.ts';
import { statusLine } from './status-line.ts';

export const status = defineCommand({
  name: 'STATUS',
  states: AUTHENTICATED,
  async run(ctx) {
    const args = parseStatusArgs(ctx.args, { utf8Accept: ctx.session.utf8 });
    const mailbox = await findMailbox(ctx.app.db, accountId(ctx), args.mailbox);
    if (!mailbox) throw new AppError('not-found', 'mailbox-not-found', text('No such folder', 'Ce dossier n’existe pas'));
    await ctx.untagged(await statusLine(ctx, mailbox, args.items));
    return ok('STATUS completed');
  },
});
