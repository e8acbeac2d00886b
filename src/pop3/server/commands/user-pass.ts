/**
 * RFC 1939 §7 USER and PASS. USER answers the same for every name (no user enumeration); PASS checks
 * the pair. A password may contain spaces: PASS takes the rest of the line.
 */
import { formatErr, formatOk } from '../../proto/responses.ts';
import { defineCommand } from './define.ts';
import { logIn, PLAINTEXT_REFUSED } from './login.ts';

export const user = defineCommand({
  name: 'USER',
  states: ['authorization'],
  minArgs: 1,
  maxArgs: 1,
  async run(session, command) {
    if (!session.loginAllowed()) return session.send(PLAINTEXT_REFUSED);
    session.user = command.args[0];
    await session.send(formatOk('Send your password'));
  },
});

export const pass = defineCommand({
  name: 'PASS',
  states: ['authorization'],
  minArgs: 1,
  maxArgs: Number.POSITIVE_INFINITY,
  async run(session, command) {
    if (!session.loginAllowed()) return session.send(PLAINTEXT_REFUSED);
    const name = session.user;
    if (name === undefined) return session.send(formatErr('Send USER first'));
    session.user = undefined; // RFC 1939 §7: after a failed PASS the client starts again with USER
    await logIn(session, name, command.rest, 'user');
  },
});
