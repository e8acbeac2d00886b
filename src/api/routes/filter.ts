/**
 * The filter (issue 5): quarantine (R-S1, R-S4), allow and block lists (R-S2), filter preferences,
 * the digest's links (R-S3, public: they work without logging in) and the malware vault (R-V1, R-A2).
 *
 * Who sees what: a user (logged in with its mail account) its own quarantine, rules and preferences
 * (`/quarantine` scoped to it, `/me/sender-rules`, `/me/filter-prefs`); a customer admin those of its
 * accounts and domains; the operator everything. The vault is the operator's alone: anyone else gets
 * 404, as if it did not exist.
 *
 * Digest links: GET shows a small confirmation page and only POST acts, so mail scanners that follow
 * links (GET) release nothing. POST answers JSON, or a page when the browser asks for HTML (the form).
 */
import { type Static, Type as T } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../auth/principal.ts';
import type { AppContext } from '../../context.ts';
import { reportMessage } from '../../filter/learning.ts';
import { inspectDigestLink, type LinkTarget, useDigestLink } from '../../filter/links.ts';
import { type FilterPrefs, getFilterPrefs, setFilterPrefs } from '../../filter/prefs.ts';
import { deleteQuarantined, getQuarantineRow, listQuarantine, previewQuarantined, type QuarantineScope, releaseQuarantined } from '../../filter/quarantine.ts';
import { addSenderRule, type FilterOwner, getSenderRule, listSenderRules, removeSenderRule, resolveFilterOwner } from '../../filter/sender-rules.ts';
import { listVault, listVaultReads, readVault } from '../../filter/vault.ts';
import { invalid, isAppError, type Language, type Text, text } from '../../shared/errors.ts';
import { getAccountRow, getDomainRow } from '../../tenancy/index.ts';
import { principalOf } from '../access.ts';
import { languageOf, noRoute, sendProblem } from '../problem.ts';
import {
  ERROR_REPLIES,
  Items,
  Page,
  PrefsSchema,
  QuarantineEntrySchema,
  QuarantinePreviewSchema,
  ReleaseSchema,
  SenderRuleSchema,
  type TypeBoxProvider,
  VaultEntrySchema,
  VaultReadSchema,
} from '../schemas.ts';
import { Body, IdParams, NoContent, PageQuery, type Router, recorded, replies, Str, scopeOf } from './helpers.ts';

const ALL = ['operator', 'customer_admin', 'user'] as const;
const ADMINS = ['operator', 'customer_admin'] as const;
const USER = ['user'] as const;

const RuleKind = T.Union([T.Literal('allow'), T.Literal('block')]);
const RuleBody = Body({
  pattern: Str(320, { minLength: 1 }),
  kind: RuleKind,
});
const Score = T.Union([T.Number({ minimum: -1000, maximum: 10_000 }), T.Null()]);
const PrefsBody = Body({
  quarantineScore: T.Optional(Score),
  rejectScore: T.Optional(Score),
  blockedAction: T.Optional(T.Union([T.Literal('reject'), T.Literal('quarantine'), T.Null()])),
  digest: T.Optional(T.Union([T.Literal('weekly'), T.Literal('daily'), T.Literal('off'), T.Null()])),
});
const ReleaseBody = Body({ allowSender: T.Optional(T.Boolean()), trainAsHam: T.Optional(T.Boolean()) });
const TokenParams = T.Object({ token: Str(200) });
const ReportBody = Body({ as: T.Union([T.Literal('spam'), T.Literal('ham')], { description: "'spam' (report as spam) or 'ham' (not spam)" }) });
const ReportReply = T.Object({ as: T.Union([T.Literal('spam'), T.Literal('ham')]) }, { additionalProperties: false });
const MessageParams = T.Object({ messageId: Str(100) });
const AccountMessageParams = T.Object({ id: Str(100), messageId: Str(100) });
const VaultContent = T.Object(
  {
    entry: VaultEntrySchema,
    contentBase64: T.String({ description: 'The message as submitted, base64 (never rendered)' }),
    read: VaultReadSchema,
  },
  { additionalProperties: false },
);
const LinkDone = T.Object(
  { action: T.Union([T.Literal('release'), T.Literal('delete')]), quarantineId: T.String(), done: T.Literal(true) },
  { additionalProperties: false },
);
const Html = (description: string) => ({ description, content: { 'text/html': { schema: T.String() } } });

