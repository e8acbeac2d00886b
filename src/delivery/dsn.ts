/**
 * Delivery status notifications (RFC 3464): the report sent to the envelope sender when recipients
 * bounce or expire. A multipart/report (RFC 6522) with a human-readable part in both languages of
 * the service, the machine-readable message/delivery-status, and the original message's headers.
 * Sent from the null sender, so a DSN never causes another one (RFC 3461 §6.2, RFC 5321 §4.5.5).
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';

/** The original headers returned in a DSN are cut (at a line boundary) beyond this. */
export const MAX_RETURNED_HEADER_BYTES = 64 * 1024;

export interface DsnRecipient {
  recipient: string;
  action: 'failed' | 'delayed';
  /** RFC 3463 status, e.g. 5.1.1, or 4.4.7 for an expired message. */
  status: string;
  /** The remote server's reply (smtp; …) or our own explanation. */
  diagnostic?: string;
  diagnosticFromRemote?: boolean;
  remoteMta?: string;
  lastAttemptAt?: number;
}

export interface DsnInput {
  /** Our host name: Reporting-MTA and the From address's domain. */
  reportingMta: string;
  /** The envelope sender the report goes to. */
  to: string;
  arrivalDate: number;
  now: number;
  recipients: DsnRecipient[];
  /** The header block of the original message (CRLF line ends, without the blank line). */
  originalHeaders: string;
}

/** RFC 5322 date-time in UTC. */
export function formatDate(epochMs: number): string {
  return new Date(epochMs).toUTCString().replace(/GMT$/, '+0000');
}

/** RFC 3464 §2.1: no CR, LF or control characters in a field value. */
function fieldValue(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is removed
  return value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

function base64Lines(content: string): string {
  const encoded = Buffer.from(content, 'utf8').toString('base64');
  return encoded.replace(/.{1,76}/g, '$&\r\n');
}

function humanText(input: DsnInput): string {
  const expired = input.recipients.some((r) => r.status === '4.4.7');
  const lines = [
    'This is the mail system at ' + input.reportingMta + '.',
    '',
    expired
      ? 'Your message could not be delivered to the recipients below in the time allowed; it has been given up.'
      : 'Your message could not be delivered to the recipients below; it will not be retried.',
    '',
    ...input.recipients.map((r) => `  <${r.recipient}>: ${r.diagnostic ?? r.status}`),
    '',
    '---',
    '',
    expired
      ? "Votre message n'a pas pu être remis aux destinataires ci-dessous dans le délai prévu ; il a été abandonné."
      : "Votre message n'a pas pu être remis aux destinataires ci-dessous ; il ne sera pas réessayé.",
    '',
    ...input.recipients.map((r) => `  <${r.recipient}> : ${r.diagnostic ?? r.status}`),
    '',
  ];
  return lines.join('\r\n');
}

/** The DSN message, ready to be stored or sent (CRLF line ends). */
export function buildDsn(input: DsnInput): Buffer {
  const boundary = `=_dsn_${randomBytes(12).toString('hex')}`;
  const expired = input.recipients.every((r) => r.status === '4.4.7');
  const messageId = `<${randomBytes(16).toString('hex')}@${input.reportingMta}>`;
  const headers = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.reportingMta}>`,
    `To: <${fieldValue(input.to)}>`,
    `Subject: ${expired ? 'Delivery Status Notification (Expired)' : 'Undelivered Mail Returned to Sender'}`,
    `Date: ${formatDate(input.now)}`,
    `Message-ID: ${messageId}`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
  ];
  const perMessage = [`Reporting-MTA: dns; ${input.reportingMta}`, `Arrival-Date: ${formatDate(input.arrivalDate)}`];
  const perRecipient = input.recipients.map((r) => {
    const fields = [`Final-Recipient: rfc822; ${fieldValue(r.recipient)}`, `Action: ${r.action}`, `Status: ${r.status}`];
    if (r.remoteMta) fields.push(`Remote-MTA: dns; ${fieldValue(r.remoteMta)}`);
    if (r.diagnostic) fields.push(`Diagnostic-Code: ${r.diagnosticFromRemote ? 'smtp' : 'x-facteur'}; ${fieldValue(r.diagnostic)}`);
    if (r.lastAttemptAt !== undefined) fields.push(`Last-Attempt-Date: ${formatDate(r.lastAttemptAt)}`);
    return fields.join('\r\n');
  });
  const parts = [
    `${headers.join('\r\n')}\r\n\r\nThis is a MIME-encapsulated message.\r\n`,
    `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\nContent-Description: Notification\r\n\r\n${base64Lines(humanText(input))}`,
    `--${boundary}\r\nContent-Type: message/delivery-status\r\nContent-Description: Delivery report\r\n\r\n${[perMessage.join('\r\n'), ...perRecipient].join('\r\n\r\n')}\r\n`,
    `--${boundary}\r\nContent-Type: text/rfc822-headers\r\nContent-Description: Undelivered message headers\r\n\r\n${input.originalHeaders}\r\n`,
    `--${boundary}--\r\n`,
  ];
  return Buffer.from(parts.join('\r\n'), 'utf8');
}

/** The header block of a stored message (without the blank line), read up to MAX_RETURNED_HEADER_BYTES. */
export async function readHeaderBlock(stream: Readable): Promise<string> {
  let collected = Buffer.alloc(0);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      collected = Buffer.concat([collected, chunk]);
      const end = collected.indexOf('\r\n\r\n');
      const bareEnd = collected.indexOf('\n\n');
      const cut = end >= 0 ? end : bareEnd;
      if (cut >= 0) return normalizeLines(collected.subarray(0, cut).toString('utf8'));
      if (collected.length > MAX_RETURNED_HEADER_BYTES) break;
    }
  } finally {
    stream.destroy();
  }
  const text = collected.subarray(0, MAX_RETURNED_HEADER_BYTES).toString('utf8');
  const lastLine = text.lastIndexOf('\n');
  return normalizeLines(lastLine > 0 ? text.slice(0, lastLine) : text);
}

function normalizeLines(text: string): string {
  return text.replace(/\r?\n/g, '\r\n').replace(/\r\n$/, '');
}
