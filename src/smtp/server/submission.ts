/**
 * The submission policy (R-M2, R-M5): ports 587 (STARTTLS, AUTH only after TLS) and 465 (implicit
 * TLS). Users authenticate with AUTH PLAIN or LOGIN (their password, or an app password when 2FA is
 * on); they may send only as their own address or one of their aliases (envelope and From), within
 * their class's limits. Each message gets a Received header and the sender domain's DKIM signature
 * (relaxed/relaxed, rsa-sha256); local recipients get it through the mailstore's write path, remote
 * ones through the outbound queue, and the sender keeps a copy in Sent. Acknowledged only once stored.
 */
import path from 'node:path';
import { Readable } from 'node:stream';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import type { SMTPServerAddress, SMTPServerAuthentication, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { verifyMailLogin } from '../../auth/app-passwords.ts';
import type { AppContext } from '../../context.ts';
import type { LimitCounter, RateLimiter } from '../../coordination/index.ts';
import {
  customerOfDomain,
  expansionStep,
  isHostedDomain,
  type ListCopies,
  type ListCopiesSent,
  type LocalTarget,
  listCopiesSent,
  loadListOfMail,
  outboundQueued,
  type PlannedListCopies,
  planListCopies,
  planOutbound,
  queueOutboundIn,
  routeRecipient,
  SUBADDRESS_DELIMITER,
  sendListCopiesIn,
} from '../../delivery/index.ts';
import { type Delivery, type DeliveryResult, deliverMessage, receiveMessage, Spool } from '../../mailstore/index.ts';
import { parseAddressList } from '../../mime/addresses.ts';
import { parseHeaderBlock } from '../../mime/header-block.ts';
import { MAX_HEADER_BLOCK_BYTES } from '../../mime/limits.ts';
import { addressKey, normalizeAddress } from '../../shared/addresses.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../shared/clock.ts';
import { isAppError } from '../../shared/errors.ts';
import { newSecret } from '../../shared/ids.ts';
import type { AccountsTable } from '../../store/index.ts';
import type { TraceEvent } from '../../trace/index.ts';
import { formatReceived, formatRfc5322Date } from '../proto/received.ts';
import { REPLIES, REPLY_OF_KIND, replyError, type SmtpReply } from '../proto/replies.ts';
import { filterOutbound } from './filtering.ts';
import { anyMailboxFull, refusalReply } from './recipients.ts';

type Callback = (error?: Error | null, message?: string) => void;

/** What a successful AUTH leaves on the session (`session.user`). */
export interface SubmissionUser {
  accountId: string;
  address: string;
}

/** The sender of one transaction, read afresh at MAIL FROM: its account and its class's limits. */
interface Sender {
  account: Pick<AccountsTable, 'id' | 'customer_id' | 'domain_id' | 'address' | 'status'>;
  messagesPerMinutePerRecipient: number;
  recipientsPerMessage: number;
  maxMessageBytes: number;
  recipientsPerHour: number | null;
  recipientsPerDay: number | null;
}

interface SenderAddress extends SMTPServerAddress {
  sender?: Sender;
}

/** What RCPT decided for a recipient, kept on the envelope's address object until DATA. */
interface RoutedAddress extends SMTPServerAddress {
  key?: string;
  targets?: LocalTarget[];
  remote?: string[];
  /** The list the recipient is (its copies carry its header fields and bounce to it), or the alias it is. */
  listId?: string;
  viaAlias?: string;
}

/** The reply with a more precise text (same codes). */
function withText(r: SmtpReply, text: string): SmtpReply {
  return { ...r, text };
}

/** A sliding-window length in words, for the replies. */
function windowName(ms: number): string {
  return ms === MINUTE_MS ? 'minute' : ms === HOUR_MS ? 'hour' : ms === DAY_MS ? 'day' : `${Math.round(ms / 1000)} seconds`;
}

function limitReply(counter: LimitCounter, retryAfterMs: number): SmtpReply {
  const retry = `try again in ${Math.max(1, Math.ceil(retryAfterMs / 1000))} s`;
  const text =
    counter.name === 'messages-per-recipient'
      ? `Too many messages to this recipient: at most ${counter.limit} per ${windowName(counter.windowMs)}, ${retry}`
      : `Too many recipients: at most ${counter.limit} per ${windowName(counter.windowMs)}, ${retry}`;
  return withText(REPLIES.sendingRateLimited, text);
}

/** The counters one message adds to: one per recipient per minute, and its recipients per hour and per day. */
function countersFor(sender: Sender, recipients: readonly string[], perRecipientPoints = 1): LimitCounter[] {
  const account = sender.account.id;
  const counters: LimitCounter[] = recipients.map((recipient) => ({
    name: 'messages-per-recipient',
    key: `${account}:${recipient}`,
    points: perRecipientPoints,
    limit: sender.messagesPerMinutePerRecipient,
    windowMs: MINUTE_MS,
  }));
  if (sender.recipientsPerHour !== null)
    counters.push({ name: 'recipients', key: account, points: recipients.length, limit: sender.recipientsPerHour, windowMs: HOUR_MS });
  if (sender.recipientsPerDay !== null)
    counters.push({ name: 'recipients', key: account, points: recipients.length, limit: sender.recipientsPerDay, windowMs: DAY_MS });
  return counters;
}

async function loadSender(ctx: AppContext, accountId: string): Promise<Sender | undefined> {
  const row = await ctx.db
    .selectFrom('accounts')
    .innerJoin('classes', 'classes.id', 'accounts.class_id')
    .select([
      'accounts.id',
      'accounts.customer_id',
      'accounts.domain_id',
      'accounts.address',
      'accounts.status',
      'classes.messages_per_minute_per_recipient',
      'classes.recipients_per_message',
      'classes.max_message_bytes',
      'classes.recipients_per_hour',
      'classes.recipients_per_day',
    ])
    .where('accounts.id', '=', accountId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    account: { id: row.id, customer_id: row.customer_id, domain_id: row.domain_id, address: row.address, status: row.status },
    messagesPerMinutePerRecipient: Number(row.messages_per_minute_per_recipient),
    recipientsPerMessage: Number(row.recipients_per_message),
    maxMessageBytes: Number(row.max_message_bytes),
    recipientsPerHour: row.recipients_per_hour === null ? null : Number(row.recipients_per_hour),
    recipientsPerDay: row.recipients_per_day === null ? null : Number(row.recipients_per_day),
  };
}

/**
 * Whether an address belongs to the account: its own address (with or without a `+tag`), the same
 * local part at one of its domain's aliases, or an address alias of the same customer whose
 * destinations include the account. Returns the hosted domain the address is at (for DKIM).
 */
export async function senderDomainOf(ctx: AppContext, account: Sender['account'], input: string): Promise<{ domainId: string } | undefined> {
  const address = normalizeAddress(input);
  if (!address) return undefined;
  const hosted = await ctx.db
    .selectFrom('domain_names')
    .innerJoin('domains', 'domains.id', 'domain_names.domain_id')
    .select(['domains.id as domainId', 'domains.name as domain', 'domain_names.customer_id as customerId'])
    .where('domain_names.name', '=', address.domain)
    .executeTakeFirst();
  if (!hosted || hosted.customerId !== account.customer_id) return undefined;
  const local = address.local.toLowerCase();
  const tagAt = local.indexOf(SUBADDRESS_DELIMITER);
  const candidates = [`${local}@${hosted.domain}`];
  if (tagAt > 0) candidates.push(`${local.slice(0, tagAt)}@${hosted.domain}`);
  if (candidates.includes(account.address)) return { domainId: hosted.domainId };
  const aliases = await ctx.db
    .selectFrom('addresses')
    .innerJoin('aliases', 'aliases.id', 'addresses.owner_id')
    .select(['aliases.destinations'])
    .where('addresses.address', 'in', candidates)
    .where('addresses.kind', '=', 'alias')
    .where('addresses.customer_id', '=', account.customer_id)
    .execute();
  for (const alias of aliases) {
    for (const destination of parseJsonAddresses(alias.destinations)) {
      const parsed = normalizeAddress(destination);
      if (parsed && addressKey(parsed) === account.address) return { domainId: hosted.domainId };
    }
  }
  return undefined;
}

function parseJsonAddresses(json: string): string[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

/** The header block at the start of the spooled message (up to the blank line), bounded. */
async function readHeaderBlock(spool: Spool): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of spool.read()) {
    chunks.push(chunk);
    size += chunk.length;
    const head = chunks.length === 1 ? chunk : Buffer.concat(chunks);
    const end = headerEnd(head);
    if (end >= 0 || size >= MAX_HEADER_BLOCK_BYTES) return head.subarray(0, end >= 0 ? end : MAX_HEADER_BLOCK_BYTES);
  }
  return Buffer.concat(chunks);
}

