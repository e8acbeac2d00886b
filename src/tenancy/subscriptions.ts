/**
 * Subscriptions (R-T2, R-T6): licences per class, a duration that starts at activation and renews
 * automatically for periods of the same length unless renewed for another duration or cancelled;
 * cancellation takes effect at the end of the current period. The end of service is the hand-off
 * point for the retention rules (R-B3).
 */
import type { AppContext } from '../context.ts';
import { addMonths, monthsBetween } from '../shared/clock.ts';
import { AppError, invalid, text } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { LicencesTable, SubscriptionsTable } from '../store/index.ts';
import { getClassRow } from './classes.ts';
import { type Db, ensureFound, type Scope } from './common.ts';
import { getCustomerRow } from './customers.ts';

export const BILLING_CYCLES = ['monthly', 'quarterly', 'yearly'] as const;
export type BillingCycle = (typeof BILLING_CYCLES)[number];
export const MAX_PERIOD_MONTHS = 120;

export interface LicenceView {
  classId: string;
  quantity: number;
  used: number;
  available: number;
}

export interface SubscriptionView {
  id: string;
  customerId: string;
  status: SubscriptionsTable['status'];
  periodMonths: number;
  nextPeriodMonths: number | null;
  billingCycle: SubscriptionsTable['billing_cycle'];
  activatedAt: string | null;
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
  cancelAtPeriodEnd: boolean;
  cancelledAt: string | null;
  endedAt: string | null;
  endReason: string | null;
  licences: LicenceView[];
  createdAt: string;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function subscriptionView(row: SubscriptionsTable, licences: LicenceView[]): SubscriptionView {
  return {
    id: row.id,
    customerId: row.customer_id,
    status: row.status,
    periodMonths: row.period_months,
    nextPeriodMonths: row.next_period_months,
    billingCycle: row.billing_cycle,
    activatedAt: iso(row.activated_at),
    currentPeriodStart: iso(row.current_period_start),
    currentPeriodEnd: iso(row.current_period_end),
    cancelAtPeriodEnd: row.cancel_at_period_end === 1,
    cancelledAt: iso(row.cancelled_at),
    endedAt: iso(row.ended_at),
    endReason: row.end_reason,
    licences,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

const NOT_FOUND = text('No such subscription', 'Abonnement introuvable');

export async function getSubscriptionRow(db: Db, scope: Scope, id: string): Promise<SubscriptionsTable> {
  let query = db.selectFrom('subscriptions').selectAll().where('id', '=', id);
  if (scope !== null) query = query.where('customer_id', '=', scope);
  return ensureFound(await query.executeTakeFirst(), NOT_FOUND);
}

/** Licences of a subscription with the accounts using each (a counter kept by the account changes). */
export async function licenceUsage(db: Db, subscriptionId: string): Promise<LicenceView[]> {
  const licences = await db.selectFrom('licences').selectAll().where('subscription_id', '=', subscriptionId).orderBy('class_id').execute();
  return licences.map((l) => ({ classId: l.class_id, quantity: l.quantity, used: l.used, available: Math.max(0, l.quantity - l.used) }));
}

export async function getSubscription(ctx: AppContext, scope: Scope, id: string): Promise<SubscriptionView> {
  const row = await getSubscriptionRow(ctx.db, scope, id);
  return subscriptionView(row, await licenceUsage(ctx.db, id));
}

export async function listSubscriptions(
  ctx: AppContext,
  scope: Scope,
  filter: { customerId?: string; limit: number; after?: string },
): Promise<SubscriptionView[]> {
  let query = ctx.db.selectFrom('subscriptions').selectAll().orderBy('id').limit(filter.limit);
  if (scope !== null) query = query.where('customer_id', '=', scope);
  if (filter.customerId) query = query.where('customer_id', '=', filter.customerId);
  if (filter.after) query = query.where('id', '>', filter.after);
  const rows = await query.execute();
  return Promise.all(rows.map(async (row) => subscriptionView(row, await licenceUsage(ctx.db, row.id))));
}

function checkMonths(months: number | undefined, field: string): number {
  if (months === undefined || !Number.isInteger(months) || months < 1 || months > MAX_PERIOD_MONTHS) {
    throw invalid(
      'invalid-duration',
      field,
      `The duration is a whole number of months from 1 to ${MAX_PERIOD_MONTHS}`,
      `La durée est un nombre entier de mois de 1 à ${MAX_PERIOD_MONTHS}`,
    );
  }
  return months;
}

function checkCycle(cycle: string | undefined): BillingCycle {
  if (!cycle || !(BILLING_CYCLES as readonly string[]).includes(cycle)) {
    throw invalid(
      'invalid-billing-cycle',
      'billingCycle',
      `The billing cycle is one of ${BILLING_CYCLES.join(', ')}`,
      `Le cycle de facturation est l'un de ${BILLING_CYCLES.join(', ')}`,
    );
  }
  return cycle as BillingCycle;
}

async function checkLicences(ctx: AppContext, licences: Record<string, number>): Promise<[string, number][]> {
  const entries = Object.entries(licences);
  if (entries.length === 0)
    throw invalid(
      'no-licences',
      'licences',
      'A subscription needs licences of at least one class',
      "Un abonnement nécessite des licences d'au moins une classe",
    );
  for (const [classId, quantity] of entries) {
    if (!Number.isInteger(quantity) || quantity < 0 || quantity > 1_000_000) {
      throw invalid(
        'invalid-quantity',
        `licences.${classId}`,
        'A licence count is a whole number from 0 to 1,000,000',
        'Un nombre de licences est un entier de 0 à 1 000 000',
      );
    }
    await getClassRow(ctx, classId).catch(() => {
      throw invalid('unknown-class', `licences.${classId}`, `No class ${classId}`, `Aucune classe ${classId}`);
    });
  }
  return entries;
}

export interface SubscriptionInput {
  customerId: string;
  licences: Record<string, number>;
  months: number;
  billingCycle?: string;
  /** Activate at once (default) or leave pending until `activate`. */
  activate?: boolean;
}

export async function createSubscription(ctx: AppContext, input: SubscriptionInput): Promise<SubscriptionView> {
  await getCustomerRow(ctx, null, input.customerId).catch(() => {
    throw invalid('unknown-customer', 'customerId', 'No such customer', 'Client introuvable');
  });
  const months = checkMonths(input.months, 'months');
  const cycle = checkCycle(input.billingCycle ?? 'monthly');
  const licences = await checkLicences(ctx, input.licences);
  const now = ctx.clock.now();
  const row: SubscriptionsTable = {
    id: newId('sub'),
    customer_id: input.customerId,
    status: 'pending',
    period_months: months,
    billing_cycle: cycle,
    next_period_months: null,
    cancel_at_period_end: 0,
    activated_at: null,
    current_period_start: null,
    current_period_end: null,
    cancelled_at: null,
    ended_at: null,
    end_reason: null,
    created_at: now,
    updated_at: now,
  };
  if (input.activate !== false) Object.assign(row, activationOf(row, now));
  await ctx.db.transaction().execute(async (trx) => {
    await trx.insertInto('subscriptions').values(row).execute();
    const licenceRows: LicencesTable[] = licences.map(([class_id, quantity]) => ({
      customer_id: row.customer_id,
      subscription_id: row.id,
      class_id,
      quantity,
      used: 0,
    }));
    await trx.insertInto('licences').values(licenceRows).execute();
  });
  return getSubscription(ctx, null, row.id);
}

function activationOf(row: SubscriptionsTable, now: number): Partial<SubscriptionsTable> {
  return { status: 'active', activated_at: now, current_period_start: now, current_period_end: addMonths(now, row.period_months), updated_at: now };
}

function requireActive(row: SubscriptionsTable): void {
  if (row.status !== 'active') {
    throw new AppError('conflict', 'subscription-not-active', text('The subscription is not active', "L'abonnement n'est pas actif"));
  }
}

export async function activateSubscription(ctx: AppContext, scope: Scope, id: string): Promise<SubscriptionView> {
  const row = await getSubscriptionRow(ctx.db, scope, id);
  if (row.status !== 'pending')
    throw new AppError('conflict', 'already-activated', text('The subscription was already activated', "L'abonnement a déjà été activé"));
  await ctx.db.updateTable('subscriptions').set(activationOf(row, ctx.clock.now())).where('id', '=', id).where('status', '=', 'pending').execute();
  return getSubscription(ctx, scope, id);
}

/** Sets the licences per class; a class cannot go below the accounts already using it. */
export async function setLicences(ctx: AppContext, id: string, licences: Record<string, number>): Promise<SubscriptionView> {
  const row = await getSubscriptionRow(ctx.db, null, id);
  const entries = await checkLicences(ctx, licences);
  const usage = await licenceUsage(ctx.db, id);
  for (const [classId, quantity] of entries) {
    const used = usage.find((u) => u.classId === classId)?.used ?? 0;
    if (quantity < used) {
      throw new AppError(
        'conflict',
        'licences-in-use',
        text(
          `${used} accounts of class ${classId} exist: the licences cannot go below that`,
          `${used} comptes de la classe ${classId} existent : les licences ne peuvent descendre en dessous`,
        ),
        { field: `licences.${classId}` },
      );
    }
  }
  await ctx.db.transaction().execute(async (trx) => {
    for (const [class_id, quantity] of entries) {
      await trx
        .insertInto('licences')
        .values({ customer_id: row.customer_id, subscription_id: id, class_id, quantity, used: 0 })
        .onConflict((oc) => oc.columns(['subscription_id', 'class_id']).doUpdateSet({ quantity }))
        .execute();
    }
  });
  return getSubscription(ctx, null, id);
}

/** Renews for another duration (§8): applies from the next renewal on. Also withdraws a cancellation. */
export async function renewForDuration(ctx: AppContext, scope: Scope, id: string, months: number): Promise<SubscriptionView> {
  const row = await getSubscriptionRow(ctx.db, scope, id);
  requireActive(row);
  await ctx.db
    .updateTable('subscriptions')
    .set({ next_period_months: checkMonths(months, 'months'), cancel_at_period_end: 0, cancelled_at: null, updated_at: ctx.clock.now() })
    .where('id', '=', id)
    .execute();
  return getSubscription(ctx, scope, id);
}

export async function changeBillingCycle(ctx: AppContext, scope: Scope, id: string, cycle: string): Promise<SubscriptionView> {
  const row = await getSubscriptionRow(ctx.db, scope, id);
  if (row.status === 'ended') requireActive(row);
  await ctx.db
    .updateTable('subscriptions')
    .set({ billing_cycle: checkCycle(cycle), updated_at: ctx.clock.now() })
    .where('id', '=', id)
    .execute();
  return getSubscription(ctx, scope, id);
}

/** Cancels at the end of the current period (§8); the service runs until then. */
export async function cancelSubscription(ctx: AppContext, scope: Scope, id: string): Promise<SubscriptionView> {
  const row = await getSubscriptionRow(ctx.db, scope, id);
  if (row.status === 'pending') return endSubscription(ctx, id, 'cancelled');
  requireActive(row);
  if (row.cancel_at_period_end === 1)
    throw new AppError('conflict', 'already-cancelled', text('The subscription is already cancelled', "L'abonnement est déjà résilié"));
  await ctx.db
    .updateTable('subscriptions')
    .set({ cancel_at_period_end: 1, cancelled_at: ctx.clock.now(), updated_at: ctx.clock.now() })
    .where('id', '=', id)
    .execute();
  return getSubscription(ctx, scope, id);
}

/** Withdraws a cancellation before the period ends. */
export async function resumeSubscription(ctx: AppContext, scope: Scope, id: string): Promise<SubscriptionView> {
  const row = await getSubscriptionRow(ctx.db, scope, id);
  requireActive(row);
  if (row.cancel_at_period_end === 0)
    throw new AppError('conflict', 'not-cancelled', text('The subscription is not cancelled', "L'abonnement n'est pas résilié"));
  await ctx.db.updateTable('subscriptions').set({ cancel_at_period_end: 0, cancelled_at: null, updated_at: ctx.clock.now() }).where('id', '=', id).execute();
  return getSubscription(ctx, scope, id);
}

/** Ends the open sessions of a subscription's users: at the end of service their contents are inaccessible at once (R-B3). */
async function endUserSessions(db: Db, subscriptionId: string): Promise<void> {
  await db
    .deleteFrom('sessions')
    .where('principal_role', '=', 'user')
    .where('principal_id', 'in', db.selectFrom('accounts').select('id').where('subscription_id', '=', subscriptionId))
    .execute();
}

/**
 * Ends the service now (R-B3 hand-off): accounts become inaccessible at once; the retention and purge
 * rules of the lifecycle module apply from `ended_at`.
 */
export async function endSubscription(ctx: AppContext, id: string, reason: 'cancelled' | 'terminated' | 'non-renewal'): Promise<SubscriptionView> {
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable('subscriptions')
      .set({ status: 'ended', ended_at: now, end_reason: reason, updated_at: now })
      .where('id', '=', id)
      .where('status', '!=', 'ended')
      .executeTakeFirst();
    // An ended subscription keeps its end (the retention of R-B3 counts from it).
    if (Number(result.numUpdatedRows) === 0) requireActive(await getSubscriptionRow(trx, null, id));
    await trx.updateTable('accounts').set({ status: 'disabled', updated_at: now }).where('subscription_id', '=', id).execute();
    await endUserSessions(trx, id);
  });
  ctx.log.info({ event: 'subscription.ended', subscription: id, reason }, 'subscription.ended');
  return getSubscription(ctx, null, id);
}

/**
 * The renewal job: every active subscription whose period has run out either ends (cancelled) or
 * starts its next period, of the same length or of the duration chosen for the renewal. Each update
 * is conditional on the period it read, so two runs (or two workers) never renew twice.
 */
export async function renewDueSubscriptions(ctx: AppContext): Promise<{ renewed: number; ended: number }> {
  const now = ctx.clock.now();
  const due = await ctx.db.selectFrom('subscriptions').selectAll().where('status', '=', 'active').where('current_period_end', '<=', now).execute();
  let renewed = 0;
  let ended = 0;
  for (const row of due) {
    if (row.cancel_at_period_end === 1) {
      const result = await ctx.db
        .updateTable('subscriptions')
        .set({ status: 'ended', ended_at: row.current_period_end, end_reason: 'cancelled', updated_at: now })
        .where('id', '=', row.id)
        .where('status', '=', 'active')
        .where('current_period_end', '=', row.current_period_end)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) > 0) {
        await ctx.db.updateTable('accounts').set({ status: 'disabled', updated_at: now }).where('subscription_id', '=', row.id).execute();
        await endUserSessions(ctx.db, row.id);
        ctx.log.info({ event: 'subscription.ended', subscription: row.id, reason: 'cancelled' }, 'subscription.ended');
        ended++;
      }
      continue;
    }
    // Period ends count months from the activation, so a subscription activated on the 31st ends
    // on Feb 28 and then on Mar 31, not on the 28th for ever after.
    const anchor = row.activated_at ?? (row.current_period_start as number);
    const months = row.next_period_months ?? row.period_months;
    let start = row.current_period_end as number;
    let end = addMonths(anchor, monthsBetween(anchor, start) + months);
    while (end <= now) {
      start = end;
      end = addMonths(anchor, monthsBetween(anchor, start) + months);
    }
    const result = await ctx.db
      .updateTable('subscriptions')
      .set({ period_months: months, next_period_months: null, current_period_start: start, current_period_end: end, updated_at: now })
      .where('id', '=', row.id)
      .where('status', '=', 'active')
      .where('cancel_at_period_end', '=', 0) // a cancellation that landed since the read wins
      .where('current_period_end', '=', row.current_period_end)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) > 0) {
      ctx.log.info({ event: 'subscription.renewed', subscription: row.id, months }, 'subscription.renewed');
      renewed++;
    }
  }
  return { renewed, ended };
}
