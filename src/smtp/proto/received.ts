/** The Received trace header a receiving server prepends (RFC 5321 §4.4, "with" types of RFC 3848). */

export interface ReceivedInput {
  helo: string;
  clientHostname: string | null;
  clientIp: string;
  byHost: string;
  /** ESMTP, ESMTPS (TLS), ESMTPA / ESMTPSA (authenticated) — RFC 3848 */
  protocol: 'ESMTP' | 'ESMTPS' | 'ESMTPA' | 'ESMTPSA' | 'SMTP';
  id: string;
  /** Named only when there is a single recipient, so a Bcc stays hidden. */
  recipient: string | null;
  date: Date;
  tls?: { version: string; cipher: string } | null;
}

/** Removes what could break the header: control characters, CR/LF. */
function clean(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  return value.replace(/[\x00-\x1f\x7f]/g, '').slice(0, 255);
}

/** RFC 5322 §3.3 date-time, e.g. "Thu, 26 Nov 2026 08:41:16 +0000". */
export function formatRfc5322Date(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}

export function formatReceived(input: ReceivedInput): string {
  const from = `from ${clean(input.helo) || 'unknown'} (${input.clientHostname ? `${clean(input.clientHostname)} ` : ''}[${input.clientIp}])`;
  const tls = input.tls ? `\r\n\t(using ${clean(input.tls.version)} with cipher ${clean(input.tls.cipher)})` : '';
  const recipient = input.recipient ? `\r\n\tfor <${clean(input.recipient)}>` : '';
  return `Received: ${from}\r\n\tby ${input.byHost} (Facteur) with ${input.protocol} id ${input.id}${tls}${recipient};\r\n\t${formatRfc5322Date(input.date)}\r\n`;
}
