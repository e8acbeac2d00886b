/**
 * Email/get, /changes, /set and Thread/get, /changes (RFC 8621 §3, §4) over the mailstore's messages.
 * An Email is a message row: its id is the row's id (kept when the message moves), so it is in exactly
 * one Mailbox (the session announces maxMailboxesPerEmail 1, §1.3.1). Flags are keywords (keywords.ts);
 * updates and destroys go through the functions IMAP uses (updateFlags, copyMessages with move,
 * expungeMessages), so an IMAP session sees them at once, and the other way round.
 */
import type { Readable } from 'node:stream';
import { copyMessages, expungeMessages, parseFlags, readContent, updateFlags } from '../mailstore/index.ts';
import type { MessageMetadata } from '../mime/index.ts';
import { isAppError } from '../shared/errors.ts';
import type { MessagesTable } from '../store/index.ts';
import { bodyStructureOf, bodyValueOf, headerProperty, leaves, parseHeaderProperty, type RawField, rawHeaderFields, splitBody, structurePart } from './body.ts';
import {
  type Args,
  type Call,
  CORE_LIMITS,
  checkAccount,
  checkGetSize,
  checkKnown,
  invalidArguments,
  isObject,
  MAIL,
  MAX_CHANGES,
  MethodError,
  type MethodSpec,
  optionalBoolean,
  optionalIds,
  optionalProperties,
  optionalString,
  optionalUnsigned,
  pick,
  resolveId,
  setArguments,
} from './core.ts';
import { flagOf, flagsWithKeywords, isKeyword, keywordsOf } from './keywords.ts';
import { accountMailboxes, decodeState, encodeState, messageChangesSince, snapshotOf } from './state.ts';

const DEFAULT_PROPERTIES = [
  'id',
  'blobId',
  'threadId',
  'mailboxIds',
  'keywords',
  'size',
  'receivedAt',
  'messageId',
  'inReplyTo',
  'references',
  'sender',
  'from',
  'to',
  'cc',
  'bcc',
  'replyTo',
  'subject',
  'sentAt',
  'hasAttachment',
  'preview',
  'bodyValues',
  'textBody',
  'htmlBody',
  'attachments',
];
const OTHER_PROPERTIES = ['headers', 'bodyStructure'];
const DEFAULT_BODY_PROPERTIES = ['partId', 'blobId', 'size', 'name', 'type', 'charset', 'disposition', 'cid', 'language', 'location'];
const BODY_PROPERTIES = [...DEFAULT_BODY_PROPERTIES, 'headers', 'subParts'];
/** Properties that need the message's bytes, not only its stored metadata. */
const NEEDS_CONTENT = new Set(['bodyStructure', 'textBody', 'htmlBody', 'attachments', 'bodyValues']);

/** The header forms the convenience properties stand for (RFC 8621 §4.1.2.3-§4.1.2.6). */
const CONVENIENCE: Record<string, string> = {
  messageId: 'header:Message-ID:asMessageIds',
  inReplyTo: 'header:In-Reply-To:asMessageIds',
  references: 'header:References:asMessageIds',
  sender: 'header:Sender:asAddresses',
  from: 'header:From:asAddresses',
  to: 'header:To:asAddresses',
  cc: 'header:Cc:asAddresses',
  bcc: 'header:Bcc:asAddresses',
  replyTo: 'header:Reply-To:asAddresses',
  subject: 'header:Subject:asText',
  sentAt: 'header:Date:asDate',
};

type Row = Pick<MessagesTable, 'id' | 'mailbox_id' | 'uid' | 'blob_id' | 'size' | 'internal_date' | 'flags' | 'thread_id' | 'metadata'>;

const utcDate = (millis: number) => new Date(millis).toISOString().replace(/\.\d{3}Z$/, 'Z');

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

export async function messageRows(call: Call, ids: readonly string[], metadata = true): Promise<Row[]> {
  const out: Row[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await call.app.db
      .selectFrom('messages')
      .select(['id', 'mailbox_id', 'uid', 'blob_id', 'size', 'internal_date', 'flags', 'thread_id'])
      .select((eb) => (metadata ? eb.ref('metadata').as('metadata') : eb.val('').as('metadata')))
      .where('account_id', '=', call.account.id)
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
    out.push(...(rows as Row[]));
  }
  return out;
}

