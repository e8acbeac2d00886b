/** What SUBSCRIBE and UNSUBSCRIBE (RFC 3501 §6.3.6, §6.3.7) share: one command that sets or clears the flag. */
import { setSubscribed } from '../../../mailstore/index.ts';
import { AUTHENTICATED, defineCommand, ok } from '../command.ts';
import { accountId, oneMailbox } from './mailbox-args.ts';

export function subscription(name: 'SUBSCRIBE' | 'UNSUBSCRIBE') {
  return defineCommand({
    name,
    states: AUTHENTICATED,
    async run(ctx) {
      await setSubscribed(ctx.app, accountId(ctx), oneMailbox(ctx), name === 'SUBSCRIBE');
      return ok(`${name} completed`);
    },
  });
}