/** The caller's view of the quarantine: a user sees its own account's only. */
function quarantineScopeOf(principal: Principal): QuarantineScope {
  if (principal.role === 'user') return { customerId: principal.customerId, accountId: principal.id };
  return { customerId: principal.role === 'operator' ? null : principal.customerId };
}

/** An operator's access to a message without a reason (R-A2): refused, naming the field. */
function reasonRequired() {
  return invalid(
    'reason-required',
    'reason',
    'Say why you open this message (an authority’s request, a support ticket…): at least 3 characters',
    'Indiquez pourquoi vous ouvrez ce message (demande d’une autorité, ticket de support…) : 3 caractères au moins',
  );
}

function ownAccount(principal: Principal): FilterOwner {
  return { account: principal.id };
}

export function filterRoutes(api: Router, ctx: AppContext): void {
  // Quarantine
  api.get(
    '/quarantine',
    {
      config: { access: [...ALL] },
      schema: {
        tags: ['quarantine'],
        summary: 'Held messages, newest first (a user: its own; a customer admin: its domains’; filter by account or domain)',
        querystring: PageQuery({ account: T.Optional(Str(320)), domain: T.Optional(Str(255)) }),
        response: replies({ 200: Page(QuarantineEntrySchema) }),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { limit = 100, after, account, domain } = request.query;
      const scope = quarantineScopeOf(principal);
      const accountId = account ? (await getAccountRow(ctx.db, scope.customerId, account)).id : undefined;
      const domainId = domain ? (await getDomainRow(ctx.db, scope.customerId, domain)).id : undefined;
      const page = await listQuarantine(ctx, scope, {
        limit,
        ...(after ? { after } : {}),
        ...(accountId ? { accountId } : {}),
        ...(domainId ? { domainId } : {}),
      });
      // R-A2: the provider's staff see envelopes, not subjects; a preview, justified and recorded, shows more.
      if (principal.role === 'operator') return { ...page, items: page.items.map((item) => ({ ...item, subject: '', from: '' })) };
      return page;
    },
  );

  api.get(
    '/quarantine/:id',
    {
      config: { access: [...ALL] },
      schema: {
        tags: ['quarantine'],
        summary:
          'Preview a held message: verdict, headers, decoded text and attachment names (HTML is never given raw). The operator must give a reason, recorded (R-A2)',
        params: IdParams,
        querystring: T.Object({ reason: T.Optional(Str(1000)) }, { additionalProperties: false }),
        response: replies({ 200: QuarantinePreviewSchema }),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const scope = quarantineScopeOf(principal);
      const { id } = request.params;
      if (principal.role !== 'operator') return previewQuarantined(ctx, scope, id);
      const reason = (request.query.reason ?? '').trim();
      const row = await getQuarantineRow(ctx, scope, id);
      if (reason.length < 3) throw reasonRequired();
      return recorded(
        ctx,
        request,
        { kind: 'quarantine.preview', customerId: row.customer_id, subscriptionId: null, params: { id, accountId: row.account_id, reason } },
        () => previewQuarantined(ctx, scope, id),
      );
    },
  );

  // Reports (issue 11, R-S4): the account's judgement of one of its messages, learnt at once; the same
  // report twice counts once, and the opposite report moves the message to the other side.
  api.post(
    '/me/messages/:messageId/report',
    {
      config: { access: [...USER] },
      schema: {
        tags: ['filter'],
        summary: 'Report one of my messages as spam or as not spam: the filter learns it for me and my domain',
        params: MessageParams,
        body: ReportBody,
        response: replies({ 200: ReportReply }),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return reportMessage(ctx, scopeOf(request), { accountId: principal.id, messageId: request.params.messageId }, request.body.as, 'report');
    },
  );

  api.post(
    '/accounts/:id/messages/:messageId/report',
    {
      config: { access: [...ADMINS] },
      schema: {
        tags: ['filter'],
        summary: "Report an account's message as spam or as not spam (for that account and its domain)",
        params: AccountMessageParams,
        body: ReportBody,
        response: replies({ 200: ReportReply }),
      },
    },
    async (request) => {
      const { id, messageId } = request.params;
      const account = await getAccountRow(ctx.db, scopeOf(request), id);
      return recorded(
        ctx,
        request,
        { kind: 'filter.report', customerId: account.customer_id, subscriptionId: null, params: { account: id, message: messageId, as: request.body.as } },
        () => reportMessage(ctx, scopeOf(request), { accountId: id, messageId }, request.body.as, 'report'),
      );
    },
  );

  api.post(
    '/quarantine/:id/release',
    {
      config: { access: [...ALL] },
      schema: {
        tags: ['quarantine'],
        summary: 'Release a held message to the Inbox; it teaches the filter "not spam" unless trainAsHam is false; optionally allow its sender',
        params: IdParams,
        body: ReleaseBody,
        response: replies({ 200: ReleaseSchema }),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { id } = request.params;
      const options = request.body;
      const scope = quarantineScopeOf(principal);
      const row = await getQuarantineRow(ctx, scope, id);
      const released = await recorded(
        ctx,
        request,
        { kind: 'quarantine.release', customerId: row.customer_id, subscriptionId: null, params: { id, accountId: row.account_id, ...options } },
        () => releaseQuarantined(ctx, scope, id, { actor: `${principal.role}:${principal.id}`, ...options }),
      );
      return released;
    },
  );

  api.delete(
    '/quarantine/:id',
    {
      config: { access: [...ALL] },
      schema: { tags: ['quarantine'], summary: 'Delete a held message for good', params: IdParams, response: replies({ 204: NoContent }) },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { id } = request.params;
      const scope = quarantineScopeOf(principal);
      const row = await getQuarantineRow(ctx, scope, id);
      await recorded(
        ctx,
        request,
        { kind: 'quarantine.delete', customerId: row.customer_id, subscriptionId: null, params: { id, accountId: row.account_id } },
        () => deleteQuarantined(ctx, scope, id, { actor: `${principal.role}:${principal.id}` }),
      );
      return reply.code(204).send();
    },
  );

  // Allow and block lists
  async function addRule(request: FastifyRequest, owner: FilterOwner, input: Static<typeof RuleBody>) {
    const scope = scopeOf(request);
    const resolved = await resolveFilterOwner(ctx.db, scope, owner);
    return recorded(ctx, request, { kind: 'sender-rule.add', customerId: resolved.customerId, subscriptionId: null, params: { owner, ...input } }, () =>
      addSenderRule(ctx, scope, owner, input),
    );
  }

  async function removeRule(request: FastifyRequest, reply: FastifyReply, id: string, accountId?: string) {
    const scope = scopeOf(request);
    const rule = await getSenderRule(ctx, scope, id, accountId);
    await recorded(ctx, request, { kind: 'sender-rule.remove', customerId: rule.customerId, subscriptionId: null, params: { id } }, () =>
      removeSenderRule(ctx, scope, id, accountId),
    );
    return reply.code(204).send();
  }

  api.get(
    '/me/sender-rules',
    {
      config: { access: [...USER] },
      schema: { tags: ['sender rules'], summary: 'My allow and block lists', response: replies({ 200: Items(SenderRuleSchema) }) },
    },
    async (request) => ({
      items: await listSenderRules(ctx, scopeOf(request), ownAccount(principalOf(request))),
    }),
  );
  api.post(
    '/me/sender-rules',
    {
      config: { access: [...USER] },
      schema: {
        tags: ['sender rules'],
        summary: 'Allow or block a sender for me: an address, a domain (example.com) or its subdomains (.example.com)',
        body: RuleBody,
        response: replies({ 201: SenderRuleSchema }),
      },
    },
    async (request, reply) => reply.code(201).send(await addRule(request, ownAccount(principalOf(request)), request.body)),
  );
  api.delete(
    '/me/sender-rules/:id',
    {
      config: { access: [...USER] },
      schema: { tags: ['sender rules'], summary: 'Remove one of my sender rules', params: IdParams, response: replies({ 204: NoContent }) },
    },
    async (request, reply) => removeRule(request, reply, request.params.id, principalOf(request).id),
  );

  for (const level of ['accounts', 'domains'] as const) {
    const ownerOf = (id: string): FilterOwner => (level === 'accounts' ? { account: id } : { domain: id });
    const what = level === 'accounts' ? 'an account' : 'a domain (applies to all its accounts, after their own rules)';
    api.get(
      `/${level}/:id/sender-rules`,
      {
        config: { access: [...ADMINS] },
        schema: { tags: ['sender rules'], summary: `Allow and block lists of ${what}`, params: IdParams, response: replies({ 200: Items(SenderRuleSchema) }) },
      },
      async (request) => ({ items: await listSenderRules(ctx, scopeOf(request), ownerOf(request.params.id)) }),
    );
    api.post(
      `/${level}/:id/sender-rules`,
      {
        config: { access: [...ADMINS] },
        schema: {
          tags: ['sender rules'],
          summary: `Allow or block a sender for ${what}: an address, a domain (example.com) or its subdomains (.example.com)`,
          params: IdParams,
          body: RuleBody,
          response: replies({ 201: SenderRuleSchema }),
        },
      },
      async (request, reply) => reply.code(201).send(await addRule(request, ownerOf(request.params.id), request.body)),
    );
    api.get(
      `/${level}/:id/filter-prefs`,
      {
        config: { access: [...ADMINS] },
        schema: {
          tags: ['filter preferences'],
          summary: `Filter thresholds, blocked action and digest frequency of ${what}`,
          params: IdParams,
          response: replies({ 200: PrefsSchema }),
        },
      },
      async (request) => getFilterPrefs(ctx, scopeOf(request), ownerOf(request.params.id)),
    );
    api.patch(
      `/${level}/:id/filter-prefs`,
      {
        config: { access: [...ADMINS] },
        schema: {
          tags: ['filter preferences'],
          summary: `Change filter preferences of ${what} (null: inherit)`,
          params: IdParams,
          body: PrefsBody,
          response: replies({ 200: PrefsSchema }),
        },
      },
      async (request) => setPrefs(request, ownerOf(request.params.id), request.body),
    );
  }
  api.delete(
    '/sender-rules/:id',
    {
      config: { access: [...ADMINS] },
      schema: { tags: ['sender rules'], summary: 'Remove a sender rule of an account or a domain', params: IdParams, response: replies({ 204: NoContent }) },
    },
    async (request, reply) => removeRule(request, reply, request.params.id),
  );

  // Preferences
  async function setPrefs(request: FastifyRequest, owner: FilterOwner, changes: Partial<FilterPrefs>) {
    const scope = scopeOf(request);
    const resolved = await resolveFilterOwner(ctx.db, scope, owner);
    return recorded(ctx, request, { kind: 'filter-prefs.set', customerId: resolved.customerId, subscriptionId: null, params: { owner, ...changes } }, () =>
      setFilterPrefs(ctx, scope, owner, changes),
    );
  }
  api.get(
    '/me/filter-prefs',
    {
      config: { access: [...USER] },
      schema: { tags: ['filter preferences'], summary: 'My filter thresholds, blocked action and digest frequency', response: replies({ 200: PrefsSchema }) },
    },
    async (request) => getFilterPrefs(ctx, scopeOf(request), ownAccount(principalOf(request))),
  );
  api.patch(
    '/me/filter-prefs',
    {
      config: { access: [...USER] },
      schema: {
        tags: ['filter preferences'],
        summary: 'Change my filter preferences, e.g. the digest: weekly, daily or off (null: inherit)',
        body: PrefsBody,
        response: replies({ 200: PrefsSchema }),
      },
    },
    async (request) => setPrefs(request, ownAccount(principalOf(request)), request.body),
  );

  // Vault (R-V1, R-A2): the operator's alone; others get 404.
  api.get(
    '/vault',
    {
      config: { access: [...ALL] },
      schema: {
        tags: ['vault'],
        summary: 'Outbound messages kept for carrying malware (operator only)',
        querystring: PageQuery({ customerId: T.Optional(Str(100)) }),
        response: replies({ 200: Page(VaultEntrySchema) }),
      },
    },
    async (request) => {
      // Not "no such vaulted message": for anyone but the operator, the vault is a route that does not exist.
      if (scopeOf(request) !== null) throw noRoute(request);
      const { limit = 100, after, customerId } = request.query;
      return listVault(ctx, scopeOf(request), { limit, ...(after ? { after } : {}), ...(customerId ? { customerId } : {}) });
    },
  );
  api.post(
    '/vault/:id/read',
    {
      config: { access: [...ALL] },
      schema: {
        tags: ['vault'],
        summary: 'Read a vaulted message (operator only; the read and its reason are recorded)',
        params: IdParams,
        body: Body({ reason: Str(1000, { minLength: 1 }) }),
        response: replies({ 200: VaultContent }),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { id } = request.params;
      const { reason } = request.body;
      const scope = scopeOf(request);
      if (scope !== null) return readVault(ctx, scope, id, { loginId: principal.id, reason }); // throws not-found
      // Recorded on the customer and the account whose mail it is, so that both see the access (R-A2).
      const row = await ctx.db.selectFrom('malware_vault').select(['customer_id', 'account_id']).where('id', '=', id).executeTakeFirst();
      if (!row || reason.trim().length < 3) return readVault(ctx, scope, id, { loginId: principal.id, reason }); // throws: not found, reason required
      return recorded(
        ctx,
        request,
        { kind: 'vault.read', customerId: row.customer_id, subscriptionId: null, params: { id, accountId: row.account_id, reason: reason.trim() } },
        () => readVault(ctx, scope, id, { loginId: principal.id, reason }),
      );
    },
  );
  api.get(
    '/vault/:id/reads',
    {
      config: { access: [...ALL] },
      schema: {
        tags: ['vault'],
        summary: 'Who read a vaulted message, when and why (operator only)',
        params: IdParams,
        response: replies({ 200: Items(VaultReadSchema) }),
      },
    },
    async (request) => ({ items: await listVaultReads(ctx, scopeOf(request), request.params.id) }),
  );

  // Digest links: public, in a scope of their own that also takes the confirmation form's POST.
  api.register(async (scope) => {
    const links = scope.withTypeProvider<TypeBoxProvider>();
    links.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 }, (_request, _body, done) => done(null, {}));

    links.get(
      '/digest-links/:token',
      {
        config: { access: 'anonymous' },
        schema: {
          tags: ['quarantine'],
          summary: 'The confirmation page of a digest link (HTML; acts on nothing)',
          params: TokenParams,
          security: [],
          response: { 200: Html('The confirmation page'), '4xx': Html('The link is not usable (bad, expired or used)'), '5xx': Html('Internal error') },
        },
      },
      async (request, reply) => {
        const { token } = request.params;
        try {
          const target = await inspectDigestLink(ctx, token);
          return sendPage(reply, 200, target.language, confirmPage(target));
        } catch (error) {
          return linkFailure(request, reply, error, true);
        }
      },
    );

    links.post(
      '/digest-links/:token',
      {
        config: { access: 'anonymous' },
        schema: {
          tags: ['quarantine'],
          summary: 'Use a digest link: release or delete its message (once; the same 404 for a bad, expired or used link)',
          params: TokenParams,
          security: [],
          response: {
            200: {
              description: 'Done: JSON, or a page for a browser (Accept: text/html)',
              content: { 'application/json': { schema: LinkDone }, 'text/html': { schema: T.String() } },
            },
            ...ERROR_REPLIES,
          },
        },
      },
      async (request, reply) => {
        const { token } = request.params;
        const html = wantsHtml(request);
        try {
          const target = await useDigestLink(ctx, token);
          if (html) return sendPage(reply, 200, target.language, donePage(target));
          return { action: target.action, quarantineId: target.quarantineId, done: true as const };
        } catch (error) {
          return linkFailure(request, reply, error, html);
        }
      },
    );
  });
}

function wantsHtml(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('text/html');
}

function linkFailure(request: FastifyRequest, reply: FastifyReply, error: unknown, html: boolean) {
  if (!html) return sendProblem(request, reply, error);
  const language = languageOf(request);
  if (isAppError(error)) return sendPage(reply, error.kind === 'not-found' ? 404 : 409, language, page(language, TITLES.failed, error.text[language]));
  request.log.error({ err: error, event: 'api.internal_error' }, 'api.internal_error');
  return sendPage(reply, 500, language, page(language, TITLES.failed, TITLES.internal[language]));
}

const TITLES = {
  release: text('Release this message to your Inbox?', 'Relâcher ce message vers votre boîte de réception ?'),
  delete: text('Delete this message for good?', 'Supprimer définitivement ce message ?'),
  releaseButton: text('Release', 'Relâcher'),
  deleteButton: text('Delete', 'Supprimer'),
  released: text('The message was released to your Inbox.', 'Le message a été relâché vers votre boîte de réception.'),
  deleted: text('The message was deleted.', 'Le message a été supprimé.'),
  failed: text('Link not usable', 'Lien inutilisable'),
  internal: text('Something went wrong; try again later.', 'Une erreur est survenue ; réessayez plus tard.'),
  from: text('From', 'De'),
  subject: text('Subject', 'Objet'),
  received: text('Received', 'Reçu le'),
} satisfies Record<string, Text>;

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(language: Language, title: Text, body: string, extra = ''): string {
  return `<!doctype html>
<html lang="${language}"><head><meta charset="utf-8"><meta name="robots" content="noindex"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title[language])}</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto">
<h1 style="font-size: 1.3em">${escapeHtml(title[language])}</h1>
<p>${escapeHtml(body)}</p>
${extra}
</body></html>`;
}

function confirmPage(target: LinkTarget): string {
  const l = target.language;
  const details = `<dl>
<dt>${TITLES.from[l]}</dt><dd>${escapeHtml(target.from || '-')}</dd>
<dt>${TITLES.subject[l]}</dt><dd>${escapeHtml(target.subject || '-')}</dd>
<dt>${TITLES.received[l]}</dt><dd>${escapeHtml(target.receivedAt)}</dd>
</dl>
<form method="post"><button type="submit">${escapeHtml((target.action === 'release' ? TITLES.releaseButton : TITLES.deleteButton)[l])}</button></form>`;
  return page(l, target.action === 'release' ? TITLES.release : TITLES.delete, '', details);
}

function donePage(target: LinkTarget): string {
  const done = target.action === 'release' ? TITLES.released : TITLES.deleted;
  return page(target.language, done, '');
}

function sendPage(reply: FastifyReply, status: number, _language: Language, html: string) {
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('x-robots-tag', 'noindex')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
    .type('text/html; charset=utf-8')
    .send(html);
}
