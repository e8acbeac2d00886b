/**
 * The malware vault (R-V1, R-A2): outbound mail found to carry malware is not sent; it is kept here
 * (a blob reference and a row) for `filter.vaultDays`, then purged by a job. Only the operator lists
 * or reads it, and every read is recorded (who, when, why) in `vault_reads`. For a customer or a user,
 * the vault does not exist: every function answers "not found" unless the scope is the operator's.
 */
import { buffer } from 'node:stream/consumers';
import type { AppContext } from '../context.ts';
import { persistContent, readContent, releaseContents } from '../mailstore/index.ts';
import { DAY_MS } from '../shared/clock.ts';
import { AppError, invalid, notFound, text } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { BlobRef, MalwareVaultTable } from '../store/index.ts';
import type { Scope } from '../tenancy/index.ts';
import { recordTraceIn } from '../trace/index.ts';
import type { Malware } from './types.ts';

/** Rows purged per statement. */
const PURGE_BATCH = 500;
/** A read's reason: a few words at least, so the journal says something. */
const MIN_REASON_CHARS = 3;
const MAX_REASON_CHARS = 1000;

export interface VaultInput {
  blob: BlobRef;
  /** The sending account. */
  account: { accountId: string; customerId: string };
  sender: string;
  recipients: string[];
  malware: Malware;
  /** The SMTP session, for the trace. */
  sessionId?: string | null;
  messageId?: string | null;
}

export interface VaultEntry {
  id: string;
  customerId: string;
  accountId: string;
  sender: string;
  recipients: string[];
  malware: string;
  size: number;
  receivedAt: string;
  purgeAt: string;
}

function vaultEntry(row: MalwareVaultTable): VaultEntry {
  return {
    id: row.id,
    customerId: row.customer_id,
    accountId: row.account_id,
    sender: row.sender,
    recipients: JSON.parse(row.recipients) as string[],
    malware: row.malware,
    size: Number(row.size),
    receivedAt: new Date(Number(row.received_at)).toISOString(),
    purgeAt: new Date(Number(row.purge_at)).toISOString(),
  };
}

/** Keeps an outbound message that carried malware (content, row and blob reference in one commit). */
export async function vaultOutbound(ctx: AppContext, input: VaultInput): Promise<VaultEntry> {
  const now = ctx.clock.now();
  const row: MalwareVaultTable = {
    customer_id: input.account.customerId,
    id: newId('vlt'),
    account_id: input.account.accountId,
    blob_id: input.blob.id,
    size: input.blob.size,
    sender: input.sender.slice(0, 320),
    recipients: JSON.stringify(input.recipients.slice(0, 1000)),
    malware: input.malware.name.slice(0, 200),
    received_at: now,
    purge_at: now + Math.round(ctx.config.filter.vaultDays * DAY_MS),
  };
  await ctx.mail.committer.run(async (trx) => {
    await persistContent(ctx, trx, input.blob);
    await trx.insertInto('malware_vault').values(row).execute();
    await trx
      .insertInto('blobs')
      .values({ id: input.blob.id, size: input.blob.size, refcount: 1, created_at: now })
      .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ refcount: eb('blobs.refcount', '+', 1) })))
      .execute();
    await recordTraceIn(
      ctx,
      trx,
      input.recipients.map((recipient) => ({
        step: 'filtered' as const,
        direction: 'outbound' as const,
        customerId: row.customer_id,
        sessionId: input.sessionId ?? null,
        messageId: input.messageId ?? null,
        sender: row.sender,
        recipient,
        detail: { action: 'vaulted', vaultId: row.id, malware: row.malware, source: input.malware.source },
      })),
    );
  });
  ctx.log.warn({ event: 'filter.vaulted', id: row.id, account: row.account_id, malware: row.malware }, 'filter.vaulted');
  return vaultEntry(row);
}

const NOT_FOUND = text('No such vaulted message', 'Message consigné introuvable');

/** The operator only: anyone else gets "not found", as if the vault did not exist. */
function operatorOnly(scope: Scope): void {
  if (scope !== null) throw notFound(NOT_FOUND);
}

