/** LSUB (RFC 3501 §6.3.9): the subscribed folders; the listing itself is in list-mailboxes.ts. */
import { AUTHENTICATED, defineCommand } from '../command.ts';
import { list } from './list-mailboxes.ts';

export const lsubCommand = defineCommand({ name: 'LSUB', states: AUTHENTICATED, run: (ctx) => list(ctx, true) });
