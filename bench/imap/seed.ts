/**
 * Seeds Facteur's store for bench/imap, in the bench process, before `facteur serve` starts on the
 * same data:
 *   - the load accounts: messages through the real write path (receiveMessage + deliverMessage, group
 *     committed), with their flags and internal dates;
 *   - the IDLE accounts and the 100,000-message folder: rows inserted directly, every message sharing
 *     one small blob (the mailstore path would take minutes; what is measured is reading them).
 * The IDLE accounts get a low-cost argon2id hash (m=1 MiB, t=1) so that 10,000 logins take seconds:
 * password hashing is not what that figure is about. The load accounts keep the default hash.
 */
import { Readable } from 'node:stream';
import { hash } from '@node-rs/argon2';
import { loadConfig } from '../../src/config/index.ts';
import { type AppContext, createContext } from '../../src/context.ts';
import { createLogger } from '../../src/log/index.ts';
import {
  deliverMessage,
  ensureDefaultMailboxes,
  type IncomingMessage,
  indexMissingTexts,
  mailboxByRole,
  messageKeysOf,
  persistContent,
  receiveMessage,
} from '../../src/mailstore/index.ts';
import { prepareData } from '../../src/main.ts';
import { newId } from '../../src/shared/ids.ts';
import type { AccountsTable, MessagesTable } from '../../src/store/index.ts';
import { addDomain, createAccount, createCustomer, createSubscription } from '../../src/tenancy/index.ts';
import { makeMessage } from './messages.ts';

export const DOMAIN = 'bench.test';
export const PASSWORD = 'bench-password-1';

export const loadUser = (i: number) => `load${i}@${DOMAIN}`;
export const idleUser = (i: number) => `idle${String(i).padStart(5, '0')}@${DOMAIN}`;
export const BIG_USER = `big@${DOMAIN}`;

export interface SeedPlan {
  loadAccounts: number;
  messagesPerAccount: number;
  idleAccounts: number;
  idleInboxMessages: number;
  bigFolderMessages: number;
}

export interface SeedFigures {
  loadSeedMs: number;
  directSeedMs: number;
}

async function insertAccounts(
  ctx: AppContext,
  base: { customer_id: string; subscription_id: string; domain_id: string },
  addresses: string[],
  passwordHash: string,
) {
  const now = Date.now();
  const ids: AccountsTable[] = [];
  for (let i = 0; i < addresses.length; i += 500) {
    const rows: AccountsTable[] = addresses.slice(i, i + 500).map((address) => ({
      ...base,
      id: newId('acc'),
      address,
      class_id: 'premium',
      display_name: address.split('@')[0] as string,
      language: 'en',
      password_hash: passwordHash,
      totp_secret: null,
      totp_enabled: 0,
      totp_last_step: null,
      recovery_codes: '[]',
      status: 'active',
      created_at: now,
      updated_at: now,
      password_changed_at: now,
      last_uid_validity: 0,
    }));
    await ctx.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('addresses')
        .values(rows.map((r) => ({ address: r.address, customer_id: r.customer_id, kind: 'account' as const, owner_id: r.id })))
        .execute();
      await trx.insertInto('accounts').values(rows).execute();
    });
    ids.push(...rows);
  }
  await ctx.db
    .updateTable('licences')
    .set((eb) => ({ used: eb('used', '+', addresses.length) }))
    .where('subscription_id', '=', base.subscription_id)
    .where('class_id', '=', 'premium')
    .execute();
  return ids;
}

/** `count` copies of one stored message in an account's Inbox, inserted as rows (UIDs 1..count). */
async function fillInbox(ctx: AppContext, account: AccountsTable, message: IncomingMessage, count: number): Promise<void> {
  const now = Date.now();
  await ensureDefaultMailboxes(ctx.db, account, now);
  const inbox = await mailboxByRole(ctx.db, account.id, 'inbox');
  if (!inbox) throw new Error('no inbox');
  const metadata = JSON.stringify(message.metadata);
  const { summary } = message.metadata;
  const keys = messageKeysOf(message.metadata);
  for (let start = 1; start <= count; start += 2000) {
    const rows: MessagesTable[] = [];
    for (let uid = start; uid < Math.min(start + 2000, count + 1); uid++) {
      rows.push({
        customer_id: account.customer_id,
        id: newId('msg'),
        account_id: account.id,
        mailbox_id: inbox.id,
        uid,
        modseq: uid + 1,
        blob_id: message.blob.id,
        size: message.blob.size,
        internal_date: now - (count - uid) * 60_000,
        flags: uid % 10 === 0 ? '[]' : uid % 50 === 1 ? '["\\\\Seen","\\\\Flagged"]' : '["\\\\Seen"]',
        subject: summary.subject,
        from_address: summary.from,
        message_id: summary.messageId ?? null,
        sent_date: summary.date,
        metadata,
        created_at: now,
        ...keys,
        thread_id: newId('thr'),
      });
    }
    await ctx.db.transaction().execute(async (trx) => {
      // SQLite allows 32,766 parameters per statement: 26 columns × 1,000 rows.
      for (let i = 0; i < rows.length; i += 1000)
        await trx
          .insertInto('messages')
          .values(rows.slice(i, i + 1000))
          .execute();
    });
  }
  await ctx.db
    .updateTable('mailboxes')
    .set({ uid_next: count + 1, highest_modseq: count + 1 })
    .where('id', '=', inbox.id)
    .execute();
  await ctx.db
    .insertInto('mail_usage')
    .values({ account_id: account.id, customer_id: account.customer_id, used_bytes: message.blob.size * count, message_count: count })
    .execute();
}

