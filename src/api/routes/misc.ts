/** Classes, operations, tickets, FAQ and health. */
import { Type as T } from '@sinclair/typebox';
import type { AppContext } from '../../context.ts';
import { getOperation, listOperations } from '../../operations/index.ts';
import { notFound, text } from '../../shared/errors.ts';
import {
  closeTicket,
  createClass,
  FEATURES,
  getFaqPage,
  getTicket,
  listClasses,
  listFaqPages,
  listTickets,
  openTicket,
  replyToTicket,
  TICKET_CATEGORIES,
  updateClass,
} from '../../tenancy/index.ts';
import { searchTrace } from '../../trace/index.ts';
import { principalOf } from '../access.ts';
import { languageOf } from '../problem.ts';
import { Body, IdParams, Lang, operationView, Query, type Router, recorded, Str, scopeOf } from './helpers.ts';

const OPERATOR = ['operator'] as const;
const ADMINS = ['operator', 'customer_admin'] as const;
const ALL = ['operator', 'customer_admin', 'user'] as const;

const ClassFields = {
  name: T.Object({ en: Str(64), fr: Str(64) }, { additionalProperties: false }),
  quotaBytes: T.Integer({ minimum: 0 }),
  limits: T.Object(
    {
      messagesPerMinutePerRecipient: T.Optional(T.Integer({ minimum: 1 })),
      recipientsPerMessage: T.Optional(T.Integer({ minimum: 1 })),
      maxMessageBytes: T.Optional(T.Integer({ minimum: 1024 })),
      recipientsPerHour: T.Optional(T.Union([T.Integer({ minimum: 1 }), T.Null()])),
      recipientsPerDay: T.Optional(T.Union([T.Integer({ minimum: 1 }), T.Null()])),
    },
    { additionalProperties: false },
  ),
  features: T.Array(T.Union(FEATURES.map((f) => T.Literal(f))), { maxItems: FEATURES.length }),
};

