/**
 * What the operator console and the audit pages read (issue 15):
 * - the audit log of the provider's staff (R-A2): every operation an operator made, with its reason
 *   when it was an access to a message (vault read, quarantine preview). A customer admin sees those
 *   on its customer; a user those that name its mail account; the operator all of them.
 * - the outbound queue as it stands (queued and deferred deliveries), read-only, for the operator;
 * - the scheduled jobs and their last runs (job_runs), read-only, for the operator.
 * Nothing here changes anything: these are views over the operations journal, outbound_queue and job_runs.
 */
import { Type as T } from '@sinclair/typebox';
import type { AppContext } from '../../context.ts';
import { JOBS } from '../../jobs/index.ts';
import { invalid } from '../../shared/errors.ts';
import { principalOf } from '../access.ts';
import { AuditEntrySchema, Items, JobRunSchema, Page, QueueEntrySchema } from '../schemas.ts';
import { PageQuery, type Router, replies, Str } from './helpers.ts';

const ALL = ['operator', 'customer_admin', 'user'] as const;
const OPERATOR = ['operator'] as const;

/** `<millis>.<id>`: the key of the last item of a page, as the next page's `after`. */
function parseCursor(after: string): { at: number; id: string } {
  const dot = after.indexOf('.');
  const at = Number(after.slice(0, dot));
  if (dot <= 0 || !Number.isSafeInteger(at))
    throw invalid('invalid-field', 'after', 'after is not a cursor this list gave', 'after n’est pas un curseur donné par cette liste');
  return { at, id: after.slice(dot + 1) };
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString());

function parseJson(value: string | null): unknown {
  if (value === null) return null;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

export function auditRoutes(api: Router, ctx: AppContext): void {
  api.get(
    '/audit',
    {
      config: { access: [...ALL] },
      schema: {
        tags: ['audit'],
        summary:
          'The audit log of operator actions and accesses to messages (R-A2), newest first: a customer admin sees those on its customer, a user those on its mail account',
        querystring: PageQuery({ customerId: T.Optional(Str(100)) }),
        response: replies({ 200: Page(AuditEntrySchema) }),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { limit = 100, after, customerId } = request.query;
      let q = ctx.db
        .selectFrom('operations')
        .leftJoin('logins', 'logins.id', 'operations.actor_id')
        .select([
          'operations.id',
          'operations.created_at',
          'operations.kind',
          'operations.status',
          'operations.actor_id',
          'operations.customer_id',
          'operations.subscription_id',
          'operations.params',
          'logins.email as actor_email',
        ])
        .where('operations.actor_role', '=', 'operator');
      if (principal.role === 'operator') {
        if (customerId) q = q.where('operations.customer_id', '=', customerId);
      } else {
        q = q.where('operations.customer_id', '=', principal.customerId);
        // A user's own: what names its account (ids are unique and quoted in the params' JSON).
        if (principal.role === 'user') q = q.where('operations.params', 'like', `%"${principal.id.replace(/[%"\\]/g, '')}"%`);
      }
      if (after) {
        const cursor = parseCursor(after);
        q = q.where((eb) =>
          eb.or([eb('operations.created_at', '<', cursor.at), eb.and([eb('operations.created_at', '=', cursor.at), eb('operations.id', '<', cursor.id)])]),
        );
      }
      const rows = await q.orderBy('operations.created_at', 'desc').orderBy('operations.id', 'desc').limit(limit).execute();
      const items = rows.map((row) => {
        const params = (parseJson(row.params) ?? {}) as Record<string, unknown>;
        return {
          id: row.id,
          at: iso(row.created_at) as string,
          action: row.kind,
          status: row.status,
          actorId: row.actor_id,
          actorEmail: row.actor_email ?? null,
          customerId: row.customer_id,
          subscriptionId: row.subscription_id,
          accountId: typeof params.accountId === 'string' ? params.accountId : null,
          reason: typeof params.reason === 'string' ? params.reason : null,
          contentAccess: CONTENT_ACCESSES.has(row.kind),
        };
      });
      const last = rows.at(-1);
      return { items, next: rows.length === limit && last ? `${Number(last.created_at)}.${last.id}` : null };
    },
  );

  api.get(
    '/queue',
    {
      config: { access: [...OPERATOR] },
      schema: {
        tags: ['queue'],
        summary: 'The outbound queue: deliveries waiting (queued, deferred after a failed attempt) or being sent, soonest first',
        querystring: PageQuery({ domain: T.Optional(Str(255)), deferred: T.Optional(T.Boolean()) }),
        response: replies({ 200: Page(QueueEntrySchema) }),
      },
    },
    async (request) => {
      const { limit = 100, after, domain, deferred } = request.query;
      let q = ctx.db.selectFrom('outbound_queue').selectAll().where('status', 'in', ['queued', 'sending']);
      if (domain) q = q.where('domain', '=', domain.toLowerCase());
      if (deferred) q = q.where('attempts', '>', 0);
      if (after) {
        const cursor = parseCursor(after);
        q = q.where((eb) => eb.or([eb('next_attempt_at', '>', cursor.at), eb.and([eb('next_attempt_at', '=', cursor.at), eb('id', '>', cursor.id)])]));
      }
      const rows = await q.orderBy('next_attempt_at', 'asc').orderBy('id', 'asc').limit(limit).execute();
      const items = rows.map((row) => ({
        id: row.id,
        customerId: row.customer_id,
        sender: row.sender,
        recipient: row.recipient,
        domain: row.domain,
        size: Number(row.size),
        status: row.status === 'sending' ? ('sending' as const) : Number(row.attempts) > 0 ? ('deferred' as const) : ('queued' as const),
        attempts: Number(row.attempts),
        nextAttemptAt: iso(row.next_attempt_at) as string,
        lastError: row.last_error,
        messageId: row.message_id ?? null,
        createdAt: iso(row.created_at) as string,
        expiresAt: iso(row.expires_at) as string,
      }));
      const last = rows.at(-1);
      return { items, next: rows.length === limit && last ? `${Number(last.next_attempt_at)}.${last.id}` : null };
    },
  );

  api.get(
    '/jobs',
    {
      config: { access: [...OPERATOR] },
      schema: {
        tags: ['jobs'],
        summary: 'The scheduled jobs: schedule, last start and finish, whether one runs now, last result',
        response: replies({ 200: Items(JobRunSchema) }),
      },
    },
    async () => {
      const rows = await ctx.db.selectFrom('job_runs').selectAll().execute();
      const byName = new Map(rows.map((row) => [row.name, row]));
      const now = ctx.clock.now();
      return {
        items: JOBS.map((job) => {
          const row = byName.get(job.name);
          const started = row?.last_started_at === null || row?.last_started_at === undefined ? null : Number(row.last_started_at);
          const finished = row?.last_finished_at === null || row?.last_finished_at === undefined ? null : Number(row.last_finished_at);
          return {
            name: job.name,
            schedule: job.schedule,
            lastStartedAt: iso(started),
            lastFinishedAt: iso(finished),
            running: started !== null && (finished === null || finished < started) && Number(row?.lease_until ?? 0) > now,
            lastResult: parseJson(row?.last_result ?? null),
          };
        }),
      };
    },
  );
}

/** The operations that are an access to a message's content or subject: each carries its reason. */
export const CONTENT_ACCESSES = new Set(['vault.read', 'quarantine.preview']);
