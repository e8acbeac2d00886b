/**
 * The filter learns from what users do (issue 11, R-S4). Judgements arrive as rows of filter_lessons
 * (mailstore/judgements.ts: moves to and from Junk, $Junk / $NotJunk; reports through the API and the
 * CLI; releases from the quarantine), and `learnPending` turns them into Bayes counts:
 * - idempotent: a content judged twice the same way by the same account counts once;
 * - reversible: a content learnt as spam and then judged ham has its tokens taken back from the spam
 *   side and added to the ham side (the tokens counted are kept with the lesson, so this works after
 *   the message is gone, as `sa-learn --forget` and Rspamd's learn do with their own history);
 * - scoped: a user's judgement counts in their own scope (`user:<account>`) and their domain's; the
 *   global scope is the operator's (corpus import, `facteur filter train`). For a recipient who taught
 *   the filter, their own counts replace everyone's for the tokens they judged (see `personalVerdict`).
 * Learning runs right after the commit that recorded the judgement (`scheduleLearning`, set as
 * `ctx.mail.judged` by the service) and in the `filter.learn` job, which finishes what a crash left.
 */
import { sql } from 'kysely';
import type { AppContext } from '../context.ts';
import { readContent, recordJudgementsIn } from '../mailstore/index.ts';
import { extractMetadata } from '../mime/index.ts';
import { AppError, text } from '../shared/errors.ts';
import { addCounts, type BayesClass, classify, GLOBAL_SCOPE, MIN_TRAINED_PER_CLASS, messageTokens } from './bayes.ts';
import { bayesSymbol } from './checks/bayes.ts';
import type { FilterInput, Verdict } from './types.ts';

export const USER_SCOPE_PREFIX = 'user:';
export const userScope = (accountId: string) => `${USER_SCOPE_PREFIX}${accountId}`;

/** Lessons taken per round of the learner. */
const BATCH = 100;

/** The hashed tokens of a stored content, read again from the store. */
export async function storedTokens(ctx: AppContext, blobId: string): Promise<string[]> {
  const metadata = await extractMetadata(readContent(ctx, blobId));
  const input: FilterInput = {
    direction: 'inbound',
    content: () => readContent(ctx, blobId),
    size: 0,
    metadata,
    clientIp: '',
    helo: '',
    mailFrom: '',
    recipients: [],
    domainIds: [],
  };
  return messageTokens(input);
}

export interface LearnResult {
  learned: number;
  /** Of which moved from the other side (a judgement reversed). */
  reversed: number;
  /** Lessons dropped: their content or account was gone before they could be learnt. */
  dropped: number;
}

/** Learns the pending lessons, `BATCH` at a time, until none is left. */
export async function learnPending(ctx: AppContext): Promise<LearnResult> {
  const result: LearnResult = { learned: 0, reversed: 0, dropped: 0 };
  for (;;) {
    const rows = await ctx.db
      .selectFrom('filter_lessons')
      .innerJoin('accounts', 'accounts.id', 'filter_lessons.account_id')
      .select(['filter_lessons.account_id', 'filter_lessons.blob_id', 'filter_lessons.tokens', 'accounts.domain_id'])
      .where('filter_lessons.pending', '=', 1)
      .orderBy('filter_lessons.updated_at')
      .limit(BATCH)
      .execute();
    // Lessons of deleted accounts: nothing to learn for nobody.
    const orphans = await ctx.db
      .deleteFrom('filter_lessons')
      .where('pending', '=', 1)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('accounts').select('id').whereRef('accounts.id', '=', 'filter_lessons.account_id'))))
      .executeTakeFirst();
    result.dropped += Number(orphans.numDeletedRows);
    if (rows.length === 0) return result;
    for (const row of rows) {
      const outcome = await learnOne(ctx, row);
      if (outcome === 'dropped') result.dropped++;
      else if (outcome !== 'unchanged') {
        result.learned++;
        if (outcome === 'reversed') result.reversed++;
      }
    }
  }
}

