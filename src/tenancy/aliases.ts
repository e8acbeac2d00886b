/**
 * Address aliases: an address at one of the subscription's domains that forwards to one or more
 * addresses, local or remote.
 */
import type { AppContext } from '../context.ts';
import { addressKey, parseAddress } from '../shared/addresses.ts';
import { invalid, text } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { AliasesTable } from '../store/index.ts';
import { domainOfSubscription } from './accounts.ts';
import { claimAddress, ensureFound, parseJsonArray, releaseAddress, type Scope } from './common.ts';
import { getSubscriptionRow } from './subscriptions.ts';

export const MAX_DESTINATIONS = 100;

export interface AliasView {
  id: string;
  address: string;
  customerId: string;
  domainId: string;
  destinations: string[];
  createdAt: string;
}

function aliasView(row: AliasesTable): AliasView {
  return {
    id: row.id,
    address: row.address,
    customerId: row.customer_id,
    domainId: row.domain_id,
    destinations: parseJsonArray(row.destinations),
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/** Parses a list of addresses, lower-cased and without duplicates. */
export function parseAddressList(values: string[] | undefined, field: string, max: number, allowEmpty = false): string[] {
  const list = values ?? [];
  if ((!allowEmpty && list.length === 0) || list.length > max) {
    throw invalid('invalid-list', field, `Give ${allowEmpty ? 0 : 1} to ${max} addresses`, `Indiquez de ${allowEmpty ? 0 : 1} à ${max} adresses`);
  }
  return [...new Set(list.map((value, i) => addressKey(parseAddress(value, `${field}.${i}`))))];
}

export async function createAlias(
  ctx: AppContext,
  scope: Scope,
  subscriptionId: string,
  input: { address?: string; destinations?: string[] },
): Promise<AliasView> {
  const subscription = await getSubscriptionRow(ctx.db, scope, subscriptionId);
  const address = parseAddress(input.address ?? '', 'address');
  const key = addressKey(address);
  const domainId = await domainOfSubscription(ctx.db, subscriptionId, address.domain);
  const destinations = parseAddressList(input.destinations, 'destinations', MAX_DESTINATIONS);
  if (destinations.includes(key))
    throw invalid('alias-loop', 'destinations', 'An alias cannot forward to itself', 'Un alias ne peut pas renvoyer vers lui-même');
  const row: AliasesTable = {
    customer_id: subscription.customer_id,
    id: newId('ali'),
    domain_id: domainId,
    address: key,
    destinations: JSON.stringify(destinations),
    created_at: ctx.clock.now(),
  };
  await ctx.db.transaction().execute(async (trx) => {
    await claimAddress(trx, { address: key, customer_id: row.customer_id, kind: 'alias', owner_id: row.id });
    await trx.insertInto('aliases').values(row).execute();
  });
  return aliasView(row);
}

async function getAliasRow(ctx: AppContext, scope: Scope, id: string): Promise<AliasesTable> {
  let query = ctx.db.selectFrom('aliases').selectAll().where('id', '=', id);
  if (scope !== null) query = query.where('customer_id', '=', scope);
  return ensureFound(await query.executeTakeFirst(), text('No such alias', 'Alias introuvable'));
}

export async function getAlias(ctx: AppContext, scope: Scope, id: string): Promise<AliasView> {
  return aliasView(await getAliasRow(ctx, scope, id));
}

export async function listAliases(ctx: AppContext, scope: Scope, subscriptionId: string): Promise<AliasView[]> {
  await getSubscriptionRow(ctx.db, scope, subscriptionId);
  const rows = await ctx.db
    .selectFrom('aliases')
    .innerJoin('domains', 'domains.id', 'aliases.domain_id')
    .selectAll('aliases')
    .where('domains.subscription_id', '=', subscriptionId)
    .orderBy('aliases.address')
    .execute();
  return rows.map(aliasView);
}

export async function updateAlias(ctx: AppContext, scope: Scope, id: string, input: { destinations?: string[] }): Promise<AliasView> {
  const row = await getAliasRow(ctx, scope, id);
  const destinations = parseAddressList(input.destinations, 'destinations', MAX_DESTINATIONS);
  if (destinations.includes(row.address))
    throw invalid('alias-loop', 'destinations', 'An alias cannot forward to itself', 'Un alias ne peut pas renvoyer vers lui-même');
  const next = { ...row, destinations: JSON.stringify(destinations) };
  await ctx.db.updateTable('aliases').set({ destinations: next.destinations }).where('id', '=', id).execute();
  return aliasView(next);
}

export async function deleteAlias(ctx: AppContext, scope: Scope, id: string): Promise<void> {
  const row = await getAliasRow(ctx, scope, id);
  await ctx.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('aliases').where('id', '=', row.id).execute();
    await releaseAddress(trx, row.address);
  });
}
