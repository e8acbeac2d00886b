/**
 * IDLE (RFC 2177): the client waits; the change feed wakes the session, which reports EXISTS,
 * EXPUNGE and FLAGS as they happen, until the client sends DONE.
 */
import { ArgReader } from '../../proto/index.ts';
import { AUTHENTICATED, bad, defineCommand, ok } from '../command.ts';
import { announceChanges } from '../updates.ts';

export const idle = defineCommand({
  name: 'IDLE',
  states: AUTHENTICATED,
  async run(ctx) {
    new ArgReader(ctx.args).end();
    const account = ctx.session.account;
    if (!account) throw new Error('authenticated command without an account');
    const connection = ctx.connection;
    let woken = false;
    const stop = ctx.app.mail.changes.subscribe(account.id, (change) => {
      if (change.mailboxId !== ctx.session.selected?.id) return;
      woken = true;
      connection.wake();
    });
    // One closure for the whole IDLE: the wait below is one pending read, not a race per change (10,000 IDLE).
    const takeWake = () => {
      if (!woken) return false;
      woken = false;
      return true;
    };
    try {
      await ctx.continuation('idling');
      // Whatever changed before IDLE began is reported at once.
      await announceChanges(connection, { allowExpunge: true, force: true });
      for (;;) {
        const line = await connection.readLineUnless(takeWake);
        if (line === undefined) {
          await announceChanges(connection, { allowExpunge: true, force: true });
          continue;
        }
        if (line === null) return ok('IDLE ended');
        return line.toString('latin1').toUpperCase() === 'DONE' ? ok('IDLE terminated') : bad('Expected DONE');
      }
    } finally {
      stop();
    }
  },
});
