/**
 * Runs the checks of one message and sums their findings into a verdict. The checks are independent
 * and run concurrently (they share one decoded view of the message, see checks/message.ts); the
 * verdict keeps every symbol, the first malware found (in the order of the list), and the time taken.
 *
 * Fails safe (issue 5): when a check throws or `filter.timeBudgetMs` runs out, the verdict says
 * `failedSafe` with a FAILED_SAFE symbol, and the message is held rather than delivered unscanned.
 * Checks still running past the budget are left to finish on their own; their results are dropped.
 */
import { isAppError, text } from '../shared/errors.ts';
import { attachmentsCheck } from './checks/attachments.ts';
import { authCheck } from './checks/auth.ts';
import { bayesCheck } from './checks/bayes.ts';
import { dnsblCheck } from './checks/dnsbl.ts';
import { gtubeCheck } from './checks/gtube.ts';
import { heuristicsCheck } from './checks/heuristics.ts';
import type { FilterContext } from './checks/message.ts';
import type { Check, CheckResult, FilterInput, FilterSymbol, Malware, Verdict } from './types.ts';

export const FAILED_SAFE = 'FAILED_SAFE';

/** The built-in checks, in the order their malware findings take precedence. Build once per process: the DNS cache lives with the resolver. */
export function builtinChecks(ctx: FilterContext): Check[] {
  return [attachmentsCheck(ctx), gtubeCheck(), authCheck(), heuristicsCheck(ctx), dnsblCheck(ctx), bayesCheck(ctx)];
}

type Outcome = { check: Check; result: CheckResult } | { check: Check; error: unknown } | { check: Check; timedOut: true };

export async function runChecks(ctx: Pick<FilterContext, 'config' | 'log'>, input: FilterInput, checks: readonly Check[]): Promise<Verdict> {
  const started = performance.now();
  const budget = ctx.config.filter.timeBudgetMs;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), budget);
  });
  const outcomes: Array<Outcome | undefined> = new Array(checks.length);
  const running = checks.map((check, i) =>
    Promise.resolve()
      .then(() => check.run(input))
      .then(
        (result) => {
          outcomes[i] = { check, result };
        },
        (error: unknown) => {
          outcomes[i] = { check, error };
        },
      ),
  );
  const ended = await Promise.race([Promise.all(running).then(() => 'done' as const), expired]);
  clearTimeout(timer);

  const symbols: FilterSymbol[] = [];
  let malware: Malware | null = null;
  const failures: string[] = [];
  let failedReason: { en: string; fr: string } | null = null;
  for (const [i, check] of checks.entries()) {
    const outcome = outcomes[i] ?? { check, timedOut: true as const };
    if ('result' in outcome) {
      symbols.push(...outcome.result.symbols);
      malware ??= outcome.result.malware ?? null;
    } else if ('error' in outcome) {
      failures.push(check.name);
      failedReason ??= isAppError(outcome.error) ? outcome.error.text : null;
      ctx.log.warn({ event: 'filter.check_failed', check: check.name, err: outcome.error }, 'filter.check_failed');
    } else {
      failures.push(check.name);
    }
  }
  if (ended === 'expired') ctx.log.warn({ event: 'filter.time_budget_exceeded', budgetMs: budget, pending: failures }, 'filter.time_budget_exceeded');
  const failedSafe = failures.length > 0;
  if (failedSafe) {
    const reason =
      ended === 'expired'
        ? text(
            `The message could not be checked within ${budget} ms (${failures.join(', ')})`,
            `Le message n'a pas pu être vérifié en ${budget} ms (${failures.join(', ')})`,
          )
        : (failedReason ?? text(`A check failed (${failures.join(', ')})`, `Une vérification a échoué (${failures.join(', ')})`));
    symbols.push({ name: FAILED_SAFE, score: 0, reason, source: 'pipeline' });
  }
  const score = Math.round(symbols.reduce((sum, s) => sum + s.score, 0) * 100) / 100;
  return { score, symbols, malware, failedSafe, durationMs: performance.now() - started };
}
