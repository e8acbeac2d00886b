/**
 * What LIST (RFC 3501 §6.3.8) and LSUB (§6.3.9) share: one listing, with LIST-EXTENDED (RFC 5258),
 * LIST-STATUS (RFC 5819), SPECIAL-USE (RFC 6154) and CHILDREN (RFC 3348). Folders with children are
 * said so; special-use folders carry their role; STATUS follows each listed folder when asked.
 */
import { listLostSubscriptions, listMailboxes } from '../../../mailstore/index.ts';
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

/**
 * A name the listing may show: a folder, or a subscribed name whose folder was deleted (RFC 3501 §6.3.6:
 * the subscription stays), which RFC 5258 §3 lists as \NonExistent under the SUBSCRIBED selection.
 */
interface Entry {
  name: string;
  mailbox?: MailboxesTable;
}

const isSubscribed = (entry: Entry) => !entry.mailbox || Boolean(entry.mailbox.subscribed);

/** RFC 3348: children are existing folders. */
function hasChildren(entry: Entry, all: Entry[]): boolean {
  const prefix = `${entry.name}/`;
  return all.some((other) => other.mailbox && other.name.startsWith(prefix));
}

function attributes(entry: Entry, all: Entry[], args: ListArgs): string[] {
  // RFC 5258 §3.4: \NonExistent implies \Noselect; such a name has no children here (a folder with
  // children cannot be deleted), so no \HasChildren / \HasNoChildren.
  const out = entry.mailbox ? [hasChildren(entry, all) ? '\\HasChildren' : '\\HasNoChildren'] : [];
  const role = entry.mailbox?.special_use ? SPECIAL_USE_ATTRIBUTE[entry.mailbox.special_use] : undefined;
  if (role) out.push(role);
  if ((args.selection.subscribed || args.return.subscribed) && isSubscribed(entry)) out.push('\\Subscribed');
  if (!entry.mailbox) out.push('\\NonExistent');
  return out;
}

/**
 * Whether a name has a descendant that meets the selection criteria but is not listed itself (RFC 5258
 * §3.5: CHILDINFO only when it says something the other responses do not; RFC 3501 §6.3.9 LSUB's \Noselect).
 */
function hasUnlistedMatch(entry: Entry, all: Entry[], meets: (e: Entry) => boolean, listed: (e: Entry) => boolean): boolean {
  const prefix = `${entry.name}/`;
  return all.some((other) => other.name.startsWith(prefix) && meets(other) && !listed(other));
}

/** The account's folders, with the lost subscriptions when subscriptions are listed, in name order. */
async function entriesOf(ctx: CommandContext, accountId: string, withLost: boolean): Promise<Entry[]> {
  const entries: Entry[] = (await listMailboxes(ctx.app.db, accountId)).map((mailbox) => ({ name: mailbox.name, mailbox }));
  if (!withLost) return entries;
  const names = new Set(entries.map((e) => e.name));
  for (const name of await listLostSubscriptions(ctx.app.db, accountId)) if (!names.has(name)) entries.push({ name });
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
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
  const subscribedOnly = lsub || args.selection.subscribed;
  const all = await entriesOf(ctx, account.id, subscribedOnly);
  const matches = (entry: Entry) => args.patterns.some((pattern) => matchesPattern(entry.name, args.reference, pattern));
  // RFC 6154 §2: INBOX has a role here but no special-use attribute, so (SPECIAL-USE) leaves it out.
  const meets = (entry: Entry) =>
    (!subscribedOnly || isSubscribed(entry)) &&
    (!args.selection.specialUse || (entry.mailbox?.special_use != null && SPECIAL_USE_ATTRIBUTE[entry.mailbox.special_use] !== undefined));
  const listed = (entry: Entry) => matches(entry) && meets(entry);
  // RFC 5258 §3.5: CHILDINFO names the selection criteria a descendant meets.
  const criteria = [...(args.selection.subscribed ? ['"SUBSCRIBED"'] : []), ...(args.selection.specialUse ? ['"SPECIAL-USE"'] : [])];
  const recursive = lsub || args.selection.recursiveMatch;
  for (const entry of all) {
    if (!matches(entry)) continue;
    const childInfo = recursive && hasUnlistedMatch(entry, all, meets, listed);
    if (!meets(entry) && !childInfo) continue;
    if (lsub) {
      // RFC 3501 §6.3.9: a folder listed only for a subscribed descendant the pattern does not reach is \Noselect,
      // and so is a subscribed name whose folder is gone.
      const attrs =
        meets(entry) && entry.mailbox
          ? [hasChildren(entry, all) ? '\\HasChildren' : '\\HasNoChildren']
          : meets(entry)
            ? ['\\Noselect']
            : ['\\Noselect', '\\HasChildren'];
      await ctx.untagged(`LSUB (${attrs.join(' ')}) ${quoted('/')} ${mailboxName(ctx, entry.name)}`);
      continue;
    }
    const extra = childInfo ? ` ("CHILDINFO" (${criteria.join(' ')}))` : '';
    await ctx.untagged(`LIST (${attributes(entry, all, args).join(' ')}) ${quoted('/')} ${mailboxName(ctx, entry.name)}${extra}`);
    if (args.return.status && entry.mailbox) await ctx.untagged(await statusLine(ctx, entry.mailbox, args.return.status));
  }
  return ok(`${verb} completed`);
}
