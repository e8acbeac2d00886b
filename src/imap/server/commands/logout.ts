/** LOGOUT (RFC 3501 §6.1.3), valid in any state. */
import { ArgReader } from '../../proto/index.ts';
import { ANY_STATE, defineCommand, ok } from '../command.ts';

export const logout = defineCommand({
  name: 'LOGOUT',
  states: ANY_STATE,
  async run(ctx) {
    new ArgReader(ctx.args).end();
    await ctx.untagged('BYE Facteur logging out');
    ctx.after(() => ctx.connection.logout());
    return ok('LOGOUT completed');
  },
});
