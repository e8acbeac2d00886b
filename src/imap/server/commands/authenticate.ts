/**
 * AUTHENTICATE (RFC 3501 §6.2.2), in the not-authenticated state: PLAIN only (RFC 4616), with SASL-IR
 * (RFC 4959).
 */
import { ArgReader } from '../../proto/index.ts';
import { bad, defineCommand, NOT_AUTHENTICATED, no } from '../command.ts';
import { logIn, privacyRequired } from './login-account.ts';

/** RFC 4616 §2: [authzid] NUL authcid NUL passwd. */
function decodePlain(base64: string): { authzid: string; username: string; password: string } | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) return undefined;
  const parts = Buffer.from(base64, 'base64').toString('utf8').split('\u0000');
  if (parts.length !== 3) return undefined;
  const [authzid, username, password] = parts as [string, string, string];
  return { authzid, username, password };
}

export const authenticate = defineCommand({
  name: 'AUTHENTICATE',
  states: NOT_AUTHENTICATED,
  async run(ctx) {
    const reader = new ArgReader(ctx.args);
    const mechanism = reader.keyword('SASL mechanism');
    const initial = reader.done ? undefined : reader.atom('initial response');
    reader.end();
    if (mechanism !== 'PLAIN') return no(`Mechanism ${mechanism.slice(0, 20)} is not supported`, 'CANNOT');
    if (!ctx.connection.plaintextLoginAllowed) return privacyRequired();
    let response = initial;
    if (response === undefined) {
      await ctx.continuation('');
      const line = await ctx.readLine();
      if (line === null) return bad('Connection closed');
      response = line.toString('latin1');
    }
    if (response === '*') return bad('Authentication cancelled'); // RFC 3501 §6.2.2
    const plain = decodePlain(response === '=' ? '' : response);
    if (!plain) return bad('Invalid PLAIN response');
    if (plain.authzid !== '' && plain.authzid.toLowerCase() !== plain.username.toLowerCase()) {
      return no('Logging in as another user is not allowed', 'AUTHORIZATIONFAILED');
    }
    return logIn(ctx, plain.username, plain.password);
  },
});
