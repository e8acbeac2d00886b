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
  customerOfDomain,
  expansionStep,
  isFailureReport,
  isHostedDomain,
  type ListCopies,
  type ListCopiesSent,
  type LocalTarget,
  listCopiesSent,
  loadListOfMail,
  outboundQueued,
  type PlannedListCopies,
  type PlannedOutbound,
  planListCopies,
  planOutbound,
  queueOutboundIn,
  type Route,
  recordListBounce,
  routeRecipient,
  sendListCopiesIn,
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
  /** The list the recipient is (its copies carry its header fields and bounce to it), or the alias it is. */
  listId?: string;
  viaAlias?: string;
  /** A list's bounce address: the message is a report on that member's copy. */
  listBounce?: { listId: string; member: string };
}

/** The 'expanded' steps of the aliases and lists among the recipients (R-M6): the message is found by their address too. */
function expansionSteps(session: SMTPServerSession, sender: string, messageId: string | null, recipients: RoutedAddress[], lists: ListCopies[]): TraceEvent[] {
  const common = { direction: 'inbound' as const, sessionId: session.id, messageId, sender };
  const events = lists.map((l) =>
    expansionStep(common, { customerId: l.list.customerId, recipient: l.recipient, kind: 'list', accounts: l.accounts, external: l.external }),
  );
  for (const rcpt of recipients) {
    if (!rcpt.viaAlias || rcpt.listId) continue;
    events.push(
      expansionStep(common, {
        customerId: rcpt.customerId ?? null,
        recipient: rcpt.address,
        kind: 'alias',
        accounts: rcpt.targets ?? [],
        external: rcpt.external ?? [],
      }),
    );
  }
  return events;
}

/**
 * Mail to a list's bounce addresses: an RFC 3464 failure report counts a bounce for the member its
 * address names; anything else is dropped (logged). Neither is passed on: the poster hears nothing.
 */
async function takeListBounces(ctx: AppContext, session: SMTPServerSession, bounces: { listId: string; member: string }[], spool: Spool): Promise<void> {
  const failed = await isFailureReport(spool.read());
  for (const bounce of bounces) {
    if (!failed) {
      ctx.log.info({ event: 'smtp.list_bounce_ignored', session: session.id, list: bounce.listId }, 'smtp.list_bounce_ignored');
      continue;
    }
    const list = await loadListOfMail(ctx, bounce.listId);
    await recordListBounce(ctx, {
      listId: bounce.listId,
      member: bounce.member,
      customerId: list?.customerId ?? null,
      sessionId: session.id,
      detail: { via: 'dsn' },
    });
  }
}

