/**
 * smtp-server refuses AUTH before STARTTLS when `allowInsecureAuth` is false (538), but still lists
 * it in the EHLO reply. Like Postfix's `smtpd_tls_auth_only`, the submission port advertises AUTH
 * only once TLS is up (RFC 4954 §4: no plaintext password mechanism without a protected channel).
 * Applied once, on the connection class; only servers created with `allowInsecureAuth: false` change.
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

interface Connection {
  secure: boolean;
  _server: { options: { allowInsecureAuth?: boolean; hideSTARTTLS?: boolean } };
  send(code: number, data: unknown, context?: unknown): void;
}

let applied = false;

export function useAuthAfterTls(): void {
  if (applied) return;
  applied = true;
  const prototype = SMTPConnection.prototype as unknown as Connection;
  const send = prototype.send;
  prototype.send = function (this: Connection, code: number, data: unknown, context?: unknown) {
    const options = this._server.options;
    const hide = code === 250 && Array.isArray(data) && !this.secure && options.allowInsecureAuth === false && !options.hideSTARTTLS;
    return send.call(this, code, hide ? (data as unknown[]).filter((line) => !(typeof line === 'string' && /^AUTH /.test(line))) : data, context);
  };
}
