/**
 * smtp-server derives enhanced status codes (RFC 2034) from the reply code alone, so a 550 is always
 * "5.1.1" and a 452 always "4.2.2". Our replies carry their own code at the head of the text
 * (`replyError`); for those, the library's guess is suppressed. Applied once, on the connection class.
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

const OWN_CODE = /^[245]\.\d{1,3}\.\d{1,3} /;

let applied = false;

export function useOwnEnhancedCodes(): void {
  if (applied) return;
  applied = true;
  const prototype = SMTPConnection.prototype as unknown as { send(code: number, data: unknown, context?: unknown): void };
  const send = prototype.send;
  prototype.send = function (this: unknown, code: number, data: unknown, context?: unknown) {
    return send.call(this, code, data, typeof data === 'string' && OWN_CODE.test(data) ? false : context);
  };
}
