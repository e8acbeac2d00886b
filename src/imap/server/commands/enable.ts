/** ENABLE (RFC 5161): the extensions a client may enable; the others are ignored, as the RFC says. */
import { ArgReader } from '../../proto/index.ts';
import { AUTHENTICATED, defineCommand, ok } from '../command.ts';

export const enable = defineCommand({
  name: 'ENABLE',
  states: AUTHENTICATED,
  async run(ctx) {
    const reader = new ArgReader(ctx.args);
    const wanted = new Set<string>();
    wanted.add(reader.keyword('capability'));
    while (!reader.done) wanted.add(reader.keyword('capability'));
    const enabled: string[] = [];
    if (wanted.has('CONDSTORE') && !ctx.session.condstore) {
      ctx.session.condstore = true;
      enabled.push('CONDSTORE');
    }
    if (wanted.has('QRESYNC') && !ctx.session.qresync) {
      ctx.session.qresync = true;
      ctx.session.condstore = true;
      enabled.push('QRESYNC');
    }
    await ctx.untagged(`ENABLED${enabled.map((e) => ` ${e}`).join('')}`);
    return ok('ENABLE completed');
  },
});
