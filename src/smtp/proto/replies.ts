/**
 * SMTP replies with their enhanced status codes (RFC 3463), and the one table that turns the
 * service's errors into replies (RFC 5321 §4.2). Pure: no I/O.
 */
import type { ErrorKind } from '../../shared/errors.ts';

export interface SmtpReply {
  code: number;
  /** RFC 3463 class.subject.detail, e.g. 5.1.1 */
  enhanced: string;
  text: string;
}

export const reply = (code: number, enhanced: string, text: string): SmtpReply => ({ code, enhanced, text });

/** The replies of the mail flow, by situation. */
export const REPLIES = {
  unknownUser: reply(550, '5.1.1', 'No such user here'),
  relayDenied: reply(550, '5.7.1', 'Relaying denied: this server only receives mail for its own domains'),
  accountDisabled: reply(550, '5.2.1', 'Mailbox disabled, not accepting messages'),
  serviceEnded: reply(550, '5.2.1', 'Mailbox unavailable: service ended'),
  listPostingDenied: reply(550, '5.7.1', 'You are not allowed to post to this list'),
  mailboxFull: reply(452, '4.2.2', 'Mailbox full, try again later'),
  tooManyRecipients: reply(452, '4.5.3', 'Too many recipients'),
  messageTooBig: reply(552, '5.3.4', 'Message size exceeds fixed maximum message size'),
  badSender: reply(553, '5.1.7', 'Bad sender address syntax'),
  badRecipient: reply(553, '5.1.3', 'Bad recipient address syntax'),
  localError: reply(451, '4.3.0', 'Local error in processing, try again later'),
  noValidRecipients: reply(554, '5.5.1', 'No valid recipients'),
  accepted: reply(250, '2.6.0', 'Message accepted for delivery'),
  // Submission (R-M2, R-M5)
  authFailed: reply(535, '5.7.8', 'Authentication credentials invalid'),
  authThrottled: reply(454, '4.7.0', 'Too many failed logins, try again later'),
  authUnavailable: reply(454, '4.7.0', 'Temporary authentication failure, try again later'),
  accountNotActive: reply(535, '5.7.1', 'This account is suspended or disabled: contact support'),
  senderAccountNotActive: reply(550, '5.7.1', 'This account is suspended or disabled and may not send: contact support'),
  senderNotOwned: reply(553, '5.7.1', 'Sender address rejected: not your address or one of your aliases'),
  fromNotOwned: reply(553, '5.7.1', 'From header rejected: it must be your address or one of your aliases'),
  sendingRateLimited: reply(450, '4.7.1', 'Sending limit reached, try again later'),
} as const;

/** Errors of the service's modules, as SMTP replies (the SMTP column of the mapping tables). */
export const REPLY_OF_KIND: Record<ErrorKind, SmtpReply> = {
  invalid: reply(501, '5.5.4', 'Syntax error in parameters or arguments'),
  unauthenticated: reply(535, '5.7.8', 'Authentication credentials invalid'),
  forbidden: reply(550, '5.7.1', 'Not authorized'),
  'not-found': REPLIES.unknownUser,
  exists: reply(550, '5.7.1', 'Not allowed'),
  conflict: reply(451, '4.3.0', 'Try again later'),
  busy: reply(451, '4.3.0', 'Try again later'),
  limit: reply(450, '4.7.1', 'Rate limit reached, try again later'),
  'over-quota': REPLIES.mailboxFull,
  'too-big': REPLIES.messageTooBig,
  temp: REPLIES.localError,
  perm: reply(554, '5.0.0', 'Transaction failed'),
};

/** The Error shape smtp-server turns into a reply: `responseCode`, and our enhanced code first in the text. */
export function replyError(r: SmtpReply): Error & { responseCode: number } {
  return Object.assign(new Error(`${r.enhanced} ${r.text}`), { responseCode: r.code });
}
