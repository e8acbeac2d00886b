/**
 * The built-in filter as bench/filter's scripts run it: a throw-away store (SQLite, or `databaseUrl`),
 * the default settings, DNS sent where nothing answers (no lookups), and a clock each sample sets to
 * its own date.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Config, loadConfig } from '../../src/config/index.ts';
import { createResolver } from '../../src/dns/index.ts';
import type { FilterContext } from '../../src/filter/checks/message.ts';
import { builtinChecks } from '../../src/filter/pipeline.ts';
import type { Check } from '../../src/filter/types.ts';
import { createLogger } from '../../src/log/index.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { type Engine, openStore } from '../../src/store/index.ts';

export interface BenchPipeline {
  ctx: FilterContext;
  checks: Check[];
  clock: ManualClock;
  config: Config;
  engine: Engine;
  close(): Promise<void>;
}

export async function benchPipeline(databaseUrl = ''): Promise<BenchPipeline> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'facteur-bench-filter-'));
  const store = await openStore({ databaseUrl, dataDir });
  const clock = new ManualClock(Date.now());
  const config = loadConfig({ env: {}, overrides: { logLevel: 'silent', dataDir } });
  const ctx: FilterContext = {
    config,
    db: store.db,
    resolver: createResolver({ servers: ['127.0.0.1:9'], timeoutMs: 200 }),
    clock,
    log: createLogger('silent'),
  };
  return {
    ctx,
    checks: builtinChecks(ctx),
    clock,
    config,
    engine: store.engine,
    async close() {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
