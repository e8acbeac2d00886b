/**
 * APPEND (RFC 3501 §6.3.11) with UIDPLUS's APPENDUID (RFC 4315 §3): the message goes through the
 * mailstore's one write path (stored durably, metadata extracted once) before the OK; a full mailbox
 * gets NO [OVERQUOTA] (RFC 5530) and nothing is kept.
 */
import { Readable } from 'node:stream';
import { deliverMessage, findMailbox, receiveMessage } from '../../../mailstore/index.ts';
import { text } from '../../../shared/errors.ts';
import { parseAppendArgs } from '../../proto/index.ts';
import { AUTHENTICATED, defineCommand, no, ok } from '../command.ts';
import { MAX_APPEND_BYTES } from '../limits.ts';

export const append = defineCommand({
  name: 'APPEND',
  states: AUTHENTICATED,
  async run(ctx) {
    const args = parseAppendArgs(ctx.args, { utf8Accept: ctx.session.utf8 });
    const account = ctx.session.account;
    if (!account) throw new Error('authenticated command without an account');
    const mailbox = await findMailbox(ctx.app.db, account.id, args.mailbox);
    if (!mailbox) return no(ctx.session.say(text('No such folder', 'Ce dossier n’existe pas')), 'TRYCREATE');
    if (args.message.length === 0) return no(ctx.session.say(text('The message is empty', 'Le message est vide')), 'CANNOT');
    const message = await receiveMessage(ctx.app, Readable.from([args.message]), { maxBytes: MAX_APPEND_BYTES });
    const [result] = await deliverMessage(ctx.app, message, [
      { accountId: account.id, mailbox: { id: mailbox.id }, flags: args.flags, internalDate: args.internalDate },
    ]);
    if (!result?.ok) {
      if (result?.reason === 'over-quota') return no(ctx.session.say(text('The mailbox is full', 'La boîte aux lettres est pleine')), 'OVERQUOTA');
      return no(ctx.session.say(text('No such folder', 'Ce dossier n’existe pas')), 'TRYCREATE');
    }
    return ok('APPEND completed', `APPENDUID ${Number(mailbox.uid_validity)} ${result.uid}`);
  },
});
