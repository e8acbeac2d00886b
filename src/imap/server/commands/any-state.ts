/** Commands valid in any state (RFC 3501 §6.1): CAPABILITY, NOOP, LOGOUT; and ID (RFC 2971). */
import { ArgReader } from '../../proto/index.ts';
import { capabilities } from '../capabilities.ts';
import { ANY_STATE, defineCommand, ok } from '../command.ts';
import { quoted } from '../text.ts';

export const capability = defineCommand({
  name: 'CAPABILITY',
  states: ANY_STATE,
  async run(ctx) {
    new ArgReader(ctx.args).end();
    await ctx.untagged(`CAPABILITY ${capabilities(ctx.connection).join(' ')}`);
    return ok('CAPABILITY completed');
  },
});

/** Also the client's way to poll: the connection reports the folder's changes before the tagged OK. */
export const noop = defineCommand({
  name: 'NOOP',
  states: ANY_STATE,
  async run(ctx) {
    new ArgReader(ctx.args).end();
    return ok('NOOP completed');
  },
});

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

/** RFC 2971 §3.1: the client's ID is only logged; the server names itself. */
export const id = defineCommand({
  name: 'ID',
  states: ANY_STATE,
  async run(ctx) {
    const reader = new ArgReader(ctx.args);
    reader.next('ID parameter list or NIL');
    reader.end();
    await ctx.untagged(`ID (${quoted('name')} ${quoted('Facteur')} ${quoted('vendor')} ${quoted('Facteur')})`);
    return ok('ID completed');
  },
});