/** Where the header block ends (after the line break before the blank line), or -1. */
function headerEnd(head: Buffer): number {
  if (head[0] === 0x0a || (head[0] === 0x0d && head[1] === 0x0a)) return 0;
  const crlf = head.indexOf('\n\r\n');
  const lf = head.indexOf('\n\n');
  const found = [crlf, lf].filter((i) => i >= 0);
  return found.length === 0 ? -1 : Math.min(...found) + 1;
}

/** The replies for a failed AUTH: bad credentials, throttled, account not active. Never logs the password. */
function authReply(error: unknown): SmtpReply {
  if (!isAppError(error)) return REPLIES.authUnavailable;
  if (error.kind === 'unauthenticated') return REPLIES.authFailed;
  if (error.kind === 'limit') return REPLIES.authThrottled;
  if (error.kind === 'forbidden') return REPLIES.accountNotActive;
  return REPLIES.authUnavailable;
}

export function submissionHandlers(ctx: AppContext, limiter: RateLimiter) {
  const log = ctx.log.child({ module: 'smtp.submission' });

  function logLimit(session: SMTPServerSession, sender: Sender, fields: Record<string, unknown>) {
    log.warn({ event: 'smtp.limit', session: session.id, account: sender.account.id, address: sender.account.address, ...fields }, 'smtp.limit');
  }

  function senderOf(session: SMTPServerSession): Sender | undefined {
    const from = session.envelope.mailFrom;
    return from ? (from as SenderAddress).sender : undefined;
  }

  return {
    authMethods: ['PLAIN', 'LOGIN'],

    onAuth(
      auth: SMTPServerAuthentication,
      session: SMTPServerSession,
      callback: (error: Error | null | undefined, response?: { user: SubmissionUser }) => void,
    ) {
      verifyMailLogin(ctx, { username: auth.username ?? '', password: auth.password ?? '', ip: session.remoteAddress }).then(
        (account) => {
          log.info({ event: 'smtp.auth', session: session.id, account: account.id, method: auth.method }, 'smtp.auth');
          callback(null, { user: { accountId: account.id, address: account.address } });
        },
        (error: unknown) => {
          const r = authReply(error);
          const level = isAppError(error) ? 'info' : 'error';
          log[level](
            { event: 'smtp.auth_failed', session: session.id, method: auth.method, code: r.code, err: isAppError(error) ? undefined : error },
            'smtp.auth_failed',
          );
          callback(replyError(r));
        },
      );
    },

    onMailFrom(address: SenderAddress, session: SMTPServerSession, callback: Callback) {
      void (async () => {
        const user = session.user as SubmissionUser | undefined;
        if (!user) return callback(replyError(REPLY_OF_KIND.unauthenticated));
        const sender = await loadSender(ctx, user.accountId);
        if (!sender || sender.account.status !== 'active') return callback(replyError(REPLIES.senderAccountNotActive));
        if (address.address === '' || !(await senderDomainOf(ctx, sender.account, address.address))) {
          log.info({ event: 'smtp.sender_refused', session: session.id, account: sender.account.id }, 'smtp.sender_refused');
          return callback(replyError(REPLIES.senderNotOwned));
        }
        const args = address.args as Record<string, string> | false | undefined;
        const declared = Number(args ? (args.SIZE ?? 0) : 0);
        if (declared > sender.maxMessageBytes) {
          logLimit(session, sender, { limit: 'max-message-bytes', max: sender.maxMessageBytes, declared });
          return callback(replyError(REPLIES.messageTooBig));
        }
        address.sender = sender;
        callback();
      })().catch((error) => {
        log.error({ err: error, session: session.id }, 'smtp.mail_failed');
        callback(replyError(REPLIES.localError));
      });
    },

    onRcptTo(address: RoutedAddress, session: SMTPServerSession, callback: Callback) {
      void (async () => {
        const sender = senderOf(session);
        if (!sender) return callback(replyError(REPLIES.localError));
        const parsed = normalizeAddress(address.address);
        if (!parsed) return callback(replyError(REPLIES.badRecipient));
        const key = addressKey(parsed);
        const current = session.envelope.rcptTo as RoutedAddress[];
        const repeated = current.some((r) => r.key === key);
        if (!repeated && current.length >= sender.recipientsPerMessage) {
          logLimit(session, sender, { limit: 'recipients-per-message', max: sender.recipientsPerMessage });
          return callback(replyError(REPLIES.tooManyRecipients));
        }
        // A look at the counters now, so the client learns at RCPT; they are taken at the end of DATA.
        const keys = [...new Set([...current.map((r) => r.key ?? ''), key])];
        const verdict = await limiter.check(countersFor(sender, keys).filter((c) => c.name !== 'messages-per-recipient' || c.key.endsWith(`:${key}`)));
        if (!verdict.ok) {
          logLimit(session, sender, { limit: verdict.counter.name, max: verdict.counter.limit, windowMs: verdict.counter.windowMs, recipient: key });
          return callback(replyError(limitReply(verdict.counter, verdict.retryAfterMs)));
        }
        let targets: LocalTarget[] = [];
        let remote: string[] = [];
        if (await isHostedDomain(ctx, parsed.domain)) {
          const route = await routeRecipient(ctx, address.address, { sender: sender.account.address });
          // A list's bounce address takes reports from other servers only.
          if (route.kind === 'unknown' || route.kind === 'list-bounce') return callback(replyError(REPLIES.unknownUser));
          if (route.kind === 'refused') return callback(replyError(refusalReply(route)));
          targets = route.accounts;
          remote = route.external;
          if (route.listId) address.listId = route.listId;
          if (route.viaAlias) address.viaAlias = route.viaAlias;
        } else {
          remote = [key];
        }
        if (await anyMailboxFull(ctx, targets)) return callback(replyError(REPLIES.mailboxFull));
        address.key = key;
        address.targets = targets;
        address.remote = remote;
        callback();
      })().catch((error) => {
        log.error({ err: error, session: session.id }, 'smtp.rcpt_failed');
        callback(replyError(REPLIES.localError));
      });
    },

    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: Callback) {
      const spool = new Spool(path.join(ctx.config.dataDir, 'tmp'));
      void (async () => {
        const sender = senderOf(session);
        let size = 0;
        let tooBig = false;
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > (sender?.maxMessageBytes ?? 0) || stream.sizeExceeded) tooBig = true;
          if (!tooBig) await spool.write(chunk);
        }
        if (!sender) return callback(replyError(REPLIES.localError));
        if (tooBig) {
          logLimit(session, sender, { limit: 'max-message-bytes', max: sender.maxMessageBytes, size });
          return callback(replyError(REPLIES.messageTooBig));
        }

        // RFC 6409 §8: the MSA may check the From field; here it must name the account or its aliases.
        const fields = parseHeaderBlock(await readHeaderBlock(spool));
        const fromFields = fields.filter((f) => f.name === 'from');
        const authors = fromFields.length === 1 ? parseAddressList(fromFields[0]?.value ?? '') : [];
        let signingDomainId: string | undefined;
        for (const author of authors) {
          const owned = author.mailbox && author.host ? await senderDomainOf(ctx, sender.account, `${author.mailbox}@${author.host}`) : undefined;
          if (!owned) {
            signingDomainId = undefined;
            break;
          }
          signingDomainId ??= owned.domainId;
        }
        if (!signingDomainId) {
          log.info({ event: 'smtp.from_refused', session: session.id, account: sender.account.id }, 'smtp.from_refused');
          return callback(replyError(REPLIES.fromNotOwned));
        }

        const recipients = session.envelope.rcptTo as RoutedAddress[];
        const counted = await limiter.consume(
          countersFor(
            sender,
            recipients.map((r) => r.key ?? r.address.toLowerCase()),
          ),
        );
        if (!counted.ok) {
          logLimit(session, sender, { limit: counted.counter.name, max: counted.counter.limit, windowMs: counted.counter.windowMs });
          return callback(replyError(limitReply(counted.counter, counted.retryAfterMs)));
        }

        const now = new Date(ctx.clock.now());
        const id = newSecret().slice(0, 16);
        let added = formatReceived({
          helo: session.hostNameAppearsAs ?? '',
          clientHostname: session.clientHostname && session.clientHostname !== `[${session.remoteAddress}]` ? session.clientHostname : null,
          clientIp: session.remoteAddress,
          byHost: ctx.config.hostname,
          protocol: 'ESMTPSA',
          id,
          recipient: recipients.length === 1 ? (recipients[0]?.address ?? null) : null,
          date: now,
          tls: tlsOf(session),
        });
        // RFC 6409 §8.3, §8.4: the MSA adds a missing Date and Message-ID.
        if (!fields.some((f) => f.name === 'date')) added += `Date: ${formatRfc5322Date(now)}\r\n`;
        if (!fields.some((f) => f.name === 'message-id')) added += `Message-ID: <${id}.${newSecret().slice(0, 12)}@${ctx.config.hostname}>\r\n`;
        const head = Buffer.from(added);
        async function* content() {
          yield head;
          yield* spool.read();
        }
        const signature = Buffer.from(await signFor(ctx, signingDomainId, content));
        async function* signed() {
          yield signature;
          yield* content();
        }
        const message = await receiveMessage(ctx, signed(), { maxBytes: sender.maxMessageBytes + signature.length + head.length });
        const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const filtered = await filterOutbound(
          ctx,
          {
            content: signed,
            size: message.blob.size,
            metadata: message.metadata,
            clientIp: session.remoteAddress,
            helo: session.hostNameAppearsAs ?? '',
            mailFrom,
            recipients: recipients.map((r) => r.address),
          },
          { accountId: sender.account.id, customerId: sender.account.customer_id, domainId: sender.account.domain_id },
          { blob: message.blob, messageId: message.metadata.summary.messageId, sessionId: session.id },
        );
        if (filtered.refusal) {
          log.warn(
            {
              event: 'smtp.submission_filtered',
              session: session.id,
              account: sender.account.id,
              score: filtered.verdict.score,
              malware: filtered.verdict.malware?.name,
            },
            'smtp.submission_filtered',
          );
          return callback(replyError(filtered.refusal));
        }

        const messageId = message.metadata.summary.messageId;
        const common = { direction: 'local' as const, sessionId: session.id, messageId, sender: mailFrom };
        const local = new Map<string, LocalTarget>();
        const remote = new Set<string>();
        const lists: ListCopies[] = [];
        const expansions: TraceEvent[] = [];
        for (const rcpt of recipients) {
          const targets = rcpt.targets ?? [];
          const external = rcpt.remote ?? [];
          const list = rcpt.listId ? await loadListOfMail(ctx, rcpt.listId) : undefined;
          if (list) {
            lists.push({ list, recipient: rcpt.key ?? rcpt.address, accounts: targets, external });
            expansions.push(expansionStep(common, { customerId: list.customerId, recipient: rcpt.address, kind: 'list', accounts: targets, external }));
            continue;
          }
          if (rcpt.viaAlias) {
            const customerId = await customerOfDomain(ctx, rcpt.viaAlias.slice(rcpt.viaAlias.lastIndexOf('@') + 1));
            expansions.push(expansionStep(common, { customerId, recipient: rcpt.address, kind: 'alias', accounts: targets, external }));
          }
          for (const t of targets) local.set(t.accountId, t);
          for (const r of external) remote.add(r);
        }
        // An account addressed directly (or through an alias) gets one copy: the one without the list's fields.
        for (const copies of lists) copies.accounts = copies.accounts.filter((t) => !local.has(t.accountId));
        const submitted: TraceEvent = {
          ...common,
          direction: 'outbound',
          step: 'received',
          customerId: sender.account.customer_id,
          recipient: null,
          detail: { size: message.blob.size, clientIp: session.remoteAddress, account: sender.account.address, recipients: recipients.map((r) => r.address) },
        };
        const storedSteps = (results: DeliveryResult[], targets: LocalTarget[]): TraceEvent[] =>
          results.flatMap((result) => {
            const target = targets.find((t) => t.accountId === result.accountId);
            if (!target) return [];
            const step = { ...common, customerId: target.customerId, recipient: target.address };
            return [
              result.ok
                ? { ...step, step: 'stored' as const, detail: { mailboxId: result.mailboxId, uid: result.uid } }
                : { ...step, step: 'refused' as const, detail: { reason: result.reason } },
            ];
          });
        // The queue rows, the local copies, the Sent copy, the lists' copies and their trace commit in one
        // transaction: a failure leaves none of them, so the client's retry makes no duplicate. A list's
        // copies are a message of their own (with the list's fields), prepared here.
        const plan =
          remote.size > 0
            ? await planOutbound(ctx, {
                customerId: sender.account.customer_id,
                sender: mailFrom,
                recipients: [...remote],
                blob: message.blob,
                messageId,
                origin: { sessionId: session.id },
              })
            : undefined;
        const deliveries: Delivery[] = [...local.values()].map((t) => ({ accountId: t.accountId }));
        deliveries.push({ accountId: sender.account.id, mailbox: 'sent', flags: ['\\Seen'] });
        const listPlans: PlannedListCopies[] = [];
        for (const copies of lists) {
          const listPlan = await planListCopies(ctx, copies, {
            content: signed,
            maxBytes: sender.maxMessageBytes + signature.length + head.length,
            messageId,
            sessionId: session.id,
            inbox: () => true,
            trace: (_message, results) => storedSteps(results, copies.accounts),
          });
          if (listPlan) listPlans.push(listPlan);
        }
        let queued: string[] = [];
        const listSent: ListCopiesSent[] = [];
        const results = await deliverMessage(ctx, message, deliveries, {
          trace: (out) => [submitted, ...expansions, ...storedSteps(out.slice(0, -1), [...local.values()])],
          within: async (trx) => {
            listSent.length = 0; // a batch that failed to commit runs each write again alone
            queued = plan ? await queueOutboundIn(ctx, trx, plan) : [];
            for (const listPlan of listPlans) listSent.push(await sendListCopiesIn(ctx, trx, listPlan));
          },
        });
        if (plan) outboundQueued(ctx, plan, queued);
        const listDelivered = listCopiesSent(ctx, listPlans, listSent);
        const delivered = results.slice(0, -1).filter((r) => r.ok).length;
        const sentCopy = results.at(-1)?.ok === true;
        log.info(
          {
            event: 'smtp.message_submitted',
            session: session.id,
            account: sender.account.id,
            size: message.blob.size,
            local: local.size,
            delivered,
            remote: remote.size,
            queued: queued.length,
            sentCopy,
          },
          'smtp.message_submitted',
        );
        if (local.size > 0 && delivered === 0 && remote.size === 0 && listDelivered === 0) return callback(replyError(REPLIES.mailboxFull));
        callback(null, `${REPLIES.accepted.enhanced} ${REPLIES.accepted.text}`);
      })()
        .catch((error) => {
          stream.resume(); // whatever happened, read the rest so the session stays in step
          log[isAppError(error) ? 'info' : 'error']({ err: error, session: session.id }, 'smtp.data_failed');
          callback(replyError(isAppError(error) ? REPLY_OF_KIND[error.kind] : REPLIES.localError));
        })
        .finally(() => void spool.dispose());
    },
  };
}

