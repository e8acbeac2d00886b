/** LOGIN (RFC 3501 §6.2.3), in the not-authenticated state; only over TLS unless plaintext logins are allowed. */
import { ArgReader } from '../../proto/index.ts';
import { defineCommand, NOT_AUTHENTICATED } from '../command.ts';
import { logIn, privacyRequired } from './login-account.ts';

export const login = defineCommand({
  name: 'LOGIN',
  states: NOT_AUTHENTICATED,
  async run(ctx) {
    const reader = new ArgReader(ctx.args);
    const username = reader.text('user name');
    const password = reader.text('password');
    reader.end();
    if (!ctx.connection.plaintextLoginAllowed) return privacyRequired();
    return logIn(ctx, username, password);
  },
});
