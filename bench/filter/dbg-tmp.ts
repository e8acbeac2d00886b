import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { combine, GLOBAL_SCOPE, hashToken, tokenize, train } from '../../src/filter/bayes.ts';
import { messageInput, readMessage } from '../../src/filter/checks/message.ts';
import { openStore } from '../../src/store/index.ts';
import { loadPartition, mulberry32, SEED, shuffled } from './corpus.ts';

const random = mulberry32(SEED);
const spam = shuffled(loadPartition('spam'), random).slice(0, 125);
const ham = shuffled(loadPartition('ham'), random).slice(0, 625);
const store = await openStore({ databaseUrl: '', dataDir: mkdtempSync(path.join(tmpdir(), 'dbg-')) });
const ctx = { db: store.db };
for (const s of [...spam, ...ham]) await train(ctx, await messageInput(s.raw), s.kind, [GLOBAL_SCOPE]);
const s = loadPartition('spam').find((x) => x.file.includes('00197'))!;
const input = await messageInput(s.raw);
const tokens = tokenize(await readMessage(input), input);
const rows = await store.db.selectFrom('bayes_tokens').selectAll().where('token', 'in', tokens.map(hashToken)).execute();
const byHash = new Map(rows.map((r) => [r.token, r]));
const t = await store.db.selectFrom('bayes_totals').selectAll().executeTakeFirstOrThrow();
console.log(t);
const list = tokens.map((tok) => ({ tok, r: byHash.get(hashToken(tok)) })).filter((x) => x.r);
for (const x of list.slice(0, 60)) console.log(x.tok, x.r!.spam, x.r!.ham);
console.log(
  combine(
    list.map((x) => x.r!),
    t,
  ),
);
