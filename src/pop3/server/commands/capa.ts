/** RFC 2449 §5 CAPA: what this server does, as it applies to this session now. */
import { formatMultiline } from '../../proto/responses.ts';
import type { Pop3Session } from '../session.ts';
import { defineCommand } from './define.ts';

export function capabilities(session: Pop3Session): string[] {
  const authorization = session.state === 'authorization';
  const lines = ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING'];
  // RFC 2595 §4: STLS only before TLS; USER and SASL only where a password may be sent (RFC 2449 §6.8).
  if (authorization && !session.secure) lines.push('STLS');
  if (authorization && session.loginAllowed()) lines.push('USER', 'SASL PLAIN');
  lines.push('IMPLEMENTATION Facteur');
  return lines;
}

export default defineCommand({
  name: 'CAPA',
  states: ['authorization', 'transaction'],
  minArgs: 0,
  maxArgs: 0,
  run: (session) => session.send(formatMultiline('Capability list follows', capabilities(session))),
});
