/**
 * A short-lived cache in front of mailauth's DNS lookups on the MX (and of the clients' PTR names on
 * the SMTP listeners). Mail from one sending domain
 * comes in runs, and each message asks the same SPF, DKIM key and DMARC names: without it, every
 * message costs its lookups again (two to four round trips before the 250), and concurrent sessions
 * ask the same name at the same moment. Identical lookups in flight share one query; answers (and
 * "no such name / no such record") are kept for `ttlMs`, well under the TTLs senders publish (node's
 * resolver does not report the records' own TTLs for TXT). Failures (SERVFAIL, timeouts) are not kept.
 */
import type { DnsResolver } from '../../dns/index.ts';
import type { Clock } from '../../shared/clock.ts';

type MailauthResolver = DnsResolver['mailauthResolver'];

/** How long an answer is reused. */
export const LOOKUP_TTL_MS = 30_000;
/** Entries kept at most; the oldest go first. */
export const LOOKUP_CACHE_MAX = 10_000;

/** Answers that say the name or the record does not exist: as stable as a record, so kept too. */
const NEGATIVE = new Set(['ENOTFOUND', 'ENODATA']);

type Outcome = { ok: true; value: unknown } | { ok: false; error: Error & { code?: string } };

interface Entry {
  /** Infinity while in flight. */
  until: number;
  outcome: Promise<Outcome>;
}

/**
 * A caller's own copy of an error: mailauth sets fields on the errors it catches (spfResult). Made
 * without capturing a new stack (that was most of a cached "no such name"'s cost); it keeps the first one.
 */
function copyOf(error: Error & { code?: string }): Error {
  return Object.assign(Object.create(Object.getPrototypeOf(error) as object) as Error, error, { message: error.message, stack: error.stack });
}

export function cachedMailauthResolver(resolve: MailauthResolver, clock: Clock, ttlMs = LOOKUP_TTL_MS, max = LOOKUP_CACHE_MAX): MailauthResolver {
  const entries = new Map<string, Entry>();
  const lookup = (key: string, name: string, rrtype: string): Entry => {
    const entry: Entry = {
      until: Number.POSITIVE_INFINITY,
      outcome: resolve(name, rrtype).then(
        (value): Outcome => {
          entry.until = clock.now() + ttlMs;
          return { ok: true, value };
        },
        (error: Error & { code?: string }): Outcome => {
          if (NEGATIVE.has(error?.code ?? '')) entry.until = clock.now() + ttlMs;
          else if (entries.get(key) === entry) entries.delete(key); // shared by those waiting, then asked anew
          return { ok: false, error };
        },
      ),
    };
    entries.set(key, entry);
    if (entries.size > max) entries.delete(entries.keys().next().value as string);
    return entry;
  };
  return async (name, rrtype) => {
    const key = `${rrtype.toUpperCase()} ${name.toLowerCase()}`;
    let entry = entries.get(key);
    if (entry && entry.until <= clock.now()) {
      entries.delete(key);
      entry = undefined;
    }
    const outcome = await (entry ?? lookup(key, name, rrtype)).outcome;
    // Each caller gets its own copy: mailauth sorts MX lists in place and annotates errors.
    if (outcome.ok) return structuredClone(outcome.value);
    throw copyOf(outcome.error);
  };
}
