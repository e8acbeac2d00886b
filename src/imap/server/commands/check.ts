/** CHECK (RFC 3501 §6.4.1): every change is already durable, so CHECK has nothing to do. */
import { ArgReader } from '../../proto/index.ts';
import { defineCommand, ok, SELECTED } from '../command.ts';

export const check = defineCommand({
  name: 'CHECK',
  states: SELECTED,
  async run(ctx) {
    new ArgReader(ctx.args).end();
    return ok('CHECK completed');
  },
});
