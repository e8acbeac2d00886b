/**
 * The FAQ pages on client configuration of the customer portal (R-T4; contract §7 "Accès aux FAQs de
 * configuration"). The pages are content, not code: one Markdown file per page and language under
 * `faq/<lang>/NN-<slug>.md` (NN orders them), with a small header (title, topics) and placeholders such
 * as `{{hostname}}`, `{{ports.imaps}}` or `{{limits.maxMessageMb}}` filled from the service's live
 * settings and class limits, so a page never disagrees with what the service enforces. An operator
 * may edit the files, or point `faqDir` (FACTEUR_FAQ_DIR) at a copy of their own.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AppContext } from '../context.ts';
import type { Language } from '../shared/errors.ts';

/** What the pages show: the service's host names and ports, and the limits every account has. */
export interface FaqSettings {
  hostname: string;
  ports: { submission: number; submissions: number; imap: number; imaps: number; pop3: number; pop3s: number };
  webUrl: string;
  limits: { messagesPerMinutePerRecipient: number; recipientsPerMessage: number; maxMessageBytes: number; standardMessageBytes: number };
}

export interface FaqPage {
  /** Kebab-case English, the same in both languages. */
  slug: string;
  title: string;
  /** Markdown. */
  body: string;
  topics: string[];
}

interface PageSource {
  slug: string;
  title: string;
  topics: string[];
  body: string;
}

const LANGUAGES: Language[] = ['en', 'fr'];
const MB = 1024 * 1024;
/** Attachments are sent in Base64: 4/3 of their size plus line ends, about 37 % more (RFC 2045 §6.8). */
const BASE64_GROWTH = 1.37;
const FILE_NAME = /^(\d+)-([a-z0-9]+(?:-[a-z0-9]+)*)\.md$/;
const PLACEHOLDER = /\{\{\s*([a-zA-Z0-9.]+)\s*\}\}/g;

/** Every placeholder a page may use, and how it is filled. */
const VALUES: Record<string, (s: FaqSettings) => string | number> = {
  hostname: (s) => s.hostname,
  webUrl: (s) => s.webUrl,
  'ports.submission': (s) => s.ports.submission,
  'ports.submissions': (s) => s.ports.submissions,
  'ports.imap': (s) => s.ports.imap,
  'ports.imaps': (s) => s.ports.imaps,
  'ports.pop3': (s) => s.ports.pop3,
  'ports.pop3s': (s) => s.ports.pop3s,
  'limits.messagesPerMinutePerRecipient': (s) => s.limits.messagesPerMinutePerRecipient,
  'limits.recipientsPerMessage': (s) => s.limits.recipientsPerMessage,
  'limits.maxMessageMb': (s) => megabytes(s.limits.maxMessageBytes),
  'limits.standardMessageMb': (s) => megabytes(s.limits.standardMessageBytes),
  /** The largest attached file that fits in a message of that size. */
  'limits.maxAttachmentMb': (s) => Math.floor(s.limits.maxMessageBytes / MB / BASE64_GROWTH),
  'limits.standardAttachmentMb': (s) => Math.floor(s.limits.standardMessageBytes / MB / BASE64_GROWTH),
};

function megabytes(bytes: number): number {
  return Math.round((bytes / MB) * 10) / 10;
}

/** The pages shipped with Facteur: `faq/` at the package's root, found from this module or from the bundle. */
export function defaultFaqDir(): string {
  let dir = import.meta.dirname;
  for (;;) {
    if (existsSync(path.join(dir, 'faq', 'en')) && existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'faq');
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`FAQ: no faq/ folder above ${import.meta.dirname}`);
    dir = parent;
  }
}

/** Reads and checks one folder of pages: both languages, the same slugs in the same order, known placeholders. */
export function loadFaqPages(dir: string): Record<Language, PageSource[]> {
  const pages = {} as Record<Language, PageSource[]>;
  for (const language of LANGUAGES) {
    const files = readdirSync(path.join(dir, language))
      .filter((name) => name.endsWith('.md'))
      .sort();
    pages[language] = files.map((name) => parsePage(path.join(dir, language, name), name));
  }
  const slugs = (language: Language) => pages[language].map((page) => page.slug).join(',');
  if (slugs('en') !== slugs('fr')) throw new Error(`FAQ: the pages differ between languages in ${dir}: en ${slugs('en')}; fr ${slugs('fr')}`);
  return pages;
}