export function miscRoutes(api: Router, ctx: AppContext): void {
  api.get('/health', { config: { access: 'public' }, schema: { tags: ['service'], summary: 'Liveness and database reachability' } }, async () => {
    await ctx.db.selectFrom('classes').select('id').limit(1).execute();
    return { status: 'ok', engine: ctx.engine };
  });

  // Classes
  api.get(
    '/classes',
    { config: { access: [...ALL] }, schema: { tags: ['classes'], summary: 'Account classes with their quota, sending limits and features' } },
    async () => ({
      items: await listClasses(ctx),
    }),
  );

  api.post(
    '/classes',
    {
      config: { access: [...OPERATOR] },
      schema: {
        tags: ['classes'],
        summary: 'Create a class',
        body: Body({
          id: Str(32),
          name: ClassFields.name,
          quotaBytes: T.Optional(ClassFields.quotaBytes),
          limits: T.Optional(ClassFields.limits),
          features: T.Optional(ClassFields.features),
        }),
      },
    },
    async (request, reply) => {
      const input = request.body as Parameters<typeof createClass>[1];
      const created = await recorded(
        ctx,
        request,
        { kind: 'class.create', customerId: null, subscriptionId: null, params: input as Record<string, unknown> },
        () => createClass(ctx, input),
      );
      return reply.code(201).send(created);
    },
  );

  api.patch(
    '/classes/:id',
    {
      config: { access: [...OPERATOR] },
      schema: {
        tags: ['classes'],
        summary: 'Edit a class: quota, sending limits (contract §6 defaults), features',
        params: IdParams,
        body: Body({
          name: T.Optional(T.Partial(ClassFields.name)),
          quotaBytes: T.Optional(ClassFields.quotaBytes),
          limits: T.Optional(ClassFields.limits),
          features: T.Optional(ClassFields.features),
        }),
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const input = request.body as Parameters<typeof updateClass>[2];
      return recorded(ctx, request, { kind: 'class.update', customerId: null, subscriptionId: null, params: { id, ...input } }, () =>
        updateClass(ctx, id, input),
      );
    },
  );

  // Operations (R-T5)
  api.get(
    '/operations',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['operations'],
        summary: 'The journal of operations: who, what, when, result',
        querystring: Query({
          subscriptionId: T.Optional(Str(100)),
          status: T.Optional(T.Union([T.Literal('running'), T.Literal('succeeded'), T.Literal('failed')])),
          limit: T.Optional(T.Integer({ minimum: 1, maximum: 500, default: 100 })),
          before: T.Optional(T.Integer({ minimum: 0 })),
        }),
      },
    },
    async (request) => {
      const q = request.query as { subscriptionId?: string; status?: 'running' | 'succeeded' | 'failed'; limit?: number; before?: number };
      const items = await listOperations(ctx, scopeOf(request), { limit: q.limit ?? 100, ...q });
      return { items: items.map(operationView) };
    },
  );

  api.get(
    '/operations/:id',
    { config: { access: [...ADMINS] }, schema: { tags: ['operations'], summary: 'An operation and its progress', params: IdParams } },
    async (request) => {
      const op = await getOperation(ctx, scopeOf(request), (request.params as { id: string }).id);
      if (!op) throw notFound(text('No such operation', 'Opération introuvable'));
      return operationView(op);
    },
  );

  // Message trace (R-M6)
  api.get(
    '/trace',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['trace'],
        summary: "A message's path: received, verdicts, stored, queued, delivered, deferred, bounced… by address or Message-ID",
        querystring: Query({
          address: T.Optional(Str(320)),
          messageId: T.Optional(Str(500)),
          limit: T.Optional(T.Integer({ minimum: 1, maximum: 1000, default: 200 })),
        }),
      },
    },
    async (request) => {
      const q = request.query as { address?: string; messageId?: string; limit?: number };
      return {
        items: await searchTrace(ctx, scopeOf(request), {
          limit: q.limit ?? 200,
          ...(q.address ? { address: q.address } : {}),
          ...(q.messageId ? { messageId: q.messageId } : {}),
        }),
      };
    },
  );

  // Support tickets (R-T7)
  api.post(
    '/tickets',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['tickets'],
        summary: 'Open a support ticket (e.g. unblock or restore requests)',
        body: Body({
          customerId: T.Optional(Str(100)),
          subject: Str(200),
          category: T.Optional(T.Union(TICKET_CATEGORIES.map((c) => T.Literal(c)))),
          body: Str(20_000),
        }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const input = request.body as { customerId?: string; subject: string; category?: string; body: string };
      const customerId = principal.role === 'operator' ? (input.customerId ?? '') : principal.customerId;
      const ticket = await recorded(
        ctx,
        request,
        { kind: 'ticket.open', customerId, subscriptionId: null, params: { subject: input.subject, category: input.category } },
        () => openTicket(ctx, principal, customerId, input),
      );
      return reply.code(201).send(ticket);
    },
  );

  api.get(
    '/tickets',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['tickets'],
        summary: 'List tickets, latest activity first',
        querystring: Query({
          status: T.Optional(T.Union([T.Literal('open'), T.Literal('answered'), T.Literal('closed')])),
          customerId: T.Optional(Str(100)),
          limit: T.Optional(T.Integer({ minimum: 1, maximum: 500, default: 100 })),
        }),
      },
    },
    async (request) => {
      const q = request.query as { status?: string; customerId?: string; limit?: number };
      return {
        items: await listTickets(ctx, scopeOf(request), {
          limit: q.limit ?? 100,
          ...(q.status ? { status: q.status } : {}),
          ...(q.customerId ? { customerId: q.customerId } : {}),
        }),
      };
    },
  );

  api.get(
    '/tickets/:id',
    { config: { access: [...ADMINS] }, schema: { tags: ['tickets'], summary: 'A ticket with its messages', params: IdParams } },
    async (request) => getTicket(ctx, scopeOf(request), (request.params as { id: string }).id),
  );

  api.post(
    '/tickets/:id/messages',
    { config: { access: [...ADMINS] }, schema: { tags: ['tickets'], summary: 'Reply to a ticket', params: IdParams, body: Body({ body: Str(20_000) }) } },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const ticket = await replyToTicket(ctx, principalOf(request), scopeOf(request), id, (request.body as { body: string }).body);
      return reply.code(201).send(ticket);
    },
  );

  api.post(
    '/tickets/:id/close',
    { config: { access: [...ADMINS] }, schema: { tags: ['tickets'], summary: 'Close a ticket', params: IdParams } },
    async (request) => closeTicket(ctx, principalOf(request), scopeOf(request), (request.params as { id: string }).id),
  );

  // FAQ (R-T4): public, so the login page can link to it.
  const LangQuery = Query({ lang: T.Optional(Lang) });
  api.get(
    '/faq',
    { config: { access: 'public' }, schema: { tags: ['faq'], summary: 'Client configuration pages (lang=fr|en)', querystring: LangQuery } },
    async (request) => {
      const lang = (request.query as { lang?: 'en' | 'fr' }).lang ?? languageOf(request);
      return { items: await listFaqPages(ctx, lang) };
    },
  );

  api.get(
    '/faq/:slug',
    { config: { access: 'public' }, schema: { tags: ['faq'], summary: 'One FAQ page', params: T.Object({ slug: Str(100) }), querystring: LangQuery } },
    async (request) => {
      const lang = (request.query as { lang?: 'en' | 'fr' }).lang ?? languageOf(request);
      const page = await getFaqPage(ctx, (request.params as { slug: string }).slug, lang);
      if (!page) throw notFound(text('No such page', 'Page introuvable'));
      return page;
    },
  );
}
