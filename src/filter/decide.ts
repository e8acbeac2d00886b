/**
 * What happens to one recipient's copy (issue 5), from the verdict, the recipient's thresholds and
 * the sender rule that matched. Pure: the MX calls `decide` once per recipient (or
 * `decideForRecipient`, which reads the thresholds and the rules first).
 *
 * Order, first match wins:
 * 1. malware: deleted, whatever the rules (R-V1: never delivered, an allow rule cannot change that);
 * 2. a block rule: the recipient's `blockedAction` (refused, or held as "blocked sender") (R-S2);
 * 3. a verdict that failed safe (a check failed or the time budget ran out): held, even for an allowed
 *    sender, since the message was not fully scanned and may carry malware;
 * 4. an allow rule: inbox, unless the message failed a DMARC reject policy (`DMARC_POLICY_REJECT`),
 *    which an allow rule never overrides (the From domain said to refuse such mail; an allowed
 *    address is exactly what a spoofer would use), in which case the score decides as if no rule matched;
 * 5. the score: at or above `reject`, refused; at or above `quarantine`, held as spam; else inbox.
 */
import type { AppContext } from '../context.ts';
import { effectivePrefs } from './prefs.ts';
import { matchSender } from './sender-rules.ts';
import type { Disposition, SenderRuleKind, Thresholds, Verdict } from './types.ts';

/** The symbol the authentication check adds when DMARC failed and the From domain's policy is reject. */
export const DMARC_REJECT_SYMBOL = 'DMARC_POLICY_REJECT';

export interface DecideOptions {
  thresholds: Thresholds;
  /** The sender rule that matched for this recipient (see `matchSender`), or null. */
  rule: SenderRuleKind | null;
  blockedAction: 'reject' | 'quarantine';
}

export function decide(verdict: Pick<Verdict, 'score' | 'symbols' | 'malware' | 'failedSafe'>, options: DecideOptions): Disposition {
  if (verdict.malware) return { action: 'delete', reason: 'malware' };
  if (options.rule === 'block') {
    return options.blockedAction === 'reject' ? { action: 'reject', reason: 'blocked-sender' } : { action: 'quarantine', reason: 'blocked-sender' };
  }
  if (verdict.failedSafe) return { action: 'quarantine', reason: 'failed-safe' };
  if (options.rule === 'allow' && !verdict.symbols.some((symbol) => symbol.name === DMARC_REJECT_SYMBOL)) return { action: 'inbox' };
  if (verdict.score >= options.thresholds.reject) return { action: 'reject', reason: 'spam' };
  if (verdict.score >= options.thresholds.quarantine) return { action: 'quarantine', reason: 'spam' };
  return { action: 'inbox' };
}

export interface RecipientDecision {
  disposition: Disposition;
  rule: SenderRuleKind | null;
  thresholds: Thresholds;
}

/**
 * For the MX: reads the recipient's thresholds, blocked action and sender rules, then decides.
 * `fromHeaderAddress` is the address of the From header (metadata.summary.from), when there is one.
 */
export async function decideForRecipient(
  ctx: AppContext,
  recipient: { accountId: string; domainId?: string },
  verdict: Pick<Verdict, 'score' | 'symbols' | 'malware' | 'failedSafe'>,
  sender: { envelope: string; fromHeaderAddress?: string | null },
): Promise<RecipientDecision> {
  const domainId =
    recipient.domainId ?? (await ctx.db.selectFrom('accounts').select('domain_id').where('id', '=', recipient.accountId).executeTakeFirstOrThrow()).domain_id;
  const who = { accountId: recipient.accountId, domainId };
  const [prefs, rule] = await Promise.all([effectivePrefs(ctx, ctx.db, who), matchSender(ctx.db, who, sender.envelope, sender.fromHeaderAddress)]);
  return { disposition: decide(verdict, { thresholds: prefs.thresholds, rule, blockedAction: prefs.blockedAction }), rule, thresholds: prefs.thresholds };
}
