/**
 * Folders of an account as IMAP sees them (RFC 3501 §6.3): create, rename, delete, subscribe, status.
 * Names are stored decoded (UTF-8) with '/' as the hierarchy delimiter; INBOX is always "INBOX". Every
 * change is one transaction of the group committer, then announced on the change feed.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import type { AppContext } from '../context.ts';
import { AppError, text } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { Database, MailboxesTable } from '../store/index.ts';
import { hasFlagSql, recordExpunged, removeMessages } from './messages.ts';

type Db = Kysely<Database> | Transaction<Database>;

export const HIERARCHY_DELIMITER = '/';
/** Longest folder name, in characters (Dovecot's default limit is similar). */
export const MAX_MAILBOX_NAME_CHARS = 255;
/** Deepest folder hierarchy: bounds recursive renames and LIST output. */
export const MAX_MAILBOX_DEPTH = 16;
/** Folders per account: a client creating folders in a loop stops here. */
export const MAX_MAILBOXES_PER_ACCOUNT = 1000;

export function isInbox(name: string): boolean {
  return name.toUpperCase() === 'INBOX';
}

/** INBOX in any case is INBOX (RFC 3501 §5.1); other names are case-sensitive. */
export function normalizeMailboxName(name: string): string {
  if (isInbox(name)) return 'INBOX';
  if (name.toUpperCase().startsWith('INBOX/')) return `INBOX${name.slice(5)}`;
  return name;
}

function invalidName(reason: ReturnType<typeof text>): AppError {
  return new AppError('invalid', 'mailbox-name', reason);
}

/** Refuses names IMAP clients cannot round-trip: empty levels, control characters, wildcards, excess length. */
export function checkMailboxName(name: string): string {
  const normalized = normalizeMailboxName(name);
  const levels = normalized.split(HIERARCHY_DELIMITER);
  if (normalized.length === 0 || normalized.length > MAX_MAILBOX_NAME_CHARS) {
    throw invalidName(text('The folder name is empty or too long', 'Le nom du dossier est vide ou trop long'));
  }
  if (levels.length > MAX_MAILBOX_DEPTH) throw invalidName(text('Too many folder levels', 'Trop de niveaux de dossiers'));
  if (levels.some((level) => level.length === 0)) {
    throw invalidName(text('A folder name cannot have an empty level', 'Un nom de dossier ne peut pas avoir de niveau vide'));
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f*%]/.test(normalized)) {
    throw invalidName(text('The folder name holds a forbidden character', 'Le nom du dossier contient un caractère interdit'));
  }
  return normalized;
}

function notFound(): AppError {
  return new AppError('not-found', 'mailbox-not-found', text('No such folder', 'Ce dossier n’existe pas'));
}

/**
 * RFC 3501 §2.3.1.1: UIDVALIDITY never repeats for a name, so a new folder gets a value above every one
 * the account ever used (remembered on the account: folders are deleted and created again).
 */
async function nextUidValidity(db: Db, accountId: string, now: number): Promise<number> {
  const used = await db
    .selectFrom('mailboxes')
    .select((eb) => eb.fn.max('uid_validity').as('max'))
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  const account = await db.selectFrom('accounts').select('last_uid_validity').where('id', '=', accountId).executeTakeFirst();
  const seconds = Math.floor(now / 1000) % 0xffffffff || 1;
  const value = Math.max(seconds, Number(used?.max ?? 0) + 1, Number(account?.last_uid_validity ?? 0) + 1);
  await db.updateTable('accounts').set({ last_uid_validity: value }).where('id', '=', accountId).execute();
  return value;
}

export async function findMailbox(db: Db, accountId: string, name: string): Promise<MailboxesTable | undefined> {
  return db.selectFrom('mailboxes').selectAll().where('account_id', '=', accountId).where('name', '=', normalizeMailboxName(name)).executeTakeFirst();
}

/** The parents of a name, outermost first: "a/b/c" → ["a", "a/b"]. */
function parentsOf(name: string): string[] {
  const levels = name.split(HIERARCHY_DELIMITER);
  return levels.slice(1).map((_, i) => levels.slice(0, i + 1).join(HIERARCHY_DELIMITER));
}

