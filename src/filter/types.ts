/**
 * The shapes of the filter (issue 5, SPEC R-S1..R-S4, R-V1): checks that add named symbols with scores
 * and a reason in both languages, a verdict that sums them, and the decision per recipient (inbox,
 * quarantine, refuse, delete). Checks only add symbols; scoring and deciding happen elsewhere
 * (STYLE.md: "small analyzers that only add named tags").
 */
import type { MessageMetadata } from '../mime/index.ts';
import type { Text } from '../shared/errors.ts';

/** One finding of a check, e.g. `{ name: 'GTUBE', score: 1000, reason: { en: 'GTUBE test string', fr: '…' } }`. */
export interface FilterSymbol {
  /** Stable upper-case name (Rspamd's symbols keep their own names). */
  name: string;
  score: number;
  reason: Text;
  /** Where it came from: a built-in check's name, or `rspamd`. */
  source: string;
}

/** Authentication results of the MX (mailauth), as the auth check reads them. */
export interface AuthSummary {
  spf: string; // pass | fail | softfail | neutral | none | temperror | permerror
  dkim: string[]; // one result per signature, e.g. "pass (example.com)"
  dmarc: string; // pass | fail | none | …
  /** The DMARC policy of the From domain (none | quarantine | reject) when DMARC failed. */
  dmarcPolicy?: string;
  arc: string;
}

/** What a check sees of a message. The content is read again from the spool when a check needs it. */
export interface FilterInput {
  direction: 'inbound' | 'outbound';
  /** Re-readable message content (the SMTP spool, or a stored blob). */
  content(): AsyncIterable<Buffer>;
  size: number;
  metadata: MessageMetadata;
  clientIp: string;
  helo: string;
  mailFrom: string;
  recipients: string[];
  /** Inbound only. */
  auth?: AuthSummary;
  /** Domains of the recipients (inbound) or of the sender (outbound), for per-domain Bayes data. */
  domainIds: string[];
}

export interface Malware {
  /** Signature or rule name, e.g. `Eicar-Test-Signature` or `EXECUTABLE_ATTACHMENT`. */
  name: string;
  reason: Text;
  source: string;
}

export interface CheckResult {
  symbols: FilterSymbol[];
  malware?: Malware;
}

export interface Check {
  name: string;
  run(input: FilterInput): Promise<CheckResult>;
}

export interface Verdict {
  score: number;
  symbols: FilterSymbol[];
  malware: Malware | null;
  /**
   * Set when a check failed or the time budget ran out: the message is held in quarantine, never
   * delivered unscanned (issue 5, "fails safe").
   */
  failedSafe: boolean;
  durationMs: number;
}

/** Per-recipient thresholds (settings, then domain, then user). */
export interface Thresholds {
  /** At or above: quarantine. */
  quarantine: number;
  /** At or above: refused at DATA with 550 5.7.1 (only when every recipient agrees). */
  reject: number;
}

export type SenderRuleKind = 'allow' | 'block';

/** What happens to one recipient's copy. */
export type Disposition =
  | { action: 'inbox' }
  | { action: 'quarantine'; reason: 'spam' | 'blocked-sender' | 'failed-safe' }
  | { action: 'reject'; reason: 'spam' | 'blocked-sender' }
  | { action: 'delete'; reason: 'malware' };
