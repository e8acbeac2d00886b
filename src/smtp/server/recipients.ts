/** What the MX and the submission server decide alike about a routed recipient. */
import type { AppContext } from '../../context.ts';
import type { LocalTarget, Route } from '../../delivery/index.ts';
import { REPLIES, type SmtpReply } from '../proto/replies.ts';

/** The reply for a recipient that routing refused. */
export function refusalReply(route: Extract<Route, { kind: 'refused' }>): SmtpReply {
  if (route.reason === 'list-posting-denied') return REPLIES.listPostingDenied;
  // A forged or expired SRS address is no address of ours (550 5.1.1), said in plain words.
  if (route.reason === 'srs-invalid') return { ...REPLIES.unknownUser, text: route.text.en };
  if (route.reason === 'service-ended') return REPLIES.serviceEnded;
  return REPLIES.accountDisabled;
}

/** True when one of the accounts already uses its whole quota (452 4.2.2 at RCPT, R-M4). */
export async function anyMailboxFull(ctx: AppContext, targets: LocalTarget[]): Promise<boolean> {
  if (targets.length === 0) return false;
  const usage = await ctx.db
    .selectFrom('mail_usage')
    .select(['account_id', 'used_bytes'])
    .where(
      'account_id',
      'in',
      targets.map((t) => t.accountId),
    )
    .execute();
  return targets.some((t) => (usage.find((u) => u.account_id === t.accountId)?.used_bytes ?? 0) >= t.quotaBytes);
}
