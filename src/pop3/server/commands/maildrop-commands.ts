/**
 * The TRANSACTION-state commands of RFC 1939 §5 and §7 over the session's maildrop snapshot: STAT,
 * LIST, UIDL, RETR, TOP, DELE, NOOP and RSET. Message numbers are those given at login.
 */
import { type Pop3Command, parseLineCount, parseMessageNumber } from '../../proto/command.ts';
import { TopFilter } from '../../proto/message-stream.ts';
import { formatErr, formatMultiline, formatOk } from '../../proto/responses.ts';
import type { Maildrop, MaildropMessage } from '../maildrop.ts';
import type { Pop3Session } from '../session.ts';
import { defineCommand } from './define.ts';

function maildropOf(session: Pop3Session): Maildrop {
  if (!session.maildrop) throw new Error('TRANSACTION state without a maildrop');
  return session.maildrop;
}

/** The message an argument names, or the -ERR that says why there is none. */
function pick(session: Pop3Session, arg: string | undefined): MaildropMessage | string {
  const maildrop = maildropOf(session);
  const number = parseMessageNumber(arg);
  if (number === undefined) return formatErr('Invalid message number');
  const message = maildrop.messages[number - 1];
  if (!message) return formatErr(`No such message, only ${maildrop.messages.length} messages in maildrop`);
  if (message.deleted) return formatErr(`Message ${number} already deleted`);
  return message;
}

/** The stored content, unless another session (IMAP) expunged the message after this one logged in. */
async function contentOf(session: Pop3Session, message: MaildropMessage) {
  const maildrop = maildropOf(session);
  return (await maildrop.stillStored(message)) ? maildrop.content(message) : undefined;
}

const GONE = formatErr('Message was removed by another session');

export const stat = defineCommand({
  name: 'STAT',
  states: ['transaction'],
  minArgs: 0,
  maxArgs: 0,
  async run(session) {
    const { count, octets } = maildropOf(session).stat();
    await session.send(formatOk(`${count} ${octets}`));
  },
});

/** LIST and UIDL share their shape: one message, or every message not marked deleted. */
function listing(name: 'LIST' | 'UIDL', describe: (m: MaildropMessage) => string) {
  return defineCommand({
    name,
    states: ['transaction'],
    minArgs: 0,
    maxArgs: 1,
    async run(session: Pop3Session, command: Pop3Command) {
      if (command.args.length === 1) {
        const message = pick(session, command.args[0]);
        if (typeof message === 'string') return session.send(message);
        return session.send(formatOk(`${message.number} ${describe(message)}`));
      }
      const maildrop = maildropOf(session);
      const lines = maildrop.messages.filter((m) => !m.deleted).map((m) => `${m.number} ${describe(m)}`);
      const { count, octets } = maildrop.stat();
      await session.send(formatMultiline(name === 'LIST' ? `${count} messages (${octets} octets)` : '', lines));
    },
  });
}

export const list = listing('LIST', (m) => String(m.size));
export const uidl = listing('UIDL', (m) => m.uniqueId);

export const retr = defineCommand({
  name: 'RETR',
  states: ['transaction'],
  minArgs: 1,
  maxArgs: 1,
  async run(session, command) {
    const message = pick(session, command.args[0]);
    if (typeof message === 'string') return session.send(message);
    const content = await contentOf(session, message);
    if (!content) return session.send(GONE);
    await session.sendMessage(`${message.size} octets`, content);
    message.retrieved = true;
  },
});

export const top = defineCommand({
  name: 'TOP',
  states: ['transaction'],
  minArgs: 2,
  maxArgs: 2,
  async run(session, command) {
    const message = pick(session, command.args[0]);
    if (typeof message === 'string') return session.send(message);
    const lines = parseLineCount(command.args[1]);
    if (lines === undefined) return session.send(formatErr('Invalid number of lines'));
    const content = await contentOf(session, message);
    if (!content) return session.send(GONE);
    await session.sendMessage('Top of message follows', content, new TopFilter(lines));
  },
});

export const dele = defineCommand({
  name: 'DELE',
  states: ['transaction'],
  minArgs: 1,
  maxArgs: 1,
  async run(session, command) {
    const message = pick(session, command.args[0]);
    if (typeof message === 'string') return session.send(message);
    message.deleted = true;
    await session.send(formatOk(`Message ${message.number} deleted`));
  },
});

export const noop = defineCommand({
  name: 'NOOP',
  states: ['transaction'],
  minArgs: 0,
  maxArgs: 0,
  run: (session) => session.send(formatOk()),
});

export const rset = defineCommand({
  name: 'RSET',
  states: ['transaction'],
  minArgs: 0,
  maxArgs: 0,
  async run(session) {
    const maildrop = maildropOf(session);
    maildrop.reset();
    const { count, octets } = maildrop.stat();
    await session.send(formatOk(`maildrop has ${count} messages (${octets} octets)`));
  },
});
