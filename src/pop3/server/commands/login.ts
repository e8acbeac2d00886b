/**
 * What USER/PASS and AUTH PLAIN share: check the credentials (verifyMailLogin throttles failures, refuses
 * accounts that are not active, and takes app passwords, the only ones accepted with 2FA), take the
 * maildrop lock, take the snapshot of INBOX and enter TRANSACTION.
 */
import { verifyMailLogin } from '../../../auth/index.ts';
import { formatErr, formatOk } from '../../proto/responses.ts';
import { loginError } from '../errors.ts';
import { Maildrop } from '../maildrop.ts';
import type { Pop3Session } from '../session.ts';

/** RFC 2595 §4 / operator policy: the answer to a password sent where one may not be. */
export const PLAINTEXT_REFUSED = formatErr('Plaintext authentication disallowed on non-secure connections: use STLS first', 'AUTH');

export async function logIn(session: Pop3Session, username: string, password: string, method: 'user' | 'plain'): Promise<void> {
  let account: Awaited<ReturnType<typeof verifyMailLogin>>;
  try {
    account = await verifyMailLogin(session.ctx, { username, password, ip: session.remoteAddress });
  } catch (error) {
    const mapped = loginError(error);
    // Neither the name (people type passwords into it) nor any AUTH payload is logged.
    session.log[mapped.expected ? 'info' : 'error'](
      { event: 'pop3.auth_failed', method, code: mapped.code, err: mapped.expected ? undefined : error },
      'pop3.auth_failed',
    );
    await session.send(mapped.reply);
    return;
  }
  let release: (() => void) | undefined;
  try {
    release = await session.env.locks.acquire(account.id, session.id);
  } catch (error) {
    await session.failed(error, 'pop3.lock_failed');
    return;
  }
  if (!release) {
    session.log.info({ event: 'pop3.in_use', account: account.id }, 'pop3.in_use');
    await session.send(formatErr('Maildrop already in use by another POP3 session', 'IN-USE'));
    return;
  }
  let maildrop: Maildrop;
  try {
    maildrop = await Maildrop.open(session.ctx, account);
  } catch (error) {
    release();
    await session.failed(error, 'pop3.open_failed');
    return;
  }
  if (!session.enterTransaction({ id: account.id, address: account.address }, maildrop, release)) return;
  const { count, octets } = maildrop.stat();
  session.log.info({ event: 'pop3.login', account: account.id, method, messages: count }, 'pop3.login');
  await session.send(formatOk(`maildrop has ${count} messages (${octets} octets)`));
}