function parsePage(file: string, name: string): PageSource {
  const match = FILE_NAME.exec(name);
  if (!match) throw new Error(`FAQ: ${file}: the name must be NN-slug.md (kebab-case slug)`);
  const text = readFileSync(file, 'utf8').replace(/\r\n/g, '\n');
  const header = /^---\n([\s\S]*?)\n---\n/.exec(text);
  if (!header) throw new Error(`FAQ: ${file}: starts with a header between --- lines (title, topics)`);
  const fields = Object.fromEntries(
    (header[1] as string).split('\n').map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
    }),
  );
  if (!fields.title) throw new Error(`FAQ: ${file}: the header has no title`);
  const body = text.slice(header[0].length).replace(/\n+$/, '');
  for (const [, key] of body.matchAll(PLACEHOLDER)) {
    if (!(key && key in VALUES)) throw new Error(`FAQ: ${file}: unknown placeholder {{${key}}} (known: ${Object.keys(VALUES).join(', ')})`);
  }
  const topics = (fields.topics ?? '')
    .split(',')
    .map((topic: string) => topic.trim())
    .filter(Boolean);
  return { slug: match[2] as string, title: fields.title, topics, body };
}

/** The pages as a reader sees them: placeholders filled from the settings. */
export function renderFaqPage(page: PageSource, settings: FaqSettings): FaqPage {
  const body = page.body.replace(PLACEHOLDER, (_, key: string) => String((VALUES[key] as (s: FaqSettings) => string | number)(settings)));
  return { slug: page.slug, title: page.title, body, topics: [...page.topics] };
}

const cache = new Map<string, Record<Language, PageSource[]>>();

/** The pages of the configured folder, read once per process. */
function pagesOf(ctx: AppContext): Record<Language, PageSource[]> {
  const dir = ctx.config.faqDir || defaultFaqDir();
  let pages = cache.get(dir);
  if (!pages) {
    pages = loadFaqPages(dir);
    cache.set(dir, pages);
  }
  return pages;
}

/**
 * The live values: host name, ports, and the limits that hold for every account — the least generous of
 * all classes, since the FAQ is public and a reader's class is not known (the portal shows each class's own).
 */
export async function faqSettings(ctx: AppContext): Promise<FaqSettings> {
  const { config } = ctx;
  const classes = await ctx.db.selectFrom('classes').select(['messages_per_minute_per_recipient', 'recipients_per_message', 'max_message_bytes']).execute();
  const least = (values: number[], fallback: number) => (values.length ? Math.min(...values) : fallback);
  const maxMessageBytes = least(
    classes.map((c) => c.max_message_bytes),
    config.limits.maxMessageBytes,
  );
  return {
    hostname: config.hostname,
    ports: config.ports,
    webUrl: config.publicUrl,
    limits: {
      messagesPerMinutePerRecipient: least(
        classes.map((c) => c.messages_per_minute_per_recipient),
        config.limits.messagesPerMinutePerRecipient,
      ),
      recipientsPerMessage: least(
        classes.map((c) => c.recipients_per_message),
        config.limits.recipientsPerMessage,
      ),
      maxMessageBytes,
      standardMessageBytes: Math.min(config.limits.standardMessageBytes, maxMessageBytes),
    },
  };
}

/** Every FAQ page, in the portal's order, in the reader's language, with the live values filled in. */
export async function listFaqPages(ctx: AppContext, language: Language): Promise<FaqPage[]> {
  const settings = await faqSettings(ctx);
  return pagesOf(ctx)[language].map((page) => renderFaqPage(page, settings));
}

/** One FAQ page by its slug (the same in both languages), or undefined when there is none. */
export async function getFaqPage(ctx: AppContext, slug: string, language: Language): Promise<FaqPage | undefined> {
  const page = pagesOf(ctx)[language].find((candidate) => candidate.slug === slug);
  return page && renderFaqPage(page, await faqSettings(ctx));
}