function replyForRoute(route: Route): Error | undefined {
  if (route.kind === 'unknown') return replyError(REPLIES.unknownUser);
  if (route.kind === 'refused') return replyError(refusalReply(route));
  return undefined;
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
        if (route.kind === 'list-bounce') {
          address.listBounce = { listId: route.listId, member: route.member };
          return callback();
        }
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
        if (route.listId) address.listId = route.listId;
        if (route.viaAlias) address.viaAlias = route.viaAlias;
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
        const sender = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const targets = new Map<string, LocalTarget>();
        const forwards = new Map<string, { customerId: string | null; recipients: Set<string>; via: string | undefined }>();
        const lists: ListCopies[] = [];
        for (const rcpt of recipients) {
          const list = rcpt.listId ? await loadListOfMail(ctx, rcpt.listId) : undefined;
          if (list) {
            lists.push({ list, recipient: rcpt.address, accounts: rcpt.targets ?? [], external: rcpt.external ?? [] });
            continue;
          }
          for (const t of rcpt.targets ?? []) targets.set(t.accountId, t);
          for (const destination of rcpt.external ?? []) {
            const key = rcpt.customerId ?? '';
            const entry = forwards.get(key) ?? { customerId: rcpt.customerId ?? null, recipients: new Set<string>(), via: rcpt.viaAlias };
            entry.recipients.add(destination);
            forwards.set(key, entry);
          }
        }
        // An account addressed directly (or through an alias) gets one copy: the one without the list's fields.
        for (const copies of lists) copies.accounts = copies.accounts.filter((t) => !targets.has(t.accountId));
        const bounces = recipients.flatMap((r) => (r.listBounce ? [r.listBounce] : []));
        if (bounces.length > 0) await takeListBounces(ctx, session, bounces, spool);
        const listTargets = lists.flatMap((l) => l.accounts);
        if (targets.size === 0 && forwards.size === 0 && lists.length === 0) {
          return callback(bounces.length > 0 ? null : replyError(REPLIES.noValidRecipients), `${REPLIES.accepted.enhanced} ${REPLIES.accepted.text}`);
        }

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
          [...targets.values(), ...listTargets],
          { forwards: forwards.size > 0 || lists.some((l) => l.external.length > 0) },
        );
        if (filtered.refusal) {
          await traceFiltered(ctx, session, sender, message.metadata.summary.messageId, [...targets.values(), ...listTargets], filtered);
          log.info(
            { event: 'smtp.message_filtered', session: session.id, score: filtered.verdict.score, malware: filtered.verdict.malware?.name },
            'smtp.message_filtered',
          );
          return callback(replyError(filtered.refusal));
        }
        const messageId = message.metadata.summary.messageId;
        // Every effect of the message (forwarded copies, held copies, Inbox copies, its lists' copies, their
        // trace) commits in one transaction: a failure leaves none of them, so the client's retry makes no
        // duplicate. Forwarded copies leave with an SRS sender (planOutbound rewrites it), so SPF passes at
        // the next hop. A list's copies are a message of their own (with the list's fields), prepared here.
        const outbound: PlannedOutbound[] = [];
        for (const forward of forwards.values()) {
          outbound.push(
            await planOutbound(ctx, {
              customerId: forward.customerId,
              sender,
              recipients: [...forward.recipients],
              blob: message.blob,
              messageId,
              origin: { sessionId: session.id, ...(forward.via ? { via: forward.via } : {}) },
            }),
          );
        }
        const holds: PlannedHold[] = [];
        for (const target of [...targets.values(), ...listTargets]) {
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
        const listPlans: PlannedListCopies[] = [];
        for (const copies of lists) {
          const byAccount = new Map(copies.accounts.map((t) => [t.accountId, t]));
          const plan = await planListCopies(ctx, copies, {
            content: withTrace,
            maxBytes: maxBytes + trace.length,
            messageId,
            sessionId: session.id,
            inbox: (t) => (filtered.dispositions.get(t.accountId)?.action ?? 'inbox') === 'inbox',
            trace: (copy, out) => deliveryTrace(session, sender, messageId, byAccount, out, auth, copy.blob.size, filtered.verdict),
          });
          if (plan) listPlans.push(plan);
        }
        const deliveries: Delivery[] = [...targets.values()]
          .filter((t) => (filtered.dispositions.get(t.accountId)?.action ?? 'inbox') === 'inbox')
          .map((t) => ({ accountId: t.accountId }));
        const traceOf = (results: DeliveryResult[]) =>
          deliveryTrace(session, sender, message.metadata.summary.messageId, targets, results, auth, message.blob.size, filtered.verdict);
        const queued: string[][] = [];
        const listSent: ListCopiesSent[] = [];
        settle(session);
        const expansions = expansionSteps(session, sender, messageId, recipients, lists);
        const results = await deliverMessage(ctx, message, deliveries, {
          trace: (out) => [...expansions, ...traceOf(out)],
          within: async (trx) => {
            // A batch that failed to commit runs each write again alone.
            queued.length = 0;
            listSent.length = 0;
            for (const plan of outbound) queued.push(await queueOutboundIn(ctx, trx, plan));
            for (const plan of holds) await holdMessageIn(ctx, trx, plan);
            for (const plan of listPlans) listSent.push(await sendListCopiesIn(ctx, trx, plan));
          },
        });
        for (const [i, plan] of outbound.entries()) outboundQueued(ctx, plan, queued[i] ?? []);
        for (const plan of holds) messageHeld(ctx, plan);
        const held = holds.length;
        const listCopies = listCopiesSent(ctx, listPlans, listSent);
        const stored = results.filter((r) => r.ok).length + held + listCopies;
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
