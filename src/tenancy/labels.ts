/** Labels (R-T4): names and colours a customer gives its subscriptions to tell them apart. */
import type { AppContext } from '../context.ts';
import { invalid, text } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { LabelsTable } from '../store/index.ts';
import { claimUnique, type Db, ensureFound, requireText, type Scope } from './common.ts';
import { getSubscriptionRow } from './subscriptions.ts';

export interface LabelView {
  id: string;
  subscriptionId: string;
  name: string;
  color: string | null;
}

const labelView = (row: LabelsTable): LabelView => ({ id: row.id, subscriptionId: row.subscription_id, name: row.name, color: row.color });

function checkColor(color: string | null | undefined): string | null {
  if (color === undefined || color === null || color === '') return null;
  if (!/^#[0-9a-fA-F]{6}$/.test(color)) throw invalid('invalid-color', 'color', 'A colour is written #rrggbb', 'Une couleur s’écrit #rrggbb');
  return color.toLowerCase();
}

const takenText = (name: string) => text(`This subscription already has a label ${name}`, `Cet abonnement a déjà une étiquette ${name}`);

export async function listLabels(db: Db, subscriptionId: string): Promise<LabelView[]> {
  return (await db.selectFrom('labels').selectAll().where('subscription_id', '=', subscriptionId).orderBy('name').execute()).map(labelView);
}

export async function addLabel(ctx: AppContext, scope: Scope, subscriptionId: string, input: { name?: string; color?: string | null }): Promise<LabelView> {
  const subscription = await getSubscriptionRow(ctx.db, scope, subscriptionId);
  const row: LabelsTable = {
    customer_id: subscription.customer_id,
    id: newId('lbl'),
    subscription_id: subscriptionId,
    name: requireText(input.name, 'name', 64, text('The label', "L'étiquette")),
    color: checkColor(input.color),
    created_at: ctx.clock.now(),
  };
  await claimUnique('name', takenText(row.name), () => ctx.db.insertInto('labels').values(row).execute());
  return labelView(row);
}

async function getLabelRow(ctx: AppContext, scope: Scope, id: string): Promise<LabelsTable> {
  let query = ctx.db.selectFrom('labels').selectAll().where('id', '=', id);
  if (scope !== null) query = query.where('customer_id', '=', scope);
  return ensureFound(await query.executeTakeFirst(), text('No such label', 'Étiquette introuvable'));
}

export async function updateLabel(ctx: AppContext, scope: Scope, id: string, input: { name?: string; color?: string | null }): Promise<LabelView> {
  const row = await getLabelRow(ctx, scope, id);
  const next: LabelsTable = {
    ...row,
    name: input.name !== undefined ? requireText(input.name, 'name', 64, text('The label', "L'étiquette")) : row.name,
    color: input.color !== undefined ? checkColor(input.color) : row.color,
  };
  await claimUnique('name', takenText(next.name), () =>
    ctx.db.updateTable('labels').set({ name: next.name, color: next.color }).where('id', '=', id).execute(),
  );
  return labelView(next);
}

export async function deleteLabel(ctx: AppContext, scope: Scope, id: string): Promise<void> {
  const row = await getLabelRow(ctx, scope, id);
  await ctx.db.deleteFrom('labels').where('id', '=', row.id).execute();
}