function checkBodyOptions(args: Args) {
  const bodyProperties =
    optionalProperties(args, 'bodyProperties', (p) => BODY_PROPERTIES.includes(p) || parseHeaderProperty(p) !== undefined) ?? DEFAULT_BODY_PROPERTIES;
  return {
    bodyProperties,
    fetchText: optionalBoolean(args, 'fetchTextBodyValues', false),
    fetchHtml: optionalBoolean(args, 'fetchHTMLBodyValues', false),
    fetchAll: optionalBoolean(args, 'fetchAllBodyValues', false),
    maxBytes: optionalUnsigned(args, 'maxBodyValueBytes', 0) ?? 0,
  };
}

/** RFC 8620 §5.1 /get with RFC 8621 §4.2's body arguments. */
async function getEmails(call: Call, args: Args): Promise<Args> {
  checkKnown(args, [
    'accountId',
    'ids',
    'properties',
    'bodyProperties',
    'fetchTextBodyValues',
    'fetchHTMLBodyValues',
    'fetchAllBodyValues',
    'maxBodyValueBytes',
  ]);
  const accountId = checkAccount(call, args);
  let ids = optionalIds(call, args, 'ids');
  checkGetSize(ids);
  const properties =
    optionalProperties(args, 'properties', (p) => DEFAULT_PROPERTIES.includes(p) || OTHER_PROPERTIES.includes(p) || parseHeaderProperty(p) !== undefined) ??
    DEFAULT_PROPERTIES;
  const body = checkBodyOptions(args);
  const mailboxes = await accountMailboxes(call.app.db, accountId);
  const state = encodeState(snapshotOf(mailboxes));
  if (ids === null) {
    const all = await call.app.db
      .selectFrom('messages')
      .select('id')
      .where('account_id', '=', accountId)
      .limit(CORE_LIMITS.maxObjectsInGet + 1)
      .execute();
    if (all.length > CORE_LIMITS.maxObjectsInGet) throw new MethodError('requestTooLarge', 'too many Emails to get them all: ask for ids');
    ids = all.map((r) => r.id);
  }
  const unique = [...new Set(ids)];
  const rows = new Map((await messageRows(call, unique)).map((r) => [r.id, r]));
  const list: Array<Record<string, unknown>> = [];
  const notFound: string[] = [];
  for (const id of unique) {
    const row = rows.get(id);
    if (!row) {
      notFound.push(id);
      continue;
    }
    list.push(await emailObject(call, row, properties, body));
  }
  return { accountId, state, list, notFound };
}

