/**
 * The filter (issue 5): allow and block lists per user and per domain, held messages (quarantine),
 * Bayes token counts shared by every node, the outbound malware vault and its read journal, filter
 * preferences (thresholds, digest frequency) per domain and per account, and single-use digest links.
 */
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped schema of their time
export async function up(db: Kysely<any>): Promise<void> {
  const s = db.schema;
  /** One rule: `pattern` is an address, a domain (`example.com`) or its subdomains (`.example.com`). */
  await s
    .createTable('sender_rules')
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('domain_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text') // null: the rule is the domain's, set by the customer admin
    .addColumn('pattern', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull()) // allow | block
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await s.createIndex('sender_rules_owner').on('sender_rules').columns(['domain_id', 'account_id', 'pattern']).unique().execute();

  await s
    .createTable('quarantine')
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('domain_id', 'text', (c) => c.notNull())
    .addColumn('blob_id', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('sender', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('from_header', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text')
    .addColumn('reason', 'text', (c) => c.notNull()) // spam | blocked-sender | failed-safe
    .addColumn('score', 'double precision', (c) => c.notNull())
    .addColumn('symbols', 'text', (c) => c.notNull()) // JSON FilterSymbol[]
    .addColumn('metadata', 'text', (c) => c.notNull()) // JSON MessageMetadata
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('digested_at', 'bigint') // set once the message was listed in a digest
    .execute();
  await s.createIndex('quarantine_account').on('quarantine').columns(['account_id', 'received_at']).execute();
  await s.createIndex('quarantine_expiry').on('quarantine').columns(['expires_at']).execute();

  await s
    .createTable('bayes_tokens')
    .addColumn('scope', 'text', (c) => c.notNull()) // 'global' or a domain id
    .addColumn('token', 'text', (c) => c.notNull())
    .addColumn('spam', 'integer', (c) => c.notNull())
    .addColumn('ham', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('bayes_tokens_pk', ['scope', 'token'])
    .execute();
  await s
    .createTable('bayes_totals')
    .addColumn('scope', 'text', (c) => c.primaryKey())
    .addColumn('spam', 'integer', (c) => c.notNull())
    .addColumn('ham', 'integer', (c) => c.notNull())
    .execute();

  await s
    .createTable('malware_vault')
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull()) // the sender
    .addColumn('blob_id', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('sender', 'text', (c) => c.notNull())
    .addColumn('recipients', 'text', (c) => c.notNull()) // JSON string[]
    .addColumn('malware', 'text', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addColumn('purge_at', 'bigint', (c) => c.notNull())
    .execute();
  await s.createIndex('malware_vault_purge').on('malware_vault').columns(['purge_at']).execute();
  /** R-A2: every operator read of a vaulted message. */
  await s
    .createTable('vault_reads')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('vault_id', 'text', (c) => c.notNull())
    .addColumn('login_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('read_at', 'bigint', (c) => c.notNull())
    .execute();

  /** Thresholds and digest frequency; `owner_id` is a domain id or an account id. Absent: the settings' defaults. */
  await s
    .createTable('filter_prefs')
    .addColumn('customer_id', 'text', (c) => c.notNull())
    .addColumn('owner_id', 'text', (c) => c.primaryKey())
    .addColumn('quarantine_score', 'double precision')
    .addColumn('reject_score', 'double precision')
    .addColumn('blocked_action', 'text') // reject | quarantine
    .addColumn('digest', 'text') // weekly | daily | off
    .addColumn('last_digest_at', 'bigint')
    .execute();

  /** Links of digests: signed tokens name a row here, which a use marks (single use). */
  await s
    .createTable('digest_links')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('quarantine_id', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull()) // release | delete
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('the filter migration is not reversible');
}
