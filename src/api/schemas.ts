/**
 * What the API answers, as TypeBox schemas: the OpenAPI document is made from them, Fastify serializes
 * every reply through them (a field they do not name is not sent), and the routes take their types
 * from them. One style: camelCase fields, dates as ISO 8601 strings (`format: date-time`).
 */
import { type Static, Type as T, type TNull, type TSchema } from '@sinclair/typebox';
import type { FastifyTypeProvider } from 'fastify';
import { PROBLEM_TYPE } from './problem.ts';

/**
 * Request and reply types from the route's TypeBox schemas (what @fastify/type-provider-typebox does,
 * without the package): `request.body` is `Static<typeof Body>`, and a reply must match its status's schema.
 */
export interface TypeBoxProvider extends FastifyTypeProvider {
  validator: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
  serializer: StaticReply<this['schema']>;
}

/** A 204's schema (null) types as no payload: `reply.code(204).send()`. */
type StaticReply<S> = S extends TNull
  ? undefined
  : S extends TSchema
    ? Static<S>
    : S extends { content: Record<string, { schema: infer C }> }
      ? C extends TSchema
        ? Static<C>
        : unknown
      : unknown;

const Nullable = <S extends TSchema>(schema: S) => T.Union([schema, T.Null()]);
const Id = T.String();
/** An instant, ISO 8601 in UTC (`2026-11-26T10:00:00.000Z`). */
export const DateTime = T.String({ format: 'date-time' });
const Language = T.Union([T.Literal('en'), T.Literal('fr')]);
/** A text in both languages the service speaks. */
const Bilingual = T.Object({ en: T.String(), fr: T.String() });

/** RFC 9457 problem details, as `api/problem.ts` sends them. */
export const Problem = T.Object(
  {
    type: T.String({ description: 'urn:facteur:problem:<code>' }),
    title: T.String(),
    status: T.Integer(),
    detail: T.String({ description: "What went wrong, in the caller's language (Accept-Language)" }),
    code: T.String({ description: 'Stable machine-readable code, e.g. missing-field, licences-exhausted' }),
    field: T.Optional(T.String({ description: 'The request field at fault, dotted (licences.basic)' })),
    details: T.Optional(T.Object({}, { additionalProperties: true, description: 'Figures of the error (limits, counts)' })),
    instance: T.String({ description: 'The request id, to quote to support' }),
  },
  { additionalProperties: false },
);

const problemReply = (description: string) => ({ description, content: { [PROBLEM_TYPE]: { schema: Problem } } });

/** The error replies every route documents: any 4xx or 5xx is a problem+json. */
export const ERROR_REPLIES = {
  '4xx': problemReply('Refused: bad input (400), not logged in (401), not allowed (403), not found (404), conflict (409), too large (413), throttled (429)'),
  '5xx': problemReply('Internal error (500, with a reference) or temporarily unavailable (503)'),
};

/** A route's replies: its success statuses and their schemas, plus the problem+json errors. */
export function replies<R extends Record<number, TSchema>>(success: R): R & typeof ERROR_REPLIES {
  return { ...success, ...ERROR_REPLIES };
}

export const NoContent = T.Null({ description: 'No content' });

const strict = <P extends Record<string, TSchema>>(properties: P) => T.Object(properties, { additionalProperties: false });

/** A list, with the cursor of the next page (null on the last). */
export const Page = <S extends TSchema>(item: S) => strict({ items: T.Array(item), next: Nullable(T.String()) });
export const Items = <S extends TSchema>(item: S) => strict({ items: T.Array(item) });

// Customers and logins
export const CustomerSchema = strict({
  id: Id,
  name: T.String(),
  contactEmail: T.String(),
  language: Language,
  phone: Nullable(T.String()),
  address: Nullable(T.String()),
  vatNumber: Nullable(T.String()),
  status: T.Union([T.Literal('active'), T.Literal('suspended'), T.Literal('closed')]),
  createdAt: DateTime,
});

const LoginFields = {
  id: Id,
  email: T.String(),
  role: T.Union([T.Literal('operator'), T.Literal('customer_admin')]),
  customerId: Nullable(Id),
  displayName: T.String(),
  language: Language,
  twoFactorEnabled: T.Boolean(),
  status: T.Union([T.Literal('active'), T.Literal('disabled')]),
  createdAt: DateTime,
};
export const LoginSchema = strict(LoginFields);
export const CreatedLogin = strict({ ...LoginFields, generatedPassword: T.Optional(T.String({ description: 'Shown once' })) });

