/** Subscriptions and their labels (R-T2, R-T4, R-T6). */
import { Type as T } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import { notFound, text } from '../../shared/errors.ts';
import {
  activateSubscription,
  addLabel,
  BILLING_CYCLES,
  cancelSubscription,
  changeBillingCycle,
  createSubscription,
  deleteLabel,
  endSubscription,
  getSubscriptionDetails,
  getSubscriptionRow,
  listSubscriptions,
  renewForDuration,
  resumeSubscription,
  setLicences,
  updateLabel,
} from '../../tenancy/index.ts';
import { LabelSchema, OperationSchema, Page, SubscriptionDetailsSchema, SubscriptionSchema } from '../schemas.ts';
import { Body, IdParams, NoContent, operationView, PageQuery, type Router, recorded, replies, Str, scopeOf, started } from './helpers.ts';

const OPERATOR = ['operator'] as const;
const ADMINS = ['operator', 'customer_admin'] as const;
const Licences = T.Record(T.String({ pattern: '^[a-z][a-z0-9-]{1,31}$' }), T.Integer({ minimum: 0, maximum: 1_000_000 }));
const Months = T.Integer({ minimum: 1, maximum: 120 });
const Cycle = T.Union(BILLING_CYCLES.map((c) => T.Literal(c)));
const LabelFields = { name: Str(64), color: T.Optional(T.Union([T.String({ pattern: '^#[0-9a-fA-F]{6}$' }), T.Null()])) };

