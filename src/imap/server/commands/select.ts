/**
 * SELECT (RFC 3501 §6.3.1) with CONDSTORE (RFC 7162 §3.1.8) and QRESYNC (§3.2.5); the opening itself is in
 * open-mailbox.ts.
 */
import { AUTHENTICATED, defineCommand } from '../command.ts';
import { open } from './open-mailbox.ts';

export const select = defineCommand({ name: 'SELECT', states: AUTHENTICATED, run: (ctx) => open(ctx, false) });
