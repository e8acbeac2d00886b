/**
 * A subscription's details as the portal shows them (R-T4, §6): licences per class with their use,
 * start and end, domains, labels, and the sending limits in force for each class.
 */
import type { AppContext } from '../context.ts';
import { toUnicodeDomain } from '../shared/idn.ts';
import { type ClassView, classView } from './classes.ts';
import type { Scope } from './common.ts';
import { type LabelView, listLabels } from './labels.ts';
import { getSubscription, type SubscriptionView } from './subscriptions.ts';

export interface SubscriptionDetails extends SubscriptionView {
  domains: { id: string; name: string; displayName: string; status: string }[];
  labels: LabelView[];
  classes: ClassView[];
  accountCount: number;
}

export async function getSubscriptionDetails(ctx: AppContext, scope: Scope, id: string): Promise<SubscriptionDetails> {
  const subscription = await getSubscription(ctx, scope, id);
  const classIds = subscription.licences.map((l) => l.classId);
  const [domains, labels, classes] = await Promise.all([
    ctx.db.selectFrom('domains').select(['id', 'name', 'status']).where('subscription_id', '=', id).orderBy('name').execute(),
    listLabels(ctx.db, id),
    classIds.length ? ctx.db.selectFrom('classes').selectAll().where('id', 'in', classIds).orderBy('id').execute() : Promise.resolve([]),
  ]);
  return {
    ...subscription,
    domains: domains.map((d) => ({ ...d, displayName: toUnicodeDomain(d.name) })),
    labels,
    classes: classes.map((c) => classView(c, ctx.config)),
    accountCount: subscription.licences.reduce((sum, l) => sum + l.used, 0),
  };
}
