/** Adapters to external filters (issue 5): Rspamd over HTTP, ClamAV's clamd over INSTREAM. */
export { type ClamdCheck, type ClamdOptions, createClamdCheck, parseClamdAddress, parseScanReply } from './clamd.ts';
export { createRspamdCheck, RSPAMD_FORCED_REJECT_SCORE, type RspamdOptions, rspamdSymbols } from './rspamd.ts';
