/**
 * Who is logged in, from GET /api/auth/session: `undefined` while it is being asked, `null` for
 * nobody. A session may still be at its second factor (stage `totp`) or be required to enrol one
 * first (stage `enrol`); the shell shows those steps before anything else.
 */
import { signal } from '@preact/signals';
import { api, Problem, sessionLost, setCsrfToken } from './api.ts';
import type { Role } from './router.ts';

export interface Session {
  stage: 'enrol' | 'totp' | 'full';
  role: Role;
  id: string;
  customerId: string | null;
  csrfToken: string;
}

export const session = signal<Session | null | undefined>(undefined);

export async function loadSession(): Promise<void> {
  try {
    const current = await api.get<Session>('/auth/session');
    setCsrfToken(current.csrfToken);
    sessionLost.value = false;
    session.value = current;
  } catch (error) {
    if (!(error instanceof Problem) || error.status !== 401) throw error;
    setCsrfToken(undefined);
    session.value = null;
  }
}

export async function logIn(email: string, password: string): Promise<void> {
  const started = await api.post<{ csrfToken: string }>('/auth/login', { email, password });
  setCsrfToken(started.csrfToken);
  await loadSession();
}

export async function logOut(): Promise<void> {
  await api.post('/auth/logout').catch(() => undefined);
  setCsrfToken(undefined);
  session.value = null;
}
