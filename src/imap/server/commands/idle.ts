/**
 * IDLE (RFC 2177): the client waits; the change feed wakes the session, which reports EXISTS,
 * EXPUNGE and FLAGS as they happen, until the client sends DONE. After the continuation the command
 * is a state of the connection (`ImapConnection.startIdle`): nothing is pending while the client waits.
 */
import { ArgReader } from '../../proto/index.ts';
import { AUTHENTICATED, CONTINUES, defineCommand } from '../command.ts';
import { announceChanges } from '../updates.ts';

export const idle = defineCommand({
  name: 'IDLE',
  states: AUTHENTICATED,
  async run(ctx) {
    new ArgReader(ctx.args).end();
    await ctx.continuation('idling');
    // Whatever changed before IDLE began is reported at once.
    await announceChanges(ctx.connection, { allowExpunge: true, force: true });
    ctx.connection.startIdle(ctx.command.tag);
    return CONTINUES;
  },
});