export const ApiTokenSchema = strict({ id: Id, name: T.String(), createdAt: DateTime, lastUsedAt: Nullable(DateTime), expiresAt: Nullable(DateTime) });
export const CreatedApiToken = strict({ id: Id, name: T.String(), token: T.String({ description: 'The secret, shown once' }) });

// Classes, subscriptions, labels
export const ClassSchema = strict({
  id: Id,
  name: Bilingual,
  quotaBytes: T.Integer(),
  limits: strict({
    messagesPerMinutePerRecipient: T.Integer(),
    recipientsPerMessage: T.Integer(),
    maxMessageBytes: T.Integer(),
    standardMessageBytes: T.Integer(),
    recipientsPerHour: Nullable(T.Integer()),
    recipientsPerDay: Nullable(T.Integer()),
  }),
  features: T.Array(T.String()),
});

const SubscriptionFields = {
  id: Id,
  customerId: Id,
  status: T.Union([T.Literal('pending'), T.Literal('active'), T.Literal('ended')]),
  periodMonths: T.Integer(),
  nextPeriodMonths: Nullable(T.Integer()),
  billingCycle: T.Union([T.Literal('monthly'), T.Literal('quarterly'), T.Literal('yearly')]),
  activatedAt: Nullable(DateTime),
  currentPeriodStart: Nullable(DateTime),
  currentPeriodEnd: Nullable(DateTime),
  cancelAtPeriodEnd: T.Boolean(),
  cancelledAt: Nullable(DateTime),
  endedAt: Nullable(DateTime),
  endReason: Nullable(T.String()),
  licences: T.Array(strict({ classId: Id, quantity: T.Integer(), used: T.Integer(), available: T.Integer() })),
  createdAt: DateTime,
};
export const SubscriptionSchema = strict(SubscriptionFields);

export const LabelSchema = strict({ id: Id, subscriptionId: Id, name: T.String(), color: Nullable(T.String()) });

export const SubscriptionDetailsSchema = strict({
  ...SubscriptionFields,
  domains: T.Array(strict({ id: Id, name: T.String(), displayName: T.String(), status: T.String() })),
  labels: T.Array(LabelSchema),
  classes: T.Array(ClassSchema),
  accountCount: T.Integer(),
});

// Domains
const RecordFields = {
  kind: T.Union([T.Literal('mx'), T.Literal('spf'), T.Literal('dkim'), T.Literal('dmarc')]),
  type: T.Union([T.Literal('MX'), T.Literal('TXT')]),
  host: T.String(),
  value: T.String(),
  priority: T.Optional(T.Integer()),
  description: Bilingual,
  rotation: T.Optional(T.Union([T.Literal('pending'), T.Literal('previous')])),
  selector: T.Optional(T.String()),
};
const Contact = Nullable(strict({ name: T.String(), email: T.String(), phone: Nullable(T.String()) }));
export const DomainSchema = strict({
  id: Id,
  name: T.String({ description: 'ASCII (A-labels)' }),
  displayName: T.String({ description: 'Unicode (U-labels)' }),
  customerId: Id,
  subscriptionId: Id,
  status: T.Union([T.Literal('pending'), T.Literal('active')]),
  dkim: strict({
    selector: T.String(),
    publicKey: T.String(),
    pending: Nullable(strict({ selector: T.String(), publicKey: T.String(), createdAt: DateTime })),
    previous: T.Array(strict({ selector: T.String(), publicKey: T.String(), retireAt: DateTime })),
  }),
  records: T.Array(strict(RecordFields)),
  lastCheck: Nullable(
    strict({
      domain: T.String(),
      checkedAt: DateTime,
      ok: T.Boolean(),
      records: T.Array(
        strict({
          ...RecordFields,
          status: T.Union([T.Literal('ok'), T.Literal('missing'), T.Literal('wrong'), T.Literal('error')]),
          found: T.Array(T.String()),
          message: Bilingual,
        }),
      ),
    }),
  ),
  contacts: strict({ administrative: Contact, technical: Contact, billing: Contact }),
  aliases: T.Array(strict({ id: Id, name: T.String(), displayName: T.String() })),
  createdAt: DateTime,
});

