/** Domains: add (with the records to publish and their live check), check again, DKIM rotation, contacts, domain aliases (R-T3, R-T4). */
import { Type as T } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.ts';
import {
  activateDkimKey,
  addDomain,
  addDomainAlias,
  cancelDkimRotation,
  checkDomain,
  getDomain,
  getDomainRow,
  getSubscriptionRow,
  listDomains,
  prepareDomain,
  removeDomain,
  removeDomainAlias,
  rotateDkimKey,
  setDomainContacts,
} from '../../tenancy/index.ts';
import { DomainSchema, Items, OperationSchema } from '../schemas.ts';
import { Body, IdParams, NoContent, operationView, Query, type Router, recorded, replies, Str, scopeOf, started } from './helpers.ts';

const ADMINS = ['operator', 'customer_admin'] as const;
const Contact = T.Optional(Body({ name: Str(200), email: Str(320), phone: T.Optional(T.Union([Str(40), T.Null()])) }));

export function domainRoutes(api: Router, ctx: AppContext): void {
  async function domainChange<R>(request: FastifyRequest, id: string, kind: string, params: Record<string, unknown>, work: () => Promise<R>): Promise<R> {
    const domain = await getDomainRow(ctx.db, scopeOf(request), id);
    return recorded(
      ctx,
      request,
      { kind, customerId: domain.customer_id, subscriptionId: domain.subscription_id, params: { domain: domain.name, ...params } },
      work,
    );
  }

  api.post(
    '/subscriptions/:id/domains',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['domains'],
        summary: 'Add a domain: generates its DKIM key and checks its DNS records (runs in the background: 202 with the operation)',
        params: IdParams,
        body: Body({ name: Str(255, { minLength: 1 }) }),
        response: replies({ 202: OperationSchema }),
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const subscription = await getSubscriptionRow(ctx.db, scopeOf(request), id);
      const ascii = await prepareDomain(ctx, scopeOf(request), id, request.body.name);
      const op = await started(
        ctx,
        request,
        { kind: 'domain.add', customerId: subscription.customer_id, subscriptionId: id, params: { name: ascii } },
        (progress) =>
          addDomain(ctx, id, ascii, (percent, message) => progress.report(percent, message)).then((d) => ({
            domainId: d.id,
            name: d.name,
            ok: d.lastCheck?.ok ?? false,
          })),
      );
      return reply.code(202).header('location', `/api/operations/${op.id}`).send(operationView(op));
    },
  );

  api.get(
    '/domains',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['domains'],
        summary: 'List domains',
        querystring: Query({ subscriptionId: T.Optional(Str(100)) }),
        response: replies({ 200: Items(DomainSchema) }),
      },
    },
    async (request) => {
      const { subscriptionId } = request.query;
      return { items: await listDomains(ctx, scopeOf(request), subscriptionId ? { subscriptionId } : {}) };
    },
  );

  api.get(
    '/domains/:id',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['domains'],
        summary: 'A domain with the records to publish and the last check (id or name)',
        params: IdParams,
        response: replies({ 200: DomainSchema }),
      },
    },
    async (request) => getDomain(ctx, scopeOf(request), request.params.id),
  );

  api.post(
    '/domains/:id/check',
    {
      config: { access: [...ADMINS] },
      schema: { tags: ['domains'], summary: 'Check the DNS records now, record by record', params: IdParams, response: replies({ 200: DomainSchema }) },
    },
    async (request) => domainChange(request, request.params.id, 'domain.check', {}, () => checkDomain(ctx, scopeOf(request), request.params.id)),
  );

  api.post(
    '/domains/:id/dkim/rotate',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['domains'],
        summary:
          'Rotate the DKIM key: a new key under a new selector, pending; the current key signs until the new record is seen in DNS (check), then stays listed for a grace period',
        params: IdParams,
        response: replies({ 201: DomainSchema }),
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const domain = await domainChange(request, id, 'domain.dkim.rotate', {}, () => rotateDkimKey(ctx, scopeOf(request), id));
      return reply.code(201).send(domain);
    },
  );

  api.post(
    '/domains/:id/dkim/activate',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['domains'],
        summary: 'Sign with the pending DKIM key now; refused (409 dkim-not-published) while its record is not visible in DNS',
        params: IdParams,
        response: replies({ 200: DomainSchema }),
      },
    },
    async (request) => domainChange(request, request.params.id, 'domain.dkim.activate', {}, () => activateDkimKey(ctx, scopeOf(request), request.params.id)),
  );

  api.delete(
    '/domains/:id/dkim/pending',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['domains'],
        summary: 'Cancel a pending DKIM rotation: the current key goes on signing',
        params: IdParams,
        response: replies({ 200: DomainSchema }),
      },
    },
    async (request) => domainChange(request, request.params.id, 'domain.dkim.cancel', {}, () => cancelDkimRotation(ctx, scopeOf(request), request.params.id)),
  );

  api.put(
    '/domains/:id/contacts',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['domains'],
        summary: 'Set the administrative, technical and billing contacts',
        params: IdParams,
        body: Body({ administrative: Contact, technical: Contact, billing: Contact }),
        response: replies({ 200: DomainSchema }),
      },
    },
    async (request) => {
      const input = request.body;
      const { id } = request.params;
      return domainChange(request, id, 'domain.contacts', { ...input }, () => setDomainContacts(ctx, scopeOf(request), id, input));
    },
  );

  api.post(
    '/domains/:id/aliases',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['domains'],
        summary: 'Add a domain alias',
        params: IdParams,
        body: Body({ name: Str(255, { minLength: 1 }) }),
        response: replies({ 201: DomainSchema }),
      },
    },
    async (request, reply) => {
      const { name } = request.body;
      const { id } = request.params;
      const domain = await domainChange(request, id, 'domain.alias.add', { alias: name }, () => addDomainAlias(ctx, scopeOf(request), id, name));
      return reply.code(201).send(domain);
    },
  );

  api.delete(
    '/domains/:id/aliases/:alias',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['domains'],
        summary: 'Remove a domain alias',
        params: T.Object({ id: Str(100), alias: Str(255) }),
        response: replies({ 200: DomainSchema }),
      },
    },
    async (request) => {
      const { id, alias } = request.params;
      return domainChange(request, id, 'domain.alias.remove', { alias }, () => removeDomainAlias(ctx, scopeOf(request), id, alias));
    },
  );

  api.delete(
    '/domains/:id',
    {
      config: { access: [...ADMINS] },
      schema: { tags: ['domains'], summary: 'Remove a domain without accounts, aliases or lists', params: IdParams, response: replies({ 204: NoContent }) },
    },
    async (request, reply) => {
      const { id } = request.params;
      await domainChange(request, id, 'domain.remove', {}, () => removeDomain(ctx, scopeOf(request), id));
      return reply.code(204).send();
    },
  );
}
