/**
 * Mail sent on by a mailing list (R-T4), as list recipients expect it:
 *
 * - Header fields: List-Id (RFC 2919 §2: `list-label.list-id-namespace`, here the list's local part
 *   and domain), List-Post, List-Help and List-Unsubscribe (RFC 2369 §3). Members are managed by the
 *   customer's admins, so help and unsubscribe requests go to the domain's postmaster (who reaches its
 *   technical contact, RFC 5321 §4.5.1), with the list named in the subject; List-Owner names the
 *   moderators when the list has some. The list's copy is its own stored message: the poster's other
 *   recipients get the message without these fields. It is prepared before the poster's message commits
 *   (`planListCopies`) and written in that message's transaction (`sendListCopiesIn`): one commit.
 * - Envelope sender: a bounce address of the list per member (VERP), never the poster, so a bounce
 *   comes back to the service, is counted for the member and reaches no one:
 *   `<list-local>+bounces-<token>@<list-domain>`, where the token is 16 base-32 characters of
 *   HMAC-SHA256(secret, list id + member): it names the member without showing its address, and
 *   cannot be forged to count bounces against someone. The secret is the one of SRS (srs.ts).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { AppContext } from '../context.ts';
import { type DeliveryResult, fileMessageIn, type IncomingMessage, messageFiled, type PlannedFiling, planFiling, receiveMessage } from '../mailstore/index.ts';
import { type Address, addressKey, MAX_LOCAL_PART_LENGTH, normalizeAddress } from '../shared/addresses.ts';
import type { Database } from '../store/index.ts';
import { recordTrace, recordTraceIn, type TraceEvent } from '../trace/index.ts';
import { outboundQueued, type PlannedOutbound, planOutbound, queueOutboundIn } from './queue.ts';
import type { LocalTarget } from './routing.ts';
import { srsSecret } from './srs.ts';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const TOKEN_LENGTH = 16;
/** `+bounces-` after the list's local part, then the token: what a list bounce address looks like. */
const BOUNCE_LOCAL = new RegExp(`^(.+)\\+bounces-([a-z2-7]{${TOKEN_LENGTH}})$`);

/** A DSN's content read to recognise it: a report beyond this is not read further (its status fields come first). */
const MAX_DSN_SCAN_BYTES = 256 * 1024;

export interface ListOfMail {
  id: string;
  customerId: string;
  /** The list's address key (lower-cased local part, ASCII domain). */
  address: string;
  name: string;
  moderators: string[];
}

export async function loadListOfMail(ctx: AppContext, listId: string): Promise<ListOfMail | undefined> {
  const row = await ctx.db.selectFrom('lists').select(['id', 'customer_id', 'address', 'name', 'moderators']).where('id', '=', listId).executeTakeFirst();
  if (!row) return undefined;
  let moderators: string[] = [];
  try {
    const parsed: unknown = JSON.parse(row.moderators);
    if (Array.isArray(parsed)) moderators = parsed.filter((m): m is string => typeof m === 'string');
  } catch {}
  return { id: row.id, customerId: row.customer_id, address: row.address, name: row.name, moderators };
}

function splitKey(key: string): { local: string; domain: string } {
  const at = key.lastIndexOf('@');
  return { local: key.slice(0, at), domain: key.slice(at + 1) };
}

