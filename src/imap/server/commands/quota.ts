/**
 * QUOTA (RFC 9208): one quota root "" per account, from its class: STORAGE in units of 1024 octets.
 * Classes set no limit on the message count, so MESSAGE is neither reported nor advertised.
 */
import { findMailbox, quotaOf } from '../../../mailstore/index.ts';
import { AppError, text } from '../../../shared/errors.ts';
import { ArgReader, parseMailboxArg } from '../../proto/index.ts';
import { AUTHENTICATED, type CommandContext, defineCommand, no, ok } from '../command.ts';
import { mailboxName } from './folders.ts';

function accountOf(ctx: CommandContext): string {
  const account = ctx.session.account;
  if (!account) throw new Error('authenticated command without an account');
  return account.id;
}

async function quotaLine(ctx: CommandContext): Promise<string> {
  const account = ctx.session.account;
  const quota = account ? await quotaOf(ctx.app.db, account.id) : undefined;
  if (!quota) throw new AppError('not-found', 'account-not-found', text('No such account', 'Ce compte n’existe pas'));
  return `QUOTA "" (STORAGE ${Math.ceil(quota.usedBytes / 1024)} ${Math.floor(quota.limitBytes / 1024)})`;
}

export const getquota = defineCommand({
  name: 'GETQUOTA',
  states: AUTHENTICATED,
  async run(ctx) {
    const reader = new ArgReader(ctx.args);
    const root = reader.text('quota root');
    reader.end();
    if (root !== '') return no('No such quota root', 'NONEXISTENT');
    await ctx.untagged(await quotaLine(ctx));
    return ok('GETQUOTA completed');
  },
});

export const getquotaroot = defineCommand({
  name: 'GETQUOTAROOT',
  states: AUTHENTICATED,
  async run(ctx) {
    const reader = new ArgReader(ctx.args);
    const name = parseMailboxArg(reader.next('mailbox name'), { utf8Accept: ctx.session.utf8 });
    reader.end();
    // RFC 9208 §4.3: the mailbox must exist.
    if (!(await findMailbox(ctx.app.db, accountOf(ctx), name)))
      throw new AppError('not-found', 'mailbox-not-found', text('No such folder', 'Ce dossier n’existe pas'));
    await ctx.untagged(`QUOTAROOT ${mailboxName(ctx, name)} ""`);
    await ctx.untagged(await quotaLine(ctx));
    return ok('GETQUOTAROOT completed');
  },
});

/** RFC 9208 §4.4: limits come from the account's class, set by the operator, not by the user. */
export const setquota = defineCommand({
  name: 'SETQUOTA',
  states: AUTHENTICATED,
  async run() {
    return no('Quotas are set by your provider', 'NOPERM');
  },
});
