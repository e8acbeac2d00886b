/**
 * API tokens for automation, each acting as an admin of one customer. The secret (`fct_…`) is shown
 * once; only its sha256 is stored.
 */
import type { AppContext } from '../context.ts';
import { newId, newSecret } from '../shared/ids.ts';
import type { ApiTokensTable } from '../store/index.ts';
import { hashSecret } from './sessions.ts';

export const TOKEN_PREFIX = 'fct_';

/** last_used_at is refreshed at most this often, so reads do not turn into writes. */
const LAST_USED_RESOLUTION_MS = 60_000;

export async function createApiToken(
  ctx: AppContext,
  input: { customerId: string; name: string; createdBy: string; expiresAt?: number | null },
): Promise<{ token: ApiTokensTable; secret: string }> {
  const secret = `${TOKEN_PREFIX}${newSecret()}`;
  const token: ApiTokensTable = {
    customer_id: input.customerId,
    id: newId('tok'),
    name: input.name,
    token_hash: hashSecret(secret),
    created_by: input.createdBy,
    created_at: ctx.clock.now(),
    last_used_at: null,
    expires_at: input.expiresAt ?? null,
  };
  await ctx.db.insertInto('api_tokens').values(token).execute();
  return { token, secret };
}

/**
 * Tokens found recently, per service context: an API client sends its token on every request, and
 * looking it up each time was a sixth of a read's work. A revocation on this node clears the cache
 * at once; other nodes see it within TOKEN_CACHE_MS.
 */
const TOKEN_CACHE_MS = 5_000;
const tokenCaches = new WeakMap<AppContext, Map<string, { token: ApiTokensTable; until: number }>>();

function tokenCache(ctx: AppContext) {
  const cache = tokenCaches.get(ctx) ?? new Map();
  tokenCaches.set(ctx, cache);
  return cache;
}

export async function findApiToken(ctx: AppContext, secret: string): Promise<ApiTokensTable | undefined> {
  if (!secret.startsWith(TOKEN_PREFIX)) return undefined;
  const hash = hashSecret(secret);
  const now = ctx.clock.now();
  const cache = tokenCache(ctx);
  const cached = cache.get(hash);
  let token = cached && cached.until > now ? cached.token : undefined;
  if (!token) {
    token = await ctx.db.selectFrom('api_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
    if (!token) return undefined;
    if (cache.size > 10_000) cache.clear();
    cache.set(hash, { token, until: now + TOKEN_CACHE_MS });
    if (token.last_used_at === null || now - token.last_used_at > LAST_USED_RESOLUTION_MS) {
      await ctx.db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', token.id).execute();
    }
  }
  if (token.expires_at !== null && token.expires_at <= now) return undefined;
  return token;
}

export async function listApiTokens(ctx: AppContext, customerId: string): Promise<ApiTokensTable[]> {
  return ctx.db.selectFrom('api_tokens').selectAll().where('customer_id', '=', customerId).orderBy('created_at').execute();
}

export async function deleteApiToken(ctx: AppContext, customerId: string, id: string): Promise<boolean> {
  const result = await ctx.db.deleteFrom('api_tokens').where('customer_id', '=', customerId).where('id', '=', id).executeTakeFirst();
  tokenCache(ctx).clear();
  return Number(result.numDeletedRows) > 0;
}
