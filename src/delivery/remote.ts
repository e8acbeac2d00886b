/**
 * The remote side of outbound delivery: where a domain's mail goes (RFC 5321 §5.1 through the one
 * resolver: MX records by priority, the implicit MX of a domain without any, RFC 7505's null MX) and
 * an SMTP session to one of those hosts, by IP, with opportunistic STARTTLS (nodemailer's
 * SMTPConnection: the MX loop around it is ours).
 */
import type { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { AppContext } from '../context.ts';

/** Hosts tried per destination in one attempt, as Postfix's smtp_mx_address_limit (RFC 5321 §5.1 asks for a bound). */
export const MAX_ADDRESSES_PER_ATTEMPT = 10;

/** RFC 5321 §4.5.3.1.8: a server must accept at least 100 recipients per transaction. */
export const MAX_RECIPIENTS_PER_TRANSACTION = 100;

export interface MxHost {
  name: string;
  ip: string;
}

/** A failure: permanent (bounce) or temporary (retry), with the reply or a text to report. */
export interface DeliveryFailure {
  permanent: boolean;
  /** RFC 3463 status code, e.g. 5.1.1. */
  status: string;
  /** What the DSN's Diagnostic-Code and the log show: the remote reply, or our reason. */
  diagnostic: string;
  /** True when `diagnostic` is a reply of the remote server (Diagnostic-Code: smtp; …). */
  fromRemote: boolean;
  remoteMta?: string;
}

export type Destination = { ok: true; hosts: MxHost[] } | { ok: false; failure: DeliveryFailure };

function dnsCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function isNoRecords(error: unknown): boolean {
  const code = dnsCode(error);
  return code === 'ENODATA' || code === 'ENOTFOUND';
}

function ourFailure(permanent: boolean, status: string, diagnostic: string): DeliveryFailure {
  return { permanent, status, diagnostic, fromRemote: false };
}

/** Randomises hosts of equal priority (RFC 5321 §5.1), keeping the priority order. */
function orderMx(records: { exchange: string; priority: number }[]): { exchange: string; priority: number }[] {
  return records
    .map((record) => ({ record, tie: Math.random() }))
    .sort((a, b) => a.record.priority - b.record.priority || a.tie - b.tie)
    .map((entry) => entry.record);
}

async function addressesOf(ctx: AppContext, name: string): Promise<{ ips: string[]; temporary: boolean }> {
  const results = await Promise.allSettled([ctx.resolver.resolve4(name), ctx.resolver.resolve6(name)]);
  const ips: string[] = [];
  let temporary = false;
  for (const result of results) {
    if (result.status === 'fulfilled') ips.push(...result.value);
    else if (!isNoRecords(result.reason)) temporary = true;
  }
  return { ips, temporary };
}

/**
 * The hosts to try for a domain, in order. A domain without MX records gets its own address as an
 * implicit MX (RFC 5321 §5.1); a single MX of "." is a null MX: the domain accepts no mail (RFC 7505,
 * 5.1.10); a domain that does not exist is a permanent failure (5.1.2); DNS trouble is temporary.
 */
export async function resolveDestination(ctx: AppContext, domain: string): Promise<Destination> {
  let records: { exchange: string; priority: number }[];
  try {
    records = await ctx.resolver.resolveMx(domain);
  } catch (error) {
    const code = dnsCode(error);
    if (code === 'ENOTFOUND') return { ok: false, failure: ourFailure(true, '5.1.2', `Domain ${domain} does not exist (DNS NXDOMAIN)`) };
    if (code === 'ENODATA') records = [];
    else return { ok: false, failure: ourFailure(false, '4.4.3', `DNS lookup of MX ${domain} failed (${code ?? 'error'})`) };
  }
  const isNull = (exchange: string) => exchange === '' || exchange === '.';
  if (records.some((record) => isNull(record.exchange))) {
    return { ok: false, failure: ourFailure(true, '5.1.10', `Domain ${domain} accepts no mail (null MX, RFC 7505)`) };
  }
  const names = records.length > 0 ? orderMx(records).map((record) => record.exchange.replace(/\.$/, '')) : [domain];
  const hosts: MxHost[] = [];
  let temporary = false;
  for (const name of names) {
    const found = await addressesOf(ctx, name);
    temporary ||= found.temporary;
    for (const ip of found.ips) hosts.push({ name, ip });
    if (hosts.length >= MAX_ADDRESSES_PER_ATTEMPT) break;
  }
  if (hosts.length > 0) return { ok: true, hosts: hosts.slice(0, MAX_ADDRESSES_PER_ATTEMPT) };
  if (records.length === 0 && !temporary) {
    return { ok: false, failure: ourFailure(true, '5.1.2', `Domain ${domain} has no MX and no address records`) };
  }
  return { ok: false, failure: ourFailure(false, '4.4.3', `No address found for the mail hosts of ${domain}`) };
}

/** Reply code and RFC 3463 status of a reply such as "550 5.1.1 No such user". */
export function statusOfReply(reply: string, fallbackCode: number): { code: number; status: string } {
  const match = /^(\d{3})[ -](?:([245]\.\d{1,3}\.\d{1,3})\b)?/.exec(reply.trim());
  const code = match ? Number(match[1]) : fallbackCode;
  const klass = Math.floor(code / 100);
  return { code, status: match?.[2] ?? (klass === 5 ? '5.0.0' : klass === 2 ? '2.0.0' : '4.0.0') };
}

interface NodemailerError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  recipient?: string;
  rejectedErrors?: NodemailerError[];
}

