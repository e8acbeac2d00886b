/** UNSELECT (RFC 3691): leaves the folder without expunging. */
import { ArgReader } from '../../proto/index.ts';
import { defineCommand, ok, SELECTED } from '../command.ts';

export const unselect = defineCommand({
  name: 'UNSELECT',
  states: SELECTED,
  async run(ctx) {
    new ArgReader(ctx.args).end();
    ctx.session.unselect();
    return ok('UNSELECT completed');
  },
});
