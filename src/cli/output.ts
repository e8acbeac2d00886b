/** How the CLI prints: `--json` for scripts (the object with its id), else readable lines. */
import { isAppError } from '../shared/errors.ts';

export function print(value: unknown, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${formatHuman(value)}\n`);
}

function formatHuman(value: unknown, indent = ''): string {
  if (value === null || value === undefined) return `${indent}-`;
  if (Array.isArray(value)) {
    if (value.length === 0) return `${indent}(none)`;
    return value.map((item) => (typeof item === 'object' && item !== null ? `${formatHuman(item, indent)}\n` : `${indent}- ${String(item)}`)).join('\n');
  }
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .map(([key, v]) => (v !== null && typeof v === 'object' ? `${indent}${key}:\n${formatHuman(v, `${indent}  `)}` : `${indent}${key}: ${v ?? '-'}`))
      .join('\n');
  }
  return `${indent}${String(value)}`;
}

/** Prints an error for a human (French when FACTEUR_LANG=fr) and returns the exit code. */
export function printError(error: unknown): number {
  const lang = process.env.FACTEUR_LANG === 'fr' ? 'fr' : 'en';
  if (isAppError(error)) {
    process.stderr.write(`facteur: ${error.text[lang]}${error.field ? ` [${error.field}]` : ''} (${error.code})\n`);
    return error.kind === 'invalid' ? 2 : 1;
  }
  process.stderr.write(`facteur: ${(error as Error).message ?? String(error)}\n`);
  return (error as Error).name === 'ConfigError' ? 2 : 1;
}
