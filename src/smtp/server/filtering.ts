/**
 * The filter step of the SMTP servers (issue 5): the checks run once per message, then each local
 * recipient's preferences and sender lists decide its copy (inbox, quarantine, refused), and malware
 * stops the whole message (R-V1). SMTP can answer DATA only once for all recipients, so a message is
 * refused only when every recipient refuses it; a recipient who would refuse it alone gets it held.
 */
import type { AppContext } from '../../context.ts';
import type { LocalTarget } from '../../delivery/index.ts';
import {
  type AuthSummary,
  builtinChecks,
  type Check,
  createClamdCheck,
  createRspamdCheck,
  type Disposition,
  decideForRecipient,
  type FilterInput,
  personalVerdict,
  runChecks,
  type Verdict,
  vaultOutbound,
} from '../../filter/index.ts';

import type { MessageMetadata } from '../../mime/index.ts';
import { normalizeAddress } from '../../shared/addresses.ts';
import type { BlobRef } from '../../store/index.ts';
import { recordTrace } from '../../trace/index.ts';
import type { SmtpReply } from '../proto/replies.ts';

export const FILTER_REPLIES = {
  spam: { code: 550, enhanced: '5.7.1', text: 'Message refused as spam' },
  blocked: { code: 550, enhanced: '5.7.1', text: 'Message refused: the recipient does not accept mail from this sender' },
  malware: (name: string): SmtpReply => ({ code: 554, enhanced: '5.7.1', text: `Message refused: it carries malware (${name.replace(/[^\w.-]/g, '')})` }),
} satisfies Record<string, SmtpReply | ((name: string) => SmtpReply)>;

const CHECKS = new WeakMap<AppContext, Check[]>();

/**
 * The checks of this process, built once (their caches live with them): the built-in ones, Rspamd
 * when configured (instead of the built-in spam checks in `replace` mode; the built-in malware check
 * always stays, it is cheap and looks inside zip archives), and ClamAV when configured.
 */
export function checksFor(ctx: AppContext): Check[] {
  let checks = CHECKS.get(ctx);
  if (checks) return checks;
  const builtin = builtinChecks(ctx);
  const timeoutMs = ctx.config.filter.timeBudgetMs;
  const rspamd = ctx.config.rspamdUrl ? createRspamdCheck({ url: ctx.config.rspamdUrl, timeoutMs }) : undefined;
  const clamd = ctx.config.clamd ? createClamdCheck({ address: ctx.config.clamd, timeoutMs }) : undefined;
  const spamChecks = rspamd && ctx.config.filter.rspamdMode === 'replace' ? builtin.filter((check) => check.name === 'attachments') : builtin;
  checks = [...spamChecks, ...(rspamd ? [rspamd] : []), ...(clamd ? [clamd] : [])];
  CHECKS.set(ctx, checks);
  return checks;
}

/** mailauth's result, as the auth check reads it. */
export function authSummary(auth: {
  spf: { status: { result: string } } | false;
  dkim: { results?: Array<{ status: { result: string }; signingDomain?: string }> };
  dmarc: { status: { result: string }; policy?: string; p?: string } | false;
  arc: { status: { result: string } } | false;
}): AuthSummary {
  return {
    spf: auth.spf ? auth.spf.status.result : 'none',
    dkim: auth.dkim.results?.map((r) => r.status.result) ?? [],
    dmarc: auth.dmarc ? auth.dmarc.status.result : 'none',
    dmarcPolicy: auth.dmarc ? (auth.dmarc.policy ?? auth.dmarc.p) : undefined,
    arc: auth.arc ? auth.arc.status.result : 'none',
  };
}

export interface InboundDecision {
  verdict: Verdict;
  /** Set when the whole message is refused. */
  refusal?: SmtpReply;
  /** What each local recipient gets (after a lone refusal was turned into a hold). */
  dispositions: Map<string, Disposition>;
}

function fromHeaderAddress(metadata: MessageMetadata): string | null {
  const first = metadata.envelope.from?.[0];
  if (!first?.mailbox || !first.host) return null;
  const parsed = normalizeAddress(`${first.mailbox}@${first.host}`);
  return parsed ? `${parsed.local}@${parsed.domain}` : null;
}

