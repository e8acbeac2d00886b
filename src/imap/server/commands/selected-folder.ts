/**
 * What the commands on the messages of the selected folder (RFC 3501 §6.4) share: the folder and account,
 * and the refusal a read-only (EXAMINE'd) folder gives to changes.
 */
import { type CommandContext, no } from '../command.ts';
import type { SelectedMailbox } from '../selected.ts';

export function selectedOf(ctx: CommandContext): { selected: SelectedMailbox; accountId: string } {
  const selected = ctx.session.selected;
  const account = ctx.session.account;
  if (!selected || !account) throw new Error('selected-state command without a selected folder');
  return { selected, accountId: account.id };
}

export function readOnly() {
  return no('The folder is open read-only (EXAMINE)', 'READ-ONLY');
}
