/**
 * The Bayes step: the classifier's probability (../bayes.ts) as a symbol, BAYES_SPAM or BAYES_HAM, with
 * a score that grows with its confidence. Nothing while the data has too few messages of either class.
 */
import { type BayesResult, classify, MIN_TRAINED_PER_CLASS } from '../bayes.ts';
import type { Check, CheckResult, FilterSymbol } from '../types.ts';
import { type FilterContext, symbol } from './message.ts';

const SOURCE = 'bayes';

/**
 * Score at probability 1 (spam) and 0 (ham). Spam: proportional to the distance to 0.5 (p = 0.8 alone
 * reaches the default quarantine score of 6 with 0.5 point of the heuristics, tuned on the bench's
 * training half where no ham reached p = 0.6); ham: its square, so only a confident ham verdict takes
 * much off.
 */
export const BAYES_SPAM_MAX = 10;
export const BAYES_HAM_MAX = -4;
/** Probabilities within this distance of 0.5 say nothing. */
const UNSURE = 0.1;

export interface BayesMapping {
  spamMax?: number;
  unsure?: number;
}

export function bayesSymbol(result: BayesResult, mapping: BayesMapping = {}): FilterSymbol | null {
  const spamMax = mapping.spamMax ?? BAYES_SPAM_MAX;
  const unsure = mapping.unsure ?? UNSURE;
  const p = result.probability;
  const percent = `${Math.round(p * 1000) / 10} %`;
  if (p >= 0.5 + unsure) {
    const score = Math.round(spamMax * ((p - 0.5) / 0.5) * 100) / 100;
    return symbol(SOURCE, 'BAYES_SPAM', score, `Bayesian filter: ${percent} likely to be spam`, `Filtre bayésien : probabilité de spam ${percent}`);
  }
  if (p <= 0.5 - unsure) {
    const score = Math.round(BAYES_HAM_MAX * ((0.5 - p) / 0.5) ** 2 * 100) / 100;
    return symbol(SOURCE, 'BAYES_HAM', score, `Bayesian filter: ${percent} likely to be spam`, `Filtre bayésien : probabilité de spam ${percent}`);
  }
  return null;
}

export function bayesCheck(ctx: FilterContext, options: { minTrained?: number } = {}): Check {
  const minTrained = options.minTrained ?? MIN_TRAINED_PER_CLASS;
  return {
    name: SOURCE,
    async run(input): Promise<CheckResult> {
      const result = await classify(ctx, input, undefined, minTrained);
      const found = result ? bayesSymbol(result) : null;
      return { symbols: found ? [found] : [] };
    },
  };
}
