/**
 * JMAP over HTTP (RFC 8620 §2, §3.1, §6.2): the session resource at /.well-known/jmap, the API endpoint
 * POST /jmap/api and blob download, as a Fastify plugin beside the portal's /api. Authentication: HTTP
 * Basic with the account's password (refused when the account has 2FA on) or an app password, checked
 * and throttled like IMAP's LOGIN (verifyMailLogin); or the portal's session cookie of a user, whose
 * POSTs carry the x-csrf-token header.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CSRF_HEADER, SESSION_COOKIE } from '../api/access.ts';
import { PROBLEM_TYPE, sendProblem } from '../api/problem.ts';
import { findSession, verifyMailLogin } from '../auth/index.ts';
import type { AppContext } from '../context.ts';
import { ensureDefaultMailboxes, MAX_MAILBOX_DEPTH, MAX_MAILBOX_NAME_CHARS, readContent } from '../mailstore/index.ts';
import type { MessageMetadata } from '../mime/index.ts';
import { AppError, isAppError, text } from '../shared/errors.ts';
import { RequestError, runRequest } from './api.ts';
import { decodePart, parseBlobId, structurePart } from './body.ts';
import { CORE, CORE_LIMITS, type JmapAccount, MAIL, RequestCounter } from './core.ts';
import { EMAIL_QUERY_SORTS } from './email-query.ts';

const REALM = 'Basic realm="Facteur JMAP", charset="UTF-8"';

/** API requests under way per account in this process (RFC 8620 §2 maxConcurrentRequests). */
const running = new RequestCounter(CORE_LIMITS.maxConcurrentRequests);

function unauthenticated(): AppError {
  return new AppError(
    'unauthenticated',
    'unauthenticated',
    text('Authentication required (Basic or a session)', 'Authentification requise (Basic ou une session)'),
  );
}

function sameSecret(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Who is calling: Basic credentials (RFC 7617) or a user's portal session; throws an AppError otherwise. */
async function authenticate(ctx: AppContext, request: FastifyRequest): Promise<JmapAccount> {
  const authorization = request.headers.authorization;
  if (authorization && /^basic /i.test(authorization)) {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw unauthenticated();
    // Throttled, 2FA-aware and cached as for IMAP, POP3 and SMTP AUTH.
    const account = await verifyMailLogin(ctx, { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), ip: request.ip });
    await ensureDefaultMailboxes(ctx.db, account, ctx.clock.now());
    return { id: account.id, customerId: account.customer_id, address: account.address };
  }
  const cookie = request.cookies[SESSION_COOKIE];
  if (!cookie) throw unauthenticated();
  const session = await findSession(ctx, cookie);
  if (!session || session.stage !== 'full' || session.principal_role !== 'user') throw unauthenticated();
  if (request.method !== 'GET' && request.method !== 'HEAD' && !sameSecret(request.headers[CSRF_HEADER], session.csrf_token)) {
    throw new AppError('forbidden', 'csrf', text('Missing or wrong CSRF token: reload the page', 'Jeton CSRF absent ou incorrect : rechargez la page'));
  }
  const account = await ctx.db.selectFrom('accounts').selectAll().where('id', '=', session.principal_id).executeTakeFirst();
  if (!account || account.status !== 'active') throw unauthenticated();
  await ensureDefaultMailboxes(ctx.db, account, ctx.clock.now());
  return { id: account.id, customerId: account.customer_id, address: account.address };
}

function sendAuthProblem(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  if (isAppError(error) && error.kind === 'unauthenticated') reply.header('www-authenticate', REALM);
  return sendProblem(request, reply, error);
}

/** The session's state (RFC 8620 §2): changes when what the session object says would. */
function sessionStateOf(account: JmapAccount): string {
  return createHash('sha256')
    .update(`1\u0000${account.id}\u0000${account.address}\u0000${JSON.stringify(CORE_LIMITS)}`)
    .digest('base64url')
    .slice(0, 16);
}

function baseUrlOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/** RFC 8620 §2 Session object, RFC 8621 §1.3 mail capability of the account. */
function sessionOf(request: FastifyRequest, account: JmapAccount): Record<string, unknown> {
  const base = baseUrlOf(request);
  return {
    capabilities: { [CORE]: CORE_LIMITS, [MAIL]: {} },
    accounts: {
      [account.id]: {
        name: account.address,
        isPersonal: true,
        isReadOnly: false,
        accountCapabilities: {
          [CORE]: {},
          [MAIL]: {
            // An Email is one message row, in one folder (email.ts).
            maxMailboxesPerEmail: 1,
            maxMailboxDepth: MAX_MAILBOX_DEPTH,
            maxSizeMailboxName: MAX_MAILBOX_NAME_CHARS,
            maxSizeAttachmentsPerEmail: CORE_LIMITS.maxSizeUpload,
            emailQuerySortOptions: EMAIL_QUERY_SORTS,
            mayCreateTopLevelMailbox: true,
          },
        },
      },
    },
    primaryAccounts: { [CORE]: account.id, [MAIL]: account.id },
    username: account.address,
    apiUrl: `${base}/jmap/api`,
    downloadUrl: `${base}/jmap/download/{accountId}/{blobId}/{name}?accept={type}`,
    uploadUrl: `${base}/jmap/upload/{accountId}/`,
    eventSourceUrl: `${base}/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}`,
    state: sessionStateOf(account),
  };
}

