/**
 * The operator's corpus import (`facteur filter train --spam PATH --ham PATH`, issue 11): messages
 * read from an mbox file, a maildir, or a folder of .eml files, learnt in the global scope (or a
 * domain's or an account's). Each message is known by its digest in its scope (filter_corpus):
 * importing the same corpus again counts nothing twice, and a message imported as ham after it was
 * imported as spam moves from one side to the other.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { AppContext } from '../context.ts';
import { extractMetadata } from '../mime/index.ts';
import { invalid } from '../shared/errors.ts';
import { addCounts, type BayesClass, messageTokens } from './bayes.ts';
import type { FilterInput } from './types.ts';

/** Messages larger than this are skipped (as the MX would refuse them): corpora hold a few odd giants. */
const MAX_MESSAGE_BYTES = 50 * 1024 * 1024;

/** The messages of an mbox (mboxrd: `>From ` lines unescaped), a maildir (cur/, new/) or a folder of files. */
export async function* readCorpus(source: string): AsyncGenerator<{ name: string; content: Buffer }> {
  const info = await stat(source).catch(() => undefined);
  if (!info) throw invalid('corpus-missing', 'path', `No such file or folder: ${source}`, `Fichier ou dossier introuvable : ${source}`);
  if (info.isFile()) {
    yield* readMbox(source);
    return;
  }
  const entries = await readdir(source, { withFileTypes: true });
  const names = new Set(entries.map((e) => e.name));
  const folders = names.has('cur') && names.has('new') ? ['cur', 'new'].map((name) => path.join(source, name)) : [source];
  for (const folder of folders) yield* readFiles(folder);
}

async function* readFiles(folder: string): AsyncGenerator<{ name: string; content: Buffer }> {
  const entries = (await readdir(folder, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) yield* readFiles(full);
    else if (entry.isFile() && !entry.name.startsWith('.')) {
      const chunks: Buffer[] = [];
      for await (const chunk of createReadStream(full)) chunks.push(chunk as Buffer);
      yield { name: full, content: Buffer.concat(chunks) };
    }
  }
}

async function* readMbox(file: string): AsyncGenerator<{ name: string; content: Buffer }> {
  let lines: string[] = [];
  let count = 0;
  let pending = '';
  const flush = function* () {
    if (lines.length > 0) {
      count++;
      yield { name: `${file}#${count}`, content: Buffer.from(lines.join('\n'), 'latin1') };
    }
    lines = [];
  };
  // latin1 keeps every byte as it is (no UTF-8 decoding of 8-bit mail).
  for await (const chunk of createReadStream(file, { encoding: 'latin1' })) {
    const text = pending + (chunk as string);
    const parts = text.split('\n');
    pending = parts.pop() ?? '';
    for (const line of parts) {
      if (line.startsWith('From ')) yield* flush();
      else lines.push(/^>+From /.test(line) ? line.slice(1) : line.replace(/\r$/, ''));
    }
  }
  if (pending) lines.push(pending);
  yield* flush();
}

export interface ImportProgress {
  read: number;
  learned: number;
  /** Already learnt the same way in this scope. */
  unchanged: number;
  /** Moved from the other side. */
  reversed: number;
  skipped: number;
}

/** Learns every message of `source` as `as` in `scope`; `onProgress` is called every 100 messages. */
export async function importCorpus(
  ctx: AppContext,
  source: string,
  as: BayesClass,
  scope: string,
  onProgress: (progress: ImportProgress) => void = () => {},
): Promise<ImportProgress> {
  const progress: ImportProgress = { read: 0, learned: 0, unchanged: 0, reversed: 0, skipped: 0 };
  for await (const message of readCorpus(source)) {
    progress.read++;
    if (message.content.length === 0 || message.content.length > MAX_MESSAGE_BYTES) progress.skipped++;
    else {
      const outcome = await learnCorpusMessage(ctx, message.content, as, scope).catch((error) => {
        ctx.log.warn({ event: 'filter.corpus_skipped', name: message.name, err: error }, 'filter.corpus_skipped');
        return 'skipped' as const;
      });
      progress[outcome]++;
    }
    if (progress.read % 100 === 0) onProgress(progress);
  }
  onProgress(progress);
  return progress;
}

