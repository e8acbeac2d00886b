/**
 * Mailing lists (R-T4): an address at one of the subscription's domains, its members, and who may
 * post (members only, anyone, or moderators). Delivery to members is the mail-flow's business.
 */
import type { AppContext } from '../context.ts';
import { addressKey, parseAddress } from '../shared/addresses.ts';
import { invalid, text } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { ListsTable } from '../store/index.ts';
import { domainOfSubscription } from './accounts.ts';
import { parseAddressList } from './aliases.ts';
import { claimAddress, ensureFound, parseJsonArray, releaseAddress, requireText, type Scope } from './common.ts';
import { getSubscriptionRow } from './subscriptions.ts';

export const POSTING_POLICIES = ['members', 'anyone', 'moderators'] as const;
export const MAX_MEMBERS = 10_000;

export interface ListView {
  id: string;
  address: string;
  customerId: string;
  domainId: string;
  name: string;
  postingPolicy: ListsTable['posting_policy'];
  moderators: string[];
  members: string[];
  /** Each member with the bounces counted from its copies (list bounce addresses, delivery/list-mail.ts). */
  memberDetails: { address: string; bounceCount: number; lastBounceAt: string | null }[];
  createdAt: string;
}

async function listView(ctx: AppContext, row: ListsTable): Promise<ListView> {
  const members = await ctx.db
    .selectFrom('list_members')
    .select(['address', 'bounce_count', 'last_bounce_at'])
    .where('list_id', '=', row.id)
    .orderBy('address')
    .execute();
  return {
    id: row.id,
    address: row.address,
    customerId: row.customer_id,
    domainId: row.domain_id,
    name: row.name,
    postingPolicy: row.posting_policy,
    moderators: parseJsonArray(row.moderators),
    members: members.map((m) => m.address),
    memberDetails: members.map((m) => ({
      address: m.address,
      bounceCount: Number(m.bounce_count ?? 0),
      lastBounceAt: m.last_bounce_at ? new Date(Number(m.last_bounce_at)).toISOString() : null,
    })),
    createdAt: new Date(row.created_at).toISOString(),
  };
}

function checkPolicy(policy: string | undefined): ListsTable['posting_policy'] {
  const value = policy ?? 'members';
  if (!(POSTING_POLICIES as readonly string[]).includes(value)) {
    throw invalid(
      'invalid-posting-policy',
      'postingPolicy',
      `Who may post is one of ${POSTING_POLICIES.join(', ')}`,
      `Qui peut écrire est l'un de ${POSTING_POLICIES.join(', ')}`,
    );
  }
  return value as ListsTable['posting_policy'];
}

export interface ListInput {
  address?: string;
  name?: string;
  postingPolicy?: string;
  moderators?: string[];
  members?: string[];
}

export async function createList(ctx: AppContext, scope: Scope, subscriptionId: string, input: ListInput): Promise<ListView> {
  const subscription = await getSubscriptionRow(ctx.db, scope, subscriptionId);
  const address = parseAddress(input.address ?? '', 'address');
  const key = addressKey(address);
  const domainId = await domainOfSubscription(ctx.db, subscriptionId, address.domain);
  const members = parseAddressList(input.members, 'members', MAX_MEMBERS, true);
  if (members.includes(key)) throw invalid('list-loop', 'members', 'A list cannot be its own member', 'Une liste ne peut pas être membre d’elle-même');
  const now = ctx.clock.now();
  const row: ListsTable = {
    customer_id: subscription.customer_id,
    id: newId('lst'),
    domain_id: domainId,
    address: key,
    name: requireText(input.name ?? address.local, 'name', 200, text('The list name', 'Le nom de la liste')),
    posting_policy: checkPolicy(input.postingPolicy),
    moderators: JSON.stringify(parseAddressList(input.moderators, 'moderators', 100, true)),
    created_at: now,
  };
  await ctx.db.transaction().execute(async (trx) => {
    await claimAddress(trx, { address: key, customer_id: row.customer_id, kind: 'list', owner_id: row.id });
    await trx.insertInto('lists').values(row).execute();
    for (let i = 0; i < members.length; i += 500) {
      const batch = members.slice(i, i + 500).map((member) => ({ customer_id: row.customer_id, list_id: row.id, address: member, created_at: now }));
      await trx.insertInto('list_members').values(batch).execute();
    }
  });
  return listView(ctx, row);
}