async function emailObject(call: Call, row: Row, properties: readonly string[], body: ReturnType<typeof checkBodyOptions>): Promise<Record<string, unknown>> {
  const metadata = JSON.parse(row.metadata) as MessageMetadata;
  // The convenience properties (§4.1.2.3-6) read the fields kept in the metadata (unfolded); `headers` and
  // explicit `header:` properties read the header block as written (Raw form, names as in the message).
  const fields: RawField[] = Object.entries(metadata.headerFields).flatMap(([name, values]) => values.map((value) => ({ name, value })));
  const needsContent = properties.some((p) => NEEDS_CONTENT.has(p));
  const raw = needsContent ? await readAll(readContent(call.app, row.blob_id)) : undefined;
  const needsHeader = properties.some((p) => p === 'headers' || p.startsWith('header:'));
  const written = needsHeader
    ? rawHeaderFields(raw ? raw.subarray(0, metadata.headerSize) : await readAll(readContent(call.app, row.blob_id, { start: 0, end: metadata.headerSize })))
    : [];
  const out: Record<string, unknown> = { id: row.id };
  let parts: ReturnType<typeof splitBody> | undefined;
  let structure: ReturnType<typeof bodyStructureOf> | undefined;
  const partsOf = () => {
    structure ??= bodyStructureOf(raw as Buffer, metadata.bodyStructure, row.blob_id);
    parts ??= splitBody(structure);
    return parts;
  };
  const shape = (part: ReturnType<typeof bodyStructureOf>): Record<string, unknown> => {
    const shaped: Record<string, unknown> = {};
    for (const p of body.bodyProperties) {
      const header = parseHeaderProperty(p);
      if (header) shaped[p] = headerProperty(part.headers, header);
      else if (p !== 'subParts') shaped[p] = (part as unknown as Record<string, unknown>)[p];
    }
    // RFC 8621 §4.1.4: a multipart's subParts are always there, whatever bodyProperties says.
    if (part.subParts) shaped.subParts = part.subParts.map(shape);
    return shaped;
  };
  for (const property of properties) {
    switch (property) {
      case 'id':
        break;
      case 'blobId':
        out.blobId = row.blob_id;
        break;
      case 'threadId':
        out.threadId = row.thread_id ?? row.id;
        break;
      case 'mailboxIds':
        out.mailboxIds = { [row.mailbox_id]: true };
        break;
      case 'keywords':
        out.keywords = keywordsOf(parseFlags(row.flags));
        break;
      case 'size':
        out.size = Number(row.size);
        break;
      case 'receivedAt':
        out.receivedAt = utcDate(Number(row.internal_date));
        break;
      case 'hasAttachment':
        out.hasAttachment = metadata.summary.hasAttachments;
        break;
      case 'preview':
        out.preview = metadata.summary.preview;
        break;
      case 'headers':
        out.headers = written;
        break;
      case 'bodyStructure':
        partsOf();
        out.bodyStructure = shape(structure as ReturnType<typeof bodyStructureOf>);
        break;
      case 'textBody':
        out.textBody = partsOf().textBody.map(shape);
        break;
      case 'htmlBody':
        out.htmlBody = partsOf().htmlBody.map(shape);
        break;
      case 'attachments':
        out.attachments = partsOf().attachments.map(shape);
        break;
      case 'bodyValues': {
        const { textBody, htmlBody } = partsOf();
        const wanted = new Set<string>();
        const isText = (p: { type: string }) => p.type.startsWith('text/');
        if (body.fetchText) for (const p of textBody) if (isText(p) && p.partId) wanted.add(p.partId);
        if (body.fetchHtml) for (const p of htmlBody) if (isText(p) && p.partId) wanted.add(p.partId);
        if (body.fetchAll) for (const p of leaves(structure as ReturnType<typeof bodyStructureOf>)) if (isText(p) && p.partId) wanted.add(p.partId);
        const values: Record<string, unknown> = {};
        for (const partId of wanted) {
          const part = structurePart(metadata.bodyStructure, partId);
          if (part) values[partId] = bodyValueOf(raw as Buffer, part, body.maxBytes);
        }
        out.bodyValues = values;
        break;
      }
      default: {
        const convenience = CONVENIENCE[property];
        const header = parseHeaderProperty(convenience ?? property);
        if (header) out[property] = headerProperty(convenience ? fields : written, header);
      }
    }
  }
  return out;
}

/** RFC 8620 §5.2 /changes for Emails (RFC 8621 §4.3). */
async function emailChanges(call: Call, args: Args): Promise<Args> {
  return changesOf(call, args, 'emails');
}

/** RFC 8621 §3.2 Thread/changes. */
async function threadChangesMethod(call: Call, args: Args): Promise<Args> {
  return changesOf(call, args, 'threads');
}

async function changesOf(call: Call, args: Args, kind: 'emails' | 'threads'): Promise<Args> {
  checkKnown(args, ['accountId', 'sinceState', 'maxChanges']);
  const accountId = checkAccount(call, args);
  const sinceState = optionalString(args, 'sinceState');
  if (sinceState === null) throw invalidArguments('sinceState is required');
  const maxChanges = optionalUnsigned(args, 'maxChanges', null);
  if (maxChanges === 0) throw invalidArguments('maxChanges must be above 0');
  const since = decodeState(sinceState);
  const mailboxes = await accountMailboxes(call.app.db, accountId);
  const changes = (await messageChangesSince(call.app.db, accountId, since, mailboxes))[kind];
  const total = changes.created.length + changes.updated.length + changes.destroyed.length;
  // RFC 8620 §5.2: never more than maxChanges; without an intermediate state to offer, the client starts again.
  if (total > Math.min(maxChanges ?? MAX_CHANGES, MAX_CHANGES)) throw new MethodError('cannotCalculateChanges', 'too many changes: fetch again');
  return { accountId, oldState: sinceState, newState: encodeState(snapshotOf(mailboxes)), hasMoreChanges: false, ...changes };
}

