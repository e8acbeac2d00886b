/**
 * The one DNS resolver of the service and what is built on it: the records a customer's domain must
 * publish and their live check (R-T3), and DKIM keys. Every lookup in Facteur goes through
 * `createResolver`, so tests point it at a DNS server on loopback and nothing is stubbed.
 */

export { type DkimKey, dkimRecordValue, dkimSelector, generateDkimKey } from './dkim-keys.ts';
export { checkDomainRecords, type DkimRotationKey, type DomainCheck, type ExpectedRecord, expectedRecords, type RecordCheck } from './records.ts';
export { createResolver, type DnsResolver } from './resolver.ts';
