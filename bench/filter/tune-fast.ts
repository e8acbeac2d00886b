/**
 * Fast tuning aid (TRAINING half only, like tune.ts): two-fold cross-validation inside the training half,
 * Bayes counted in memory, so tokenizer and combining variants are compared in seconds. The other checks'
 * score (untrained) is computed once per message and added to the Bayes symbol's score.
 *
 *   node --import tsx bench/filter/tune-fast.ts
 */
import path from 'node:path';
import { type CombineOptions, combine, tokenize } from '../../src/filter/bayes.ts';
import { type BayesMapping, bayesSymbol } from '../../src/filter/checks/bayes.ts';
import { messageInput, readMessage } from '../../src/filter/checks/message.ts';
import { runChecks } from '../../src/filter/pipeline.ts';
import { tuningSplit } from './corpus.ts';
import { benchPipeline } from './pipeline.ts';

const { spamA: sA, spamB: sB, hamA: hA, hamB: hB } = tuningSplit();

const { ctx, checks, clock, config, close } = await benchPipeline();
const threshold = config.filter.quarantineScore;

interface Item {
  file: string;
  kind: 'spam' | 'ham';
  fold: 0 | 1;
  base: number;
  tokens: string[];
}
const items: Item[] = [];
let tokenMs = 0;
for (const [fold, list] of [
  [0, [...sA, ...hA]],
  [1, [...sB, ...hB]],
] as const) {
  for (const s of list) {
    clock.set(s.receivedAt);
    const input = await messageInput(s.raw, { domainIds: ['bench-domain'] });
    const verdict = await runChecks(ctx, input, checks); // untrained: no Bayes symbol
    const started = performance.now();
    const tokens = tokenize(await readMessage(input), input);
    tokenMs += performance.now() - started;
    items.push({ file: path.basename(s.file), kind: s.kind, fold, base: verdict.score, tokens });
  }
}
await close();

function evaluate(options: CombineOptions = {}, verbose = false, mapping: BayesMapping = {}) {
  const hamP = [0, 0, 0, 0];
  let spamHeld = 0;
  let hamHeld = 0;
  let hamNear = 0;
  let nSpam = 0;
  let nHam = 0;
  const missed: string[] = [];
  for (const testFold of [0, 1] as const) {
    const counts = new Map<string, { spam: number; ham: number }>();
    const totals = { spam: 0, ham: 0 };
    for (const item of items) {
      if (item.fold === testFold) continue;
      totals[item.kind]++;
      for (const t of item.tokens) {
        const c = counts.get(t) ?? { spam: 0, ham: 0 };
        c[item.kind]++;
        counts.set(t, c);
      }
    }
    for (const item of items) {
      if (item.fold !== testFold) continue;
      const found = item.tokens.map((t) => counts.get(t)).filter((c) => c !== undefined);
      const result = combine(found, totals, options);
      const score = item.base + (bayesSymbol(result, mapping)?.score ?? 0);
      if (item.kind === 'spam') {
        nSpam++;
        if (score >= threshold) spamHeld++;
        else missed.push(`${item.file} base=${item.base.toFixed(1)} p=${result.probability.toFixed(3)}`);
      } else {
        nHam++;
        for (const [i, limit] of [0.6, 0.7, 0.8, 0.9].entries()) if (result.probability >= limit) hamP[i] = (hamP[i] ?? 0) + 1;
        if (score >= threshold) hamHeld++;
        if (score >= threshold - 2) hamNear++;
      }
    }
  }
  const line = `spam held ${((100 * spamHeld) / nSpam).toFixed(2)} % (${spamHeld}/${nSpam}), ham held ${((100 * hamHeld) / nHam).toFixed(2)} % (${hamHeld}/${nHam}), ham within 2 pts ${hamNear}, ham p>=.6/.7/.8/.9 ${hamP.join('/')}`;
  if (verbose) for (const m of missed) console.log(`  missed ${m}`);
  return line;
}

console.log(`tokenize: ${(tokenMs / items.length).toFixed(3)} ms/message`);
console.log(`default: ${evaluate({}, process.env.VERBOSE === '1')}`);
if (process.env.MAP === '1') {
  for (const spamMax of [8, 9, 10, 12])
    for (const unsure of [0.05, 0.1, 0.2]) console.log(`spamMax=${spamMax} unsure=${unsure}: ${evaluate({}, false, { spamMax, unsure })}`);
}
if (process.env.SWEEP === '1') {
  for (const s of [1, 2, 4])
    for (const x of [0.5])
      for (const maxDiscriminators of [300, 1500])
        for (const minProbStrength of [0, 0.05, 0.1])
          console.log(`s=${s} x=${x} max=${maxDiscriminators} min=${minProbStrength}: ${evaluate({ s, x, maxDiscriminators, minProbStrength })}`);
}
