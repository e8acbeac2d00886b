/**
 * What GETQUOTA and GETQUOTAROOT (RFC 9208 §4.1.1, §4.1.2) share: the QUOTA response (§4.2.1).
 * QUOTA (RFC 9208): one quota root "" per account, from its class: STORAGE in units of 1024 octets.
 * Classes set no limit on the message count, so MESSAGE is neither reported nor advertised.
 */
import { quotaOf } from '../../../mailstore/index.ts';
import { AppError, text } from '../../../shared/errors.ts';
import type { CommandContext } from '../command.ts';

export async function quotaLine(ctx: CommandContext): Promise<string> {
  const account = ctx.session.account;
  const quota = account ? await quotaOf(ctx.app.db, account.id) : undefined;
  if (!quota) throw new AppError('not-found', 'account-not-found', text('No such account', 'Ce compte n’existe pas'));
  return `QUOTA "" (STORAGE ${Math.ceil(quota.usedBytes / 1024)} ${Math.floor(quota.limitBytes / 1024)})`;
}
