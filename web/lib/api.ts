/**
 * The one client of the REST API for every page: sends the session's CSRF token on changes and the
 * user's language, and turns application/problem+json answers into a `Problem` (views never see a raw
 * Response). The API is the only way in: the application has no routes of its own.
 */
import { signal } from '@preact/signals';
import { lang } from './i18n.ts';

/** An error answer of the API (RFC 9457), its text already in the user's language. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail: string,
    /** The request field it concerns, as the API names it (`name`, `members.0`), when one does. */
    readonly field?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(detail || title);
  }
}

let csrfToken: string | undefined;
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** Set when the API answers 401 to a page's call: the session ended (expired, logged out elsewhere). */
export const sessionLost = signal(false);

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json', 'accept-language': lang.value };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(`/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new Problem(
      0,
      'network',
      lang.value === 'fr' ? 'Service injoignable' : 'Service unreachable',
      lang.value === 'fr'
        ? 'Le service ne répond pas : vérifiez votre connexion et réessayez.'
        : 'The service does not answer: check your connection and try again.',
    );
  }
  if (response.status === 204) return undefined as T;
  const type = response.headers.get('content-type') ?? '';
  const payload = type.includes('json') ? await response.json().catch(() => undefined) : undefined;
  if (response.ok) return payload as T;
  const problem = (payload ?? {}) as { code?: string; title?: string; detail?: string; field?: string; details?: Record<string, unknown> };
  if (response.status === 401 && path !== '/auth/login' && path !== '/auth/session') sessionLost.value = true;
  throw new Problem(response.status, problem.code ?? 'http', problem.title ?? String(response.status), problem.detail ?? '', problem.field, problem.details);
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}),
  put: <T>(path: string, body?: unknown) => request<T>('PUT', path, body ?? {}),
  patch: <T>(path: string, body?: unknown) => request<T>('PATCH', path, body ?? {}),
  delete: <T = void>(path: string) => request<T>('DELETE', path),
};

/** `?a=1&b=x` from the defined values of `params`, for list queries. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** A path segment: ids and addresses are escaped, never pasted into a URL as they are. */
export const seg = (value: string) => encodeURIComponent(value);
