/** Accounts, address aliases and mailing lists of a subscription (R-T2, R-T4). */
import { Type as T } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import { AppError, text } from '../../shared/errors.ts';
import {
  type AccountUsage,
  accountUsage,
  addListMembers,
  createAccount,
  createAlias,
  createList,
  deleteAccount,
  deleteAlias,
  deleteList,
  getAccount,
  getAccountRow,
  getAlias,
  getClassRow,
  getList,
  getSubscriptionRow,
  listAccounts,
  listAliases,
  listLists,
  POSTING_POLICIES,
  reclassAccounts,
  removeListMember,
  updateAccount,
  updateAlias,
  updateList,
} from '../../tenancy/index.ts';
import { AccountSchema, AccountWithUsageSchema, AliasSchema, CreatedAccount, Items, ListSchema, OperationSchema, Page } from '../schemas.ts';
import { Body, IdParams, Lang, NoContent, operationView, PageQuery, type Router, recorded, replies, Str, scopeOf, started } from './helpers.ts';

const ADMINS = ['operator', 'customer_admin'] as const;
const ClassId = Str(32, { minLength: 1 });
const Addresses = (max: number) => T.Array(Str(320), { maxItems: max });
const Policy = T.Union(POSTING_POLICIES.map((p) => T.Literal(p)));