async function learnCorpusMessage(ctx: AppContext, content: Buffer, as: BayesClass, scope: string): Promise<'learned' | 'unchanged' | 'reversed'> {
  const digest = createHash('sha256').update(content).digest('hex');
  const known = await ctx.db.selectFrom('filter_corpus').select('learned').where('scope', '=', scope).where('digest', '=', digest).executeTakeFirst();
  if (known?.learned === as) return 'unchanged';
  const input: FilterInput = {
    direction: 'inbound',
    content: () => Readable.from([content]),
    size: content.length,
    metadata: await extractMetadata(Readable.from([content])),
    clientIp: '',
    helo: '',
    mailFrom: '',
    recipients: [],
    domainIds: [],
  };
  const tokens = await messageTokens(input);
  return ctx.db.transaction().execute(async (trx) => {
    const current = await trx
      .updateTable('filter_corpus')
      .set((eb) => ({ imported_at: eb.ref('imported_at') }))
      .where('scope', '=', scope)
      .where('digest', '=', digest)
      .returningAll()
      .executeTakeFirst();
    if (current?.learned === as) return 'unchanged';
    if (current) await addCounts(trx, current.tokens.split(' '), current.learned, [scope], -1);
    await addCounts(trx, tokens, as, [scope], 1);
    const row = { learned: as, tokens: tokens.join(' '), imported_at: ctx.clock.now() };
    if (current) await trx.updateTable('filter_corpus').set(row).where('scope', '=', scope).where('digest', '=', digest).execute();
    else
      await trx
        .insertInto('filter_corpus')
        .values({ scope, digest, ...row })
        .execute();
    return current ? 'reversed' : 'learned';
  });
}

export interface ScopeStats {
  scope: string;
  spam: number;
  ham: number;
  tokens: number;
}

export interface FilterStats {
  scopes: ScopeStats[];
  lessons: { learned: number; pending: number; bySource: Record<string, number> };
  corpus: Record<string, { spam: number; ham: number }>;
}

/** What each scope has learnt, the users' lessons and the corpus imports (`facteur filter stats`). */
export async function filterStats(ctx: AppContext): Promise<FilterStats> {
  const [totals, tokens, lessons, corpus] = await Promise.all([
    ctx.db.selectFrom('bayes_totals').select(['scope', 'spam', 'ham']).orderBy('scope').execute(),
    ctx.db
      .selectFrom('bayes_tokens')
      .select((eb) => ['scope', eb.fn.countAll<number>().as('count')])
      .groupBy('scope')
      .execute(),
    ctx.db
      .selectFrom('filter_lessons')
      .select((eb) => ['source', 'pending', eb.fn.countAll<number>().as('count')])
      .groupBy(['source', 'pending'])
      .execute(),
    ctx.db
      .selectFrom('filter_corpus')
      .select((eb) => ['scope', 'learned', eb.fn.countAll<number>().as('count')])
      .groupBy(['scope', 'learned'])
      .execute(),
  ]);
  const tokenCounts = new Map(tokens.map((row) => [row.scope, Number(row.count)]));
  const stats: FilterStats = {
    scopes: totals.map((row) => ({ scope: row.scope, spam: Number(row.spam), ham: Number(row.ham), tokens: tokenCounts.get(row.scope) ?? 0 })),
    lessons: { learned: 0, pending: 0, bySource: {} },
    corpus: {},
  };
  for (const row of lessons) {
    const count = Number(row.count);
    if (Number(row.pending) === 1) stats.lessons.pending += count;
    else stats.lessons.learned += count;
    const source = row.source.split(':')[0] as string;
    stats.lessons.bySource[source] = (stats.lessons.bySource[source] ?? 0) + count;
  }
  for (const row of corpus) {
    const entry = stats.corpus[row.scope] ?? { spam: 0, ham: 0 };
    entry[row.learned] += Number(row.count);
    stats.corpus[row.scope] = entry;
  }
  return stats;
}
