/**
 * What the folder commands (RFC 3501 §6.3) share: the logged-in account, a command's one mailbox-name
 * argument, and a mailbox name as the client reads it in a response.
 */
import { ArgReader, encodeMailboxName, InvalidMailboxNameError, ProtocolSyntaxError, parseMailboxArg } from '../../proto/index.ts';
import type { CommandContext } from '../command.ts';
import { quoted } from '../text.ts';

export function accountId(ctx: CommandContext): string {
  const account = ctx.session.account;
  if (!account) throw new Error('authenticated command without an account');
  return account.id;
}

export function oneMailbox(ctx: CommandContext): string {
  const reader = new ArgReader(ctx.args);
  const name = parseMailboxArg(reader.next('mailbox name'), { utf8Accept: ctx.session.utf8 });
  reader.end();
  return name;
}

/**
 * A name for a folder to be made (CREATE, RENAME's target): one no folder can have is NO [CANNOT] with
 * the reason (RFC 5530), where other commands answer NO [NONEXISTENT].
 */
export function newMailboxName<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof InvalidMailboxNameError) throw new ProtocolSyntaxError(`Invalid folder name: ${error.message}`, 'NO', 'CANNOT');
    throw error;
  }
}

export function mailboxName(ctx: CommandContext, name: string): string {
  return quoted(encodeMailboxName(name, { utf8Accept: ctx.session.utf8 }));
}