// Accounts, aliases, lists
const AccountFields = {
  id: Id,
  address: T.String(),
  displayAddress: T.String(),
  customerId: Id,
  subscriptionId: Id,
  domainId: Id,
  classId: Id,
  displayName: T.String(),
  language: Language,
  status: T.Union([T.Literal('active'), T.Literal('suspended'), T.Literal('blocked'), T.Literal('disabled')]),
  twoFactorEnabled: T.Boolean(),
  createdAt: DateTime,
  passwordChangedAt: DateTime,
};
export const AccountSchema = strict(AccountFields);
/** An account with its storage (R-M4): what the portal's list and account page show as a meter. */
export const AccountWithUsageSchema = strict({
  ...AccountFields,
  usage: strict({ usedBytes: T.Integer(), quotaBytes: T.Integer({ description: "The class's quota" }), messages: T.Integer() }),
});
export const CreatedAccount = strict({ ...AccountFields, generatedPassword: T.Optional(T.String({ description: 'Shown once' })) });

export const AliasSchema = strict({ id: Id, address: T.String(), customerId: Id, domainId: Id, destinations: T.Array(T.String()), createdAt: DateTime });

export const ListSchema = strict({
  id: Id,
  address: T.String(),
  customerId: Id,
  domainId: Id,
  name: T.String(),
  postingPolicy: T.Union([T.Literal('members'), T.Literal('anyone'), T.Literal('moderators')]),
  moderators: T.Array(T.String()),
  members: T.Array(T.String()),
  /** Each member with the bounces its server sent to the list's bounce address. */
  memberDetails: T.Array(strict({ address: T.String(), bounceCount: T.Integer(), lastBounceAt: T.Union([DateTime, T.Null()]) })),
  createdAt: DateTime,
});

// Operations (R-T5)
export const OperationSchema = strict({
  id: Id,
  kind: T.String(),
  status: T.Union([T.Literal('running'), T.Literal('succeeded'), T.Literal('failed')]),
  progress: T.Number({ description: 'Percent done' }),
  progressMessage: Nullable(T.String()),
  customerId: Nullable(Id),
  subscriptionId: Nullable(Id),
  actor: strict({ role: T.String(), id: Id }),
  params: T.Unknown(),
  result: T.Unknown({ description: 'What the operation gave, once succeeded (null before)' }),
  error: T.Unknown({ description: 'The problem it ended with, once failed (null otherwise)' }),
  createdAt: DateTime,
  finishedAt: Nullable(DateTime),
  durationMs: Nullable(T.Integer()),
});

// Tickets (R-T7)
export const TicketSchema = strict({
  id: Id,
  customerId: Id,
  subject: T.String(),
  category: T.Union([T.Literal('general'), T.Literal('unblock'), T.Literal('restore'), T.Literal('billing'), T.Literal('technical')]),
  status: T.Union([T.Literal('open'), T.Literal('answered'), T.Literal('closed')]),
  openedBy: Id,
  createdAt: DateTime,
  updatedAt: DateTime,
  messages: T.Optional(T.Array(strict({ id: Id, authorRole: T.String(), authorId: Id, body: T.String(), createdAt: DateTime }))),
});

export const FaqPageSchema = strict({ slug: T.String(), title: T.String(), body: T.String({ description: 'Markdown' }), topics: T.Array(T.String()) });

/** A message trace step (R-M6); `step` and `detail` grow with the mail paths, so they are open here. */
export const TraceEntrySchema = strict({
  id: Id,
  at: DateTime,
  step: T.String(),
  direction: T.String(),
  customerId: Nullable(Id),
  sessionId: Nullable(T.String()),
  messageId: Nullable(T.String()),
  sender: T.String(),
  recipient: Nullable(T.String()),
  detail: T.Object({}, { additionalProperties: true }),
});

