/**
 * Mailbox/get, /changes, /query and /set (RFC 8621 §2) over the mailstore's folders: a JMAP Mailbox is
 * a folder; its name is the last level of the folder's path ('/' is the hierarchy delimiter) and
 * parentId the folder above; role comes from the folder's special-use attribute (RFC 6154 names are
 * JMAP's role names, RFC 8621 §2). Counts are read from the folder index.
 */
import { sql } from 'kysely';
import { createMailbox, deleteMailbox, HIERARCHY_DELIMITER, hasFlagSql, renameMailbox, setSubscribed } from '../mailstore/index.ts';
import { isAppError } from '../shared/errors.ts';
import type { MailboxesTable } from '../store/index.ts';
import {
  type Args,
  type Call,
  checkAccount,
  checkGetSize,
  checkKnown,
  invalidArguments,
  isObject,
  MAIL,
  MAX_CHANGES,
  MAX_QUERY_LIMIT,
  MethodError,
  type MethodSpec,
  optionalBoolean,
  optionalIds,
  optionalInt,
  optionalProperties,
  optionalString,
  optionalUnsigned,
  pick,
  resolveId,
  setArguments,
} from './core.ts';
import { accountMailboxes, decodeState, encodeState, mailboxChangesSince, snapshotOf } from './state.ts';

const PROPERTIES = [
  'id',
  'name',
  'parentId',
  'role',
  'sortOrder',
  'totalEmails',
  'unreadEmails',
  'totalThreads',
  'unreadThreads',
  'myRights',
  'isSubscribed',
] as const;
const COUNTS = ['totalEmails', 'unreadEmails', 'totalThreads', 'unreadThreads'];

/**
 * RFC 8621 §2 myRights: every right on one's own folders, except what the mailstore refuses: INBOX is
 * never renamed here (IMAP's RENAME INBOX moves its messages instead) and system folders are never deleted.
 */
function rightsOf(mailbox: MailboxesTable) {
  return {
    mayReadItems: true,
    mayAddItems: true,
    mayRemoveItems: true,
    maySetSeen: true,
    maySetKeywords: true,
    mayCreateChild: true,
    mayRename: mailbox.special_use !== 'inbox',
    mayDelete: mailbox.special_use === null,
    maySubmit: true,
  };
}

function lastLevel(name: string): { parent: string | null; leaf: string } {
  const at = name.lastIndexOf(HIERARCHY_DELIMITER);
  return at < 0 ? { parent: null, leaf: name } : { parent: name.slice(0, at), leaf: name.slice(at + 1) };
}

interface Counts {
  total: number;
  unread: number;
  threads: number;
  unreadThreads: number;
}

async function countsOf(call: Call): Promise<Map<string, Counts>> {
  const seen = hasFlagSql('\\Seen');
  const rows = await call.app.db
    .selectFrom('messages')
    .select([
      'mailbox_id',
      sql<number>`count(*)`.as('total'),
      sql<number>`sum(case when ${seen} then 0 else 1 end)`.as('unread'),
      sql<number>`count(distinct coalesce(thread_id, id))`.as('threads'),
      sql<number>`count(distinct case when ${seen} then null else coalesce(thread_id, id) end)`.as('unread_threads'),
    ])
    .where('account_id', '=', call.account.id)
    .groupBy('mailbox_id')
    .execute();
  return new Map(
    rows.map((r) => [
      r.mailbox_id,
      { total: Number(r.total), unread: Number(r.unread ?? 0), threads: Number(r.threads), unreadThreads: Number(r.unread_threads) },
    ]),
  );
}

/** The Mailbox objects of the account, all properties. */
export async function mailboxObjects(call: Call, mailboxes?: MailboxesTable[]): Promise<Array<Record<string, unknown>>> {
  const all = mailboxes ?? (await accountMailboxes(call.app.db, call.account.id));
  const byName = new Map(all.map((m) => [m.name, m.id]));
  const counts = await countsOf(call);
  return all.map((m) => {
    const { parent, leaf } = lastLevel(m.name);
    const parentId = parent === null ? null : (byName.get(parent) ?? null);
    const c = counts.get(m.id) ?? { total: 0, unread: 0, threads: 0, unreadThreads: 0 };
    return {
      id: m.id,
      name: parentId === null ? m.name : leaf,
      parentId,
      role: m.special_use,
      sortOrder: 0,
      totalEmails: c.total,
      unreadEmails: c.unread,
      totalThreads: c.threads,
      unreadThreads: c.unreadThreads,
      myRights: rightsOf(m),
      isSubscribed: Boolean(m.subscribed),
    };
  });
}

