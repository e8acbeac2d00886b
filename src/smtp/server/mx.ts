/**
 * The MX policy (R-M1, R-M5): mail for hosted domains, domain aliases, address aliases and mailing
 * lists is accepted; unknown recipients are refused at RCPT; nothing is relayed for anyone. Each
 * message is authenticated (SPF, DKIM, DMARC, ARC through the service's resolver), given Received and
 * Authentication-Results headers, stored once through the mailstore's write path (copies for aliases
 * that forward outside go to the outbound queue), and acknowledged only once stored. Protocol code stays thin: decisions come from delivery/ and mailstore/.
 */
import path from 'node:path';
import { Readable } from 'node:stream';
import { authenticate } from 'mailauth';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { AppContext } from '../../context.ts';
import {
  isHostedDomain,
  type LocalTarget,
  outboundQueued,
  type PlannedOutbound,
  planOutbound,
  queueOutboundIn,
  type Route,
  routeRecipient,
} from '../../delivery/index.ts';
import { holdMessageIn, messageHeld, type PlannedHold, planHold, type Verdict } from '../../filter/index.ts';
import { type Delivery, type DeliveryResult, deliverMessage, receiveMessage, Spool } from '../../mailstore/index.ts';
import { normalizeAddress } from '../../shared/addresses.ts';
import { isAppError } from '../../shared/errors.ts';
import { newSecret } from '../../shared/ids.ts';
import { recordTrace, type TraceEvent } from '../../trace/index.ts';
import { formatReceived } from '../proto/received.ts';
import { REPLIES, REPLY_OF_KIND, replyError } from '../proto/replies.ts';
import { authSummary, filterInbound, type InboundDecision, verdictDetail } from './filtering.ts';
import { cachedMailauthResolver } from './lookup-cache.ts';
import { anyMailboxFull, refusalReply } from './recipients.ts';

type Callback = (error?: Error | null, message?: string) => void;

/** What RCPT decided for a recipient, kept on the envelope's address object until DATA. */
interface RoutedAddress extends SMTPServerAddress {
  targets?: LocalTarget[];
  /** Destinations outside the service (aliases that forward), sent on through the outbound queue. */
  external?: string[];
  customerId?: string | null;
}

function replyForRoute(route: Route): Error | undefined {
  if (route.kind === 'unknown') return replyError(REPLIES.unknownUser);
  if (route.kind === 'refused') return replyError(refusalReply(route));
  return undefined;
}

/** The customer a hosted domain (or domain alias) belongs to. */
async function customerOfDomain(ctx: AppContext, domain: string): Promise<string | null> {
  const row = await ctx.db.selectFrom('domain_names').select('customer_id').where('domain_names.name', '=', domain).executeTakeFirst();
  return row?.customer_id ?? null;
}

async function traceRefusal(ctx: AppContext, session: SMTPServerSession, recipient: string, domain: string, reply: string): Promise<void> {
  await recordTrace(ctx, [
    {
      step: 'refused',
      direction: 'inbound',
      customerId: await customerOfDomain(ctx, domain),
      sessionId: session.id,
      sender: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
      recipient,
      detail: { reply, clientIp: session.remoteAddress, helo: session.hostNameAppearsAs },
    },
  ]);
}

/** Received, verdict and stored (or refused after DATA) for each account that got the message. */
function deliveryTrace(
  session: SMTPServerSession,
  sender: string,
  messageId: string | null,
  targets: Map<string, LocalTarget>,
  results: DeliveryResult[],
  auth: Awaited<ReturnType<typeof authenticate>>,
  size: number,
  filterVerdict: Verdict,
): TraceEvent[] {
  const verdict = {
    spf: auth.spf ? auth.spf.status.result : 'none',
    dkim: auth.dkim.results?.map((r) => `${r.status.result} (${r.signingDomain})`) ?? [],
    dmarc: auth.dmarc ? auth.dmarc.status.result : 'none',
    arc: auth.arc ? auth.arc.status.result : 'none',
  };
  return results.flatMap((result) => {
    const target = targets.get(result.accountId);
    const common = {
      direction: 'inbound' as const,
      customerId: target?.customerId ?? null,
      sessionId: session.id,
      messageId,
      sender,
      recipient: target?.address ?? null,
    };
    return [
      { ...common, step: 'received' as const, detail: { size, clientIp: session.remoteAddress, helo: session.hostNameAppearsAs, tls: session.secure } },
      { ...common, step: 'verdict' as const, detail: { authentication: verdict, filter: verdictDetail(filterVerdict) } },
      result.ok
        ? { ...common, step: 'stored' as const, detail: { mailboxId: result.mailboxId, uid: result.uid } }
        : { ...common, step: 'refused' as const, detail: { reason: result.reason } },
    ];
  });
}

