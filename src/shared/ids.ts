/**
 * Identifiers: a short type prefix and 20 random base-32 characters (100 bits), readable in logs
 * and URLs, e.g. `cus_7x2kq…`. Crockford's alphabet avoids look-alike letters.
 */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export type IdPrefix =
  | 'cus' // customer
  | 'adm' // operator or customer-admin login
  | 'sub' // subscription
  | 'dom' // domain
  | 'dal' // domain alias
  | 'dk' // DKIM key (pending or previous)
  | 'acc' // mail account
  | 'ali' // address alias
  | 'lst' // mailing list
  | 'lbl' // label
  | 'tkt' // ticket
  | 'tkm' // ticket message
  | 'op' // operation
  | 'tok' // API token
  | 'apw' // app password
  | 'ses' // session
  | 'mbx' // mailbox
  | 'msg' // message in a mailbox
  | 'thr' // conversation (thread) of an account's messages
  | 'trc' // trace entry
  | 'snd' // allow or block rule for senders (filter)
  | 'qtn' // quarantined message (filter)
  | 'vlt' // vaulted outbound message carrying malware (filter)
  | 'vrd' // operator read of a vaulted message (R-A2)
  | 'dgl' // release or delete link of a quarantine digest
  | 'rsv'; // reservation of a stored content until its first reference commits

export function newId(prefix: IdPrefix): string {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  let out = `${prefix}_`;
  for (const byte of bytes) out += ALPHABET[byte & 31];
  return out;
}

/** A secret for tokens and sessions: 32 random bytes, base64url. */
export function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}
