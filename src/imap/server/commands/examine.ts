/**
 * EXAMINE (RFC 3501 §6.3.2): SELECT, read-only, with CONDSTORE (RFC 7162 §3.1.8) and QRESYNC (§3.2.5);
 * the opening itself is in open-mailbox.ts.
 */
import { AUTHENTICATED, defineCommand } from '../command.ts';
import { open } from './open-mailbox.ts';

export const examine = defineCommand({ name: 'EXAMINE', states: AUTHENTICATED, run: (ctx) => open(ctx, true) });
