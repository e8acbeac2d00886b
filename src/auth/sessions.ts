/**
 * Browser sessions: a random secret in an HttpOnly cookie, stored as its sha256 so a database leak
 * gives no usable session. Each session carries a CSRF token that mutating requests must echo in
 * the `x-csrf-token` header (synchronizer token pattern).
 */
import { createHash } from 'node:crypto';
import type { AppContext } from '../context.ts';
import { newSecret } from '../shared/ids.ts';
import type { SessionsTable } from '../store/index.ts';

export type SessionStage = SessionsTable['stage'];

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export interface NewSession {
  secret: string;
  csrfToken: string;
  expiresAt: number;
}

export async function createSession(
  ctx: AppContext,
  who: { role: SessionsTable['principal_role']; id: string; customerId: string | null },
  stage: SessionStage,
): Promise<NewSession> {
  const secret = newSecret();
  const csrfToken = newSecret();
  const now = ctx.clock.now();
  const expiresAt = now + ctx.config.auth.sessionTtlMinutes * 60_000;
  await ctx.db
    .insertInto('sessions')
    .values({
      id: hashSecret(secret),
      principal_role: who.role,
      principal_id: who.id,
      customer_id: who.customerId,
      stage,
      csrf_token: csrfToken,
      created_at: now,
      expires_at: expiresAt,
    })
    .execute();
  return { secret, csrfToken, expiresAt };
}

export async function findSession(ctx: AppContext, secret: string): Promise<SessionsTable | undefined> {
  const row = await ctx.db.selectFrom('sessions').selectAll().where('id', '=', hashSecret(secret)).executeTakeFirst();
  return row && row.expires_at > ctx.clock.now() ? row : undefined;
}

export async function setSessionStage(ctx: AppContext, sessionId: string, stage: SessionStage): Promise<void> {
  await ctx.db.updateTable('sessions').set({ stage }).where('id', '=', sessionId).execute();
}

export async function deleteSession(ctx: AppContext, sessionId: string): Promise<void> {
  await ctx.db.deleteFrom('sessions').where('id', '=', sessionId).execute();
}

/** Ends every session of a principal (after a password change, or when an account is blocked). */
export async function deleteSessionsOf(ctx: AppContext, principalId: string): Promise<void> {
  await ctx.db.deleteFrom('sessions').where('principal_id', '=', principalId).execute();
}
