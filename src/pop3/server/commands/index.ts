/** The command registry: one entry per POP3 command this server implements (RFC 1939, 2449, 2595, 5034). */
import auth from './auth.ts';
import capa from './capa.ts';
import type { CommandSpec } from './define.ts';
import { dele, list, noop, retr, rset, stat, top, uidl } from './maildrop-commands.ts';
import quit from './quit.ts';
import stls from './stls.ts';
import { pass, user } from './user-pass.ts';

export type { CommandSpec } from './define.ts';

export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map(
  [capa, stls, user, pass, auth, quit, stat, list, uidl, retr, top, dele, noop, rset].map((spec) => [spec.name, spec]),
);
