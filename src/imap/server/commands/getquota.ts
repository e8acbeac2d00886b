/** GETQUOTA (RFC 9208 §4.1.1): the one quota root is "" (see quota-roots.ts). */
import { ArgReader } from '../../proto/index.ts';
import { AUTHENTICATED, defineCommand, no, ok } from '../command.ts';
import { quotaLine } from './quota-roots.ts';

export const getquota = defineCommand({
  name: 'GETQUOTA',
  states: AUTHENTICATED,
  async run(ctx) {
    const reader = new ArgReader(ctx.args);
    const root = reader.text('quota root');
    reader.end();
    if (root !== '') return no('No such quota root', 'NONEXISTENT');
    await ctx.untagged(await quotaLine(ctx));
    return ok('GETQUOTA completed');
  },
});
