/**
 * The DNS records to publish as DNS hosts need them: a TXT value longer than 255 characters split into
 * quoted strings of at most 255 (RFC 1035 §3.3; resolvers join them back), and the records as zone-file
 * lines. Pure functions, no DOM.
 */
import type { DnsRecord } from './types.ts';

export const MAX_STRING = 255;

/** The value cut into strings of at most 255 characters (the values here are ASCII: one character, one octet). */
export function splitTxt(value: string): string[] {
  const strings: string[] = [];
  for (let i = 0; i < value.length; i += MAX_STRING) strings.push(value.slice(i, i + MAX_STRING));
  return strings.length ? strings : [''];
}

/** Strings quoted as zone files and most DNS hosts write them, `"…" "…"` (quotes and backslashes escaped). */
export function quotedStrings(value: string): string {
  return splitTxt(value)
    .map((part) => `"${part.replace(/[\\"]/g, (c) => `\\${c}`)}"`)
    .join(' ');
}

/** The record's data as a zone file writes it: `10 mx.example.` for MX, quoted strings for TXT. */
export function zoneData(record: DnsRecord): string {
  if (record.type === 'MX') {
    const [priority, host] = record.value.split(/\s+/, 2);
    return `${record.priority ?? priority} ${(host ?? record.value).replace(/\.?$/, '.')}`;
  }
  return quotedStrings(record.value);
}

/** Zone-file lines (BIND format), names fully qualified, columns aligned. */
export function zoneFile(records: readonly DnsRecord[], ttl = 3600): string {
  const names = records.map((record) => `${record.host.replace(/\.$/, '')}.`);
  const width = Math.max(...names.map((name) => name.length), 0);
  return records.map((record, i) => `${(names[i] as string).padEnd(width)}  ${ttl}  IN  ${record.type.padEnd(3)}  ${zoneData(record)}`).join('\n');
}
