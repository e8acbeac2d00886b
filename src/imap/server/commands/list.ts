/**
 * LIST (RFC 3501 §6.3.8) with LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819), SPECIAL-USE (RFC 6154)
 * and CHILDREN (RFC 3348); the listing itself is in list-mailboxes.ts.
 */
import { AUTHENTICATED, defineCommand } from '../command.ts';
import { list } from './list-mailboxes.ts';

export const listCommand = defineCommand({ name: 'LIST', states: AUTHENTICATED, run: (ctx) => list(ctx, false) });
