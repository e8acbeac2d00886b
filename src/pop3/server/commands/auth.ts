/**
 * RFC 5034 AUTH with the PLAIN mechanism (RFC 4616), with an initial response or after an empty
 * challenge ("+ "). "*" cancels. The authorization identity, when given, must be the user itself.
 * AUTH without arguments lists the mechanisms (the older RFC 1734 form some clients still send).
 */

import { formatErr, formatMultiline } from '../../proto/responses.ts';
import { decodeBase64Strict, parsePlain } from '../../proto/sasl-plain.ts';
import type { Pop3Session } from '../session.ts';
import { defineCommand } from './define.ts';
import { logIn, PLAINTEXT_REFUSED } from './login.ts';

async function finishPlain(session: Pop3Session, response: string): Promise<void> {
  if (response === '*') return session.send(formatErr('Authentication cancelled'));
  const decoded = decodeBase64Strict(response);
  if (!decoded) return session.send(formatErr('Invalid base64 in the authentication response'));
  const credentials = parsePlain(decoded);
  if (!credentials) return session.send(formatErr('Invalid PLAIN response', 'AUTH'));
  if (credentials.authzid && credentials.authzid.toLowerCase() !== credentials.authcid.toLowerCase()) {
    return session.send(formatErr('Acting as another user is not allowed', 'AUTH'));
  }
  await logIn(session, credentials.authcid, credentials.password, 'plain');
}

export default defineCommand({
  name: 'AUTH',
  states: ['authorization'],
  minArgs: 0,
  maxArgs: 2,
  async run(session, command) {
    if (!session.loginAllowed()) return session.send(PLAINTEXT_REFUSED);
    const [mechanism, initial] = command.args;
    if (mechanism === undefined) return session.send(formatMultiline('Supported mechanisms follow', ['PLAIN']));
    if (mechanism.toUpperCase() !== 'PLAIN') return session.send(formatErr(`Unsupported mechanism ${mechanism.slice(0, 20)}`));
    if (initial !== undefined) return finishPlain(session, initial);
    session.saslContinuation = (response) => finishPlain(session, response);
    await session.send('+ \r\n');
  },
});