/** Takes back a subscription the name kept after its folder was deleted (RFC 3501 §6.3.6); true if there was one. */
async function takeLostSubscription(trx: Db, accountId: string, name: string): Promise<boolean> {
  const taken = await trx.deleteFrom('lost_subscriptions').where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
  return Number(taken.numDeletedRows) > 0;
}

async function insertMailbox(trx: Db, account: { id: string; customer_id: string }, name: string, now: number): Promise<MailboxesTable> {
  const subscribed = await takeLostSubscription(trx, account.id, name);
  const row: MailboxesTable = {
    customer_id: account.customer_id,
    id: newId('mbx'),
    account_id: account.id,
    name,
    special_use: null,
    uid_validity: await nextUidValidity(trx, account.id, now),
    uid_next: 1,
    highest_modseq: 1,
    recent_uid: 0,
    expunged_floor: 0,
    subscribed: subscribed ? 1 : 0,
    created_at: now,
  };
  await trx.insertInto('mailboxes').values(row).execute();
  return row;
}

async function accountOf(db: Db, accountId: string): Promise<{ id: string; customer_id: string }> {
  const account = await db.selectFrom('accounts').select(['id', 'customer_id']).where('id', '=', accountId).executeTakeFirst();
  if (!account) throw notFound();
  return account;
}

