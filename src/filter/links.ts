/**
 * The release and delete links of a quarantine digest (R-S3): they work without logging in, so each
 * is a signed, expiring, single-use token.
 *
 * - A link is a row of `digest_links` (its held message, its action, its expiry, when it was used).
 * - Token: `base64url(row id) "." base64url(HMAC-SHA256(secret, row id))`. The secret is generated at
 *   first use and kept in `settings`, so every process and every restart shares it (like srs.ts).
 * - The MAC is checked in constant time before the database is asked anything; then the row is taken
 *   by one conditional UPDATE (unused and unexpired), so two clicks never both act.
 * - A tampered, unknown, expired or used token, or one whose message is gone, gives the same error
 *   (`invalid-link`, 404): nothing tells which, or whether a message exists.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AppContext } from '../context.ts';
import { AppError, isAppError, type Language, text } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { DigestLinksTable } from '../store/index.ts';
import { storedSecret } from '../store/index.ts';
import { deleteQuarantined, releaseQuarantined } from './quarantine.ts';

export type LinkAction = DigestLinksTable['action'];

const SECRET_SETTING = 'filter.digestLinkSecret';
const MAC_BYTES = 32;
/** A row id is `dgl_` and 20 characters; anything much longer is not ours. */
const MAX_TOKEN_CHARS = 200;

/** The HMAC key: generated once and shared through the database. Never call it inside a transaction. */
export async function linkSecret(ctx: AppContext): Promise<Buffer> {
  return Buffer.from(await storedSecret(ctx.db, ctx.secrets, SECRET_SETTING, ctx.clock.now()), 'base64url');
}

function macOf(secret: Buffer, id: string): Buffer {
  return createHmac('sha256', secret).update(`digest-link:${id}`).digest();
}

export function signLinkId(secret: Buffer, id: string): string {
  return `${Buffer.from(id).toString('base64url')}.${macOf(secret, id).toString('base64url')}`;
}

/** The row id a token names, when its MAC is right (constant-time comparison); else undefined. */
export function verifyLinkToken(secret: Buffer, token: string): string | undefined {
  if (token.length > MAX_TOKEN_CHARS) return undefined;
  const dot = token.indexOf('.');
  if (dot <= 0) return undefined;
  const id = Buffer.from(token.slice(0, dot), 'base64url').toString('utf8');
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const expected = macOf(secret, id);
  // Same work whatever the length given, so timing tells nothing.
  const comparable = given.length === MAC_BYTES ? given : Buffer.alloc(MAC_BYTES);
  const same = timingSafeEqual(comparable, expected);
  return same && given.length === MAC_BYTES && /^dgl_[0-9a-z]{20}$/.test(id) ? id : undefined;
}

export function invalidLink(): AppError {
  return new AppError(
    'not-found',
    'invalid-link',
    text('This link is not valid: it may have expired or been used already.', "Ce lien n'est pas valide : il a peut-être expiré ou déjà servi."),
  );
}

export interface NewLinks {
  release: string;
  delete: string;
}

/**
 * The two links of a held message, signed, with the rows to store; `secret` from `linkSecret`. The
 * rows are written by the caller (the digest writes them in the commit that delivers it).
 */
export function planDigestLinks(secret: Buffer, quarantineId: string, expiresAt: number): { rows: DigestLinksTable[]; links: NewLinks } {
  const rows: DigestLinksTable[] = (['release', 'delete'] as const).map((action) => ({
    id: newId('dgl'),
    quarantine_id: quarantineId,
    action,
    expires_at: expiresAt,
    used_at: null,
  }));
  return { rows, links: { release: signLinkId(secret, rows[0]?.id as string), delete: signLinkId(secret, rows[1]?.id as string) } };
}

/** The URL of the page of a link: `publicUrl`, else http://hostname:port. */
export function linkUrl(ctx: AppContext, token: string): string {
  const base = ctx.config.publicUrl ? ctx.config.publicUrl.replace(/\/+$/, '') : `http://${ctx.config.hostname}:${ctx.config.ports.http}`;
  return `${base}/api/digest-links/${encodeURIComponent(token)}`;
}

export interface LinkTarget {
  linkId: string;
  action: LinkAction;
  quarantineId: string;
  /** The recipient's language, for the pages. */
  language: Language;
  subject: string;
  from: string;
  receivedAt: string;
}

/** What a valid, unused, unexpired link would do (the confirmation page); throws `invalid-link` otherwise. */
export async function inspectDigestLink(ctx: AppContext, token: string): Promise<LinkTarget> {
  const id = verifyLinkToken(await linkSecret(ctx), token);
  if (!id) throw invalidLink();
  const row = await ctx.db
    .selectFrom('digest_links')
    .innerJoin('quarantine', 'quarantine.id', 'digest_links.quarantine_id')
    .innerJoin('accounts', 'accounts.id', 'quarantine.account_id')
    .select([
      'digest_links.id as link_id',
      'digest_links.action',
      'digest_links.expires_at',
      'digest_links.used_at',
      'quarantine.id as quarantine_id',
      'quarantine.subject',
      'quarantine.from_header',
      'quarantine.received_at',
      'accounts.language',
    ])
    .where('digest_links.id', '=', id)
    .executeTakeFirst();
  if (!row || row.used_at !== null || Number(row.expires_at) <= ctx.clock.now()) throw invalidLink();
  return {
    linkId: row.link_id,
    action: row.action,
    quarantineId: row.quarantine_id,
    language: row.language,
    subject: row.subject,
    from: row.from_header,
    receivedAt: new Date(Number(row.received_at)).toISOString(),
  };
}

/**
 * Uses a link: takes it (once), then releases or deletes its message. A failure other than "gone"
 * (a full mailbox) gives the link back, so it can be used again once the cause is fixed.
 */
export async function useDigestLink(ctx: AppContext, token: string): Promise<LinkTarget> {
  const target = await inspectDigestLink(ctx, token);
  const now = ctx.clock.now();
  const taken = await ctx.db
    .updateTable('digest_links')
    .set({ used_at: now })
    .where('id', '=', target.linkId)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  if (Number(taken.numUpdatedRows) !== 1) throw invalidLink();
  const scope = { customerId: null };
  try {
    if (target.action === 'release') await releaseQuarantined(ctx, scope, target.quarantineId, { actor: 'digest-link' });
    else await deleteQuarantined(ctx, scope, target.quarantineId, { actor: 'digest-link' });
  } catch (error) {
    if (isAppError(error) && error.kind === 'not-found') throw invalidLink();
    await ctx.db.updateTable('digest_links').set({ used_at: null }).where('id', '=', target.linkId).execute();
    throw error;
  }
  return target;
}
