/**
 * Folder commands (RFC 3501 §6.3): CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, STATUS (with
 * HIGHESTMODSEQ, RFC 7162, SIZE, RFC 8438, and DELETED / DELETED-STORAGE, RFC 9208 §4.1.4),
 * NAMESPACE (RFC 2342), and CHECK (§6.4.1: every change is already durable, so CHECK has nothing to do).
 */
import { createMailbox, deleteMailbox, findMailbox, type MailboxStatus, mailboxStatus, renameMailbox, setSubscribed } from '../../../mailstore/index.ts';
import { AppError, text } from '../../../shared/errors.ts';
import type { MailboxesTable } from '../../../store/index.ts';
import { ArgReader, encodeMailboxName, parseMailboxArg, parseStatusArgs, type StatusItem } from '../../proto/index.ts';
import { AUTHENTICATED, type CommandContext, defineCommand, ok, SELECTED } from '../command.ts';
import { quoted } from '../text.ts';

function accountId(ctx: CommandContext): string {
  const account = ctx.session.account;
  if (!account) throw new Error('authenticated command without an account');
  return account.id;
}

function oneMailbox(ctx: CommandContext): string {
  const reader = new ArgReader(ctx.args);
  const name = parseMailboxArg(reader.next('mailbox name'), { utf8Accept: ctx.session.utf8 });
  reader.end();
  return name;
}

export function mailboxName(ctx: CommandContext, name: string): string {
  return quoted(encodeMailboxName(name, { utf8Accept: ctx.session.utf8 }));
}

export const create = defineCommand({
  name: 'CREATE',
  states: AUTHENTICATED,
  async run(ctx) {
    // RFC 3501 §6.3.3: a trailing delimiter only says the client means to create inferiors under it.
    const name = oneMailbox(ctx).replace(/\/$/, '');
    await createMailbox(ctx.app, accountId(ctx), name);
    return ok('CREATE completed');
  },
});

export const del = defineCommand({
  name: 'DELETE',
  states: AUTHENTICATED,
  async run(ctx) {
    const name = oneMailbox(ctx);
    if (ctx.session.selected?.mailbox.name === name) ctx.session.unselect();
    await deleteMailbox(ctx.app, accountId(ctx), name);
    return ok('DELETE completed');
  },
});

export const rename = defineCommand({
  name: 'RENAME',
  states: AUTHENTICATED,
  async run(ctx) {
    const reader = new ArgReader(ctx.args);
    const from = parseMailboxArg(reader.next('existing mailbox name'), { utf8Accept: ctx.session.utf8 });
    const to = parseMailboxArg(reader.next('new mailbox name'), { utf8Accept: ctx.session.utf8 });
    reader.end();
    await renameMailbox(ctx.app, accountId(ctx), from, to);
    return ok('RENAME completed');
  },
});

function subscription(name: 'SUBSCRIBE' | 'UNSUBSCRIBE') {
  return defineCommand({
    name,
    states: AUTHENTICATED,
    async run(ctx) {
      await setSubscribed(ctx.app, accountId(ctx), oneMailbox(ctx), name === 'SUBSCRIBE');
      return ok(`${name} completed`);
    },
  });
}
export const subscribe = subscription('SUBSCRIBE');
export const unsubscribe = subscription('UNSUBSCRIBE');

/** `(MESSAGES 3 UNSEEN 1 …)` in the order the client asked. RECENT is always 0 (see flags.ts). */
export function statusItems(items: StatusItem[], status: MailboxStatus): string {
  const values: Record<StatusItem, number> = {
    MESSAGES: status.messages,
    RECENT: 0,
    UIDNEXT: status.uidNext,
    UIDVALIDITY: status.uidValidity,
    UNSEEN: status.unseen,
    HIGHESTMODSEQ: status.highestModseq,
    SIZE: status.size,
    DELETED: status.deleted,
    'DELETED-STORAGE': status.deletedSize,
  };
  return `(${items.map((item) => `${item} ${values[item]}`).join(' ')})`;
}

export async function statusLine(ctx: CommandContext, mailbox: MailboxesTable, items: StatusItem[]): Promise<string> {
  const status = await mailboxStatus(ctx.app.db, mailbox);
  if (items.includes('HIGHESTMODSEQ')) ctx.session.condstore = true; // RFC 7162 §3.1: a CONDSTORE-enabling command
  return `STATUS ${mailboxName(ctx, mailbox.name)} ${statusItems(items, status)}`;
}

export const status = defineCommand({
  name: 'STATUS',
  states: AUTHENTICATED,
  async run(ctx) {
    const args = parseStatusArgs(ctx.args, { utf8Accept: ctx.session.utf8 });
    const mailbox = await findMailbox(ctx.app.db, accountId(ctx), args.mailbox);
    if (!mailbox) throw new AppError('not-found', 'mailbox-not-found', text('No such folder', 'Ce dossier n’existe pas'));
    await ctx.untagged(await statusLine(ctx, mailbox, args.items));
    return ok('STATUS completed');
  },
});

/** RFC 2342: one personal namespace, no shared or other users' namespaces. */
export const namespace = defineCommand({
  name: 'NAMESPACE',
  states: AUTHENTICATED,
  async run(ctx) {
    new ArgReader(ctx.args).end();
    await ctx.untagged('NAMESPACE (("" "/")) NIL NIL');
    return ok('NAMESPACE completed');
  },
});

export const check = defineCommand({
  name: 'CHECK',
  states: SELECTED,
  async run(ctx) {
    new ArgReader(ctx.args).end();
    return ok('CHECK completed');
  },
});

/** RFC 5161: the extensions a client may enable; the others are ignored, as the RFC says. */
export const enable = defineCommand({
  name: 'ENABLE',
  states: AUTHENTICATED,
  async run(ctx) {
    const reader = new ArgReader(ctx.args);
    const wanted = new Set<string>();
    wanted.add(reader.keyword('capability'));
    while (!reader.done) wanted.add(reader.keyword('capability'));
    const enabled: string[] = [];
    if (wanted.has('CONDSTORE') && !ctx.session.condstore) {
      ctx.session.condstore = true;
      enabled.push('CONDSTORE');
    }
    if (wanted.has('QRESYNC') && !ctx.session.qresync) {
      ctx.session.qresync = true;
      ctx.session.condstore = true;
      enabled.push('QRESYNC');
    }
    await ctx.untagged(`ENABLED${enabled.map((e) => ` ${e}`).join('')}`);
    return ok('ENABLE completed');
  },
});
