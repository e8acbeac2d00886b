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
    let wake: (() => void) | undefined;
    let woken = false;
    const stop = ctx.app.mail.changes.subscribe(account.id, (change) => {
      if (change.mailboxId !== ctx.session.selected?.id) return;
      woken = true;
      wake?.();
    });
    try {
      await ctx.continuation('idling');
      // Whatever changed before IDLE began is reported at once.
      await announceChanges(ctx.connection, { allowExpunge: true, force: true });
      const done = ctx.readLine();
      for (;;) {
        const woke = new Promise<'change'>((resolve) => {
          wake = () => resolve('change');
          if (woken) resolve('change');
        });
        const winner = await Promise.race([done, woke]);
        if (winner !== 'change') {
          if (winner === null) return ok('IDLE ended');
          return winner.toString('latin1').toUpperCase() === 'DONE' ? ok('IDLE terminated') : bad('Expected DONE');
        }
        woken = false;
        await announceChanges(ctx.connection, { allowExpunge: true, force: true });
      }
    } finally {
      stop();
    }
  },
});
