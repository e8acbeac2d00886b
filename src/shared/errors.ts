/**
 * One error type for every module; each surface (HTTP, SMTP, IMAP, CLI) maps `kind` to its own
 * replies with one table. What users see (`text`, in French and English) is not what the log gets
 * (`cause`, stack): unexpected errors never leak their details.
 */
export type ErrorKind =
  | 'invalid' // the request is malformed or a value is out of range
  | 'unauthenticated' // no or bad credentials
  | 'forbidden' // authenticated, but this role may not do that (used only where "not found" would lie)
  | 'not-found' // absent, or not yours: the two look the same from outside
  | 'exists' // a unique name is taken
  | 'conflict' // the state forbids it now (licences exhausted, subscription ended…)
  | 'busy' // another operation holds the subscription
  | 'limit' // a rate or size limit of the contract
  | 'over-quota'
  | 'too-big'
  | 'temp' // try again later
  | 'perm';

/** A user-facing text in both languages of the service. */
export interface Text {
  en: string;
  fr: string;
}

export type Language = keyof Text;

export function text(en: string, fr: string): Text {
  return { en, fr };
}

export interface AppErrorOptions extends ErrorOptions {
  /** The request field at fault (a JSON pointer like `/address`, or a parameter name). */
  field?: string;
  /** Extra public details, e.g. the running operation for `busy`. */
  details?: Record<string, unknown>;
}

export class AppError extends Error {
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    readonly kind: ErrorKind,
    /** Stable machine-readable code, e.g. `licences-exhausted`. */
    readonly code: string,
    readonly text: Text,
    options: AppErrorOptions = {},
  ) {
    super(text.en, options);
    this.name = 'AppError';
    this.field = options.field;
    this.details = options.details;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

export function invalid(code: string, field: string, en: string, fr: string): AppError {
  return new AppError('invalid', code, text(en, fr), { field });
}

export function notFound(what: Text): AppError {
  return new AppError('not-found', 'not-found', what);
}
