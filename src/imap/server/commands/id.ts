/** ID (RFC 2971), valid in any state. RFC 2971 §3.1: the client's ID is only logged; the server names itself. */
import { ArgReader } from '../../proto/index.ts';
import { ANY_STATE, defineCommand, ok } from '../command.ts';
import { quoted } from '../text.ts';

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
