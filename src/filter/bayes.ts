/**
 * The Bayesian classifier of the built-in filter (issue 5): Robinson's token probabilities combined with
 * Fisher's chi-square method, as SpamBayes does (s = 1, up to 300 clues: tuned on the bench's training half). Token counts live in the database (`bayes_tokens`,
 * `bayes_totals`) so every node shares them, per scope: 'global' (an operator's corpus) and one per
 * domain id (its users' release and report actions). A message is classified on the sum of the global
 * counts and those of its domains.
 *
 * Tokens are hashed (53 bits, base 36) before they are stored: the table holds no words of anyone's mail.
 * Reads cost one query per message (its tokens, chunked past `READ_CHUNK`) plus one for the totals.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../store/index.ts';
import { extensionOf } from './checks/malware.ts';
import { domainOfAddress, type FilterContext, headerValue, type MessageView, readMessage, registeredDomain, urlHosts } from './checks/message.ts';
import type { FilterInput } from './types.ts';

export type BayesClass = 'spam' | 'ham';

export const GLOBAL_SCOPE = 'global';

/** Messages of each class a scope set must have learnt before Bayes says anything. */
export const MIN_TRAINED_PER_CLASS = 50;

/** Distinct tokens of one message used (its first ones): bounds the query and the work. */
export const MAX_TOKENS = 1500;

/** Characters of text tokenized per message. */
export const MAX_TOKENIZED_CHARS = 100_000;

/** Characters of text whose adjacent word pairs are tokens too. */
export const MAX_BIGRAM_CHARS = 20_000;

/** Word lengths kept as themselves; longer words become a `skip:` token (SpamBayes's choice). */
export const MIN_WORD = 3;
export const MAX_WORD = 20;

/** Header field names and Received fields turned into tokens. */
const MAX_HEADER_NAMES = 60;
const MAX_RECEIVED = 5;
const HOST_OR_IP = /\b(?:\d{1,3}\.){3}\d{1,3}\b|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b/g;

