/** STARTTLS (RFC 3501 §6.2.1), in the not-authenticated state. */
import { ArgReader } from '../../proto/index.ts';
import { bad, defineCommand, NOT_AUTHENTICATED, ok } from '../command.ts';

export const starttls = defineCommand({
  name: 'STARTTLS',
  states: NOT_AUTHENTICATED,
  async run(ctx) {
    new ArgReader(ctx.args).end();
    if (ctx.session.secure) return bad('TLS is already active');
    ctx.after(() => ctx.connection.startTls());
    return ok('Begin TLS negotiation now');
  },
});
