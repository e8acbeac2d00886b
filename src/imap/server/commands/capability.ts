/** CAPABILITY (RFC 3501 §6.1.1), valid in any state. */
import { ArgReader } from '../../proto/index.ts';
import { capabilities } from '../capabilities.ts';
import { ANY_STATE, defineCommand, ok } from '../command.ts';

export const capability = defineCommand({
  name: 'CAPABILITY',
  states: ANY_STATE,
  async run(ctx) {
    new ArgReader(ctx.args).end();
    await ctx.untagged(`CAPABILITY ${capabilities(ctx.connection).join(' ')}`);
    return ok('CAPABILITY completed');
  },
});
