/**
 * The one table from mailstore and auth errors to POP3 replies (RFC 2449 §8, RFC 3206). What the client
 * reads is a fixed text per kind; details go to the log. Unknown user and wrong password read the same.
 */
import { randomBytes } from 'node:crypto';
import { isAppError } from '../../shared/errors.ts';
import { formatErr } from '../proto/responses.ts';

export interface MappedError {
  reply: string;
  /** For the log: the AppError code, or `internal` with its reference. */
  code: string;
  expected: boolean;
}

export function loginError(error: unknown): MappedError {
  if (isAppError(error)) {
    switch (error.kind) {
      case 'unauthenticated':
        return { reply: formatErr('Invalid e-mail address or password', 'AUTH'), code: error.code, expected: true };
      // Throttled (RFC 2449 §8.1.1): the client should wait before trying again.
      case 'limit':
        return { reply: formatErr('Too many failed logins: try again later', 'LOGIN-DELAY'), code: error.code, expected: true };
      // The credentials are right but the account may not read mail: asking for another password would not help.
      case 'forbidden':
        return { reply: formatErr('This account is suspended or disabled: contact support', 'SYS/PERM'), code: error.code, expected: true };
    }
  }
  return internalError();
}

/** An unexpected failure: a fixed text with a reference to find the details in the log. */
export function internalError(): MappedError {
  const reference = randomBytes(6).toString('hex');
  return { reply: formatErr(`Internal error, try again later (ref ${reference})`, 'SYS/TEMP'), code: `internal:${reference}`, expected: false };
}