/** A message the filter refused as a whole (malware, or spam every recipient refuses): one step per recipient. */
async function traceFiltered(
  ctx: AppContext,
  session: SMTPServerSession,
  sender: string,
  messageId: string | null,
  targets: LocalTarget[],
  decision: InboundDecision,
): Promise<void> {
  const detail = { action: 'refused', reply: decision.refusal?.text, verdict: verdictDetail(decision.verdict) };
  const common = { step: 'filtered' as const, direction: 'inbound' as const, sessionId: session.id, messageId, sender, detail };
  const events: TraceEvent[] =
    targets.length > 0
      ? targets.map((t) => ({ ...common, customerId: t.customerId, recipient: t.address }))
      : [{ ...common, customerId: null, recipient: null }];
  await recordTrace(ctx, events);
}

export function mxHandlers(ctx: AppContext) {
  const log = ctx.log.child({ module: 'smtp.mx' });
  const maxBytes = ctx.config.limits.maxMessageBytes;
  // SPF, DKIM and DMARC ask the same names for every message of a sender: answers are shared a while.
  const resolver = cachedMailauthResolver(ctx.resolver.mailauthResolver, ctx.clock);

  // Sessions whose transaction has an accepted recipient: each is announced to the group commit, whose
  // batches wait a little for their copies instead of committing (and fsync'ing) one message at a time.
  const announced = new Map<SMTPServerSession, () => void>();
  /** Closed sessions: a recipient whose lookup ends after the close must not announce a copy for ever. */
  const closed = new WeakSet<SMTPServerSession>();
  const announce = (session: SMTPServerSession) => {
    if (!announced.has(session) && !closed.has(session)) announced.set(session, ctx.mail.committer.announce());
  };
  const settle = (session: SMTPServerSession) => {
    announced.get(session)?.();
    announced.delete(session);
  };

  return {
    onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, callback: Callback) {
      if (address.address !== '' && !normalizeAddress(address.address)) return callback(replyError(REPLIES.badSender));
      settle(session); // a new transaction: the last one's copies are not coming
      callback();
    },

    onClose(session: SMTPServerSession) {
      closed.add(session);
      settle(session);
    },

    onRcptTo(address: RoutedAddress, session: SMTPServerSession, callback: Callback) {
      void (async () => {
        const parsed = normalizeAddress(address.address);
        if (!parsed) return callback(replyError(REPLIES.badRecipient));
        const route = await routeRecipient(ctx, address.address, { sender: session.envelope.mailFrom ? session.envelope.mailFrom.address : null });
        // Only an unknown recipient needs the second look: not ours at all is a relay attempt (5.7.1).
        if (route.kind === 'unknown' && !(await isHostedDomain(ctx, parsed.domain))) return callback(replyError(REPLIES.relayDenied));
        const refusal = replyForRoute(route);
        if (refusal || route.kind !== 'local') {
          const error = refusal ?? replyError(REPLIES.unknownUser);
          log.info({ event: 'smtp.rcpt_refused', session: session.id, route: route.kind }, 'smtp.rcpt_refused');
          await traceRefusal(ctx, session, address.address, parsed.domain, error.message);
          return callback(error);
        }
        if (await anyMailboxFull(ctx, route.accounts)) return callback(replyError(REPLIES.mailboxFull));
        announce(session);
        address.targets = route.accounts;
        address.external = route.external;
        address.customerId = route.accounts[0]?.customerId ?? (await customerOfDomain(ctx, parsed.domain));
        callback();
      })().catch((error) => {
        log.error({ err: error, session: session.id }, 'smtp.rcpt_failed');
        callback(replyError(REPLIES.localError));
      });
    },

    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: Callback) {
      const spool = new Spool(path.join(ctx.config.dataDir, 'tmp'));
      void (async () => {
        for await (const chunk of stream as AsyncIterable<Buffer>) if (!stream.sizeExceeded) await spool.write(chunk);
        if (stream.sizeExceeded) return callback(replyError(REPLIES.messageTooBig));
        const recipients = session.envelope.rcptTo as RoutedAddress[];
        const targets = new Map<string, LocalTarget>();
        const forwards = new Map<string, { customerId: string | null; recipients: Set<string> }>();
        for (const rcpt of recipients) {
          for (const t of rcpt.targets ?? []) targets.set(t.accountId, t);
          for (const destination of rcpt.external ?? []) {
            const key = rcpt.customerId ?? '';
            const entry = forwards.get(key) ?? { customerId: rcpt.customerId ?? null, recipients: new Set<string>() };
            entry.recipients.add(destination);
            forwards.set(key, entry);
          }
        }
        if (targets.size === 0 && forwards.size === 0) return callback(replyError(REPLIES.noValidRecipients));

        const sender = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const auth = await authenticate(Readable.from(spool.read()), {
          ip: session.remoteAddress,
          helo: session.hostNameAppearsAs,
          sender,
          mta: ctx.config.hostname,
          resolver,
          disableBimi: true,
        });
        const received = formatReceived({
          helo: session.hostNameAppearsAs ?? '',
          clientHostname: session.clientHostname && session.clientHostname !== `[${session.remoteAddress}]` ? session.clientHostname : null,
          clientIp: session.remoteAddress,
          byHost: ctx.config.hostname,
          protocol: session.secure ? 'ESMTPS' : 'ESMTP',
          id: newSecret().slice(0, 16),
          recipient: recipients.length === 1 ? (recipients[0]?.address ?? null) : null,
          date: new Date(ctx.clock.now()),
          tls: null,
        });
        const trace = Buffer.from(`${auth.headers}${received}`);
        async function* withTrace() {
          yield trace;
          yield* spool.read();
        }
        const message = await receiveMessage(ctx, withTrace(), { maxBytes: maxBytes + trace.length });
        const filtered = await filterInbound(
          ctx,
          {
            content: withTrace,
            size: message.blob.size,
            metadata: message.metadata,
            clientIp: session.remoteAddress,
            helo: session.hostNameAppearsAs ?? '',
            mailFrom: sender,
            recipients: recipients.map((r) => r.address),
            auth: authSummary(auth),
          },
          [...targets.values()],
          { forwards: forwards.size > 0 },
        );
        if (filtered.refusal) {
          await traceFiltered(ctx, session, sender, message.metadata.summary.messageId, [...targets.values()], filtered);
          log.info(
            { event: 'smtp.message_filtered', session: session.id, score: filtered.verdict.score, malware: filtered.verdict.malware?.name },
            'smtp.message_filtered',
          );
          return callback(replyError(filtered.refusal));
        }
        // Every effect of the message (forwarded copies, held copies, Inbox copies, their trace) commits
        // in one transaction: a failure leaves none of them, so the client's retry makes no duplicate.
        // Forwarded copies leave with an SRS sender (planOutbound rewrites it), so SPF passes at the next hop.
        const outbound: PlannedOutbound[] = [];
        for (const forward of forwards.values()) {
          outbound.push(await planOutbound(ctx, { customerId: forward.customerId, sender, recipients: [...forward.recipients], blob: message.blob }));
        }
        const holds: PlannedHold[] = [];
        for (const target of targets.values()) {
          const disposition = filtered.dispositions.get(target.accountId);
          if (disposition?.action !== 'quarantine') continue;
          holds.push(
            await planHold(ctx, {
              blob: message.blob,
              metadata: message.metadata,
              account: { accountId: target.accountId, customerId: target.customerId, domainId: target.domainId },
              verdict: filtered.verdict,
              reason: disposition.reason,
              sender,
              recipient: target.address,
              sessionId: session.id,
            }),
          );
        }
        const deliveries: Delivery[] = [...targets.values()]
          .filter((t) => (filtered.dispositions.get(t.accountId)?.action ?? 'inbox') === 'inbox')
          .map((t) => ({ accountId: t.accountId }));
        const traceOf = (results: DeliveryResult[]) =>
          deliveryTrace(session, sender, message.metadata.summary.messageId, targets, results, auth, message.blob.size, filtered.verdict);
        const queued: string[][] = [];
        settle(session);
        const results = await deliverMessage(ctx, message, deliveries, {
          trace: traceOf,
          within: async (trx) => {
            queued.length = 0; // a batch that failed to commit runs each write again alone
            for (const plan of outbound) queued.push(await queueOutboundIn(ctx, trx, plan));
            for (const plan of holds) await holdMessageIn(ctx, trx, plan);
          },
        });
        for (const [i, plan] of outbound.entries()) outboundQueued(ctx, plan, queued[i] ?? []);
        for (const plan of holds) messageHeld(ctx, plan);
        const held = holds.length;
        const stored = results.filter((r) => r.ok).length + held;
        log.info(
          {
            event: 'smtp.message_stored',
            session: session.id,
            size: message.blob.size,
            recipients: deliveries.length,
            stored,
            dmarc: auth.dmarc ? auth.dmarc.status?.result : 'none',
          },
          'smtp.message_stored',
        );
        if (stored === 0 && forwards.size === 0) return callback(replyError(REPLIES.mailboxFull));
        callback(null, `${REPLIES.accepted.enhanced} ${REPLIES.accepted.text}`);
      })()
        .catch((error) => {
          stream.resume(); // whatever happened, read the rest so the session stays in step
          log[isAppError(error) ? 'info' : 'error']({ err: error, session: session.id }, 'smtp.data_failed');
          callback(replyError(isAppError(error) ? REPLY_OF_KIND[error.kind] : REPLIES.localError));
        })
        .finally(() => {
          settle(session);
          void spool.dispose();
        });
    },
  };
}