/** RFC 8620 §5.1 /get. */
async function getMailboxes(call: Call, args: Args): Promise<Args> {
  checkKnown(args, ['accountId', 'ids', 'properties']);
  const accountId = checkAccount(call, args);
  const ids = optionalIds(call, args, 'ids');
  checkGetSize(ids);
  const properties = optionalProperties(args, 'properties', (p) => (PROPERTIES as readonly string[]).includes(p)) ?? [...PROPERTIES];
  if (!properties.includes('id')) properties.unshift('id');
  const mailboxes = await accountMailboxes(call.app.db, accountId);
  const objects = await mailboxObjects(call, mailboxes);
  const byId = new Map(objects.map((o) => [o.id as string, o]));
  const list: Array<Record<string, unknown>> = [];
  const notFound: string[] = [];
  for (const id of ids ?? [...byId.keys()]) {
    const found = byId.get(id);
    if (found) list.push(pick(found, properties));
    else if (!notFound.includes(id)) notFound.push(id);
  }
  return { accountId, state: encodeState(snapshotOf(mailboxes)), list, notFound };
}

/** RFC 8620 §5.2 /changes, RFC 8621 §2.2 (updatedProperties when only the counts changed). */
async function mailboxChanges(call: Call, args: Args): Promise<Args> {
  checkKnown(args, ['accountId', 'sinceState', 'maxChanges']);
  const accountId = checkAccount(call, args);
  const sinceState = optionalString(args, 'sinceState');
  if (sinceState === null) throw invalidArguments('sinceState is required');
  const maxChanges = optionalUnsigned(args, 'maxChanges', null);
  if (maxChanges === 0) throw invalidArguments('maxChanges must be above 0');
  const since = decodeState(sinceState);
  const mailboxes = await accountMailboxes(call.app.db, accountId);
  const now = snapshotOf(mailboxes);
  const changes = mailboxChangesSince(since, now);
  const total = changes.created.length + changes.updated.length + changes.destroyed.length;
  if (total > Math.min(maxChanges ?? MAX_CHANGES, MAX_CHANGES)) throw new MethodError('cannotCalculateChanges', 'too many changes: fetch again');
  return {
    accountId,
    oldState: sinceState,
    newState: encodeState(now),
    hasMoreChanges: false,
    created: changes.created,
    updated: changes.updated,
    destroyed: changes.destroyed,
    updatedProperties: changes.countsOnly && changes.updated.length > 0 ? COUNTS : null,
  };
}

type Mailbox = Record<string, unknown>;

function matchesMailbox(mailbox: Mailbox, filter: unknown): boolean {
  if (!isObject(filter)) throw new MethodError('unsupportedFilter', 'a filter is an object');
  if ('operator' in filter) {
    const conditions = filter.conditions;
    if (!Array.isArray(conditions)) throw new MethodError('unsupportedFilter', 'conditions must be a list');
    const results = conditions.map((c) => matchesMailbox(mailbox, c));
    if (filter.operator === 'AND') return results.every(Boolean);
    if (filter.operator === 'OR') return results.some(Boolean);
    if (filter.operator === 'NOT') return !results.some(Boolean);
    throw new MethodError('unsupportedFilter', `unknown operator ${String(filter.operator)}`);
  }
  for (const [key, value] of Object.entries(filter)) {
    switch (key) {
      case 'parentId':
        if (mailbox.parentId !== value) return false;
        break;
      case 'name':
        if (typeof value !== 'string') throw new MethodError('unsupportedFilter', 'name is a string');
        if (!String(mailbox.name).toLowerCase().includes(value.toLowerCase())) return false;
        break;
      case 'role':
        if (mailbox.role !== value) return false;
        break;
      case 'hasAnyRole':
        if (typeof value !== 'boolean') throw new MethodError('unsupportedFilter', 'hasAnyRole is a boolean');
        if ((mailbox.role !== null) !== value) return false;
        break;
      case 'isSubscribed':
        if (typeof value !== 'boolean') throw new MethodError('unsupportedFilter', 'isSubscribed is a boolean');
        if (mailbox.isSubscribed !== value) return false;
        break;
      default:
        throw new MethodError('unsupportedFilter', `unknown filter condition ${key}`);
    }
  }
  return true;
}

