/**
 * CANCELUPDATE (RFC 5267 §4.3.5): no more ADDTO and REMOVEFROM for the searches named by their tags.
 * `1*(SP quoted)` in the RFC's syntax; atoms are accepted too. A tag without a context (never one, or
 * ended already) is a BAD and nothing is cancelled.
 */
import { ArgReader } from '../../proto/index.ts';
import { bad, defineCommand, ok, SELECTED } from '../command.ts';

export const cancelupdate = defineCommand({
  name: 'CANCELUPDATE',
  states: SELECTED,
  async run(ctx) {
    const reader = new ArgReader(ctx.args);
    const tags = [reader.astring('tag').toString('latin1')];
    while (!reader.done) tags.push(reader.astring('tag').toString('latin1'));
    const contexts = ctx.session.searchContexts;
    const unknown = tags.find((tag) => !contexts?.has(tag));
    if (unknown !== undefined || !contexts) return bad(`No search with UPDATE has the tag ${unknown}`);
    for (const tag of tags) contexts.cancel(tag);
    return ok('CANCELUPDATE completed, no further updates');
  },
});
