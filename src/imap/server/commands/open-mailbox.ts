/**
 * What SELECT and EXAMINE (RFC 3501 §6.3.1, §6.3.2) share: opening a folder, with CONDSTORE (RFC 7162
 * §3.1.8) and QRESYNC (§3.2.5: VANISHED (EARLIER) and the flags changed since the client's MODSEQ).
 */
import { claimRecent, findMailbox } from '../../../mailstore/index.ts';
import { AppError, text } from '../../../shared/errors.ts';
import type { MailboxesTable } from '../../../store/index.ts';
import { formatSequenceSet, InvalidMailboxNameError, parseSelectArgs, type QresyncParams, type SelectArgs } from '../../proto/index.ts';
import { bad, type CommandContext, type CommandResult, ok } from '../command.ts';
import { flagList, flagsAnnouncement } from '../flags.ts';
import { SelectedMailbox } from '../selected.ts';
import { vanishedEarlier } from '../vanished.ts';

/**
 * RFC 3501 §6.3.1: a failed SELECT leaves no folder selected. RFC 7162 §3.2.11: [CLOSED] marks the
 * switch, whether or not CONDSTORE or QRESYNC was enabled (the server advertises both).
 */
async function leaveSelected(ctx: CommandContext): Promise<void> {
  if (!ctx.session.selected) return;
  ctx.session.unselect();
  await ctx.untagged('OK [CLOSED] Previous folder closed');
}

async function parseArgs(ctx: CommandContext): Promise<SelectArgs> {
  try {
    return parseSelectArgs(ctx.args, { utf8Accept: ctx.session.utf8 });
  } catch (error) {
    // A name no folder can have is a folder that does not exist: NO [NONEXISTENT], the SELECT failed like any other.
    if (error instanceof InvalidMailboxNameError) await leaveSelected(ctx);
    throw error;
  }
}

export async function open(ctx: CommandContext, readOnly: boolean): Promise<CommandResult> {
  const args = await parseArgs(ctx);
  if (args.qresync && !ctx.session.qresync) return bad('QRESYNC must be enabled first (ENABLE QRESYNC)');
  const account = ctx.session.account;
  if (!account) return bad('Not logged in');
  await leaveSelected(ctx);
  const mailbox = await findMailbox(ctx.app.db, account.id, args.mailbox);
  if (!mailbox) throw new AppError('not-found', 'mailbox-not-found', text('No such folder', 'Ce dossier n’existe pas'));
  if (args.condstore) ctx.session.condstore = true;
  const selected = await SelectedMailbox.open(ctx.app.db, mailbox, readOnly);
  await takeRecent(ctx, selected, mailbox);
  const uids = selected.allUids();
  for (const line of flagsAnnouncement(selected.keywords, readOnly)) await ctx.untagged(line);
  await ctx.untagged(`${uids.length} EXISTS`);
  await ctx.untagged(`${selected.recentCount} RECENT`);
  const firstUnseen = uids.findIndex((uid) => !selected.entry(uid)?.flags.includes('\\Seen'));
  if (firstUnseen >= 0) await ctx.untagged(`OK [UNSEEN ${firstUnseen + 1}] First unseen message`);
  await ctx.untagged(`OK [UIDVALIDITY ${selected.uidValidity}] UIDs valid`);
  await ctx.untagged(`OK [UIDNEXT ${Number(mailbox.uid_next)}] Predicted next UID`);
  await ctx.untagged(`OK [HIGHESTMODSEQ ${selected.highestModseq}] Highest`);
  if (args.qresync && args.qresync.uidValidity === selected.uidValidity) await resync(ctx, selected, args.qresync);
  selected.watch(ctx.app.mail.changes, account.id);
  ctx.session.select(selected);
  return ok(`${readOnly ? 'EXAMINE' : 'SELECT'} completed`, readOnly ? 'READ-ONLY' : 'READ-WRITE');
}

/**
 * RFC 3501 §2.3.2: the messages no session was told of are recent in this one. SELECT takes them (they
 * are recent nowhere else); EXAMINE shows them and leaves them recent (§6.3.2).
 */
async function takeRecent(ctx: CommandContext, selected: SelectedMailbox, mailbox: MailboxesTable): Promise<void> {
  const seen = Number(mailbox.recent_uid);
  if (seen >= selected.lastUid) return;
  if (selected.readOnly) {
    selected.addRecent(seen, selected.lastUid);
    return;
  }
  const claim = await claimRecent(ctx.app, mailbox.id, selected.lastUid);
  if (claim) selected.addRecent(claim.from, claim.to);
}

/** RFC 7162 §3.2.5.1: what the client missed since its MODSEQ: VANISHED (EARLIER) then FETCH of changed flags. */
async function resync(ctx: CommandContext, selected: SelectedMailbox, params: QresyncParams): Promise<void> {
  const vanished = await vanishedEarlier(ctx.app.db, selected, {
    sinceModseq: params.modseq,
    ...(params.knownUids ? { known: params.knownUids } : {}),
    ...(params.sequenceMatch ? { sequenceMatch: params.sequenceMatch } : {}),
  });
  if (vanished.length > 0) await ctx.untagged(`VANISHED (EARLIER) ${formatSequenceSet(vanished)}`);
  const uids = selected.allUids();
  for (let i = 0; i < uids.length; i++) {
    const entry = selected.entry(uids[i] as number);
    if (entry && entry.modseq > params.modseq)
      await ctx.untagged(`${i + 1} FETCH (UID ${entry.uid} FLAGS ${flagList(selected.shownFlags(entry.uid, entry.flags))} MODSEQ (${entry.modseq}))`);
  }
}