/** RFC 8621 §3.1 Thread/get: the Emails of each conversation, oldest received first. */
async function getThreads(call: Call, args: Args): Promise<Args> {
  checkKnown(args, ['accountId', 'ids', 'properties']);
  const accountId = checkAccount(call, args);
  const ids = optionalIds(call, args, 'ids');
  if (ids === null) throw new MethodError('requestTooLarge', 'ask for Threads by id');
  checkGetSize(ids);
  const properties = optionalProperties(args, 'properties', (p) => p === 'id' || p === 'emailIds') ?? ['id', 'emailIds'];
  const mailboxes = await accountMailboxes(call.app.db, accountId);
  const members = new Map<string, string[]>();
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += 500) {
    const part = unique.slice(i, i + 500);
    const rows = await call.app.db
      .selectFrom('messages')
      .select(['id', 'thread_id', 'internal_date'])
      .where('account_id', '=', accountId)
      .where((eb) => eb.or([eb('thread_id', 'in', part), eb.and([eb('thread_id', 'is', null), eb('id', 'in', part)])]))
      .orderBy('internal_date')
      .orderBy('id')
      .execute();
    for (const row of rows) {
      const thread = row.thread_id ?? row.id;
      members.set(thread, [...(members.get(thread) ?? []), row.id]);
    }
  }
  const list = unique
    .filter((id) => members.has(id))
    .map((id) => pick({ id, emailIds: members.get(id) }, properties.includes('id') ? properties : ['id', ...properties]));
  return { accountId, state: encodeState(snapshotOf(mailboxes)), list, notFound: unique.filter((id) => !members.has(id)) };
}

function setError(type: string, description?: string, properties?: string[]): Record<string, unknown> {
  return { type, ...(description ? { description } : {}), ...(properties ? { properties } : {}) };
}

interface EmailPatch {
  keywords?: string[];
  addKeywords: string[];
  removeKeywords: string[];
  mailboxIds?: string[];
  addMailboxes: string[];
  removeMailboxes: string[];
}

/** A PatchObject on keywords and mailboxIds (RFC 8620 §5.3, RFC 8621 §4.6); anything else is invalidProperties. */
function readPatch(call: Call, patch: Record<string, unknown>): EmailPatch {
  const out: EmailPatch = { addKeywords: [], removeKeywords: [], addMailboxes: [], removeMailboxes: [] };
  const keywordMap = (value: unknown, property: string): string[] => {
    if (!isObject(value)) throw setError('invalidProperties', `${property} is a map`, [property]);
    const keys = Object.keys(value);
    if (!keys.every((k) => value[k] === true)) throw setError('invalidProperties', `${property} values are true`, [property]);
    return keys;
  };
  for (const [path, value] of Object.entries(patch)) {
    // RFC 8620 §5.3: a patch path is a JSON Pointer without its leading slash (~1 is '/', ~0 is '~').
    const unpointer = (token: string) => token.replace(/~1/g, '/').replace(/~0/g, '~');
    if (path === 'keywords') {
      const keys = keywordMap(value, 'keywords');
      if (!keys.every(isKeyword)) throw setError('invalidProperties', 'not a keyword', ['keywords']);
      out.keywords = keys.map((k) => k.toLowerCase());
    } else if (path.startsWith('keywords/')) {
      const keyword = unpointer(path.slice(9));
      if (!isKeyword(keyword)) throw setError('invalidProperties', 'not a keyword', [path]);
      if (value === true) out.addKeywords.push(keyword.toLowerCase());
      else if (value === null) out.removeKeywords.push(keyword.toLowerCase());
      else throw setError('invalidProperties', 'a keyword is set to true or null', [path]);
    } else if (path === 'mailboxIds') {
      out.mailboxIds = keywordMap(value, 'mailboxIds').map((id) => resolveId(call, id));
    } else if (path.startsWith('mailboxIds/')) {
      const id = resolveId(call, unpointer(path.slice(11)));
      if (value === true) out.addMailboxes.push(id);
      else if (value === null) out.removeMailboxes.push(id);
      else throw setError('invalidProperties', 'a mailbox is set to true or null', [path]);
    } else {
      const property = path.split('/')[0] as string;
      const known = DEFAULT_PROPERTIES.includes(property) || OTHER_PROPERTIES.includes(property) || property.startsWith('header:');
      throw setError('invalidProperties', known ? `${property} is immutable` : `unknown property ${property}`, [path]);
    }
  }
  if ((out.keywords && (out.addKeywords.length || out.removeKeywords.length)) || (out.mailboxIds && (out.addMailboxes.length || out.removeMailboxes.length))) {
    throw setError('invalidPatch', 'a property is set whole and patched in one update');
  }
  return out;
}