/** Full path of a mailbox, for sortAsTree (RFC 8621 §2.3): parents before children. */
function pathOf(mailbox: Mailbox, byId: Map<string, Mailbox>): string[] {
  const path: string[] = [];
  let at: Mailbox | undefined = mailbox;
  while (at && path.length <= 16) {
    path.unshift(String(at.name));
    at = at.parentId ? byId.get(at.parentId as string) : undefined;
  }
  return path;
}

/** RFC 8620 §5.5 /query with RFC 8621 §2.3 filters (parentId, name, role, hasAnyRole, isSubscribed) and sorts (sortOrder, name). */
async function queryMailboxes(call: Call, args: Args): Promise<Args> {
  checkKnown(args, ['accountId', 'filter', 'sort', 'position', 'anchor', 'anchorOffset', 'limit', 'calculateTotal', 'sortAsTree', 'filterAsTree']);
  const accountId = checkAccount(call, args);
  const mailboxes = await accountMailboxes(call.app.db, accountId);
  const objects = await mailboxObjects(call, mailboxes);
  const byId = new Map(objects.map((o) => [o.id as string, o]));
  let list = args.filter === undefined || args.filter === null ? objects : objects.filter((m) => matchesMailbox(m, args.filter));
  if (optionalBoolean(args, 'filterAsTree', false)) {
    const kept = new Set(list.map((m) => m.id));
    list = list.filter((m) => {
      for (let p = m.parentId as string | null; p; p = (byId.get(p)?.parentId as string | null) ?? null) if (!kept.has(p)) return false;
      return true;
    });
  }
  const sort = args.sort ?? [];
  if (!Array.isArray(sort)) throw invalidArguments('sort must be a list');
  const comparators = sort.map((s) => {
    if (!isObject(s) || typeof s.property !== 'string') throw invalidArguments('a sort is { property, isAscending }');
    const direction = s.isAscending === false ? -1 : 1;
    if (s.property === 'name') return (a: Mailbox, b: Mailbox) => direction * String(a.name).localeCompare(String(b.name));
    if (s.property === 'sortOrder') return (a: Mailbox, b: Mailbox) => direction * (Number(a.sortOrder) - Number(b.sortOrder));
    throw new MethodError('unsupportedSort', `cannot sort by ${s.property}`);
  });
  const compare = (a: Mailbox, b: Mailbox) => {
    for (const c of comparators) {
      const r = c(a, b);
      if (r !== 0) return r;
    }
    return 0;
  };
  if (optionalBoolean(args, 'sortAsTree', false)) {
    // Siblings in the requested order, each followed by its children (RFC 8621 §2.3 sortAsTree).
    const children = new Map<string | null, Mailbox[]>();
    const ids = new Set(list.map((m) => m.id));
    for (const m of list) {
      const parent = m.parentId && ids.has(m.parentId) ? (m.parentId as string) : null;
      children.set(parent, [...(children.get(parent) ?? []), m]);
    }
    const ordered: Mailbox[] = [];
    const visit = (parent: string | null) => {
      for (const m of (children.get(parent) ?? []).sort(compare)) {
        ordered.push(m);
        visit(m.id as string);
      }
    };
    visit(null);
    list = ordered;
  } else list.sort((a, b) => compare(a, b) || pathOf(a, byId).join('/').localeCompare(pathOf(b, byId).join('/')));
  return {
    accountId,
    ...window(
      call,
      args,
      list.map((m) => m.id as string),
    ),
    queryState: encodeState(snapshotOf(mailboxes)),
    canCalculateChanges: false,
  };
}

/** position / anchor / anchorOffset / limit / calculateTotal of RFC 8620 §5.5 over a sorted list of ids. */
export function window(call: Call, args: Args, ids: string[]): Args {
  let position = optionalInt(args, 'position', 0);
  const anchor = optionalString(args, 'anchor');
  const requested = optionalUnsigned(args, 'limit', null);
  const limit = Math.min(requested ?? MAX_QUERY_LIMIT, MAX_QUERY_LIMIT);
  if (anchor !== null) {
    const at = ids.indexOf(resolveId(call, anchor));
    if (at < 0) throw new MethodError('anchorNotFound');
    position = Math.max(0, at + optionalInt(args, 'anchorOffset', 0));
  } else if (position < 0) position = Math.max(0, ids.length + position);
  const out: Args = { position, ids: ids.slice(position, position + limit) };
  if (optionalBoolean(args, 'calculateTotal', false)) out.total = ids.length;
  if (requested === null || requested > limit) out.limit = limit;
  return out;
}

/** A SetError (RFC 8620 §5.3). */
function setError(type: string, description?: string, properties?: string[]): Record<string, unknown> {
  return { type, ...(description ? { description } : {}), ...(properties ? { properties } : {}) };
}

