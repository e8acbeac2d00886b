/**
 * Not-authenticated state (RFC 3501 §6.2): STARTTLS, LOGIN, AUTHENTICATE PLAIN (RFC 4616, with SASL-IR
 * RFC 4959). Credentials are the account password or an app password; accounts with 2FA need an app
 * password; failures are throttled and say nothing about whether the account exists.
 */
import { verifyMailLogin } from '../../../auth/index.ts';
import { ensureDefaultMailboxes } from '../../../mailstore/index.ts';
import { isAppError } from '../../../shared/errors.ts';
import { ArgReader } from '../../proto/index.ts';
import { capabilities } from '../capabilities.ts';
import { bad, type CommandContext, type CommandResult, defineCommand, no, ok } from '../command.ts';

const NOT_AUTHENTICATED = ['not-authenticated'] as const;

export const starttls = defineCommand({
  name: 'STARTTLS',
  states: NOT_AUTHENTICATED,
  async run(ctx) {
    new ArgReader(ctx.args).end();
    if (ctx.session.secure) return bad('TLS is already active');
    ctx.after(() => ctx.connection.startTls());
    return ok('Begin TLS negotiation now');
  },
});

function privacyRequired(): CommandResult {
  return no('Use STARTTLS (or the IMAPS port) before logging in', 'PRIVACYREQUIRED');
}

/** Checks the credentials and moves the session to the authenticated state. */
async function logIn(ctx: CommandContext, username: string, password: string): Promise<CommandResult> {
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

export const login = defineCommand({
  name: 'LOGIN',
  states: NOT_AUTHENTICATED,
  async run(ctx) {
    const reader = new ArgReader(ctx.args);
    const username = reader.text('user name');
    const password = reader.text('password');
    reader.end();
    if (!ctx.connection.plaintextLoginAllowed) return privacyRequired();
    return logIn(ctx, username, password);
  },
});

/** RFC 4616 §2: [authzid] NUL authcid NUL passwd. */
function decodePlain(base64: string): { authzid: string; username: string; password: string } | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) return undefined;
  const parts = Buffer.from(base64, 'base64').toString('utf8').split('\u0000');
  if (parts.length !== 3) return undefined;
  const [authzid, username, password] = parts as [string, string, string];
  return { authzid, username, password };
}

export const authenticate = defineCommand({
  name: 'AUTHENTICATE',
  states: NOT_AUTHENTICATED,
  async run(ctx) {
    const reader = new ArgReader(ctx.args);
    const mechanism = reader.keyword('SASL mechanism');
    const initial = reader.done ? undefined : reader.atom('initial response');
    reader.end();
    if (mechanism !== 'PLAIN') return no(`Mechanism ${mechanism.slice(0, 20)} is not supported`, 'CANNOT');
    if (!ctx.connection.plaintextLoginAllowed) return privacyRequired();
    let response = initial;
    if (response === undefined) {
      await ctx.continuation('');
      const line = await ctx.readLine();
      if (line === null) return bad('Connection closed');
      response = line.toString('latin1');
    }
    if (response === '*') return bad('Authentication cancelled'); // RFC 3501 §6.2.2
    const plain = decodePlain(response === '=' ? '' : response);
    if (!plain) return bad('Invalid PLAIN response');
    if (plain.authzid !== '' && plain.authzid.toLowerCase() !== plain.username.toLowerCase()) {
      return no('Logging in as another user is not allowed', 'AUTHORIZATIONFAILED');
    }
    return logIn(ctx, plain.username, plain.password);
  },
});