/** Content-Disposition: attachment with an ASCII fallback and the RFC 8187 UTF-8 name. */
function attachmentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/** The `accept` type of a download (RFC 8620 §6.2), when it is a plain media type; else octet-stream. */
function downloadType(accept: unknown): string {
  return typeof accept === 'string' && /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i.test(accept)
    ? accept.toLowerCase()
    : 'application/octet-stream';
}

export async function registerJmap(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await app.register(async (jmap) => {
    // Bodies reach the API as bytes: notJSON and the size limit are JMAP's request-level errors (§3.6.1).
    jmap.removeAllContentTypeParsers();
    jmap.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: CORE_LIMITS.maxSizeRequest }, (_request, body, done) => done(null, body));
    jmap.setErrorHandler((error, request, reply) => {
      if ((error as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        return reply
          .code(400)
          .type(PROBLEM_TYPE)
          .send(new RequestError('limit', `a request is at most ${CORE_LIMITS.maxSizeRequest} octets`, 'maxSizeRequest').problem());
      }
      return sendProblem(request, reply, error);
    });

    jmap.get('/.well-known/jmap', { schema: { hide: true }, config: { access: 'anonymous' } }, async (request, reply) => {
      let account: JmapAccount;
      try {
        account = await authenticate(ctx, request);
      } catch (error) {
        return sendAuthProblem(request, reply, error);
      }
      reply.header('cache-control', 'no-cache, no-store, must-revalidate');
      return reply.send(sessionOf(request, account));
    });

    jmap.post('/jmap/api', { schema: { hide: true }, config: { access: 'anonymous' } }, async (request, reply) => {
      let account: JmapAccount;
      try {
        account = await authenticate(ctx, request);
      } catch (error) {
        return sendAuthProblem(request, reply, error);
      }
      try {
        const type = String(request.headers['content-type'] ?? '')
          .split(';')[0]
          ?.trim()
          .toLowerCase();
        if (type !== 'application/json') throw new RequestError('notJSON', 'the request must be application/json');
        let body: unknown;
        try {
          body = JSON.parse((request.body as Buffer | undefined)?.toString('utf8') ?? '');
        } catch {
          throw new RequestError('notJSON', 'the request does not parse as JSON');
        }
        if (!running.enter(account.id)) {
          throw new RequestError('limit', `at most ${CORE_LIMITS.maxConcurrentRequests} requests at once`, 'maxConcurrentRequests');
        }
        let response: Awaited<ReturnType<typeof runRequest>>;
        try {
          response = await runRequest(ctx, account, body, sessionStateOf(account));
        } finally {
          running.leave(account.id);
        }
        reply.header('cache-control', 'no-cache, no-store, must-revalidate');
        return reply.type('application/json').send(response);
      } catch (error) {
        if (error instanceof RequestError) return reply.code(400).type(PROBLEM_TYPE).send(error.problem());
        throw error;
      }
    });

    // RFC 8620 §6.2. Attachments never render in the service's origin: always `attachment`, nosniff, and a sandboxing CSP.
    jmap.get<{ Params: { accountId: string; blobId: string; name: string }; Querystring: { accept?: string } }>(
      '/jmap/download/:accountId/:blobId/:name',
      { schema: { hide: true }, config: { access: 'anonymous' } },
      async (request, reply) => {
        let account: JmapAccount;
        try {
          account = await authenticate(ctx, request);
        } catch (error) {
          return sendAuthProblem(request, reply, error);
        }
        const notFound = new AppError('not-found', 'blob-not-found', text('No such blob', 'Ce contenu n’existe pas'));
        const { accountId, blobId, name } = request.params;
        const parsed = parseBlobId(blobId);
        if (accountId !== account.id || !parsed) return sendProblem(request, reply, notFound);
        const row = await ctx.db
          .selectFrom('messages')
          .select(['blob_id', 'metadata'])
          .where('account_id', '=', account.id)
          .where('blob_id', '=', parsed.contentId)
          .limit(1)
          .executeTakeFirst();
        if (!row) return sendProblem(request, reply, notFound);
        reply
          .header('content-type', downloadType(request.query.accept))
          .header('content-disposition', attachmentDisposition(name))
          .header('x-content-type-options', 'nosniff')
          .header('content-security-policy', "default-src 'none'; sandbox")
          .header('cache-control', 'private, max-age=604800, immutable');
        if (parsed.partId === null) return reply.send(readContent(ctx, row.blob_id));
        const metadata = JSON.parse(row.metadata) as MessageMetadata;
        const part = structurePart(metadata.bodyStructure, parsed.partId);
        if (!part || part.kind === 'multipart') return sendProblem(request, reply, notFound);
        const chunks: Buffer[] = [];
        for await (const chunk of readContent(ctx, row.blob_id)) chunks.push(Buffer.from(chunk));
        return reply.send(decodePart(Buffer.concat(chunks), part));
      },
    );
  });
}