export function accountRoutes(api: Router, ctx: AppContext): void {
  /** A change inside the subscription named by the path, recorded and serialised with its other changes. */
  async function inSubscription<R>(request: FastifyRequest, id: string, kind: string, params: Record<string, unknown>, work: () => Promise<R>): Promise<R> {
    const subscription = await getSubscriptionRow(ctx.db, scopeOf(request), id);
    return recorded(ctx, request, { kind, customerId: subscription.customer_id, subscriptionId: id, params }, work);
  }

  /** A change to an object that belongs to a subscription, found first by `find`. */
  async function onObject<R>(
    request: FastifyRequest,
    kind: string,
    find: () => Promise<{ customer_id: string; subscription_id: string }>,
    params: Record<string, unknown>,
    work: () => Promise<R>,
  ): Promise<R> {
    const owner = await find();
    return recorded(ctx, request, { kind, customerId: owner.customer_id, subscriptionId: owner.subscription_id, params }, work);
  }

  async function ownerOfDomainObject(table: 'aliases' | 'lists', scope: string | null, id: string) {
    let query = ctx.db
      .selectFrom(table)
      .innerJoin('domains', 'domains.id', `${table}.domain_id`)
      .select([`${table}.customer_id as customer_id`, 'domains.subscription_id as subscription_id'])
      .where(`${table}.id`, '=', id);
    if (scope !== null) query = query.where(`${table}.customer_id`, '=', scope);
    const row = await query.executeTakeFirst();
    if (row) return row;
    await (table === 'aliases' ? getAlias(ctx, scope, id) : getList(ctx, scope, id)); // throws the right 404
    throw new Error(`${table} ${id} vanished while being read`);
  }

  // Accounts
  api.post(
    '/subscriptions/:id/accounts',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['accounts'],
        summary: 'Create an account (password generated when absent, shown once)',
        params: IdParams,
        body: Body({ address: Str(320), classId: ClassId, password: T.Optional(Str(1024)), displayName: T.Optional(Str(200)), language: T.Optional(Lang) }),
        response: replies({ 201: CreatedAccount }),
      },
    },
    async (request, reply) => {
      const input = request.body;
      const { id } = request.params;
      const created = await inSubscription(request, id, 'account.create', { ...input }, () => createAccount(ctx, scopeOf(request), id, input));
      return reply.code(201).send({ ...created.account, ...(created.generatedPassword ? { generatedPassword: created.generatedPassword } : {}) });
    },
  );

  api.get(
    '/subscriptions/:id/accounts',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['accounts'],
        summary: 'List accounts by address, page by page (pass `next` as `after`)',
        params: IdParams,
        querystring: PageQuery({ search: T.Optional(Str(320)) }),
        response: replies({ 200: Page(AccountWithUsageSchema) }),
      },
    },
    async (request) => {
      const { id } = request.params;
      const { limit = 100, after, search } = request.query;
      const items = await listAccounts(ctx, scopeOf(request), id, { limit, ...(after ? { after } : {}), ...(search ? { search } : {}) });
      const usage = await accountUsage(ctx, items);
      return {
        items: items.map((item) => ({ ...item, usage: usage.get(item.id) as AccountUsage })),
        next: items.length === limit ? (items[items.length - 1]?.address ?? null) : null,
      };
    },
  );

  api.post(
    '/subscriptions/:id/accounts/reclass',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['accounts'],
        summary: 'Move accounts to another class, all or nothing (runs in the background: 202 with the operation)',
        params: IdParams,
        body: Body({ toClassId: ClassId, fromClassId: T.Optional(ClassId), accountIds: T.Optional(T.Array(Str(100), { maxItems: 10_000 })) }),
        response: replies({ 202: OperationSchema }),
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const input = request.body;
      const subscription = await getSubscriptionRow(ctx.db, scopeOf(request), id);
      const scope = scopeOf(request);
      // Bad input is refused at once, not after the 202 (like a domain's name, see prepareDomain).
      await getClassRow(ctx, input.toClassId).catch(() => {
        throw new AppError('invalid', 'unknown-class', text(`No class ${input.toClassId}`, `Aucune classe ${input.toClassId}`), { field: 'toClassId' });
      });
      const op = await started(
        ctx,
        request,
        { kind: 'account.reclass', customerId: subscription.customer_id, subscriptionId: id, params: { ...input, accountIds: input.accountIds?.length } },
        (progress) => reclassAccounts(ctx, scope, id, input, (p, m) => progress.report(p, m)),
      );
      return reply.code(202).header('location', `/api/operations/${op.id}`).send(operationView(op));
    },
  );

  api.get(
    '/accounts/:id',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['accounts'],
        summary: 'Show an account (id or address) with its storage used',
        params: IdParams,
        response: replies({ 200: AccountWithUsageSchema }),
      },
    },
    async (request) => {
      const account = await getAccount(ctx, scopeOf(request), request.params.id);
      const usage = await accountUsage(ctx, [account]);
      return { ...account, usage: usage.get(account.id) as AccountUsage };
    },
  );

  api.patch(
    '/accounts/:id',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['accounts'],
        summary: 'Change class, password, name, language or status (suspension is the operator’s)',
        params: IdParams,
        body: Body({
          classId: T.Optional(ClassId),
          password: T.Optional(Str(1024)),
          displayName: T.Optional(Str(200)),
          language: T.Optional(Lang),
          status: T.Optional(T.Union([T.Literal('active'), T.Literal('disabled'), T.Literal('suspended')])),
        }),
        response: replies({ 200: AccountSchema }),
      },
    },
    async (request) => {
      const { id } = request.params;
      const changes = request.body;
      return onObject(
        request,
        'account.update',
        () => getAccountRow(ctx.db, scopeOf(request), id),
        { id, ...changes },
        () => updateAccount(ctx, scopeOf(request), id, changes),
      );
    },
  );

  api.delete(
    '/accounts/:id',
    { config: { access: [...ADMINS] }, schema: { tags: ['accounts'], summary: 'Delete an account', params: IdParams, response: replies({ 204: NoContent }) } },
    async (request, reply) => {
      const { id } = request.params;
      await onObject(
        request,
        'account.delete',
        () => getAccountRow(ctx.db, scopeOf(request), id),
        { id },
        () => deleteAccount(ctx, scopeOf(request), id),
      );
      return reply.code(204).send();
    },
  );

  // Address aliases
  api.post(
    '/subscriptions/:id/aliases',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['aliases'],
        summary: 'Add an address alias',
        params: IdParams,
        body: Body({ address: Str(320), destinations: Addresses(100) }),
        response: replies({ 201: AliasSchema }),
      },
    },
    async (request, reply) => {
      const input = request.body;
      const { id } = request.params;
      return reply.code(201).send(await inSubscription(request, id, 'alias.create', input, () => createAlias(ctx, scopeOf(request), id, input)));
    },
  );

  api.get(
    '/subscriptions/:id/aliases',
    {
      config: { access: [...ADMINS] },
      schema: { tags: ['aliases'], summary: 'List address aliases', params: IdParams, response: replies({ 200: Items(AliasSchema) }) },
    },
    async (request) => ({
      items: await listAliases(ctx, scopeOf(request), request.params.id),
    }),
  );

  api.get(
    '/aliases/:id',
    { config: { access: [...ADMINS] }, schema: { tags: ['aliases'], summary: 'Show an alias', params: IdParams, response: replies({ 200: AliasSchema }) } },
    async (request) => getAlias(ctx, scopeOf(request), request.params.id),
  );

  api.patch(
    '/aliases/:id',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['aliases'],
        summary: 'Change the destinations',
        params: IdParams,
        body: Body({ destinations: Addresses(100) }),
        response: replies({ 200: AliasSchema }),
      },
    },
    async (request) => {
      const { id } = request.params;
      const input = request.body;
      return onObject(
        request,
        'alias.update',
        () => ownerOfDomainObject('aliases', scopeOf(request), id),
        { id, ...input },
        () => updateAlias(ctx, scopeOf(request), id, input),
      );
    },
  );

  api.delete(
    '/aliases/:id',
    { config: { access: [...ADMINS] }, schema: { tags: ['aliases'], summary: 'Remove an alias', params: IdParams, response: replies({ 204: NoContent }) } },
    async (request, reply) => {
      const { id } = request.params;
      await onObject(
        request,
        'alias.delete',
        () => ownerOfDomainObject('aliases', scopeOf(request), id),
        { id },
        () => deleteAlias(ctx, scopeOf(request), id),
      );
      return reply.code(204).send();
    },
  );

  // Mailing lists
  const ListFields = { name: Str(200), postingPolicy: Policy, moderators: Addresses(100) };
  api.post(
    '/subscriptions/:id/lists',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['lists'],
        summary: 'Add a mailing list',
        params: IdParams,
        body: Body({
          address: Str(320),
          name: T.Optional(ListFields.name),
          postingPolicy: T.Optional(ListFields.postingPolicy),
          moderators: T.Optional(ListFields.moderators),
          members: T.Optional(Addresses(10_000)),
        }),
        response: replies({ 201: ListSchema }),
      },
    },
    async (request, reply) => {
      const input = request.body;
      const { id } = request.params;
      return reply
        .code(201)
        .send(
          await inSubscription(request, id, 'list.create', { ...input, members: input.members?.length }, () => createList(ctx, scopeOf(request), id, input)),
        );
    },
  );

  api.get(
    '/subscriptions/:id/lists',
    {
      config: { access: [...ADMINS] },
      schema: { tags: ['lists'], summary: 'List mailing lists', params: IdParams, response: replies({ 200: Items(ListSchema) }) },
    },
    async (request) => ({
      items: await listLists(ctx, scopeOf(request), request.params.id),
    }),
  );

  api.get(
    '/lists/:id',
    {
      config: { access: [...ADMINS] },
      schema: { tags: ['lists'], summary: 'Show a mailing list with its members', params: IdParams, response: replies({ 200: ListSchema }) },
    },
    async (request) => getList(ctx, scopeOf(request), request.params.id),
  );

  api.patch(
    '/lists/:id',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['lists'],
        summary: 'Edit a mailing list',
        params: IdParams,
        body: Body(T.Partial(T.Object(ListFields)).properties),
        response: replies({ 200: ListSchema }),
      },
    },
    async (request) => {
      const { id } = request.params;
      const input = request.body;
      return onObject(
        request,
        'list.update',
        () => ownerOfDomainObject('lists', scopeOf(request), id),
        { id, ...input },
        () => updateList(ctx, scopeOf(request), id, input),
      );
    },
  );

  api.post(
    '/lists/:id/members',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['lists'],
        summary: 'Add members',
        params: IdParams,
        body: Body({ addresses: Addresses(10_000) }),
        response: replies({ 200: ListSchema }),
      },
    },
    async (request) => {
      const { id } = request.params;
      const { addresses } = request.body;
      return onObject(
        request,
        'list.members.add',
        () => ownerOfDomainObject('lists', scopeOf(request), id),
        { id, count: addresses.length },
        () => addListMembers(ctx, scopeOf(request), id, addresses),
      );
    },
  );

  api.delete(
    '/lists/:id/members/:address',
    {
      config: { access: [...ADMINS] },
      schema: { tags: ['lists'], summary: 'Remove a member', params: T.Object({ id: Str(100), address: Str(320) }), response: replies({ 200: ListSchema }) },
    },
    async (request) => {
      const { id, address } = request.params;
      return onObject(
        request,
        'list.members.remove',
        () => ownerOfDomainObject('lists', scopeOf(request), id),
        { id, address },
        () => removeListMember(ctx, scopeOf(request), id, address),
      );
    },
  );

  api.delete(
    '/lists/:id',
    { config: { access: [...ADMINS] }, schema: { tags: ['lists'], summary: 'Remove a mailing list', params: IdParams, response: replies({ 204: NoContent }) } },
    async (request, reply) => {
      const { id } = request.params;
      await onObject(
        request,
        'list.delete',
        () => ownerOfDomainObject('lists', scopeOf(request), id),
        { id },
        () => deleteList(ctx, scopeOf(request), id),
      );
      return reply.code(204).send();
    },
  );
}
