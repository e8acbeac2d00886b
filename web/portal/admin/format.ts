/**
 * Sizes as the contract and the service count them: the service defines "50 MB" as 50 × 1024 × 1024
 * bytes (src/config/schema.ts) and class quotas in GiB, so they are shown in units of 1024, named as
 * the contract names them (50 MB / 50 Mo, 5 GB / 5 Go). lib/i18n's formatBytes counts in units of 1000,
 * which would show the contract's 50 MB as "52 MB".
 */
import { formatBytes, formatNumber } from '../../lib/i18n.ts';

const UNITS = [
  [1024 ** 4, { en: 'TB', fr: 'To' }],
  [1024 ** 3, { en: 'GB', fr: 'Go' }],
  [1024 ** 2, { en: 'MB', fr: 'Mo' }],
  [1024, { en: 'KB', fr: 'Ko' }],
] as const;

export function formatSize(bytes: number, language: 'en' | 'fr'): string {
  for (const [size, names] of UNITS) {
    if (bytes >= size) {
      const value = bytes / size;
      const rounded = value < 10 && !Number.isInteger(value) ? Math.round(value * 10) / 10 : Math.round(value);
      return `${formatNumber(rounded)} ${names[language]}`;
    }
  }
  return formatBytes(bytes);
}