async function getListRow(ctx: AppContext, scope: Scope, id: string): Promise<ListsTable> {
  let query = ctx.db.selectFrom('lists').selectAll().where('id', '=', id);
  if (scope !== null) query = query.where('customer_id', '=', scope);
  return ensureFound(await query.executeTakeFirst(), text('No such mailing list', 'Liste de diffusion introuvable'));
}

export async function getList(ctx: AppContext, scope: Scope, id: string): Promise<ListView> {
  return listView(ctx, await getListRow(ctx, scope, id));
}

export async function listLists(ctx: AppContext, scope: Scope, subscriptionId: string): Promise<ListView[]> {
  await getSubscriptionRow(ctx.db, scope, subscriptionId);
  const rows = await ctx.db
    .selectFrom('lists')
    .innerJoin('domains', 'domains.id', 'lists.domain_id')
    .selectAll('lists')
    .where('domains.subscription_id', '=', subscriptionId)
    .orderBy('lists.address')
    .execute();
  return Promise.all(rows.map((row) => listView(ctx, row)));
}

export async function updateList(ctx: AppContext, scope: Scope, id: string, input: ListInput): Promise<ListView> {
  const row = await getListRow(ctx, scope, id);
  const next: ListsTable = {
    ...row,
    name: input.name !== undefined ? requireText(input.name, 'name', 200, text('The list name', 'Le nom de la liste')) : row.name,
    posting_policy: input.postingPolicy !== undefined ? checkPolicy(input.postingPolicy) : row.posting_policy,
    moderators: input.moderators !== undefined ? JSON.stringify(parseAddressList(input.moderators, 'moderators', 100, true)) : row.moderators,
  };
  await ctx.db.updateTable('lists').set({ name: next.name, posting_policy: next.posting_policy, moderators: next.moderators }).where('id', '=', id).execute();
  return listView(ctx, next);
}

export async function addListMembers(ctx: AppContext, scope: Scope, id: string, addresses: string[]): Promise<ListView> {
  const row = await getListRow(ctx, scope, id);
  const members = parseAddressList(addresses, 'members', MAX_MEMBERS);
  if (members.includes(row.address)) throw invalid('list-loop', 'members', 'A list cannot be its own member', 'Une liste ne peut pas être membre d’elle-même');
  const count = await ctx.db
    .selectFrom('list_members')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('list_id', '=', id)
    .executeTakeFirstOrThrow();
  if (Number(count.n) + members.length > MAX_MEMBERS) {
    throw invalid('too-many-members', 'members', `A list has at most ${MAX_MEMBERS} members`, `Une liste compte au plus ${MAX_MEMBERS} membres`);
  }
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    for (const member of members) {
      await trx
        .insertInto('list_members')
        .values({ customer_id: row.customer_id, list_id: id, address: member, created_at: now })
        .onConflict((oc) => oc.columns(['list_id', 'address']).doNothing())
        .execute();
    }
  });
  return listView(ctx, row);
}

export async function removeListMember(ctx: AppContext, scope: Scope, id: string, address: string): Promise<ListView> {
  const row = await getListRow(ctx, scope, id);
  const key = addressKey(parseAddress(address, 'address'));
  const result = await ctx.db.deleteFrom('list_members').where('list_id', '=', id).where('address', '=', key).executeTakeFirst();
  ensureFound(Number(result.numDeletedRows) > 0 ? true : undefined, text('Not a member of this list', 'Pas membre de cette liste'));
  return listView(ctx, row);
}

export async function deleteList(ctx: AppContext, scope: Scope, id: string): Promise<void> {
  const row = await getListRow(ctx, scope, id);
  await ctx.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('list_members').where('list_id', '=', id).execute();
    await trx.deleteFrom('lists').where('id', '=', id).execute();
    await releaseAddress(trx, row.address);
  });
}
