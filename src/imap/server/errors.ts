/**
 * The one table from module errors to IMAP replies (RFC 5530 response codes). Unexpected errors answer a
 * fixed text with a correlation id; their details go to the log only.
 */
import { type AppError, type ErrorKind, isAppError } from '../../shared/errors.ts';
import { isProtocolSyntaxError } from '../proto/index.ts';
import { bad, type CommandResult, no } from './command.ts';
import type { Session } from './session.ts';

const CODE_OF_KIND: Partial<Record<ErrorKind, string>> = {
  invalid: 'CANNOT',
  unauthenticated: 'AUTHENTICATIONFAILED',
  forbidden: 'NOPERM',
  'not-found': 'NONEXISTENT',
  exists: 'ALREADYEXISTS',
  conflict: 'CANNOT',
  busy: 'INUSE',
  limit: 'LIMIT',
  'over-quota': 'OVERQUOTA',
  'too-big': 'TOOBIG',
  temp: 'UNAVAILABLE',
};

/** Codes for specific errors, where RFC 5530 or RFC 9051 has a better one than the kind's. */
const CODE_OF_ERROR: Record<string, string> = {
  'mailbox-has-children': 'HASCHILDREN',
};

export function replyForAppError(error: AppError, session: Session): CommandResult {
  return no(error.text[session.language], CODE_OF_ERROR[error.code] ?? CODE_OF_KIND[error.kind] ?? 'SERVERBUG');
}

/** Maps anything a command threw; returns undefined for errors that must be logged as server bugs. */
export function replyForError(error: unknown, session: Session): CommandResult | undefined {
  if (isProtocolSyntaxError(error)) return error.status === 'NO' ? no(error.message, error.code) : bad(error.message, error.code);
  if (isAppError(error)) return replyForAppError(error, session);
  return undefined;
}

export function serverBug(correlationId: string, session: Session): CommandResult {
  return no(
    session.say({
      en: `Internal error, try again later (reference ${correlationId})`,
      fr: `Erreur interne, réessayez plus tard (référence ${correlationId})`,
    }),
    'SERVERBUG',
  );
}
