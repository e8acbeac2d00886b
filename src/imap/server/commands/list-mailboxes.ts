/**
 * What LIST (RFC 3501 §6.3.8) and LSUB (§6.3.9) share: one listing, with LIST-EXTENDED (RFC 5258),
 * LIST-STATUS (RFC 5819), SPECIAL-USE (RFC 6154) and CHILDREN (RFC 3348). Folders with children are
 * said so; special-use folders carry their role; STATUS follows each listed folder when asked.
 */
import { listMailboxes } from '../../../mailstore/index.ts';
import type { MailboxesTable } from '../../../store/index.ts';
import { type ListArgs, matchesPattern, parseListArgs } from '../../proto/index.ts';
import { type CommandContext, ok } from '../command.ts';
import { quoted } from '../text.ts';
import { mailboxName } from './mailbox-args.ts';
import { statusLine } from './status-line.ts';

const SPECIAL_USE_ATTRIBUTE: Record<string, string> = {
  sent: '\\Sent',
  drafts: '\\Drafts',
  junk: '\\Junk',
  trash: '\\Trash',
  archive: '\\Archive',
};

function hasChildren(mailbox: MailboxesTable, all: MailboxesTable[]): boolean {
  const prefix = `${mailbox.name}/`;
  return all.some((other) => other.name.startsWith(prefix));
}

function attributes(mailbox: MailboxesTable, all: MailboxesTable[], args: ListArgs): string[] {
  const out = [hasChildren(mailbox, all) ? '\\HasChildren' : '\\HasNoChildren'];
  const role = mailbox.special_use ? SPECIAL_USE_ATTRIBUTE[mailbox.special_use] : undefined;
  if (role) out.push(role);
  if ((args.selection.subscribed || args.return.subscribed) && mailbox.subscribed) out.push('\\Subscribed');
  return out;
}

/**
 * Whether a folder has a descendant that meets the selection criteria but is not listed itself (RFC 5258
 * §3.5: CHILDINFO only when it says something the other responses do not; RFC 3501 §6.3.9 LSUB's \Noselect).
 */
function hasUnlistedMatch(
  mailbox: MailboxesTable,
  all: MailboxesTable[],
  meets: (m: MailboxesTable) => boolean,
  listed: (m: MailboxesTable) => boolean,
): boolean {
  const prefix = `${mailbox.name}/`;
  return all.some((other) => other.name.startsWith(prefix) && meets(other) && !listed(other));
}

export async function list(ctx: CommandContext, lsub: boolean) {
  const args = parseListArgs(ctx.args, { utf8Accept: ctx.session.utf8 });
  const account = ctx.session.account;
  if (!account) throw new Error('authenticated command without an account');
  const verb = lsub ? 'LSUB' : 'LIST';
  // RFC 3501 §6.3.8: an empty pattern asks for the delimiter and the root.
  if (args.patterns.length === 1 && args.patterns[0] === '' && !args.extended) {
    await ctx.untagged(`${verb} (\\Noselect) "/" ""`);
    return ok(`${verb} completed`);
  }
  const all = await listMailboxes(ctx.app.db, account.id);
  const subscribedOnly = lsub || args.selection.subscribed;
  const matches = (mailbox: MailboxesTable) => args.patterns.some((pattern) => matchesPattern(mailbox.name, args.reference, pattern));
  // RFC 6154 §2: INBOX has a role here but no special-use attribute, so (SPECIAL-USE) leaves it out.
  const meets = (mailbox: MailboxesTable) =>
    (!subscribedOnly || Boolean(mailbox.subscribed)) &&
    (!args.selection.specialUse || (mailbox.special_use !== null && SPECIAL_USE_ATTRIBUTE[mailbox.special_use] !== undefined));
  const listed = (mailbox: MailboxesTable) => matches(mailbox) && meets(mailbox);
  // RFC 5258 §3.5: CHILDINFO names the selection criteria a descendant meets.
  const criteria = [...(args.selection.subscribed ? ['"SUBSCRIBED"'] : []), ...(args.selection.specialUse ? ['"SPECIAL-USE"'] : [])];
  const recursive = lsub || args.selection.recursiveMatch;
  for (const mailbox of all) {
    if (!matches(mailbox)) continue;
    const childInfo = recursive && hasUnlistedMatch(mailbox, all, meets, listed);
    if (!meets(mailbox) && !childInfo) continue;
    if (lsub) {
      // RFC 3501 §6.3.9: a folder listed only for a subscribed descendant the pattern does not reach is \Noselect.
      const attrs = meets(mailbox) ? [hasChildren(mailbox, all) ? '\\HasChildren' : '\\HasNoChildren'] : ['\\Noselect', '\\HasChildren'];
      await ctx.untagged(`LSUB (${attrs.join(' ')}) ${quoted('/')} ${mailboxName(ctx, mailbox.name)}`);
      continue;
    }
    const extra = childInfo ? ` ("CHILDINFO" (${criteria.join(' ')}))` : '';
    await ctx.untagged(`LIST (${attributes(mailbox, all, args).join(' ')}) ${quoted('/')} ${mailboxName(ctx, mailbox.name)}${extra}`);
    if (args.return.status) await ctx.untagged(await statusLine(ctx, mailbox, args.return.status));
  }
  return ok(`${verb} completed`);
}