// Filter: quarantine, sender rules, preferences, vault
const QuarantineFields = {
  id: Id,
  customerId: Id,
  accountId: Id,
  domainId: Id,
  sender: T.String(),
  recipient: T.String(),
  from: T.String(),
  subject: T.String(),
  messageId: Nullable(T.String()),
  size: T.Integer(),
  reason: T.Union([T.Literal('spam'), T.Literal('blocked-sender'), T.Literal('failed-safe')]),
  score: T.Number(),
  symbols: T.Array(strict({ name: T.String(), score: T.Number(), reason: Bilingual, source: T.String() })),
  receivedAt: DateTime,
  expiresAt: DateTime,
  digestedAt: Nullable(DateTime),
};
export const QuarantineEntrySchema = strict(QuarantineFields);
export const QuarantinePreviewSchema = strict({
  ...QuarantineFields,
  headers: T.Array(strict({ name: T.String(), value: T.String() })),
  text: T.String(),
  textTruncated: T.Boolean(),
  attachments: T.Array(strict({ filename: Nullable(T.String()), contentType: T.String(), size: T.Integer() })),
});
export const ReleaseSchema = strict({
  entry: QuarantineEntrySchema,
  mailboxId: Id,
  uid: T.Integer(),
  allowedSender: Nullable(T.String()),
  trained: T.Boolean(),
});

export const SenderRuleSchema = strict({
  id: Id,
  customerId: Id,
  domainId: Id,
  accountId: Nullable(Id),
  pattern: T.String(),
  kind: T.Union([T.Literal('allow'), T.Literal('block')]),
  createdAt: DateTime,
});

const BlockedAction = T.Union([T.Literal('reject'), T.Literal('quarantine')]);
const Digest = T.Union([T.Literal('weekly'), T.Literal('daily'), T.Literal('off')]);
export const PrefsSchema = strict({
  level: T.Union([T.Literal('account'), T.Literal('domain')]),
  ownerId: Id,
  own: strict({
    quarantineScore: Nullable(T.Number()),
    rejectScore: Nullable(T.Number()),
    blockedAction: Nullable(BlockedAction),
    digest: Nullable(Digest),
  }),
  effective: strict({ thresholds: strict({ quarantine: T.Number(), reject: T.Number() }), blockedAction: BlockedAction, digest: Digest }),
});

export const VaultEntrySchema = strict({
  id: Id,
  customerId: Id,
  accountId: Id,
  sender: T.String(),
  recipients: T.Array(T.String()),
  malware: T.String(),
  size: T.Integer(),
  receivedAt: DateTime,
  purgeAt: DateTime,
});
export const VaultReadSchema = strict({ id: Id, loginId: Id, reason: T.String(), readAt: DateTime });

// Audit log (R-A2), outbound queue and jobs: the operator console's views
export const AuditEntrySchema = strict({
  id: Id,
  at: DateTime,
  action: T.String({ description: 'The operation kind (vault.read, quarantine.preview, subscription.licences…)' }),
  status: T.Union([T.Literal('running'), T.Literal('succeeded'), T.Literal('failed')]),
  actorId: Id,
  actorEmail: Nullable(T.String()),
  customerId: Nullable(Id),
  subscriptionId: Nullable(Id),
  accountId: Nullable(Id),
  reason: Nullable(T.String({ description: 'The justification given for an access to a message' })),
  contentAccess: T.Boolean({ description: 'An access to a message’s content or subject' }),
});
export const QueueEntrySchema = strict({
  id: Id,
  customerId: Nullable(Id),
  sender: T.String(),
  recipient: T.String(),
  domain: T.String(),
  size: T.Integer(),
  status: T.Union([T.Literal('queued'), T.Literal('deferred'), T.Literal('sending')]),
  attempts: T.Integer(),
  nextAttemptAt: DateTime,
  lastError: Nullable(T.String()),
  messageId: Nullable(T.String()),
  createdAt: DateTime,
  expiresAt: DateTime,
});
export const JobRunSchema = strict({
  name: T.String(),
  schedule: T.String({ description: 'Cron expression (UTC)' }),
  lastStartedAt: Nullable(DateTime),
  lastFinishedAt: Nullable(DateTime),
  running: T.Boolean(),
  lastResult: T.Unknown(),
});

// Self-service
export const AppPasswordSchema = strict({ id: Id, accountId: Id, customerId: Id, name: T.String(), createdAt: DateTime, lastUsedAt: Nullable(DateTime) });
export const CreatedAppPassword = strict({
  id: Id,
  accountId: Id,
  customerId: Id,
  name: T.String(),
  createdAt: DateTime,
  lastUsedAt: Nullable(DateTime),
  password: T.String({ description: 'Shown once' }),
});

export const Role = T.Union([T.Literal('operator'), T.Literal('customer_admin'), T.Literal('user')]);
export const Stage = T.Union([T.Literal('enrol'), T.Literal('totp'), T.Literal('full')]);
