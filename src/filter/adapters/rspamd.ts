/**
 * The Rspamd adapter (issue 5): a check that sends the message to an Rspamd normal worker
 * (`POST /checkv2`) and turns its answer into symbols shown like the built-in ones (source `rspamd`).
 *
 * - The envelope goes in Rspamd's request headers: `IP`, `Helo`, `From`, one `Rcpt` line per recipient,
 *   and `User` for outbound mail (Rspamd then treats it as authenticated: no SPF/RBL checks of our own
 *   submission clients). Rspamd's protocol wants one `Rcpt` line per recipient; Node's fetch cannot
 *   send a header twice (it joins the values with ", ", which Rspamd 3.4 happens to split again, but a
 *   quoted local part may hold a comma), so this speaks HTTP/1.1 with node:http. The body is streamed
 *   from `FilterInput.content()` with chunked encoding (no copy of the message in memory).
 * - Rspamd's score scale is the same as ours (its defaults: add header at 6, reject at 15), so symbols keep
 *   their scores. When Rspamd's total is not the sum of its symbols (group limits), a
 *   `RSPAMD_SCORE_ADJUSTMENT` symbol carries the difference, so the verdict's sum equals Rspamd's score.
 * - A pre-result (e.g. GTUBE: Rspamd stops at once with action `reject`, the GTUBE symbol at score 0)
 *   becomes a `RSPAMD_FORCED_REJECT` symbol of score 1000, far above any threshold; other forced actions
 *   keep Rspamd's total through the adjustment symbol.
 * - Errors, non-200 answers, unreadable JSON and timeouts throw: failing safe (holding the message) is
 *   the pipeline's job.
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, type Text, text } from '../../shared/errors.ts';
import type { Check, CheckResult, FilterInput, FilterSymbol } from '../types.ts';

export interface RspamdOptions {
  /** Base URL of the normal worker, e.g. `http://127.0.0.1:11333` (the `rspamdUrl` setting). */
  url: string;
  /** Longest one check may take (connect, upload, scan, answer). */
  timeoutMs?: number;
  /** Sent as `Queue-Id` (Rspamd's logs), when the caller has one. */
  queueId?: (input: FilterInput) => string | undefined;
}

/** Score of a reject that Rspamd forces before scoring (GTUBE, a block list in settings…). */
export const RSPAMD_FORCED_REJECT_SCORE = 1000;
const DEFAULT_TIMEOUT_MS = 10_000;
/** Rspamd's own answer is small; a larger one is not Rspamd. */
const MAX_REPLY_BYTES = 4 * 1024 * 1024;
/** Options (matched URLs, domains…) shown in a reason, at most. */
const MAX_OPTIONS = 5;

/** The JSON of `/checkv2` (Rspamd 3.x), the parts read here. */
interface RspamdReply {
  is_skipped?: boolean;
  score?: number;
  required_score?: number;
  action?: string;
  symbols?: Record<string, { name?: string; score?: number; description?: string; options?: string[] }>;
  messages?: { smtp_message?: string } & Record<string, unknown>;
  error?: string;
}

/** French reasons of the symbols users meet most; the others show Rspamd's (English) description. */
const FRENCH: Record<string, string> = {
  GTUBE: 'Chaîne de test anti-spam GTUBE',
  BAYES_SPAM: 'Le classifieur bayésien le juge indésirable',
  BAYES_HAM: 'Le classifieur bayésien le juge légitime',
  R_SPF_ALLOW: "SPF : l'expéditeur est autorisé",
  R_SPF_FAIL: "SPF : l'expéditeur n'est pas autorisé",
  R_SPF_SOFTFAIL: "SPF : l'expéditeur n'est probablement pas autorisé",
  R_SPF_NA: 'Pas de politique SPF',
  R_DKIM_ALLOW: 'Signature DKIM valide',
  R_DKIM_REJECT: 'Signature DKIM invalide',
  R_DKIM_NA: 'Pas de signature DKIM',
  DMARC_POLICY_ALLOW: 'DMARC vérifié',
  DMARC_POLICY_REJECT: 'Échec DMARC, politique « reject »',
  DMARC_POLICY_QUARANTINE: 'Échec DMARC, politique « quarantine »',
  DMARC_POLICY_SOFTFAIL: 'Échec DMARC, politique « none »',
  ARC_NA: 'Pas de signature ARC',
  MISSING_DATE: "Pas d'en-tête Date",
  MISSING_MID: "Pas d'en-tête Message-ID",
  MISSING_SUBJECT: "Pas d'en-tête Subject",
  MISSING_TO: "Pas d'en-tête To",
  DATE_IN_PAST: 'Date du message dans le passé',
  DATE_IN_FUTURE: 'Date du message dans le futur',
  RDNS_NONE: "Pas de nom d'hôte inverse pour l'adresse IP de l'expéditeur",
  HFILTER_HOSTNAME_UNKNOWN: 'Nom du client inconnu (PTR absent ou incohérent)',
  FORGED_SENDER: "L'expéditeur de l'enveloppe diffère de l'en-tête From",
  MIME_GOOD: 'Type de contenu connu',
  MIME_HTML_ONLY: 'Message en HTML seulement',
  ONCE_RECEIVED: 'Un seul en-tête Received',
  SUBJ_ALL_CAPS: 'Objet tout en majuscules',
  FREEMAIL_FROM: 'Expéditeur chez un fournisseur de messagerie gratuite',
  R_SUSPICIOUS_URL: 'Lien suspect',
  PHISHING: 'Hameçonnage : le lien affiché ne mène pas où il le prétend',
};

