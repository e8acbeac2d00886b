/** Every IMAP command by name: the connection checks the state a command declares before running it. */
import type { CommandSpec } from './command.ts';
import { append } from './commands/append.ts';
import { authenticate } from './commands/authenticate.ts';
import { cancelupdate } from './commands/cancelupdate.ts';
import { capability } from './commands/capability.ts';
import { check } from './commands/check.ts';
import { close } from './commands/close.ts';
import { copy } from './commands/copy.ts';
import { create } from './commands/create.ts';
import { del } from './commands/delete.ts';
import { enable } from './commands/enable.ts';
import { examine } from './commands/examine.ts';
import { expunge } from './commands/expunge.ts';
import { fetch } from './commands/fetch.ts';
import { getquota } from './commands/getquota.ts';
import { getquotaroot } from './commands/getquotaroot.ts';
import { id } from './commands/id.ts';
import { idle } from './commands/idle.ts';
import { listCommand } from './commands/list.ts';
import { login } from './commands/login.ts';
import { logout } from './commands/logout.ts';
import { lsubCommand } from './commands/lsub.ts';
import { move } from './commands/move.ts';
import { namespace } from './commands/namespace.ts';
import { noop } from './commands/noop.ts';
import { rename } from './commands/rename.ts';
import { search } from './commands/search.ts';
import { select } from './commands/select.ts';
import { setquota } from './commands/setquota.ts';
import { sort } from './commands/sort.ts';
import { starttls } from './commands/starttls.ts';
import { status } from './commands/status.ts';
import { store } from './commands/store.ts';
import { subscribe } from './commands/subscribe.ts';
import { thread } from './commands/thread.ts';
import { unselect } from './commands/unselect.ts';
import { unsubscribe } from './commands/unsubscribe.ts';

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
  cancelupdate,
  sort,
  thread,
  fetch,
  store,
  copy,
  move,
];

export const registry: ReadonlyMap<string, CommandSpec> = new Map(COMMANDS.map((spec) => [spec.name, spec]));