const HTML_TAG = /<([a-z][a-z0-9]{0,15})\b([^>]{0,500})>/gi;
const HTML_ATTRIBUTE = /([a-z-]{1,20})\s*=\s*["']?([^"'\s>]{0,40})/g;

/** Tokens per IN list. */
export const READ_CHUNK = 1000;
/** Rows per multi-row upsert (4 parameters each). */
const WRITE_CHUNK = 200;

/** SpamBayes defaults: strength and probability of a word never seen, clues kept, clue strength. */
const UNKNOWN_WORD_STRENGTH = 1;
const UNKNOWN_WORD_PROB = 0.5;
const MAX_DISCRIMINATORS = 300;
const MIN_PROB_STRENGTH = 0.1;

const WORD = /[\p{L}\p{N}$€£][\p{L}\p{N}$€£'’_-]*/gu;

/** The tokens of a message: words of the subject and text, and a few header and structure features. */
export function tokenize(view: MessageView, input: Pick<FilterInput, 'metadata'>): string[] {
  const tokens = new Set<string>();
  const add = (token: string) => {
    if (tokens.size < MAX_TOKENS) tokens.add(token);
  };
  const words = (prefix: string, value: string) => {
    for (const match of value.toLowerCase().matchAll(WORD)) {
      const word = match[0].replace(/['’_-]+$/, '');
      if (word.length < MIN_WORD) continue;
      if (word.length > MAX_WORD) add(`${prefix}skip:${word[0]}${Math.floor(word.length / 10) * 10}`);
      else add(prefix + word);
    }
  };

  words('s:', input.metadata.summary.subject);
  // Subject word pairs, money or exclamation marks in it, and whether it is a reply.
  {
    let previous = '';
    for (const match of input.metadata.summary.subject.toLowerCase().matchAll(WORD)) {
      const word = match[0];
      if (previous) add(`sbi:${previous} ${word}`);
      previous = word;
    }
    const subject = input.metadata.summary.subject;
    if (/\$|\d{2,}%|!/.test(subject)) add('s:punct');
    if (/^\s*(re|fwd?):/i.test(subject)) add('s:reply');
  }
  const from = headerValue(view, 'from');
  const fromDomain = domainOfAddress(from);
  if (fromDomain) {
    add(`from:${fromDomain}`);
    add(`from:${registeredDomain(fromDomain)}`);
  } else add('from:none');
  const fromName = from.includes('<') ? from.slice(0, from.lastIndexOf('<')) : '';
  words('fn:', fromName);
  const replyTo = domainOfAddress(headerValue(view, 'reply-to'));
  if (replyTo) add(replyTo === fromDomain ? 'rt:same' : `rt:${registeredDomain(replyTo)}`);
  const messageId = /@([^>\s]+)/.exec(view.headers['message-id']?.[0] ?? '');
  add(messageId ? `mid:${registeredDomain((messageId[1] as string).toLowerCase())}` : 'mid:none');
  const mailer = (view.headers['x-mailer']?.[0] ?? view.headers['user-agent']?.[0] ?? '').toLowerCase().split(/[\s/;(]/, 1)[0];
  if (mailer) add(`mailer:${mailer.slice(0, 30)}`);
  const fromAddress = /[^\s<>"]+@[^\s<>"]+/.exec(from)?.[0]?.toLowerCase();
  if (fromAddress) add(`fa:${fromAddress.slice(0, 60)}`);
  // Which header fields a message has says much about the program that wrote it.
  for (const name of Object.keys(view.headers).slice(0, MAX_HEADER_NAMES)) add(`hn:${name.slice(0, 40)}`);
  for (const received of (view.headers.received ?? []).slice(0, MAX_RECEIVED)) {
    for (const host of received.toLowerCase().match(HOST_OR_IP) ?? []) {
      add(/^\d/.test(host) ? `rip:${host.split('.').slice(0, 2).join('.')}` : `rcvd:${registeredDomain(host)}`);
    }
  }
  for (const name of ['to', 'cc']) {
    for (const domain of (view.headers[name]?.[0] ?? '')
      .toLowerCase()
      .match(/@[a-z0-9.-]+/g)
      ?.slice(0, 10) ?? [])
      add(`${name}:${domain.slice(1)}`);
  }
  const structure = input.metadata.bodyStructure;
  add(`ct:${structure.type}/${structure.subtype}`.toLowerCase());
  for (const leaf of view.leaves) {
    if (leaf.charset) add(`charset:${leaf.charset.toLowerCase()}`);
    add(`part:${leaf.mime}/${leaf.encoding}`);
    const extension = extensionOf(leaf.filename);
    if (extension) add(`att:${extension}`);
  }
  for (const host of urlHosts(view, 50)) {
    add(`url:${registeredDomain(host)}`);
  }
  // HTML markup: which tags, attributes and colours a message uses is a mark of the program that wrote it.
  for (const part of view.texts) {
    if (part.subtype !== 'html') continue;
    const markup = part.raw.slice(0, MAX_TOKENIZED_CHARS);
    for (const tag of markup.matchAll(HTML_TAG)) {
      const name = (tag[1] as string).toLowerCase();
      add(`tag:${name}`);
      for (const attribute of (tag[2] ?? '').toLowerCase().matchAll(HTML_ATTRIBUTE)) {
        add(`attr:${name}.${attribute[1]}`);
        const value = attribute[2] ?? '';
        if (/^#?[0-9a-f]{6}$|^#[0-9a-f]{3}$/.test(value)) add(`color:${value.replace('#', '')}`);
      }
      if (tokens.size >= MAX_TOKENS) break;
    }
  }
  let budget = MAX_TOKENIZED_CHARS;
  for (const part of view.texts) {
    if (budget <= 0) break;
    const chunk = part.text.slice(0, budget);
    budget -= chunk.length;
    words('', chunk);
  }
  // Pairs of adjacent words of the text's start: phrases say more than their words (chain letters, list spam).
  {
    let bigramBudget = MAX_BIGRAM_CHARS;
    let previous = '';
    for (const part of view.texts) {
      if (bigramBudget <= 0) break;
      const chunk = part.text.slice(0, bigramBudget);
      bigramBudget -= chunk.length;
      for (const match of chunk.toLowerCase().matchAll(WORD)) {
        const word = match[0].replace(/['’_-]+$/, '');
        if (word.length < MIN_WORD || word.length > MAX_WORD) continue;
        if (previous) add(`bi:${previous} ${word}`);
        previous = word;
        if (tokens.size >= MAX_TOKENS) break;
      }
    }
  }
  return [...tokens];
}

/** A 53-bit hash of a token (cyrb53), in base 36: short keys, and no words of mail stored. */
export function hashToken(token: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

/** The hashed tokens of a message, each once, sorted (the order writers take rows in). */
export async function messageTokens(message: FilterInput): Promise<string[]> {
  const view = await readMessage(message);
  return [...new Set(tokenize(view, message).map(hashToken))].sort();
}

/**
 * Learns a message as spam or ham in each of `scopes` ('global', domain ids, `user:<account>`). Counts
 * are added with upserts, in one transaction.
 */
export async function train(ctx: Pick<FilterContext, 'db'>, message: FilterInput, as: BayesClass, scopes: readonly string[]): Promise<void> {
  const tokens = await messageTokens(message);
  await ctx.db.transaction().execute((trx) => addCounts(trx, tokens, as, scopes, 1));
}

/**
 * Adds (`sign` 1) or takes back (`sign` -1) one message of class `as` with these tokens in each scope.
 * Tokens are written in sorted order so concurrent trainers do not deadlock.
 */
export async function addCounts(
  trx: Transaction<Database>,
  tokenList: readonly string[],
  as: BayesClass,
  scopes: readonly string[],
  sign: 1 | -1,
): Promise<void> {
  const tokens = [...tokenList].sort();
  const spam = as === 'spam' ? sign : 0;
  const ham = as === 'ham' ? sign : 0;
  for (const scope of [...new Set(scopes)].sort()) {
    for (let i = 0; i < tokens.length; i += WRITE_CHUNK) {
      const rows = tokens.slice(i, i + WRITE_CHUNK).map((token) => ({ scope, token, spam, ham }));
      await trx
        .insertInto('bayes_tokens')
        .values(rows)
        .onConflict((oc) =>
          oc.columns(['scope', 'token']).doUpdateSet((eb) => ({
            spam: eb('bayes_tokens.spam', '+', eb.ref('excluded.spam')),
            ham: eb('bayes_tokens.ham', '+', eb.ref('excluded.ham')),
          })),
        )
        .execute();
    }
    await trx
      .insertInto('bayes_totals')
      .values({ scope, spam, ham })
      .onConflict((oc) => oc.column('scope').doUpdateSet((eb) => ({ spam: eb('bayes_totals.spam', '+', spam), ham: eb('bayes_totals.ham', '+', ham) })))
      .execute();
  }
}

export interface BayesResult {
  /** 0 (ham) … 1 (spam). */
  probability: number;
  /** Tokens that weighed in the verdict. */
  clues: number;
}

/** The message's spam probability, or null while the scopes have learnt too few messages of either class. */
export async function classify(
  ctx: Pick<FilterContext, 'db'>,
  message: FilterInput,
  scopes: readonly string[] = [GLOBAL_SCOPE, ...message.domainIds],
  minTrained = MIN_TRAINED_PER_CLASS,
  /**
   * A scope of the recipient's own judgements (`user:<account>`): for a token it has counts of, those
   * counts (against its own totals) replace everyone's: a user's own judgement weighs most for them.
   */
  personal?: string,
): Promise<BayesResult | null> {
  const scopeList = [...new Set(scopes)].filter((scope) => scope !== personal);
  const [totals, tokens] = await Promise.all([readTotals(ctx.db, scopeList), messageTokens(message)]);
  if (totals.spam < minTrained || totals.ham < minTrained) return null;
  const counts = await readCounts(ctx.db, scopeList, tokens);
  if (!personal) return combine(counts, totals);
  const [own, ownCounts] = await Promise.all([readTotals(ctx.db, [personal]), readTokenCounts(ctx.db, personal, tokens)]);
  const shared = counts.filter((count) => !ownCounts.has(count.token));
  return combine([...shared, ...[...ownCounts.values()].map((count) => ({ ...count, totals: own }))], totals);
}

async function readTotals(db: Kysely<Database>, scopes: string[]): Promise<{ spam: number; ham: number }> {
  const rows = await db.selectFrom('bayes_totals').select(['spam', 'ham']).where('scope', 'in', scopes).execute();
  return rows.reduce((sum, row) => ({ spam: sum.spam + Number(row.spam), ham: sum.ham + Number(row.ham) }), { spam: 0, ham: 0 });
}

/** One scope's counts of the tokens it has (a count taken back to zero says nothing). */
async function readTokenCounts(db: Kysely<Database>, scope: string, tokens: string[]): Promise<Map<string, TokenCount>> {
  const out = new Map<string, TokenCount>();
  for (let i = 0; i < tokens.length; i += READ_CHUNK) {
    const rows = await db
      .selectFrom('bayes_tokens')
      .select(['token', 'spam', 'ham'])
      .where('scope', '=', scope)
      .where('token', 'in', tokens.slice(i, i + READ_CHUNK))
      .execute();
    for (const row of rows) if (Number(row.spam) + Number(row.ham) > 0) out.set(row.token, { token: row.token, spam: Number(row.spam), ham: Number(row.ham) });
  }
  return out;
}

interface TokenCount {
  token: string;
  spam: number;
  ham: number;
  /** The totals these counts are out of, when not the message's shared totals. */
  totals?: { spam: number; ham: number };
}

async function readCounts(db: Kysely<Database>, scopes: string[], tokens: string[]): Promise<TokenCount[]> {
  const out: TokenCount[] = [];
  for (let i = 0; i < tokens.length; i += READ_CHUNK) {
    const chunk = tokens.slice(i, i + READ_CHUNK);
    const rows =
      scopes.length === 1
        ? await db
            .selectFrom('bayes_tokens')
            .select(['token', 'spam', 'ham'])
            .where('scope', '=', scopes[0] as string)
            .where('token', 'in', chunk)
            .execute()
        : await db
            .selectFrom('bayes_tokens')
            .select((eb) => ['token', eb.fn.sum<number>('spam').as('spam'), eb.fn.sum<number>('ham').as('ham')])
            .where('scope', 'in', scopes)
            .where('token', 'in', chunk)
            .groupBy('token')
            .execute();
    for (const row of rows) out.push({ token: row.token, spam: Number(row.spam), ham: Number(row.ham) });
  }
  return out;
}

/** Robinson's f(w) per token, the strongest clues, Fisher's chi-square combining (SpamBayes's chi2_spamprob). */
export interface CombineOptions {
  /** Robinson's s (strength of the prior) and x (probability of a word never seen). */
  s?: number;
  x?: number;
  maxDiscriminators?: number;
  minProbStrength?: number;
}

export function combine(
  counts: ReadonlyArray<{ spam: number; ham: number; totals?: { spam: number; ham: number } }>,
  sharedTotals: { spam: number; ham: number },
  options: CombineOptions = {},
): BayesResult {
  const S = options.s ?? UNKNOWN_WORD_STRENGTH;
  const X = options.x ?? UNKNOWN_WORD_PROB;
  const maxDiscriminators = options.maxDiscriminators ?? MAX_DISCRIMINATORS;
  const minProbStrength = options.minProbStrength ?? MIN_PROB_STRENGTH;
  const clues: number[] = [];
  for (const { spam, ham, totals = sharedTotals } of counts) {
    const spamRatio = spam / Math.max(1, totals.spam);
    const hamRatio = ham / Math.max(1, totals.ham);
    if (spamRatio + hamRatio === 0) continue;
    const prob = spamRatio / (spamRatio + hamRatio);
    // Counts as if both classes had learnt as many messages, so the smaller class's evidence weighs as much.
    const larger = Math.max(totals.spam, totals.ham, 1);
    const n = spamRatio * larger + hamRatio * larger;
    const f = (S * X + n * prob) / (S + n);
    if (Math.abs(f - 0.5) >= minProbStrength) clues.push(f);
  }
  clues.sort((a, b) => Math.abs(b - 0.5) - Math.abs(a - 0.5));
  const used = clues.slice(0, maxDiscriminators);
  if (used.length === 0) return { probability: 0.5, clues: 0 };
  let lnSpam = 0;
  let lnHam = 0;
  for (const f of used) {
    const p = Math.min(0.99, Math.max(0.01, f));
    lnHam += Math.log(p);
    lnSpam += Math.log(1 - p);
  }
  const s = 1 - chi2Q(-2 * lnSpam, 2 * used.length);
  const h = 1 - chi2Q(-2 * lnHam, 2 * used.length);
  return { probability: (s - h + 1) / 2, clues: used.length };
}

/** P(chi-square with `v` (even) degrees of freedom >= x2). */
function chi2Q(x2: number, v: number): number {
  const m = x2 / 2;
  let term = Math.exp(-m);
  let sum = term;
  for (let i = 1; i < v / 2; i++) {
    term *= m / i;
    sum += term;
  }
  return Math.min(sum, 1);
}