function symbolReason(name: string, description: string | undefined, options: string[] | undefined): Text {
  const shown = (options ?? []).slice(0, MAX_OPTIONS).map((option) => String(option).slice(0, 200));
  const more = (options?.length ?? 0) > MAX_OPTIONS ? ', …' : '';
  const details = shown.length ? ` (${shown.join(', ')}${more})` : '';
  const en = (description?.trim() || `Rspamd rule ${name}`) + details;
  const fr = FRENCH[name] ? FRENCH[name] + details : description?.trim() ? en : `Règle Rspamd ${name}${details}`;
  return text(en, fr);
}

/** Turns Rspamd's answer into symbols (exported for unit tests of the mapping). */
export function rspamdSymbols(reply: RspamdReply): FilterSymbol[] {
  const symbols: FilterSymbol[] = [];
  let sum = 0;
  for (const [key, symbol] of Object.entries(reply.symbols ?? {})) {
    const name = symbol.name || key;
    const score = Number.isFinite(symbol.score) ? Number(symbol.score) : 0;
    sum += score;
    symbols.push({ name, score, reason: symbolReason(name, symbol.description, symbol.options), source: 'rspamd' });
  }
  const total = Number.isFinite(reply.score) ? Number(reply.score) : sum;
  const action = reply.action ?? 'no action';
  const message = typeof reply.messages?.smtp_message === 'string' ? reply.messages.smtp_message.slice(0, 300) : '';
  const named = symbols.map((symbol) => symbol.name).join(', ');
  const because = message || named;
  if (reply.is_skipped && action === 'reject') {
    symbols.push({
      name: 'RSPAMD_FORCED_REJECT',
      score: RSPAMD_FORCED_REJECT_SCORE,
      reason: text(`Rspamd refused it at once${because ? `: ${because}` : ''}`, `Rspamd l'a refusé d'emblée${because ? ` : ${because}` : ''}`),
      source: 'rspamd',
    });
  } else if (Math.abs(total - sum) > 0.001) {
    const difference = Math.round((total - sum) * 1000) / 1000;
    symbols.push({
      name: 'RSPAMD_SCORE_ADJUSTMENT',
      score: difference,
      reason: reply.is_skipped
        ? text(`Rspamd decided "${action}" at once${because ? `: ${because}` : ''}`, `Rspamd a décidé « ${action} » d'emblée${because ? ` : ${because}` : ''}`)
        : text(
            "Rspamd's total score differs from the sum of its rules (group limits)",
            'Le score total de Rspamd diffère de la somme de ses règles (plafonds de groupe)',
          ),
      source: 'rspamd',
    });
  }
  return symbols;
}

function failure(en: string, fr: string, cause?: unknown): AppError {
  return new AppError('temp', 'rspamd-failed', text(`Rspamd check failed: ${en}`, `L'analyse Rspamd a échoué : ${fr}`), { cause });
}

export function createRspamdCheck(options: RspamdOptions): Check {
  const endpoint = new URL('checkv2', options.url.endsWith('/') ? options.url : `${options.url}/`);
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') throw new Error(`rspamdUrl must be http(s): ${options.url}`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const transport = endpoint.protocol === 'https:' ? https : http;

  async function run(input: FilterInput): Promise<CheckResult> {
    const headers: Record<string, string | string[]> = { 'Content-Type': 'message/rfc822' };
    if (input.clientIp) headers['IP'] = input.clientIp;
    if (input.helo) headers['Helo'] = oneLine(input.helo);
    if (input.mailFrom) headers['From'] = oneLine(input.mailFrom);
    if (input.recipients.length) headers['Rcpt'] = input.recipients.map(oneLine);
    if (input.direction === 'outbound') headers['User'] = oneLine(input.mailFrom || 'submission');
    const queueId = options.queueId?.(input);
    if (queueId) headers['Queue-Id'] = oneLine(queueId);

    const signal = AbortSignal.timeout(timeoutMs);
    const request = transport.request(endpoint, { method: 'POST', headers, signal });
    const answer = new Promise<http.IncomingMessage>((resolve, reject) => {
      request.once('response', resolve);
      request.once('error', reject);
    });
    answer.catch(() => {}); // read below; the upload may fail first
    try {
      await pipeline(Readable.from(input.content()), request);
      const response = await answer;
      const body = await readReply(response);
      if (response.statusCode !== 200) {
        throw failure(`HTTP ${response.statusCode} ${body.slice(0, 200)}`, `HTTP ${response.statusCode} ${body.slice(0, 200)}`);
      }
      let reply: RspamdReply;
      try {
        reply = JSON.parse(body) as RspamdReply;
      } catch (error) {
        throw failure('its answer is not JSON', "sa réponse n'est pas du JSON", error);
      }
      if (reply.error) throw failure(reply.error, reply.error);
      if (typeof reply.score !== 'number' || typeof reply.symbols !== 'object') throw failure('its answer has no score', "sa réponse n'a pas de score");
      return { symbols: rspamdSymbols(reply) };
    } catch (error) {
      request.destroy();
      if (error instanceof AppError) throw error;
      if (signal.aborted) throw failure(`no answer within ${timeoutMs} ms`, `pas de réponse en ${timeoutMs} ms`, error);
      const message = error instanceof Error ? error.message : String(error);
      throw failure(message, message, error);
    }
  }

  return { name: 'rspamd', run };
}

function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ');
}

async function readReply(response: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > MAX_REPLY_BYTES) throw failure('its answer is too large', 'sa réponse est trop grande');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
