/**
 * A POP3 command declares the states it is valid in and how many arguments it takes; the registry
 * (index.ts) checks both before `run`, so handlers only do their own work.
 */
import type { Pop3Command } from '../../proto/command.ts';
import type { Pop3Session, SessionState } from '../session.ts';

export interface CommandSpec {
  name: string;
  states: SessionState[];
  minArgs: number;
  maxArgs: number;
  run(session: Pop3Session, command: Pop3Command): Promise<void>;
}

export function defineCommand(spec: CommandSpec): CommandSpec {
  return spec;
}