function tlsOf(session: SMTPServerSession): { version: string; cipher: string } | null {
  const options = session.tlsOptions as { name?: string; standardName?: string; version?: string } | false | undefined;
  if (!options) return null;
  return { version: options.version ?? 'TLS', cipher: options.standardName ?? options.name ?? 'unknown' };
}

/** The DKIM-Signature header (CRLF-terminated) of the domain's key over the content, or '' without a key. */
async function signFor(ctx: AppContext, domainId: string, content: () => AsyncGenerator<Buffer>): Promise<string> {
  const domain = await ctx.db.selectFrom('domains').select(['name', 'dkim_selector', 'dkim_private_key']).where('id', '=', domainId).executeTakeFirst();
  if (!domain?.dkim_private_key) return '';
  const result = await dkimSign(Readable.from(content()), {
    canonicalization: 'relaxed/relaxed',
    algorithm: 'rsa-sha256',
    signTime: new Date(ctx.clock.now()),
    signatureData: [{ signingDomain: domain.name, selector: domain.dkim_selector, privateKey: ctx.secrets.open('dkim', domain.dkim_private_key) }],
  });
  if (result.errors.length > 0) ctx.log.warn({ event: 'smtp.dkim_failed', domain: domain.name, errors: result.errors }, 'smtp.dkim_failed');
  return result.signatures;
}