/** An AppError of the mailstore as a SetError: names refused, a name taken, a system folder. */
function setErrorOf(error: unknown, property = 'name'): Record<string, unknown> {
  if (!isAppError(error)) throw error;
  const description = error.text.en;
  if (error.code === 'mailbox-has-children') return setError('mailboxHasChild', description);
  if (error.code === 'mailbox-not-found') return setError('notFound', description);
  if (error.kind === 'invalid' || error.kind === 'exists') return setError('invalidProperties', description, [property]);
  if (error.kind === 'limit' || error.kind === 'over-quota') return setError('overQuota', description);
  if (error.kind === 'conflict') return setError('forbidden', description);
  return setError('serverFail', description);
}

interface Draft {
  name?: unknown;
  parentId?: unknown;
  role?: unknown;
  isSubscribed?: unknown;
  sortOrder?: unknown;
}

const SETTABLE = ['name', 'parentId', 'role', 'isSubscribed', 'sortOrder'];

/** The full folder name a (name, parentId) pair stands for; throws a SetError object when it cannot be. */
function fullName(call: Call, draft: Draft, current: { name: string; parentId: string | null } | null, byId: Map<string, MailboxesTable>): string {
  const name = draft.name === undefined ? current?.name : draft.name;
  if (typeof name !== 'string' || name.length === 0) throw setError('invalidProperties', 'name is required', ['name']);
  if (name.includes(HIERARCHY_DELIMITER)) throw setError('invalidProperties', `a name cannot contain ${HIERARCHY_DELIMITER}`, ['name']);
  let parentId = draft.parentId === undefined ? (current?.parentId ?? null) : draft.parentId;
  if (parentId !== null && typeof parentId !== 'string') throw setError('invalidProperties', 'parentId is an id or null', ['parentId']);
  if (typeof parentId === 'string') parentId = resolveId(call, parentId);
  if (parentId === null) return name;
  const parent = byId.get(parentId as string);
  if (!parent) throw setError('invalidProperties', 'no such parent', ['parentId']);
  return `${parent.name}${HIERARCHY_DELIMITER}${name}`;
}

function checkDraft(draft: Draft, creating: boolean): void {
  for (const key of Object.keys(draft)) {
    if (!SETTABLE.includes(key)) {
      const serverSet = (PROPERTIES as readonly string[]).includes(key);
      throw setError('invalidProperties', serverSet ? `${key} is server-set` : `unknown property ${key}`, [key]);
    }
  }
  if (draft.sortOrder !== undefined && draft.sortOrder !== 0) throw setError('invalidProperties', 'this server keeps no sortOrder (0 only)', ['sortOrder']);
  if (draft.isSubscribed !== undefined && typeof draft.isSubscribed !== 'boolean')
    throw setError('invalidProperties', 'isSubscribed is a boolean', ['isSubscribed']);
  if (draft.role !== undefined && (creating ? draft.role !== null : true)) {
    throw setError('invalidProperties', 'roles come from the special-use folders and cannot be set', ['role']);
  }
}

