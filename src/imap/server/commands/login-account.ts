/**
 * What LOGIN and AUTHENTICATE share (RFC 3501 §6.2): credentials are the account password or an app
 * password; accounts with 2FA need an app password; failures are throttled and say nothing about whether
 * the account exists.
 */
import { verifyMailLogin } from '../../../auth/index.ts';
import { ensureDefaultMailboxes } from '../../../mailstore/index.ts';
import { isAppError } from '../../../shared/errors.ts';
import { capabilities } from '../capabilities.ts';
import { type CommandContext, type CommandResult, no, ok } from '../command.ts';

export function privacyRequired(): CommandResult {
  return no('Use STARTTLS (or the IMAPS port) before logging in', 'PRIVACYREQUIRED');
}

/** Checks the credentials and moves the session to the authenticated state. */
export async function logIn(ctx: CommandContext, username: string, password: string): Promise<CommandResult> {
  try {
    const account = await verifyMailLogin(ctx.app, { username, password, ip: ctx.session.remoteAddress });
    await ensureDefaultMailboxes(ctx.app.db, account, ctx.app.clock.now());
    ctx.session.login({ id: account.id, customerId: account.customer_id, address: account.address, language: account.language });
    ctx.connection.loggedIn();
    ctx.app.log.info({ event: 'imap.login', connection: ctx.session.id, account: account.id }, 'imap.login');
    return ok('Logged in', `CAPABILITY ${capabilities(ctx.connection).join(' ')}`);
  } catch (error) {
    if (!isAppError(error)) throw error;
    ctx.app.log.info({ event: 'imap.auth_failed', connection: ctx.session.id, code: error.code }, 'imap.auth_failed');
    if (error.kind === 'forbidden') {
      // RFC 3501 §7.1: [ALERT] text is shown to the user as is.
      return no('This account is suspended or disabled: contact support / Ce compte est suspendu ou désactivé : contactez le support', 'ALERT');
    }
    if (error.kind === 'limit') return no('Too many failed attempts, try again later', 'UNAVAILABLE');
    return no('Invalid credentials', 'AUTHENTICATIONFAILED');
  }
}