/** RFC 2919 §2: the list-id is a dot-atom; characters outside atext become '-'. */
export function listIdOf(list: Pick<ListOfMail, 'address'>): string {
  const { local, domain } = splitKey(list.address);
  return `${local.replace(/[^A-Za-z0-9!#$%&'*+/=?^_`{|}~-]/g, '-')}.${domain}`;
}

/** A phrase for List-Id: quoted, printable ASCII only (no header injection, no encoded words to get wrong). */
function phrase(name: string): string {
  const clean = name
    .replace(/[^\x20-\x7e]/g, '')
    .replace(/["\\]/g, '')
    .trim();
  return clean ? `"${clean}" ` : '';
}

/** The RFC 2369 / RFC 2919 header fields of a list's copies, CRLF-terminated. */
export function listHeaderFields(list: ListOfMail): string {
  const { domain } = splitKey(list.address);
  const about = encodeURIComponent(list.address);
  const fields = [
    `List-Id: ${phrase(list.name)}<${listIdOf(list)}>`,
    `List-Post: <mailto:${list.address}>`,
    `List-Help: <mailto:postmaster@${domain}?subject=help%20${about}>`,
    `List-Unsubscribe: <mailto:postmaster@${domain}?subject=unsubscribe%20${about}>`,
  ];
  if (list.moderators.length > 0) fields.push(`List-Owner: ${list.moderators.map((m) => `<mailto:${m}>`).join(', ')}`);
  return `${fields.join('\r\n')}\r\n`;
}

function tokenOf(secret: string, listId: string, member: string): string {
  const mac = createHmac('sha256', secret).update(`list-bounce\u0000${listId}\u0000${member.toLowerCase()}`).digest();
  let out = '';
  for (let i = 0; i < TOKEN_LENGTH; i++) out += BASE32[(mac[i] as number) & 31];
  return out;
}

/** The envelope sender of a member's copy; the null sender if the list's local part leaves no room for the token. */
export async function listBounceAddress(ctx: AppContext, list: Pick<ListOfMail, 'id' | 'address'>, member: string): Promise<string> {
  const { local, domain } = splitKey(list.address);
  const bounceLocal = `${local}+bounces-${tokenOf(await srsSecret(ctx), list.id, member)}`;
  if (new TextEncoder().encode(bounceLocal).length > MAX_LOCAL_PART_LENGTH) return '';
  return `${bounceLocal}@${domain}`;
}

/** The list part of a local part that looks like a list bounce address, and its token. */
export function bounceParts(address: Address): { listKey: string; token: string } | undefined {
  const match = BOUNCE_LOCAL.exec(address.local.toLowerCase());
  if (!match) return undefined;
  return { listKey: `${match[1]}@${address.domain}`, token: match[2] as string };
}

/** The member a bounce token names, among the list's current members; undefined for a forged or stale token. */
export async function memberOfBounceToken(ctx: AppContext, listId: string, token: string): Promise<string | undefined> {
  const secret = await srsSecret(ctx);
  const members = await ctx.db.selectFrom('list_members').select('address').where('list_id', '=', listId).execute();
  const given = Buffer.from(token);
  for (const { address } of members) {
    const expected = Buffer.from(tokenOf(secret, listId, address));
    if (expected.length === given.length && timingSafeEqual(expected, given)) return address;
  }
  return undefined;
}

/** Counts a bounce against a list member (R-T4) and traces it; the poster hears nothing of it. */
export async function recordListBounce(
  ctx: AppContext,
  bounce: { listId: string; member: string; customerId: string | null; sessionId?: string | null; messageId?: string | null; detail?: Record<string, unknown> },
): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db
    .updateTable('list_members')
    .set((eb) => ({ bounce_count: eb('bounce_count', '+', 1), last_bounce_at: now }))
    .where('list_id', '=', bounce.listId)
    .where('address', '=', bounce.member)
    .execute();
  ctx.log.info({ event: 'delivery.list_bounce', list: bounce.listId, member: bounce.member }, 'delivery.list_bounce');
  await recordTrace(ctx, [
    {
      step: 'bounced',
      direction: 'inbound',
      customerId: bounce.customerId,
      sessionId: bounce.sessionId ?? null,
      messageId: bounce.messageId ?? null,
      sender: '',
      recipient: bounce.member,
      detail: { list: bounce.listId, ...bounce.detail },
    },
  ]);
}

/**
 * Whether a message sent to a list bounce address is a failure report: an RFC 3464 DSN
 * (multipart/report; report-type=delivery-status) with a recipient whose Action is failed. Delay
 * notices and anything else (auto-replies, RFC 3834, also go to the envelope sender) count for nothing.
 */
export async function isFailureReport(content: AsyncIterable<Uint8Array>): Promise<boolean> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of content) {
    chunks.push(Buffer.from(chunk));
    size += chunk.length;
    if (size >= MAX_DSN_SCAN_BYTES) break;
  }
  const text = Buffer.concat(chunks).toString('latin1');
  const headerEnd = text.search(/\r?\n\r?\n/);
  const header = (headerEnd >= 0 ? text.slice(0, headerEnd) : text).replace(/\r?\n[ \t]+/g, ' ');
  const type = /^content-type:(.*)$/im.exec(header)?.[1] ?? '';
  if (!/multipart\/report/i.test(type) || !/report-type\s*=\s*"?delivery-status/i.test(type)) return false;
  return /^action:\s*failed\b/im.test(text);
}

export interface ListCopies {
  list: ListOfMail;
  /** The address the poster used (the list, an alias leading to it, a domain alias of it). */
  recipient: string;
  accounts: LocalTarget[];
  external: string[];
}

/** A list's copies ready to be sent, with everything that reads or computes done outside any transaction. */
export interface PlannedListCopies {
  list: ListOfMail;
  /** The list's own message (the poster's, after the list's fields) and its local members' copies. */
  filing: PlannedFiling;
  /** A queue row per remote member, each with that member's bounce address as envelope sender. */
  outbound: PlannedOutbound | undefined;
  trace: ((results: DeliveryResult[]) => TraceEvent[]) | undefined;
}

/** What `sendListCopiesIn` wrote: the local members' copies and the queue rows' ids. */
export interface ListCopiesSent {
  results: DeliveryResult[];
  queued: string[];
}

/**
 * Prepares a list's copies outside any transaction: its header fields before the message, stored as
 * a message of its own (receiveMessage), its searchable text and keys, a bounce address per remote
 * member. Undefined when there is nothing to send (every member addressed directly, held, or none).
 */
export async function planListCopies(
  ctx: AppContext,
  copies: ListCopies,
  input: {
    content: () => AsyncIterable<Uint8Array>;
    maxBytes: number;
    messageId: string | null;
    sessionId: string;
    /** Local members whose copy goes to the inbox (the others were held by the filter). */
    inbox: (target: LocalTarget) => boolean;
    trace?: (message: IncomingMessage, results: DeliveryResult[]) => TraceEvent[];
  },
): Promise<PlannedListCopies | undefined> {
  const { list } = copies;
  const deliveries = copies.accounts.filter(input.inbox).map((t) => ({ accountId: t.accountId }));
  if (deliveries.length === 0 && copies.external.length === 0) return undefined;
  const fields = Buffer.from(listHeaderFields(list));
  async function* withFields() {
    yield fields;
    yield* input.content();
  }
  const message = await receiveMessage(ctx, withFields(), { maxBytes: input.maxBytes + fields.length });
  const senders = await Promise.all(copies.external.map((member) => listBounceAddress(ctx, list, member)));
  const outbound =
    copies.external.length > 0
      ? await planOutbound(ctx, {
          customerId: list.customerId,
          sender: '',
          recipientSenders: senders,
          recipients: copies.external,
          blob: message.blob,
          messageId: input.messageId,
          origin: { sessionId: input.sessionId, via: list.address },
        })
      : undefined;
  const trace = input.trace;
  return {
    list,
    filing: await planFiling(ctx, message, deliveries),
    outbound,
    trace: trace ? (results) => trace(message, results) : undefined,
  };
}

/**
 * Sends a planned list's copies in the caller's transaction (the poster's message's own, so the
 * message and its list's copies commit together or not at all): the list's message filed for the
 * local members, a queue row per remote member, and their trace steps. Once it has committed, the
 * caller calls `listCopiesSent`. Safe to run again in a new transaction.
 */
export async function sendListCopiesIn(ctx: AppContext, trx: Transaction<Database>, plan: PlannedListCopies): Promise<ListCopiesSent> {
  const results = await fileMessageIn(ctx, trx, plan.filing);
  const queued = plan.outbound ? await queueOutboundIn(ctx, trx, plan.outbound) : [];
  if (plan.trace) await recordTraceIn(ctx, trx, plan.trace(results));
  return { results, queued };
}

/**
 * After the commit of `sendListCopiesIn` for each of a message's lists (`sent[i]` for `plans[i]`): the
 * change feed for the local copies, the workers for the queued ones. Returns how many copies were sent.
 */
export function listCopiesSent(ctx: AppContext, plans: readonly PlannedListCopies[], sent: readonly ListCopiesSent[]): number {
  let copies = 0;
  for (const [i, plan] of plans.entries()) {
    const one = sent[i] ?? { results: [], queued: [] };
    messageFiled(ctx, one.results);
    if (plan.outbound) outboundQueued(ctx, plan.outbound, one.queued);
    copies += one.results.filter((r) => r.ok).length + one.queued.length;
  }
  return copies;
}

/** The trace step of an alias or a list: who it led to (R-M6), so the message is found by the alias's address too. */
export function expansionStep(
  common: Pick<TraceEvent, 'direction' | 'sessionId' | 'messageId' | 'sender'>,
  expansion: { customerId: string | null; recipient: string; kind: 'alias' | 'list'; accounts: LocalTarget[]; external: string[] },
): TraceEvent {
  return {
    ...common,
    step: 'expanded',
    customerId: expansion.customerId,
    recipient: addressKeyOrSelf(expansion.recipient),
    detail: { kind: expansion.kind, to: [...expansion.accounts.map((a) => a.address), ...expansion.external] },
  };
}

function addressKeyOrSelf(address: string): string {
  const parsed = normalizeAddress(address);
  return parsed ? addressKey(parsed) : address.toLowerCase();
}