export async function listVault(
  ctx: AppContext,
  scope: Scope,
  query: { customerId?: string; limit: number; after?: string },
): Promise<{ items: VaultEntry[]; next: string | null }> {
  operatorOnly(scope);
  let q = ctx.db.selectFrom('malware_vault').selectAll();
  if (query.customerId) q = q.where('customer_id', '=', query.customerId);
  if (query.after) q = q.where('id', '<', query.after);
  const rows = await q.orderBy('id', 'desc').limit(query.limit).execute();
  return { items: rows.map(vaultEntry), next: rows.length === query.limit ? (rows.at(-1)?.id ?? null) : null };
}

export interface VaultRead {
  entry: VaultEntry;
  /** The message as it was submitted, base64 (never rendered). */
  contentBase64: string;
  /** This read, as recorded. */
  read: { id: string; loginId: string; reason: string; readAt: string };
}

/** Reads a vaulted message (the operator only), recording who, when and why first (R-A2). */
export async function readVault(ctx: AppContext, scope: Scope, id: string, by: { loginId: string; reason: string }): Promise<VaultRead> {
  operatorOnly(scope);
  const reason = by.reason.trim();
  if (reason.length < MIN_REASON_CHARS || reason.length > MAX_REASON_CHARS) {
    throw invalid(
      'reason-required',
      'reason',
      `Say why you read this message (${MIN_REASON_CHARS} to ${MAX_REASON_CHARS} characters)`,
      `Indiquez pourquoi vous lisez ce message (de ${MIN_REASON_CHARS} à ${MAX_REASON_CHARS} caractères)`,
    );
  }
  const row = await ctx.db.selectFrom('malware_vault').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound(NOT_FOUND);
  const read = { id: newId('vrd'), vault_id: row.id, login_id: by.loginId, reason, read_at: ctx.clock.now() };
  await ctx.db.insertInto('vault_reads').values(read).execute();
  ctx.log.warn({ event: 'filter.vault_read', id: row.id, login: by.loginId }, 'filter.vault_read');
  let content: Buffer;
  try {
    content = await buffer(readContent(ctx, row.blob_id));
  } catch (error) {
    throw new AppError('temp', 'vault-unreadable', text('The message content cannot be read now', 'Le contenu du message est illisible pour le moment'), {
      cause: error,
    });
  }
  return {
    entry: vaultEntry(row),
    contentBase64: content.toString('base64'),
    read: { id: read.id, loginId: read.login_id, reason: read.reason, readAt: new Date(read.read_at).toISOString() },
  };
}

/** The journal of reads of one vaulted message (the operator only). */
export async function listVaultReads(
  ctx: AppContext,
  scope: Scope,
  id: string,
): Promise<Array<{ id: string; loginId: string; reason: string; readAt: string }>> {
  operatorOnly(scope);
  const rows = await ctx.db.selectFrom('vault_reads').selectAll().where('vault_id', '=', id).orderBy('read_at').execute();
  return rows.map((r) => ({ id: r.id, loginId: r.login_id, reason: r.reason, readAt: new Date(Number(r.read_at)).toISOString() }));
}

/** The job: removes vaulted messages past their retention, with their blob references (the read journal stays). */
export async function purgeVault(ctx: AppContext): Promise<{ purged: number }> {
  let purged = 0;
  for (;;) {
    const rows = await ctx.db
      .selectFrom('malware_vault')
      .select(['id', 'blob_id'])
      .where('purge_at', '<=', ctx.clock.now())
      .orderBy('purge_at')
      .limit(PURGE_BATCH)
      .execute();
    if (rows.length === 0) break;
    purged += await ctx.db.transaction().execute(async (trx) => {
      const released: string[] = [];
      for (const row of rows) {
        const deleted = Number((await trx.deleteFrom('malware_vault').where('id', '=', row.id).executeTakeFirst()).numDeletedRows);
        if (deleted > 0) released.push(row.blob_id);
      }
      await releaseContents(trx, released);
      return released.length;
    });
    if (rows.length < PURGE_BATCH) break;
  }
  if (purged > 0) ctx.log.info({ event: 'filter.vault_purged', purged }, 'filter.vault_purged');
  return { purged };
}
