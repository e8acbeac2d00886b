/** Classes, operations, tickets, FAQ and health. */
import { Type as T } from '@sinclair/typebox';
import type { Principal } from '../../auth/principal.ts';
import type { AppContext } from '../../context.ts';
import { getOperation, listOperations, operationCursor, parseOperationCursor } from '../../operations/index.ts';
import { AppError, invalid, notFound, text } from '../../shared/errors.ts';
import {
  closeTicket,
  createClass,
  FEATURES,
  getCustomerRow,
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
import { ClassSchema, FaqPageSchema, Items, OperationSchema, Page, TicketSchema, TraceEntrySchema } from '../schemas.ts';
import { Body, IdParams, Lang, operationView, Query, type Router, recorded, replies, Str, scopeOf } from './helpers.ts';

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

const Health = T.Object({ status: T.Literal('ok'), engine: T.Union([T.Literal('sqlite'), T.Literal('postgres')]) }, { additionalProperties: false });

/** Who a new ticket is for: the operator names the customer; a customer admin files for its own customer only. */
function ticketCustomer(principal: Principal, given: string | undefined): string {
  if (principal.role === 'operator') {
    if (!given)
      throw invalid(
        'missing-field',
        'customerId',
        'Missing field customerId: the customer the ticket is for',
        'Champ manquant customerId : le client concerné par le ticket',
      );
    return given;
  }
  if (principal.role === 'user') throw new AppError('forbidden', 'forbidden', text('Your role does not allow this', 'Votre rôle ne permet pas cela'));
  // Another customer's id is refused, not quietly replaced by the caller's: "not yours" looks like "not found".
  if (given !== undefined && given !== principal.customerId)
    throw new AppError('not-found', 'not-found', text('No such customer', 'Client introuvable'), { field: 'customerId' });
  return principal.customerId;
}

export function miscRoutes(api: Router, ctx: AppContext): void {
  api.get(
    '/health',
    { config: { access: 'public' }, schema: { tags: ['service'], summary: 'Liveness and database reachability', response: replies({ 200: Health }) } },
    async () => {
      await ctx.db.selectFrom('classes').select('id').limit(1).execute();
      return { status: 'ok' as const, engine: ctx.engine };
    },
  );

  // Classes
  api.get(
    '/classes',
    {
      config: { access: [...ALL] },
      schema: {
        tags: ['classes'],
        summary: 'Account classes with their quota, sending limits and features',
        response: replies({ 200: Items(ClassSchema) }),
      },
    },
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
        response: replies({ 201: ClassSchema }),
      },
    },
    async (request, reply) => {
      const input = request.body;
      const created = await recorded(ctx, request, { kind: 'class.create', customerId: null, subscriptionId: null, params: { ...input } }, () =>
        createClass(ctx, input),
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
        response: replies({ 200: ClassSchema }),
      },
    },
    async (request) => {
      const { id } = request.params;
      const input = request.body;
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
          before: T.Optional(T.String({ maxLength: 40, description: 'Only operations started before this instant (ISO 8601)' })),
          after: T.Optional(T.String({ maxLength: 120, description: 'The `next` of the previous page: the operations that follow it' })),
        }),
        response: replies({ 200: Page(OperationSchema) }),
      },
    },
    async (request) => {
      const { before, after, ...q } = request.query;
      const beforeMs = before === undefined ? undefined : parseInstant(before, 'before');
      const cursor = after === undefined ? undefined : parseOperationCursor(after);
      if (after !== undefined && !cursor)
        throw invalid('invalid-field', 'after', 'after must be the next cursor of a previous page', 'after doit être le curseur next d’une page précédente');
      const limit = q.limit ?? 100;
      const items = await listOperations(ctx, scopeOf(request), {
        ...q,
        limit,
        ...(beforeMs === undefined ? {} : { before: beforeMs }),
        ...(cursor ? { after: cursor } : {}),
      });
      const last = items[items.length - 1];
      return { items: items.map(operationView), next: items.length === limit && last ? operationCursor(last) : null };
    },
  );

  api.get(
    '/operations/:id',
    {
      config: { access: [...ADMINS] },
      schema: { tags: ['operations'], summary: 'An operation and its progress', params: IdParams, response: replies({ 200: OperationSchema }) },
    },
    async (request) => {
      const op = await getOperation(ctx, scopeOf(request), request.params.id);
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
        response: replies({ 200: Items(TraceEntrySchema) }),
      },
    },
    async (request) => {
      const q = request.query;
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
        response: replies({ 201: TicketSchema }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const input = request.body;
      const customerId = ticketCustomer(principal, input.customerId);
      await getCustomerRow(ctx, scopeOf(request), customerId);
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
        response: replies({ 200: Items(TicketSchema) }),
      },
    },
    async (request) => {
      const q = request.query;
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
    {
      config: { access: [...ADMINS] },
      schema: { tags: ['tickets'], summary: 'A ticket with its messages', params: IdParams, response: replies({ 200: TicketSchema }) },
    },
    async (request) => getTicket(ctx, scopeOf(request), request.params.id),
  );

  api.post(
    '/tickets/:id/messages',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['tickets'],
        summary: 'Reply to a ticket',
        params: IdParams,
        body: Body({ body: Str(20_000) }),
        response: replies({ 201: TicketSchema }),
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const ticket = await replyToTicket(ctx, principalOf(request), scopeOf(request), id, request.body.body);
      return reply.code(201).send(ticket);
    },
  );

  api.post(
    '/tickets/:id/close',
    { config: { access: [...ADMINS] }, schema: { tags: ['tickets'], summary: 'Close a ticket', params: IdParams, response: replies({ 200: TicketSchema }) } },
    async (request) => closeTicket(ctx, principalOf(request), scopeOf(request), request.params.id),
  );

  // FAQ (R-T4): public, so the login page can link to it.
  const LangQuery = Query({ lang: T.Optional(Lang) });
  api.get(
    '/faq',
    {
      config: { access: 'public' },
      schema: { tags: ['faq'], summary: 'Client configuration pages (lang=fr|en)', querystring: LangQuery, response: replies({ 200: Items(FaqPageSchema) }) },
    },
    async (request) => {
      const lang = request.query.lang ?? languageOf(request);
      return { items: await listFaqPages(ctx, lang) };
    },
  );

  api.get(
    '/faq/:slug',
    {
      config: { access: 'public' },
      schema: {
        tags: ['faq'],
        summary: 'One FAQ page',
        params: T.Object({ slug: Str(100) }),
        querystring: LangQuery,
        response: replies({ 200: FaqPageSchema }),
      },
    },
    async (request) => {
      const lang = request.query.lang ?? languageOf(request);
      const page = await getFaqPage(ctx, request.params.slug, lang);
      if (!page) throw notFound(text('No such page', 'Page introuvable'));
      return page;
    },
  );
}

/** An instant given in a query (ISO 8601), as milliseconds; anything else is a 400 naming the field. */
function parseInstant(value: string, field: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms))
    throw invalid(
      'invalid-field',
      field,
      `${field} must be an ISO 8601 instant (2026-11-26T10:00:00Z)`,
      `${field} doit être un instant ISO 8601 (2026-11-26T10:00:00Z)`,
    );
  return ms;
}
