/**
 * The user's language and the formatting of dates, numbers and sizes in it. Messages are TypeScript
 * objects, one pair (en, fr) per area in web/messages/: the compiler checks that both languages have
 * every key and that a message's arguments are given (see ARCHITECTURE.md for why not ICU files).
 */
import { signal } from '@preact/signals';

export type Lang = 'en' | 'fr';
export const LANGS: readonly Lang[] = ['en', 'fr'];
const STORAGE_KEY = 'facteur.lang';

/** A message: plain text, or a function of its arguments (plurals are chosen inside with `plural`). */
export type Messages<T> = { en: T; fr: T };

function browserLang(): Lang {
  const stored = globalThis.localStorage?.getItem(STORAGE_KEY);
  if (stored === 'en' || stored === 'fr') return stored;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = tag.slice(0, 2).toLowerCase();
    if (base === 'fr' || base === 'en') return base;
  }
  return 'en';
}

export const lang = signal<Lang>(browserLang());
document.documentElement.lang = lang.value;

export function setLang(next: Lang): void {
  lang.value = next;
  document.documentElement.lang = next;
  globalThis.localStorage?.setItem(STORAGE_KEY, next);
}

/** The messages of an area in the current language; reading it inside a component re-renders it on a change of language. */
export function messages<T>(pair: Messages<T>): T {
  return pair[lang.value];
}

/** French `one` covers 0 and 1 (CLDR): `zero` is for "aucun", when given. */
export function plural(n: number, forms: { zero?: string; one: string; other: string }): string {
  if (n === 0 && forms.zero !== undefined) return forms.zero;
  const category = pluralRules().select(n);
  return (category === 'one' ? forms.one : forms.other).replace('#', formatNumber(n));
}

// Formatters cost to build and list rows call them thousands of times: one per language and kind.
const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat | Intl.PluralRules | Intl.Collator>();
function cached<T extends Intl.NumberFormat | Intl.DateTimeFormat | Intl.PluralRules | Intl.Collator>(key: string, make: () => T): T {
  const id = `${lang.value}:${key}`;
  let formatter = cache.get(id) as T | undefined;
  if (!formatter) {
    formatter = make();
    cache.set(id, formatter);
  }
  return formatter;
}

const locale = () => (lang.value === 'fr' ? 'fr-FR' : 'en-GB');
const pluralRules = () => cached('plural', () => new Intl.PluralRules(locale()));

export function formatNumber(n: number): string {
  return cached('number', () => new Intl.NumberFormat(locale())).format(n);
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  return cached('date', () => new Intl.DateTimeFormat(locale(), { dateStyle: 'medium' })).format(new Date(iso));
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return cached('datetime', () => new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' })).format(new Date(iso));
}

const UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'] as const;

/** 5 MB / 5 Mo: decimal units, as the contract counts quotas. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = value < 10 && unit > 0 ? 1 : 0;
  return cached(
    `bytes:${unit}:${digits}`,
    // Plain bytes in words ("459 bytes", "459 octets"): the short form of that unit reads oddly in English.
    () => new Intl.NumberFormat(locale(), { style: 'unit', unit: UNITS[unit], unitDisplay: unit === 0 ? 'long' : 'short', maximumFractionDigits: digits }),
  ).format(value);
}

/** Sorts names as people expect in the language ("item 2" before "item 10"). */
export function compareText(a: string, b: string): number {
  return cached('collator', () => new Intl.Collator(locale(), { numeric: true, sensitivity: 'base' })).compare(a, b);
}