export function subscriptionRoutes(api: Router, ctx: AppContext): void {
  /** Runs a quick change of one subscription as a recorded operation, after checking the caller may see it. */
  async function change<R>(request: FastifyRequest, id: string, kind: string, params: Record<string, unknown>, work: () => Promise<R>): Promise<R> {
    const row = await getSubscriptionRow(ctx.db, scopeOf(request), id);
    return recorded(ctx, request, { kind, customerId: row.customer_id, subscriptionId: id, params }, work);
  }

  /** A change to a label, recorded under its customer and subscription (whoever makes it, the operator included). */
  async function labelChange<R>(request: FastifyRequest, id: string, kind: string, params: Record<string, unknown>, work: () => Promise<R>): Promise<R> {
    const scope = scopeOf(request);
    let query = ctx.db.selectFrom('labels').select(['customer_id', 'subscription_id']).where('id', '=', id);
    if (scope !== null) query = query.where('customer_id', '=', scope);
    const label = await query.executeTakeFirst();
    if (!label) throw notFound(text('No such label', 'Étiquette introuvable'));
    return recorded(ctx, request, { kind, customerId: label.customer_id, subscriptionId: label.subscription_id, params }, work);
  }

  api.post(
    '/subscriptions',
    {
      config: { access: [...OPERATOR] },
      schema: {
        tags: ['subscriptions'],
        summary: 'Create a subscription: licences per class, initial duration in months (activated at once unless activate=false)',
        body: Body({ customerId: Str(100), licences: Licences, months: Months, billingCycle: T.Optional(Cycle), activate: T.Optional(T.Boolean()) }),
        response: replies({ 201: SubscriptionSchema }),
      },
    },
    async (request, reply) => {
      const input = request.body;
      const subscription = await recorded(
        ctx,
        request,
        { kind: 'subscription.create', customerId: input.customerId, subscriptionId: null, params: { ...input } },
        () => createSubscription(ctx, input),
      );
      return reply.code(201).send(subscription);
    },
  );

  api.get(
    '/subscriptions',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['subscriptions'],
        summary: 'List subscriptions',
        querystring: PageQuery({ customerId: T.Optional(Str(100)) }),
        response: replies({ 200: Page(SubscriptionSchema) }),
      },
    },
    async (request) => {
      const { limit = 100, after, customerId } = request.query;
      const items = await listSubscriptions(ctx, scopeOf(request), { limit, ...(after ? { after } : {}), ...(customerId ? { customerId } : {}) });
      return { items, next: items.length === limit ? (items[items.length - 1]?.id ?? null) : null };
    },
  );

  api.get(
    '/subscriptions/:id',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['subscriptions'],
        summary: 'Subscription details: licences, period, domains, labels, sending limits',
        params: IdParams,
        response: replies({ 200: SubscriptionDetailsSchema }),
      },
    },
    async (request) => getSubscriptionDetails(ctx, scopeOf(request), request.params.id),
  );

  api.post(
    '/subscriptions/:id/activate',
    {
      config: { access: [...OPERATOR] },
      schema: { tags: ['subscriptions'], summary: 'Activate a pending subscription', params: IdParams, response: replies({ 200: SubscriptionSchema }) },
    },
    async (request) => change(request, request.params.id, 'subscription.activate', {}, () => activateSubscription(ctx, null, request.params.id)),
  );

  api.put(
    '/subscriptions/:id/licences',
    {
      config: { access: [...OPERATOR] },
      schema: {
        tags: ['subscriptions'],
        summary: 'Set the licences per class',
        params: IdParams,
        body: Body({ licences: Licences }),
        response: replies({ 200: SubscriptionSchema }),
      },
    },
    async (request) => {
      const { licences } = request.body;
      const { id } = request.params;
      return change(request, id, 'subscription.licences', { licences }, () => setLicences(ctx, id, licences));
    },
  );

  api.post(
    '/subscriptions/:id/renewal',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['subscriptions'],
        summary: 'Renew for another duration (from the next renewal on)',
        params: IdParams,
        body: Body({ months: Months }),
        response: replies({ 200: SubscriptionSchema }),
      },
    },
    async (request) => {
      const { months } = request.body;
      const { id } = request.params;
      return change(request, id, 'subscription.renewal', { months }, () => renewForDuration(ctx, scopeOf(request), id, months));
    },
  );

  api.post(
    '/subscriptions/:id/billing-cycle',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['subscriptions'],
        summary: 'Change the billing cycle',
        params: IdParams,
        body: Body({ billingCycle: Cycle }),
        response: replies({ 200: SubscriptionSchema }),
      },
    },
    async (request) => {
      const { billingCycle } = request.body;
      const { id } = request.params;
      return change(request, id, 'subscription.billing-cycle', { billingCycle }, () => changeBillingCycle(ctx, scopeOf(request), id, billingCycle));
    },
  );

  api.post(
    '/subscriptions/:id/cancel',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['subscriptions'],
        summary: 'Cancel at the end of the current period (runs in the background: 202 with the operation)',
        params: IdParams,
        response: replies({ 202: OperationSchema }),
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const row = await getSubscriptionRow(ctx.db, scopeOf(request), id);
      const op = await started(ctx, request, { kind: 'subscription.cancel', customerId: row.customer_id, subscriptionId: id, params: {} }, async (progress) => {
        await progress.report(50, 'recording the cancellation');
        return cancelSubscription(ctx, null, id);
      });
      return reply.code(202).header('location', `/api/operations/${op.id}`).send(operationView(op));
    },
  );

  api.post(
    '/subscriptions/:id/resume',
    {
      config: { access: [...ADMINS] },
      schema: { tags: ['subscriptions'], summary: 'Withdraw a cancellation', params: IdParams, response: replies({ 200: SubscriptionSchema }) },
    },
    async (request) => change(request, request.params.id, 'subscription.resume', {}, () => resumeSubscription(ctx, scopeOf(request), request.params.id)),
  );

  api.post(
    '/subscriptions/:id/terminate',
    {
      config: { access: [...OPERATOR] },
      schema: {
        tags: ['subscriptions'],
        summary: 'End the service now (contents become inaccessible at once)',
        params: IdParams,
        response: replies({ 200: SubscriptionSchema }),
      },
    },
    async (request) => change(request, request.params.id, 'subscription.terminate', {}, () => endSubscription(ctx, request.params.id, 'terminated')),
  );

  api.post(
    '/subscriptions/:id/labels',
    {
      config: { access: [...ADMINS] },
      schema: { tags: ['labels'], summary: 'Add a label', params: IdParams, body: Body(LabelFields), response: replies({ 201: LabelSchema }) },
    },
    async (request, reply) => {
      const input = request.body;
      const { id } = request.params;
      const label = await change(request, id, 'label.add', input, () => addLabel(ctx, scopeOf(request), id, input));
      return reply.code(201).send(label);
    },
  );

  api.patch(
    '/labels/:id',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['labels'],
        summary: 'Edit a label',
        params: IdParams,
        body: Body({ name: T.Optional(LabelFields.name), color: LabelFields.color }),
        response: replies({ 200: LabelSchema }),
      },
    },
    async (request) => {
      const { id } = request.params;
      const input = request.body;
      return labelChange(request, id, 'label.update', { id, ...input }, () => updateLabel(ctx, scopeOf(request), id, input));
    },
  );

  api.delete(
    '/labels/:id',
    { config: { access: [...ADMINS] }, schema: { tags: ['labels'], summary: 'Remove a label', params: IdParams, response: replies({ 204: NoContent }) } },
    async (request, reply) => {
      const { id } = request.params;
      await labelChange(request, id, 'label.delete', { id }, () => deleteLabel(ctx, scopeOf(request), id));
      return reply.code(204).send();
    },
  );
}