async function learnOne(
  ctx: AppContext,
  row: { account_id: string; blob_id: string; tokens: string | null; domain_id: string },
): Promise<'learned' | 'reversed' | 'unchanged' | 'dropped'> {
  let tokens = row.tokens ? row.tokens.split(' ') : undefined;
  if (!tokens) {
    try {
      tokens = await storedTokens(ctx, row.blob_id);
    } catch (error) {
      // The message was deleted before it could be read: there is nothing left to learn from.
      ctx.log.info({ event: 'filter.lesson_dropped', account: row.account_id, err: error }, 'filter.lesson_dropped');
      await ctx.db
        .deleteFrom('filter_lessons')
        .where('account_id', '=', row.account_id)
        .where('blob_id', '=', row.blob_id)
        .where('learned', 'is', null)
        .execute();
      return 'dropped';
    }
  }
  const scopes = [userScope(row.account_id), row.domain_id];
  return ctx.db.transaction().execute(async (trx) => {
    // Touching the row takes its lock on PostgreSQL (SQLite's transaction is exclusive already): a
    // judgement arriving meanwhile waits, then finds the counts matching what this one wrote.
    const current = await trx
      .updateTable('filter_lessons')
      .set((eb) => ({ updated_at: eb.ref('updated_at') }))
      .where('account_id', '=', row.account_id)
      .where('blob_id', '=', row.blob_id)
      .returningAll()
      .executeTakeFirst();
    if (!current || current.pending !== 1) return 'unchanged';
    let outcome: 'learned' | 'reversed' = 'learned';
    if (current.learned && current.scopes && current.tokens) {
      await addCounts(trx, current.tokens.split(' '), current.learned, JSON.parse(current.scopes) as string[], -1);
      outcome = 'reversed';
    }
    const learnt = current.tokens ? current.tokens.split(' ') : (tokens as string[]);
    await addCounts(trx, learnt, current.wanted, scopes, 1);
    await trx
      .updateTable('filter_lessons')
      .set({ learned: current.wanted, scopes: JSON.stringify(scopes), tokens: learnt.join(' '), pending: 0 })
      .where('account_id', '=', row.account_id)
      .where('blob_id', '=', row.blob_id)
      .execute();
    ctx.log.info(
      { event: 'filter.learned', account: row.account_id, as: current.wanted, source: current.source, reversed: outcome === 'reversed' },
      'filter.learned',
    );
    return outcome;
  });
}

const running = new WeakMap<AppContext, Promise<void>>();
const again = new WeakSet<AppContext>();

/** Learns the pending lessons soon, in the background; calls while it runs make it go round once more. */
export function scheduleLearning(ctx: AppContext): void {
  if (running.has(ctx)) {
    again.add(ctx);
    return;
  }
  const run = (async () => {
    do {
      again.delete(ctx);
      await learnPending(ctx).catch((error) => ctx.log.warn({ event: 'filter.learn_failed', err: error }, 'filter.learn_failed'));
    } while (again.has(ctx));
  })().finally(() => running.delete(ctx));
  running.set(ctx, run);
}

/** Waits until the background learner is idle (tests, and `close`). */
export async function learningSettled(ctx: AppContext): Promise<void> {
  while (running.has(ctx)) await running.get(ctx);
}

/**
 * A recipient who taught the filter gets the Bayes verdict of their own judgements: the message is
 * classified again with, for every token the user judged, the user's own counts in place of
 * everyone's (`classify`'s `personal` scope), and that symbol replaces the shared one. Recipients who
 * taught nothing keep the verdict as it is.
 */
export async function personalVerdict<V extends Pick<Verdict, 'score' | 'symbols'>>(
  ctx: AppContext,
  input: FilterInput,
  verdict: V,
  recipient: { accountId: string; domainId: string },
): Promise<V> {
  const own = userScope(recipient.accountId);
  const taught = await ctx.db.selectFrom('bayes_totals').select('scope').where('scope', '=', own).where(sql<boolean>`spam + ham > 0`).executeTakeFirst();
  if (!taught) return verdict;
  const result = await classify(ctx, input, [GLOBAL_SCOPE, recipient.domainId], MIN_TRAINED_PER_CLASS, own);
  const shared = verdict.symbols.find((s) => s.source === 'bayes');
  const mine = result ? bayesSymbol(result) : null;
  const symbols = verdict.symbols.filter((s) => s.source !== 'bayes');
  if (mine) symbols.push(mine);
  const score = Math.round((verdict.score - (shared?.score ?? 0) + (mine?.score ?? 0)) * 100) / 100;
  return { ...verdict, symbols, score };
}

/** A message of an account, as the API and the CLI name it (the mailstore's message id). */
export interface ReportTarget {
  accountId: string;
  messageId: string;
}

/**
 * "Report as spam" / "not spam" (API and CLI): the account's judgement of one of its messages,
 * learnt before this returns. `scope`: the caller's customer (null for the operator).
 */
export async function reportMessage(ctx: AppContext, scope: string | null, target: ReportTarget, as: BayesClass, source: string): Promise<{ as: BayesClass }> {
  let query = ctx.db
    .selectFrom('messages')
    .select(['customer_id', 'account_id', 'blob_id'])
    .where('id', '=', target.messageId)
    .where('account_id', '=', target.accountId);
  if (scope !== null) query = query.where('customer_id', '=', scope);
  const message = await query.executeTakeFirst();
  if (!message) throw new AppError('not-found', 'message-not-found', text('No such message', 'Ce message n’existe pas'));
  await ctx.db
    .transaction()
    .execute((trx) =>
      recordJudgementsIn(trx, [{ customerId: message.customer_id, accountId: message.account_id, blobId: message.blob_id }], as, source, ctx.clock.now()),
    );
  await learnPending(ctx);
  return { as };
}