function failureOfError(error: NodemailerError, remoteMta: string): DeliveryFailure {
  if (error.responseCode && error.response) {
    const { code, status } = statusOfReply(error.response, error.responseCode);
    return { permanent: code >= 500, status, diagnostic: error.response.trim().replace(/\r?\n/g, ' '), fromRemote: true, remoteMta };
  }
  if (error.code === 'EMESSAGE' && /larger than allowed/i.test(error.message)) {
    // The server's EHLO SIZE is below the message's size: it will never take it (RFC 1870).
    return { permanent: true, status: '5.3.4', diagnostic: `${remoteMta}: ${error.message}`, fromRemote: false, remoteMta };
  }
  const timeout = error.code === 'ETIMEDOUT' || /timeout/i.test(error.message);
  return {
    permanent: false,
    status: timeout ? '4.4.2' : '4.4.1',
    diagnostic: `${timeout ? 'Timed out' : 'Connection failed'} with ${remoteMta}: ${error.message}`,
    fromRemote: false,
    remoteMta,
  };
}

export interface SessionOptions {
  port: number;
  heloName: string;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
}

/** The outcome of one message (one transaction): per recipient, delivered (null) or a failure. */
export type TransactionOutcome = Map<string, DeliveryFailure | null>;

/** One SMTP session to a remote host, for several transactions in a row. */
export class RemoteSession {
  private constructor(
    private readonly connection: SMTPConnection,
    readonly host: MxHost,
  ) {}

  get usable(): boolean {
    return !this.connection.destroyed;
  }

  /** Connects and greets (EHLO, STARTTLS when offered, without checking the certificate: opportunistic). */
  static open(host: MxHost, options: SessionOptions): Promise<RemoteSession> {
    const connection = new SMTPConnection({
      host: host.ip,
      port: options.port,
      name: options.heloName,
      servername: host.name,
      secure: false,
      opportunisticTLS: true,
      tls: { rejectUnauthorized: false },
      connectionTimeout: options.connectTimeoutMs,
      greetingTimeout: options.responseTimeoutMs,
      socketTimeout: options.responseTimeoutMs,
      socketCloseTimeout: 0,
      logger: false,
    });
    return new Promise((resolve, reject) => {
      let settled = false;
      connection.once('error', (error: NodemailerError) => {
        if (settled) return;
        settled = true;
        connection.close();
        reject(error);
      });
      connection.connect((error?: NodemailerError) => {
        if (settled) return;
        settled = true;
        if (error) {
          connection.close();
          reject(error);
          return;
        }
        // Later errors end the session: the transaction in progress reports them through send().
        connection.on('error', () => {});
        resolve(new RemoteSession(connection, host));
      });
    });
  }

  /**
   * Sends one message to some recipients. Resolves with each recipient's outcome; a failure of the
   * connection applies to all (and leaves the session unusable).
   */
  async send(sender: string, recipients: string[], size: number, message: Readable): Promise<TransactionOutcome> {
    const outcome: TransactionOutcome = new Map();
    const remoteMta = this.host.name;
    try {
      const info = await new Promise<{ accepted: string[]; rejectedErrors?: NodemailerError[]; response: string }>((resolve, reject) => {
        this.connection.send({ from: sender === '' ? false : sender, to: recipients, size, use8BitMime: true }, message, (error, result) => {
          if (error || !result) reject(error ?? new Error('no result'));
          else resolve(result);
        });
      });
      for (const rejected of info.rejectedErrors ?? []) if (rejected.recipient) outcome.set(rejected.recipient, failureOfError(rejected, remoteMta));
      for (const recipient of info.accepted) outcome.set(recipient, null);
    } catch (caught) {
      message.destroy();
      const error = caught as NodemailerError;
      for (const rejected of error.rejectedErrors ?? []) if (rejected.recipient) outcome.set(rejected.recipient, failureOfError(rejected, remoteMta));
      const failure = failureOfError(error, remoteMta);
      for (const recipient of recipients) if (!outcome.has(recipient)) outcome.set(recipient, failure);
      await this.reset();
    }
    for (const recipient of recipients) if (!outcome.has(recipient)) outcome.set(recipient, ourFailure(false, '4.0.0', `No reply for ${recipient}`));
    return outcome;
  }

  /** RSET after a failed transaction; a session that cannot reset is closed. */
  private async reset(): Promise<void> {
    if (!this.usable) return;
    await new Promise<void>((resolve) => {
      this.connection.reset((error) => {
        if (error) this.connection.close();
        resolve();
      });
    });
  }

  close(): void {
    if (this.usable) this.connection.quit();
    else this.connection.close();
  }
}
