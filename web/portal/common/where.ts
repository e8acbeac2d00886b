/** The shared pages live in two areas (the operator's /ops, the customer admin's /admin): links stay in the caller's. */
import { session } from '../../lib/session.ts';

export function areaBase(): string {
  return session.value?.role === 'operator' ? '/ops' : session.value?.role === 'user' ? '/me' : '/admin';
}

export function isOperator(): boolean {
  return session.value?.role === 'operator';
}

/** A value of an open record (`detail` of a trace step, an operation's error) as short text, never as markup. */
export function shortText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