/** RFC 8620 §5.3 /set, RFC 8621 §2.5 (onDestroyRemoveEmails, mailboxHasChild, mailboxHasEmail). */
async function setMailboxes(call: Call, args: Args): Promise<Args> {
  checkKnown(args, ['accountId', 'ifInState', 'create', 'update', 'destroy', 'onDestroyRemoveEmails']);
  const accountId = checkAccount(call, args);
  const ctx = call.app;
  const before = await accountMailboxes(ctx.db, accountId);
  const oldState = encodeState(snapshotOf(before));
  const { create, update, destroy } = setArguments(args, oldState);
  const removeEmails = optionalBoolean(args, 'onDestroyRemoveEmails', false);
  const out: Args = { accountId, oldState, created: null, updated: null, destroyed: null, notCreated: null, notUpdated: null, notDestroyed: null };
  const reload = async () => new Map((await accountMailboxes(ctx.db, accountId)).map((m) => [m.id, m]));

  let byId = new Map(before.map((m) => [m.id, m]));
  const created: Record<string, unknown> = {};
  const notCreated: Record<string, unknown> = {};
  for (const [creationId, draft] of Object.entries(create)) {
    try {
      if (!isObject(draft)) throw setError('invalidProperties', 'a Mailbox is an object');
      checkDraft(draft, true);
      const name = fullName(call, draft, null, byId);
      const mailbox = await createMailbox(ctx, accountId, name).catch((e) => {
        throw setErrorOf(e);
      });
      if (draft.isSubscribed === false) await setSubscribed(ctx, accountId, mailbox.name, false);
      call.createdIds.set(creationId, mailbox.id);
      byId = await reload();
      const [object] = (await mailboxObjects(call)).filter((m) => m.id === mailbox.id);
      created[creationId] = pick(object ?? { id: mailbox.id }, [
        'id',
        'sortOrder',
        'totalEmails',
        'unreadEmails',
        'totalThreads',
        'unreadThreads',
        'myRights',
        'isSubscribed',
        'role',
      ]);
    } catch (error) {
      if (error instanceof Error) throw error;
      notCreated[creationId] = error;
    }
  }

  const updated: Record<string, unknown> = {};
  const notUpdated: Record<string, unknown> = {};
  for (const [rawId, patch] of Object.entries(update)) {
    const id = resolveId(call, rawId);
    try {
      const mailbox = byId.get(id);
      if (!mailbox) throw setError('notFound');
      if (!isObject(patch)) throw setError('invalidProperties', 'a patch is an object');
      const role = patch.role;
      const { role: _role, ...rest } = patch;
      if (role !== undefined && role !== mailbox.special_use) throw setError('invalidProperties', 'roles cannot be changed', ['role']);
      checkDraft(rest, false);
      if (rest.name !== undefined || rest.parentId !== undefined) {
        const { parent, leaf } = lastLevel(mailbox.name);
        const parentRow = parent === null ? undefined : [...byId.values()].find((m) => m.name === parent);
        const target = fullName(call, rest, { name: parentRow ? leaf : mailbox.name, parentId: parentRow?.id ?? null }, byId);
        if (target !== mailbox.name) {
          if (target.startsWith(`${mailbox.name}${HIERARCHY_DELIMITER}`))
            throw setError('invalidProperties', 'a mailbox cannot be its own descendant', ['parentId']);
          if (mailbox.special_use === 'inbox') throw setError('forbidden', 'the inbox cannot be renamed');
          await renameMailbox(ctx, accountId, mailbox.name, target).catch((e) => {
            throw setErrorOf(e, rest.name !== undefined ? 'name' : 'parentId');
          });
        }
      }
      if (typeof rest.isSubscribed === 'boolean') {
        const current = (await reload()).get(id) as MailboxesTable;
        await setSubscribed(ctx, accountId, current.name, rest.isSubscribed);
      }
      byId = await reload();
      updated[id] = null;
    } catch (error) {
      if (error instanceof Error) throw error;
      notUpdated[rawId] = error;
    }
  }

  const destroyed: string[] = [];
  const notDestroyed: Record<string, unknown> = {};
  for (const rawId of destroy as string[]) {
    const id = resolveId(call, rawId);
    try {
      const mailbox = byId.get(id);
      if (!mailbox) throw setError('notFound');
      if (mailbox.special_use) throw setError('forbidden', 'system folders cannot be destroyed');
      if ([...byId.values()].some((m) => m.name.startsWith(`${mailbox.name}${HIERARCHY_DELIMITER}`))) throw setError('mailboxHasChild');
      if (!removeEmails) {
        const one = await ctx.db.selectFrom('messages').select('id').where('mailbox_id', '=', id).limit(1).executeTakeFirst();
        if (one) throw setError('mailboxHasEmail');
      }
      await deleteMailbox(ctx, accountId, mailbox.name).catch((e) => {
        throw setErrorOf(e);
      });
      byId = await reload();
      destroyed.push(id);
    } catch (error) {
      if (error instanceof Error) throw error;
      notDestroyed[rawId] = error;
    }
  }
  const empty = (o: Record<string, unknown>) => (Object.keys(o).length === 0 ? null : o);
  out.created = empty(created);
  out.notCreated = empty(notCreated);
  out.updated = empty(updated);
  out.notUpdated = empty(notUpdated);
  out.destroyed = destroyed.length ? destroyed : null;
  out.notDestroyed = empty(notDestroyed);
  out.newState = encodeState(snapshotOf([...byId.values()]));
  return out;
}

export const MAILBOX_METHODS: Record<string, MethodSpec> = {
  'Mailbox/get': { capability: MAIL, run: getMailboxes },
  'Mailbox/changes': { capability: MAIL, run: mailboxChanges },
  'Mailbox/query': { capability: MAIL, run: queryMailboxes },
  'Mailbox/set': { capability: MAIL, run: setMailboxes },
};