export async function filterInbound(
  ctx: AppContext,
  input: Omit<FilterInput, 'direction' | 'domainIds'>,
  targets: LocalTarget[],
  options: { forwards: boolean },
): Promise<InboundDecision> {
  // One input for every check and recipient: the message's parsed view is cached per input.
  const inboundInput: FilterInput = { ...input, direction: 'inbound', domainIds: [...new Set(targets.map((t) => t.domainId))] };
  const verdict = await runChecks(ctx, inboundInput, checksFor(ctx));
  if (verdict.malware) return { verdict, refusal: FILTER_REPLIES.malware(verdict.malware.name), dispositions: new Map() };

  const from = fromHeaderAddress(input.metadata);
  const dispositions = new Map<string, Disposition>();
  for (const target of targets) {
    // A recipient who taught the filter is judged with their own lessons too (filter/learning.ts).
    const own = await personalVerdict(ctx, inboundInput, verdict, { accountId: target.accountId, domainId: target.domainId });
    const decision = await decideForRecipient(ctx, { accountId: target.accountId, domainId: target.domainId }, own, {
      envelope: input.mailFrom,
      fromHeaderAddress: from,
    });
    dispositions.set(target.accountId, decision.disposition);
  }
  const all = [...dispositions.values()];
  const everyoneRefuses = all.length > 0 && !options.forwards && all.every((d) => d.action === 'reject');
  if (everyoneRefuses) {
    const blocked = all.every((d) => d.action === 'reject' && d.reason === 'blocked-sender');
    return { verdict, refusal: blocked ? FILTER_REPLIES.blocked : FILTER_REPLIES.spam, dispositions };
  }
  // Forwards alone (no local copy) are refused past the service's own reject score: we do not relay spam.
  if (all.length === 0 && verdict.score >= ctx.config.filter.rejectScore) return { verdict, refusal: FILTER_REPLIES.spam, dispositions };
  for (const [accountId, disposition] of dispositions) {
    if (disposition.action === 'reject') dispositions.set(accountId, { action: 'quarantine', reason: disposition.reason });
  }
  return { verdict, dispositions };
}

/** What the trace keeps of a verdict: the score, the symbols and their reasons, the time it took. */
export function verdictDetail(verdict: Verdict): Record<string, unknown> {
  return {
    score: Math.round(verdict.score * 100) / 100,
    symbols: verdict.symbols.map((s) => ({ name: s.name, score: s.score, reason: s.reason, source: s.source })),
    malware: verdict.malware ? { name: verdict.malware.name, source: verdict.malware.source } : null,
    failedSafe: verdict.failedSafe,
    ms: Math.round(verdict.durationMs * 10) / 10,
  };
}

export interface OutboundDecision {
  verdict: Verdict;
  /** Set when the message must not leave: malware (then kept in the vault), or spam when outbound blocking is on. */
  refusal?: SmtpReply;
}

/**
 * Outbound mail (R-V1): malware is never sent; the sender gets a clear refusal and the message goes to
 * the vault, readable by the operator only. Spam scores are recorded in the trace for the abuse
 * handling; they refuse the message only when `filter.outboundBlocks` is on.
 */
export async function filterOutbound(
  ctx: AppContext,
  input: Omit<FilterInput, 'direction' | 'domainIds'>,
  sender: { accountId: string; customerId: string; domainId: string },
  message: { blob: BlobRef; messageId: string | null; sessionId: string },
): Promise<OutboundDecision> {
  const verdict = await runChecks(ctx, { ...input, direction: 'outbound', domainIds: [sender.domainId] }, checksFor(ctx));
  await recordTrace(ctx, [
    {
      step: 'verdict',
      direction: 'outbound',
      customerId: sender.customerId,
      sessionId: message.sessionId,
      messageId: message.messageId,
      sender: input.mailFrom,
      recipient: null,
      detail: verdictDetail(verdict),
    },
  ]);
  if (verdict.malware) {
    await vaultOutbound(ctx, {
      blob: message.blob,
      account: { accountId: sender.accountId, customerId: sender.customerId },
      sender: input.mailFrom,
      recipients: input.recipients,
      malware: verdict.malware,
      sessionId: message.sessionId,
      messageId: message.messageId,
    });
    return { verdict, refusal: FILTER_REPLIES.malware(verdict.malware.name) };
  }
  if (ctx.config.filter.outboundBlocks && verdict.score >= ctx.config.filter.rejectScore) return { verdict, refusal: FILTER_REPLIES.spam };
  return { verdict };
}
