/** NAMESPACE (RFC 2342): one personal namespace, no shared or other users' namespaces. */
import { ArgReader } from '../../proto/index.ts';
import { AUTHENTICATED, defineCommand, ok } from '../command.ts';

export const namespace = defineCommand({
  name: 'NAMESPACE',
  states: AUTHENTICATED,
  async run(ctx) {
    new ArgReader(ctx.args).end();
    await ctx.untagged('NAMESPACE (("" "/")) NIL NIL');
    return ok('NAMESPACE completed');
  },
});
