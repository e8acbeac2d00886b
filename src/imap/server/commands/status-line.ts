/**
 * A STATUS response (RFC 3501 §7.2.4), written by STATUS and by LIST's RETURN (STATUS) (RFC 5819): with
 * HIGHESTMODSEQ (RFC 7162), SIZE (RFC 8438) and DELETED / DELETED-STORAGE (RFC 9208 §4.1.4).
 */
import { type MailboxStatus, mailboxStatus } from '../../../mailstore/index.ts';
import type { MailboxesTable } from '../../../store/index.ts';
import type { StatusItem } from '../../proto/index.ts';
import type { CommandContext } from '../command.ts';
import { enableCondstore } from '../condstore.ts';
import { mailboxName } from './mailbox-args.ts';

/** `(MESSAGES 3 UNSEEN 1 …)` in the order the client asked. */
export function statusItems(items: StatusItem[], status: MailboxStatus): string {
  const values: Record<StatusItem, number> = {
    MESSAGES: status.messages,
    RECENT: status.recent,
    UIDNEXT: status.uidNext,
    UIDVALIDITY: status.uidValidity,
    UNSEEN: status.unseen,
    HIGHESTMODSEQ: status.highestModseq,
    SIZE: status.size,
    DELETED: status.deleted,
    'DELETED-STORAGE': status.deletedSize,
  };
  return `(${items.map((item) => `${item} ${values[item]}`).join(' ')})`;
}

export async function statusLine(ctx: CommandContext, mailbox: MailboxesTable, items: StatusItem[]): Promise<string> {
  const status = await mailboxStatus(ctx.app.db, mailbox);
  if (items.includes('HIGHESTMODSEQ')) await enableCondstore(ctx); // RFC 7162 §3.1: a CONDSTORE-enabling command
  return `STATUS ${mailboxName(ctx, mailbox.name)} ${statusItems(items, status)}`;
}
