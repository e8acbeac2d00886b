/** Customers, their admins and their API tokens (R-T1). */
import { Type as T } from '@sinclair/typebox';
import { createApiToken, deleteApiToken, listApiTokens } from '../../auth/index.ts';
import type { AppContext } from '../../context.ts';
import { notFound, text } from '../../shared/errors.ts';
import { createCustomer, createLogin, customerView, getCustomerRow, listCustomers, listLogins, updateCustomer } from '../../tenancy/index.ts';
import { principalOf } from '../access.ts';
import { ApiTokenSchema, CreatedApiToken, CreatedLogin, CustomerSchema, Items, LoginSchema, Page } from '../schemas.ts';
import { Body, IdParams, Lang, NoContent, PageQuery, type Router, recorded, replies, requireInteractive, Str, scopeOf } from './helpers.ts';

const OPERATOR = ['operator'] as const;
const ADMINS = ['operator', 'customer_admin'] as const;

const CustomerFields = {
  name: Str(200),
  contactEmail: Str(320),
  language: T.Optional(Lang),
  phone: T.Optional(T.Union([Str(40), T.Null()])),
  address: T.Optional(T.Union([Str(500), T.Null()])),
  vatNumber: T.Optional(T.Union([Str(40), T.Null()])),
};

export function customerRoutes(api: Router, ctx: AppContext): void {
  api.post(
    '/customers',
    {
      config: { access: [...OPERATOR] },
      schema: { tags: ['customers'], summary: 'Create a customer', body: Body(CustomerFields), response: replies({ 201: CustomerSchema }) },
    },
    async (request, reply) => {
      const input = request.body;
      const customer = await recorded(ctx, request, { kind: 'customer.create', customerId: null, subscriptionId: null, params: { ...input } }, () =>
        createCustomer(ctx, input),
      );
      return reply.code(201).send(customer);
    },
  );

  api.get(
    '/customers',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['customers'],
        summary: 'List customers (a customer admin sees its own); q searches a part of the name or contact address',
        querystring: PageQuery({ q: T.Optional(Str(200)) }),
        response: replies({ 200: Page(CustomerSchema) }),
      },
    },
    async (request) => {
      const scope = scopeOf(request);
      if (scope !== null) return { items: [customerView(await getCustomerRow(ctx, scope, scope))], next: null };
      const { limit = 100, after, q } = request.query;
      const items = await listCustomers(ctx, { limit, ...(after ? { after } : {}), ...(q?.trim() ? { search: q.trim() } : {}) });
      return { items, next: items.length === limit ? (items[items.length - 1]?.id ?? null) : null };
    },
  );

  api.get(
    '/customers/:id',
    {
      config: { access: [...ADMINS] },
      schema: { tags: ['customers'], summary: 'Show a customer', params: IdParams, response: replies({ 200: CustomerSchema }) },
    },
    async (request) => {
      return customerView(await getCustomerRow(ctx, scopeOf(request), request.params.id));
    },
  );

  api.patch(
    '/customers/:id',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['customers'],
        summary: 'Edit the customer profile',
        params: IdParams,
        body: Body(T.Partial(T.Object(CustomerFields)).properties),
        response: replies({ 200: CustomerSchema }),
      },
    },
    async (request) => {
      const { id } = request.params;
      const input = request.body;
      await getCustomerRow(ctx, scopeOf(request), id);
      return recorded(ctx, request, { kind: 'customer.update', customerId: id, subscriptionId: null, params: { ...input } }, () =>
        updateCustomer(ctx, scopeOf(request), id, input),
      );
    },
  );

  api.get(
    '/customers/:id/admins',
    {
      config: { access: [...ADMINS] },
      schema: { tags: ['customers'], summary: 'List customer admins', params: IdParams, response: replies({ 200: Items(LoginSchema) }) },
    },
    async (request) => {
      const { id } = request.params;
      await getCustomerRow(ctx, scopeOf(request), id);
      return { items: await listLogins(ctx, id) };
    },
  );

  api.post(
    '/customers/:id/admins',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['customers'],
        summary: 'Add a customer admin (password generated when absent, shown once)',
        params: IdParams,
        body: Body({ email: Str(320), password: T.Optional(Str(1024)), displayName: T.Optional(Str(200)), language: T.Optional(Lang) }),
        response: replies({ 201: CreatedLogin }),
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      await getCustomerRow(ctx, scopeOf(request), id);
      requireInteractive(request);
      const input = request.body;
      const created = await recorded(ctx, request, { kind: 'customer.admin.create', customerId: id, subscriptionId: null, params: { ...input } }, () =>
        createLogin(ctx, id, input),
      );
      return reply.code(201).send({ ...created.login, ...(created.generatedPassword ? { generatedPassword: created.generatedPassword } : {}) });
    },
  );

  api.get(
    '/customers/:id/tokens',
    {
      config: { access: [...ADMINS] },
      schema: { tags: ['customers'], summary: 'List API tokens', params: IdParams, response: replies({ 200: Items(ApiTokenSchema) }) },
    },
    async (request) => {
      const { id } = request.params;
      await getCustomerRow(ctx, scopeOf(request), id);
      const tokens = await listApiTokens(ctx, id);
      return {
        items: tokens.map((t) => ({
          id: t.id,
          name: t.name,
          createdAt: new Date(t.created_at).toISOString(),
          lastUsedAt: t.last_used_at ? new Date(t.last_used_at).toISOString() : null,
          expiresAt: t.expires_at ? new Date(t.expires_at).toISOString() : null,
        })),
      };
    },
  );

  api.post(
    '/customers/:id/tokens',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['customers'],
        summary: 'Create an API token acting for this customer (secret shown once)',
        params: IdParams,
        body: Body({ name: Str(64, { minLength: 1 }), expiresInDays: T.Optional(T.Integer({ minimum: 1, maximum: 3650 })) }),
        response: replies({ 201: CreatedApiToken }),
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      await getCustomerRow(ctx, scopeOf(request), id);
      requireInteractive(request);
      const { name, expiresInDays } = request.body;
      const { token, secret } = await recorded(
        ctx,
        request,
        { kind: 'token.create', customerId: id, subscriptionId: null, params: { name, expiresInDays } },
        () =>
          createApiToken(ctx, {
            customerId: id,
            name,
            createdBy: principalOf(request).id,
            expiresAt: expiresInDays ? ctx.clock.now() + expiresInDays * 86_400_000 : null,
          }),
      );
      return reply.code(201).send({ id: token.id, name: token.name, token: secret });
    },
  );

  api.delete(
    '/customers/:id/tokens/:tokenId',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['customers'],
        summary: 'Revoke an API token',
        params: T.Object({ id: Str(100), tokenId: Str(100) }),
        response: replies({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      const { id, tokenId } = request.params;
      await getCustomerRow(ctx, scopeOf(request), id);
      const deleted = await recorded(ctx, request, { kind: 'token.delete', customerId: id, subscriptionId: null, params: { tokenId } }, () =>
        deleteApiToken(ctx, id, tokenId),
      );
      if (!deleted) throw notFound(text('No such token', 'Jeton introuvable'));
      return reply.code(204).send();
    },
  );
}
