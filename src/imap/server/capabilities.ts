/**
 * What the server advertises: only what is implemented (issue 4). Before TLS, STARTTLS and
 * LOGINDISABLED (RFC 3501 §6.2.3) unless plain text is allowed on loopback; after login, no AUTH=.
 */
import type { ImapConnection } from './connection.ts';
import { MAX_APPEND_BYTES } from './limits.ts';

const ALWAYS = ['IMAP4rev1', 'LITERAL+', 'SASL-IR', 'ID', 'ENABLE', 'IDLE'];

const AFTER_LOGIN = [
  'NAMESPACE',
  'UIDPLUS',
  'MOVE',
  'UNSELECT',
  'CHILDREN',
  'SPECIAL-USE',
  'LIST-EXTENDED',
  'LIST-STATUS',
  'QUOTA',
  'QUOTA=RES-STORAGE', // not RES-MESSAGE: classes limit storage only (RFC 9208 §5)
  'CONDSTORE',
  'QRESYNC',
  'ESEARCH',
  'CONTEXT=SEARCH', // RFC 5267 §4: SEARCH's CONTEXT, PARTIAL and UPDATE, CANCELUPDATE
  // RFC 5256, RFC 5957, RFC 5267 §3 (not CONTEXT=SORT: SORT does not keep contexts).
  'SORT',
  'SORT=DISPLAY',
  'THREAD=ORDEREDSUBJECT',
  'THREAD=REFERENCES',
  'ESORT',
  'STATUS=SIZE',
  'BINARY',
  `APPENDLIMIT=${MAX_APPEND_BYTES}`,
  'MULTIAPPEND', // RFC 3502
  'CATENATE', // RFC 4469
];

export function capabilities(connection: ImapConnection): string[] {
  const { session } = connection;
  if (session.state !== 'not-authenticated') return [...ALWAYS, ...AFTER_LOGIN];
  const out = [...ALWAYS];
  if (!session.secure) out.push('STARTTLS');
  if (connection.plaintextLoginAllowed) out.push('AUTH=PLAIN');
  else out.push('LOGINDISABLED');
  return out;
}
