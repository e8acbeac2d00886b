/** ENABLE (RFC 5161): the extensions a client may enable; the others are ignored, as the RFC says. */
import { ArgReader } from '../../proto/index.ts';
import { AUTHENTICATED, defineCommand, ok } from '../command.ts';
import { enableCondstore } from '../condstore.ts';

export const enable = defineCommand({
  name: 'ENABLE',
  states: AUTHENTICATED,
  async run(ctx) {
    const reader = new ArgReader(ctx.args);
    const wanted = new Set<string>();
    wanted.add(reader.keyword('capability'));
    while (!reader.done) wanted.add(reader.keyword('capability'));
    const enabled: string[] = [];
    const condstoreBefore = ctx.session.condstore;
    if (wanted.has('CONDSTORE') && !condstoreBefore) enabled.push('CONDSTORE');
    if (wanted.has('QRESYNC') && !ctx.session.qresync) {
      ctx.session.qresync = true;
      enabled.push('QRESYNC');
    }
    await ctx.untagged(`ENABLED${enabled.map((e) => ` ${e}`).join('')}`);
    // RFC 7162 §3.1 and §3.2.3: both are CONDSTORE enabling commands (HIGHESTMODSEQ follows when a folder is selected).
    if (enabled.length > 0) await enableCondstore(ctx);
    return ok('ENABLE completed');
  },
});