function setErrorOf(error: unknown): Record<string, unknown> {
  if (!isAppError(error)) throw error;
  if (error.kind === 'over-quota') return setError('overQuota', error.text.en);
  if (error.kind === 'not-found') return setError('notFound', error.text.en);
  return setError('serverFail', error.text.en);
}

/** RFC 8620 §5.3 /set for Emails (RFC 8621 §4.6): keyword and mailbox updates, destroy. */
async function setEmails(call: Call, args: Args): Promise<Args> {
  checkKnown(args, ['accountId', 'ifInState', 'create', 'update', 'destroy']);
  const accountId = checkAccount(call, args);
  const ctx = call.app;
  const mailboxes = await accountMailboxes(ctx.db, accountId);
  const oldState = encodeState(snapshotOf(mailboxes));
  const { create, update, destroy } = setArguments(args, oldState);
  const byId = new Map(mailboxes.map((m) => [m.id, m]));

  const notCreated: Record<string, unknown> = {};
  for (const creationId of Object.keys(create)) {
    notCreated[creationId] = setError('forbidden', 'creating Emails (drafts, import) is not available yet on this server');
  }

  const updated: Record<string, unknown> = {};
  const notUpdated: Record<string, unknown> = {};
  const updateIds = Object.keys(update).map((id) => resolveId(call, id));
  const rows = new Map((await messageRows(call, [...updateIds, ...(destroy as string[]).map((id) => resolveId(call, id))], false)).map((r) => [r.id, r]));
  for (const [rawId, patch] of Object.entries(update)) {
    const id = resolveId(call, rawId);
    try {
      const row = rows.get(id);
      if (!row) throw setError('notFound');
      if (!isObject(patch)) throw setError('invalidPatch', 'a patch is an object');
      const change = readPatch(call, patch);
      const set = new Set(change.mailboxIds ?? [row.mailbox_id]);
      for (const m of change.removeMailboxes) set.delete(m);
      for (const m of change.addMailboxes) set.add(m);
      const targets = [...set];
      if (targets.length === 0) throw setError('invalidProperties', 'an Email is in at least one Mailbox', ['mailboxIds']);
      if (targets.length > 1) throw setError('tooManyMailboxes', 'an Email is in one Mailbox on this server (maxMailboxesPerEmail)', ['mailboxIds']);
      const target = byId.get(targets[0] as string);
      if (!target) throw setError('invalidProperties', 'no such Mailbox', ['mailboxIds']);
      const scope = { accountId, mailboxId: row.mailbox_id };
      const uid = Number(row.uid);
      try {
        if (change.keywords) await updateFlags(ctx, scope, [uid], { mode: 'set', flags: flagsWithKeywords(parseFlags(row.flags), change.keywords) });
        if (change.addKeywords.length) await updateFlags(ctx, scope, [uid], { mode: 'add', flags: change.addKeywords.map(flagOf) });
        if (change.removeKeywords.length) await updateFlags(ctx, scope, [uid], { mode: 'remove', flags: change.removeKeywords.map(flagOf) });
        if (target.id !== row.mailbox_id) await copyMessages(ctx, scope, [uid], target, { move: true });
      } catch (error) {
        throw setErrorOf(error);
      }
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
    const row = rows.get(id);
    if (!row) {
      notDestroyed[rawId] = setError('notFound');
      continue;
    }
    try {
      await expungeMessages(ctx, { accountId, mailboxId: row.mailbox_id }, [Number(row.uid)], { flagged: false });
      destroyed.push(id);
    } catch (error) {
      notDestroyed[rawId] = setErrorOf(error);
    }
  }
  const empty = (o: Record<string, unknown>) => (Object.keys(o).length === 0 ? null : o);
  return {
    accountId,
    oldState,
    newState: encodeState(snapshotOf(await accountMailboxes(ctx.db, accountId))),
    created: null,
    notCreated: empty(notCreated),
    updated: empty(updated),
    notUpdated: empty(notUpdated),
    destroyed: destroyed.length ? destroyed : null,
    notDestroyed: empty(notDestroyed),
  };
}

export const EMAIL_METHODS: Record<string, MethodSpec> = {
  'Email/get': { capability: MAIL, run: getEmails },
  'Email/changes': { capability: MAIL, run: emailChanges },
  'Email/set': { capability: MAIL, run: setEmails },
  'Thread/get': { capability: MAIL, run: getThreads },
  'Thread/changes': { capability: MAIL, run: threadChangesMethod },
};
