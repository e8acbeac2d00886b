/**
 * NOOP (RFC 3501 §6.1.2), valid in any state. Also the client's way to poll: the connection reports the
 * folder's changes before the tagged OK.
 */
import { ArgReader } from '../../proto/index.ts';
import { ANY_STATE, defineCommand, ok } from '../command.ts';

export const noop = defineCommand({
  name: 'NOOP',
  states: ANY_STATE,
  async run(ctx) {
    new ArgReader(ctx.args).end();
    return ok('NOOP completed');
  },
});
