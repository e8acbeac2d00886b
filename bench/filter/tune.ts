/**
 * Tuning aid: cross-validation inside the TRAINING half only (the test half of run.ts is never read):
 * the training half of each class is split again, Bayes learns one part and the other is scored.
 */
import { GLOBAL_SCOPE, train } from '../../src/filter/bayes.ts';
import { messageInput } from '../../src/filter/checks/message.ts';
import { runChecks } from '../../src/filter/pipeline.ts';
import { tuningSplit } from './corpus.ts';
import { benchPipeline } from './pipeline.ts';

const { spamA: sA, spamB: sB, hamA: hA, hamB: hB } = tuningSplit();
const { ctx, checks, clock, close } = await benchPipeline();
const score = async () => {
  const rows: string[] = [];
  for (const s of [...sB, ...hB]) {
    clock.set(s.receivedAt);
    const v = await runChecks(ctx, await messageInput(s.raw), checks);
    rows.push(`${s.kind}\t${v.score.toFixed(2)}\t${s.file}\t${v.symbols.map((x) => `${x.name}=${x.score}`).join(' ')}`);
  }
  return rows;
};
const before = await score();
for (const s of [...sA, ...hA]) await train(ctx, await messageInput(s.raw), s.kind, [GLOBAL_SCOPE]);
const after = await score();
console.log(before.map((r) => `U\t${r}`).join('\n'));
console.log(after.map((r) => `T\t${r}`).join('\n'));
await close();
