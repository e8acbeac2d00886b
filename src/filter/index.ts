/**
 * Spam and malware filtering (issue 5): checks that add named symbols (built-in, Rspamd, ClamAV), the
 * pipeline that runs them within a time budget, the decision per recipient, the quarantine, allow and
 * block lists, digests with signed links, and the vault of outbound malware.
 */
export { type ClamdCheck, type ClamdOptions, createClamdCheck, createRspamdCheck, type RspamdOptions } from './adapters/index.ts';
export { type BayesClass, classify, GLOBAL_SCOPE, train } from './bayes.ts';
export { EICAR_SIGNATURE, RISKY_ATTACHMENT } from './checks/attachments.ts';
export { DMARC_REJECT_SCORE } from './checks/auth.ts';
export { EICAR } from './checks/malware.ts';
export { type FilterContext, GTUBE, messageInput } from './checks/message.ts';
export { DMARC_REJECT_SYMBOL, decide, decideForRecipient, type RecipientDecision } from './decide.ts';
export { sendDueDigests } from './digest.ts';
export { learningSettled, learnPending, personalVerdict, reportMessage, scheduleLearning, userScope } from './learning.ts';
export { inspectDigestLink, useDigestLink } from './links.ts';
export { builtinChecks, FAILED_SAFE, runChecks } from './pipeline.ts';
export { type DigestFrequency, effectivePrefs, type FilterPrefs, getFilterPrefs, setFilterPrefs } from './prefs.ts';
export {
  deleteQuarantined,
  expireQuarantine,
  holdMessage,
  holdMessageIn,
  listQuarantine,
  messageHeld,
  type PlannedHold,
  planHold,
  previewQuarantined,
  type QuarantineEntry,
  type QuarantineScope,
  releaseQuarantined,
} from './quarantine.ts';
export { addSenderRule, type FilterOwner, listSenderRules, matchSender, removeSenderRule, type SenderRuleView } from './sender-rules.ts';
export type {
  AuthSummary,
  Check,
  CheckResult,
  Disposition,
  FilterInput,
  FilterSymbol,
  Malware,
  SenderRuleKind,
  Thresholds,
  Verdict,
} from './types.ts';
export { listVault, purgeVault, readVault, vaultOutbound } from './vault.ts';
