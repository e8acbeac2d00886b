/** Every IMAP command by name: the connection checks the state a command declares before running it. */
import type { CommandSpec } from './command.ts';
import { capability, id, logout, noop } from './commands/any-state.ts';
import { append } from './commands/append.ts';
import { authenticate, login, starttls } from './commands/auth.ts';
import { fetch } from './commands/fetch.ts';
import { check, create, del, enable, namespace, rename, status, subscribe, unsubscribe } from './commands/folders.ts';
import { idle } from './commands/idle.ts';
import { listCommand, lsubCommand } from './commands/list.ts';
import { copy, expunge, move, store } from './commands/messages.ts';
import { getquota, getquotaroot, setquota } from './commands/quota.ts';
import { search } from './commands/search.ts';
import { close, examine, select, unselect } from './commands/select.ts';

const COMMANDS: CommandSpec[] = [
  capability,
  noop,
  logout,
  id,
  starttls,
  login,
  authenticate,
  enable,
  select,
  examine,
  create,
  del,
  rename,
  subscribe,
  unsubscribe,
  listCommand,
  lsubCommand,
  status,
  append,
  namespace,
  idle,
  getquota,
  getquotaroot,
  setquota,
  check,
  close,
  unselect,
  expunge,
  search,
  fetch,
  store,
  copy,
  move,
];

export const registry: ReadonlyMap<string, CommandSpec> = new Map(COMMANDS.map((spec) => [spec.name, spec]));