export async function seedFacteur(env: Record<string, string>, plan: SeedPlan): Promise<SeedFigures> {
  const ctx = await createContext(loadConfig({ env }), { log: createLogger('warn') });
  try {
    await prepareData(ctx);
    const customer = await createCustomer(ctx, { name: 'Bench IMAP', contactEmail: 'it@bench.test' });
    const subscription = await createSubscription(ctx, {
      customerId: customer.id,
      licences: { premium: plan.loadAccounts + plan.idleAccounts + 1 },
      months: 12,
    });
    const domain = await addDomain(ctx, subscription.id, DOMAIN);

    // Load accounts: the real write path, 50 deliveries in flight so group commit batches them.
    const t0 = performance.now();
    for (let a = 0; a < plan.loadAccounts; a++) {
      const { account } = await createAccount(ctx, null, subscription.id, { address: loadUser(a), classId: 'premium', password: PASSWORD });
      for (let i = 0; i < plan.messagesPerAccount; i += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, plan.messagesPerAccount - i) }, async (_, k) => {
            const m = makeMessage(i + k, loadUser(a), a + 1);
            const received = await receiveMessage(ctx, Readable.from([m.raw]), { maxBytes: 1 << 22 });
            const [result] = await deliverMessage(ctx, received, [{ accountId: account.id, flags: m.flags, internalDate: m.internalDate.getTime() }]);
            if (!result?.ok) throw new Error(`delivery failed: ${JSON.stringify(result)}`);
          }),
        );
      }
    }
    // Deliveries are committed in batches but in the order of arrival: UIDs follow the index only
    // roughly, which does not matter to the load (it picks messages by sequence number).
    const loadSeedMs = performance.now() - t0;
    // The heavy mix needs only the load accounts.
    if (plan.idleAccounts === 0 && plan.bigFolderMessages === 0) return { loadSeedMs, directSeedMs: 0 };

    // Direct rows: one small shared blob.
    const t1 = performance.now();
    const small = makeMessage(0, idleUser(0), 99);
    const shared = await receiveMessage(ctx, Readable.from([small.raw]), { maxBytes: 1 << 22 });
    await ctx.db.transaction().execute((trx) => persistContent(ctx, trx, shared.blob));
    const base = { customer_id: customer.id, subscription_id: subscription.id, domain_id: domain.id };
    const cheapHash = await hash(PASSWORD, { algorithm: 2, memoryCost: 1024, timeCost: 1, parallelism: 1 });
    const idleAccounts = await insertAccounts(
      ctx,
      base,
      Array.from({ length: plan.idleAccounts }, (_, i) => idleUser(i)),
      cheapHash,
    );
    for (const account of idleAccounts) if (plan.idleInboxMessages > 0) await fillInbox(ctx, account, shared, plan.idleInboxMessages);
    const [big] = await insertAccounts(ctx, base, [BIG_USER], cheapHash);
    if (big) await fillInbox(ctx, big, shared, plan.bigFolderMessages);
    const refs = plan.idleAccounts * plan.idleInboxMessages + plan.bigFolderMessages;
    // persistContent may have made the row already (an inline content): set the count of the rows inserted directly.
    await ctx.db
      .insertInto('blobs')
      .values({ id: shared.blob.id, size: shared.blob.size, refcount: refs, created_at: Date.now() })
      .onConflict((oc) => oc.column('id').doUpdateSet({ refcount: refs }))
      .execute();
    await indexMissingTexts(ctx); // the rows inserted directly: their (one shared) text, as the search.index job would
    return { loadSeedMs, directSeedMs: performance.now() - t1 };
  } finally {
    await ctx.close();
  }
}
