/**
 * Tuning aid: cross-validation inside the TRAINING half only (the test half of run.ts is never read):
 * the training half of each class is split again, Bayes learns one part and the other is scored.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/index.ts';
import { createResolver } from '../../src/dns/index.ts';
import { GLOBAL_SCOPE, train } from '../../src/filter/bayes.ts';
import { type FilterContext, messageInput } from '../../src/filter/checks/message.ts';
import { builtinChecks, runChecks } from '../../src/filter/pipeline.ts';
import { createLogger } from '../../src/log/index.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { openStore } from '../../src/store/index.ts';
import { tuningSplit } from './corpus.ts';

const { spamA: sA, spamB: sB, hamA: hA, hamB: hB } = tuningSplit();
const dataDir = mkdtempSync(path.join(tmpdir(), 'facteur-tune-'));
const store = await openStore({ databaseUrl: '', dataDir });
const clock = new ManualClock(Date.now());
const config = loadConfig({ env: {}, overrides: { logLevel: 'silent', dataDir } });
const ctx: FilterContext = { config, db: store.db, resolver: createResolver({ servers: ['127.0.0.1:9'], timeoutMs: 200 }), clock, log: createLogger('silent') };
const checks = builtinChecks(ctx);
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
await store.close();
rmSync(dataDir, { recursive: true, force: true });