async function countMailboxes(db: Db, accountId: string): Promise<number> {
  const row = await db
    .selectFrom('mailboxes')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** RFC 3501 §6.3.3: creates a folder and any missing parent. */
export async function createMailbox(ctx: AppContext, accountId: string, requested: string): Promise<MailboxesTable> {
  const name = checkMailboxName(requested);
  const created = await ctx.mail.committer.run(async (trx) => {
    const account = await accountOf(trx, accountId);
    if (await findMailbox(trx, accountId, name)) {
      throw new AppError('exists', 'mailbox-exists', text('A folder with this name exists', 'Un dossier de ce nom existe déjà'));
    }
    const missing: string[] = [];
    for (const parent of parentsOf(name)) if (!(await findMailbox(trx, accountId, parent))) missing.push(parent);
    if ((await countMailboxes(trx, accountId)) + missing.length + 1 > MAX_MAILBOXES_PER_ACCOUNT) {
      throw new AppError('limit', 'too-many-mailboxes', text('Too many folders', 'Trop de dossiers'), { details: { max: MAX_MAILBOXES_PER_ACCOUNT } });
    }
    const now = ctx.clock.now();
    for (const parent of missing) await insertMailbox(trx, account, parent, now);
    return insertMailbox(trx, account, name, now);
  });
  ctx.mail.changes.publish({ type: 'mailboxes', accountId, mailboxId: created.id });
  return created;
}

/** The folder and every folder below it. */
async function withInferiors(db: Db, accountId: string, name: string): Promise<MailboxesTable[]> {
  const prefix = `${name}${HIERARCHY_DELIMITER}`;
  const rows = await db.selectFrom('mailboxes').selectAll().where('account_id', '=', accountId).execute();
  return rows.filter((row) => row.name === name || row.name.startsWith(prefix));
}

/**
 * RFC 3501 §6.3.5: renames a folder with its inferiors. Renaming INBOX moves its messages into a new
 * folder of that name and leaves INBOX, empty, in place.
 */
export async function renameMailbox(ctx: AppContext, accountId: string, fromName: string, toName: string): Promise<void> {
  const from = normalizeMailboxName(fromName);
  const to = checkMailboxName(toName);
  if (isInbox(to) || to.startsWith(`${from}${HIERARCHY_DELIMITER}`)) {
    throw invalidName(text('A folder cannot be renamed to this name', 'Un dossier ne peut pas prendre ce nom'));
  }
  await ctx.mail.committer.run(async (trx) => {
    const account = await accountOf(trx, accountId);
    const source = await findMailbox(trx, accountId, from);
    if (!source) throw notFound();
    if (await findMailbox(trx, accountId, to)) {
      throw new AppError('exists', 'mailbox-exists', text('A folder with this name exists', 'Un dossier de ce nom existe déjà'));
    }
    const now = ctx.clock.now();
    for (const parent of parentsOf(to)) if (!(await findMailbox(trx, accountId, parent))) await insertMailbox(trx, account, parent, now);
    if (isInbox(from)) {
      const target = await insertMailbox(trx, account, to, now);
      await moveAllMessages(trx, source, target);
      return;
    }
    for (const row of await withInferiors(trx, accountId, from)) {
      const name = to + row.name.slice(from.length);
      // A subscription the new name kept from a deleted folder applies to the folder that now has it.
      const subscribed = (await takeLostSubscription(trx, accountId, name)) || Boolean(row.subscribed);
      await trx
        .updateTable('mailboxes')
        .set({ name, subscribed: subscribed ? 1 : 0 })
        .where('id', '=', row.id)
        .execute();
    }
  });
  ctx.mail.changes.publish({ type: 'mailboxes', accountId, mailboxId: '' });
}

/** Moves every message of `source` into the new, empty `target`, keeping their UID order. */
async function moveAllMessages(trx: Transaction<Database>, source: MailboxesTable, target: MailboxesTable): Promise<void> {
  const rows = await trx.selectFrom('messages').select(['id', 'uid', 'thread_id']).where('mailbox_id', '=', source.id).orderBy('uid').execute();
  let uid = 1;
  for (const row of rows) {
    await trx.updateTable('messages').set({ mailbox_id: target.id, uid: uid++, modseq: 1 }).where('id', '=', row.id).execute();
  }
  await trx.updateTable('mailboxes').set({ uid_next: uid }).where('id', '=', target.id).execute();
  if (rows.length > 0) {
    const modseq = Number(source.highest_modseq) + 1;
    await trx.updateTable('mailboxes').set({ highest_modseq: modseq }).where('id', '=', source.id).execute();
    await recordExpunged(trx, source.id, rows, modseq);
  }
}

/**
 * RFC 3501 §6.3.4: deletes a folder and its messages. INBOX and the special-use folders stay; a folder
 * with inferiors is refused (RFC 5530 HASCHILDREN) rather than leaving a hole in the hierarchy.
 */
export async function deleteMailbox(ctx: AppContext, accountId: string, name: string): Promise<void> {
  const target = normalizeMailboxName(name);
  if (isInbox(target)) throw new AppError('conflict', 'mailbox-inbox', text('INBOX cannot be deleted', 'INBOX ne peut pas être supprimé'));
  const deleted = await ctx.mail.committer.run(async (trx) => {
    const rows = await withInferiors(trx, accountId, target);
    const mailbox = rows.find((row) => row.name === target);
    if (!mailbox) throw notFound();
    if (mailbox.special_use) {
      throw new AppError('conflict', 'mailbox-special-use', text('This system folder cannot be deleted', 'Ce dossier système ne peut pas être supprimé'));
    }
    if (rows.length > 1) {
      throw new AppError('conflict', 'mailbox-has-children', text('Delete the folders inside it first', 'Supprimez d’abord les dossiers qu’il contient'));
    }
    const messages = await trx.selectFrom('messages').select(['id', 'blob_id', 'size', 'account_id']).where('mailbox_id', '=', mailbox.id).execute();
    await removeMessages(trx, messages);
    await trx.deleteFrom('expunged_messages').where('mailbox_id', '=', mailbox.id).execute();
    await trx.deleteFrom('mailboxes').where('id', '=', mailbox.id).execute();
    // RFC 3501 §6.3.6: the subscription outlives the folder.
    if (mailbox.subscribed) {
      await trx
        .insertInto('lost_subscriptions')
        .values({ customer_id: mailbox.customer_id, account_id: accountId, name: mailbox.name, created_at: ctx.clock.now() })
        .onConflict((oc) => oc.columns(['account_id', 'name']).doNothing())
        .execute();
    }
    return mailbox;
  });
  ctx.mail.changes.publish({ type: 'mailboxes', accountId, mailboxId: deleted.id });
}

/**
 * SUBSCRIBE needs an existing folder (RFC 3501 §6.3.6 lets the server check); UNSUBSCRIBE also drops the
 * subscription of a folder that was deleted.
 */
export async function setSubscribed(ctx: AppContext, accountId: string, name: string, subscribed: boolean): Promise<void> {
  await ctx.mail.committer.run(async (trx) => {
    const mailbox = await findMailbox(trx, accountId, name);
    if (!mailbox && !subscribed && (await takeLostSubscription(trx, accountId, normalizeMailboxName(name)))) return;
    if (!mailbox) throw notFound();
    await trx
      .updateTable('mailboxes')
      .set({ subscribed: subscribed ? 1 : 0 })
      .where('id', '=', mailbox.id)
      .execute();
  });
}

/** Subscribed names whose folder no longer exists, by name (LIST (SUBSCRIBED) shows them as \NonExistent). */
export async function listLostSubscriptions(db: Db, accountId: string): Promise<string[]> {
  const rows = await db.selectFrom('lost_subscriptions').select('name').where('account_id', '=', accountId).orderBy('name').execute();
  return rows.map((row) => row.name);
}

export interface MailboxStatus {
  messages: number;
  unseen: number;
  uidNext: number;
  uidValidity: number;
  highestModseq: number;
  /** Octets of its messages (RFC 8438 STATUS SIZE). */
  size: number;
  /** Messages flagged \Deleted, and their octets: what an EXPUNGE would free (RFC 9208 §4.1.4). */
  deleted: number;
  deletedSize: number;
  /** Messages no session has been given as recent yet (RFC 3501 §2.3.2 \Recent, STATUS RECENT). */
  recent: number;
}

/**
 * STATUS without selecting (RFC 3501 §6.3.10): counts from the database, in one pass over the folder's
 * index (migration 017 put the size in it), not one query per item reading the rows.
 */
export async function mailboxStatus(db: Db, mailbox: MailboxesTable): Promise<MailboxStatus> {
  const deleted = hasFlagSql('\\Deleted');
  const totals = await db
    .selectFrom('messages')
    .select((eb) => [
      eb.fn.countAll().as('n'),
      eb.fn.sum('size').as('size'),
      eb.fn.sum(sql<number>`case when ${hasFlagSql('\\Seen')} then 1 else 0 end`).as('seen'),
      eb.fn.sum(sql<number>`case when ${deleted} then 1 else 0 end`).as('deleted'),
      eb.fn.sum(sql<number>`case when ${deleted} then size else 0 end`).as('deleted_size'),
      eb.fn.sum(sql<number>`case when uid > ${mailbox.recent_uid} then 1 else 0 end`).as('recent'),
    ])
    .where('mailbox_id', '=', mailbox.id)
    .executeTakeFirst();
  const messages = Number(totals?.n ?? 0);
  return {
    recent: Number(totals?.recent ?? 0),
    deleted: Number(totals?.deleted ?? 0),
    deletedSize: Number(totals?.deleted_size ?? 0),
    messages,
    unseen: messages - Number(totals?.seen ?? 0),
    uidNext: Number(mailbox.uid_next),
    uidValidity: Number(mailbox.uid_validity),
    highestModseq: Number(mailbox.highest_modseq),
    size: Number(totals?.size ?? 0),
  };
}

/**
 * RFC 3501 §2.3.2 \Recent: this session is the first to be told of the folder's messages up to
 * `upToUid`. Returns the UIDs it gets as recent, `(from, upToUid]`, or undefined when another session
 * was told first. A compare-and-set in the group commit: of two sessions, one wins each message.
 */
export async function claimRecent(ctx: AppContext, mailboxId: string, upToUid: number): Promise<{ from: number; to: number } | undefined> {
  // A read first: every session told of a new message tries, one wins; the others need no commit.
  const seen = await ctx.db.selectFrom('mailboxes').select('recent_uid').where('id', '=', mailboxId).executeTakeFirst();
  if (!seen || Number(seen.recent_uid) >= upToUid) return undefined;
  return ctx.mail.committer.run(async (trx) => {
    for (;;) {
      const row = await trx.selectFrom('mailboxes').select('recent_uid').where('id', '=', mailboxId).executeTakeFirst();
      const from = Number(row?.recent_uid ?? upToUid);
      if (from >= upToUid) return undefined;
      const moved = await trx
        .updateTable('mailboxes')
        .set({ recent_uid: upToUid })
        .where('id', '=', mailboxId)
        .where('recent_uid', '=', from)
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) === 1) return { from, to: upToUid };
    }
  });
}
