/**
 * The tables, one interface each. Conventions shared by both engines: ids are prefixed text
 * (shared/ids.ts), times are epoch milliseconds in bigint columns, booleans are 0/1 integers,
 * structured values are JSON text. Every table a customer owns has `customer_id` (the tenant) first.
 */
import type { Generated } from 'kysely';

export type Millis = number;
export type Flag = 0 | 1;

export interface SettingsTable {
  key: string;
  value: string; // JSON
  updated_at: Millis;
}

export interface CustomersTable {
  id: string;
  name: string;
  contact_email: string;
  language: 'en' | 'fr';
  phone: string | null;
  address: string | null;
  vat_number: string | null;
  status: 'active' | 'suspended' | 'closed';
  created_at: Millis;
  updated_at: Millis;
}

/** Portal logins: operators (customer_id null) and customer admins. */
export interface LoginsTable {
  id: string;
  customer_id: string | null;
  role: 'operator' | 'customer_admin';
  email: string;
  display_name: string;
  language: 'en' | 'fr';
  password_hash: string;
  totp_secret: string | null;
  totp_enabled: Flag;
  /** RFC 6238 §5.2: the last accepted time step, so a code is never accepted twice. */
  totp_last_step: number | null;
  recovery_codes: string; // JSON array of argon2 hashes, each used once
  status: 'active' | 'disabled';
  created_at: Millis;
  updated_at: Millis;
}

export interface ClassesTable {
  id: string; // slug, e.g. "standard"
  name_en: string;
  name_fr: string;
  quota_bytes: number;
  messages_per_minute_per_recipient: number;
  recipients_per_message: number;
  max_message_bytes: number;
  recipients_per_hour: number | null;
  recipients_per_day: number | null;
  features: string; // JSON array of feature names
  created_at: Millis;
  updated_at: Millis;
}

export interface SubscriptionsTable {
  id: string;
  customer_id: string;
  status: 'pending' | 'active' | 'ended';
  period_months: number;
  billing_cycle: 'monthly' | 'quarterly' | 'yearly';
  /** A renewal for another duration, applied at the next renewal (§8). */
  next_period_months: number | null;
  cancel_at_period_end: Flag;
  activated_at: Millis | null;
  current_period_start: Millis | null;
  current_period_end: Millis | null;
  cancelled_at: Millis | null;
  ended_at: Millis | null;
  end_reason: string | null;
  created_at: Millis;
  updated_at: Millis;
}

export interface LicencesTable {
  customer_id: string;
  subscription_id: string;
  class_id: string;
  quantity: number;
  /** Accounts of this class in the subscription, kept in the same transaction as every account change. */
  used: number;
}

export interface LabelsTable {
  customer_id: string;
  id: string;
  subscription_id: string;
  name: string;
  color: string | null;
  created_at: Millis;
}

export interface DomainsTable {
  customer_id: string;
  id: string;
  subscription_id: string;
  name: string; // ASCII (punycode), unique across domains and domain aliases
  status: 'pending' | 'active';
  dkim_selector: string;
  dkim_private_key: string; // PKCS#8 PEM
  dkim_public_key: string; // base64 SPKI DER, as published in p=
  last_check: string | null; // JSON DomainCheck
  checked_at: Millis | null;
  created_at: Millis;
}

/** Keys around a domain's signing key (migration 006): the next one, pending, and previous ones in their grace period. */
export interface DkimKeysTable {
  id: string; // dk_…
  customer_id: string;
  domain_id: string;
  selector: string;
  private_key: string | null; // PKCS#8 PEM while pending; null once previous (it signs no more)
  public_key: string; // base64 SPKI DER
  state: 'pending' | 'previous';
  created_at: Millis;
  retire_at: Millis | null; // previous keys: when they stop being listed
}

export interface DomainContactsTable {
  customer_id: string;
  domain_id: string;
  kind: 'administrative' | 'technical' | 'billing';
  name: string;
  email: string;
  phone: string | null;
}

export interface DomainAliasesTable {
  customer_id: string;
  id: string;
  domain_id: string;
  name: string;
  created_at: Millis;
}

/** One row per hosted domain name (domains and domain aliases), so a name is unique on both engines. */
export interface DomainNamesTable {
  name: string;
  customer_id: string;
  kind: 'domain' | 'alias';
  domain_id: string;
}

/** One row per routable address, whatever owns it, so an address is unique on both engines. */
export interface AddressesTable {
  address: string; // addressKey(): lower-cased local part @ ASCII domain
  customer_id: string;
  kind: 'account' | 'alias' | 'list';
  owner_id: string;
}

export interface AccountsTable {
  customer_id: string;
  id: string;
  subscription_id: string;
  domain_id: string;
  address: string;
  class_id: string;
  display_name: string;
  language: 'en' | 'fr';
  password_hash: string;
  totp_secret: string | null;
  totp_enabled: Flag;
  totp_last_step: number | null;
  recovery_codes: string;
  status: 'active' | 'suspended' | 'blocked' | 'disabled';
  created_at: Millis;
  updated_at: Millis;
  password_changed_at: Millis;
  /** Highest UIDVALIDITY given to a folder of this account (migration 007). */
  last_uid_validity: number;
}

export interface AppPasswordsTable {
  customer_id: string;
  id: string;
  account_id: string;
  name: string;
  password_hash: string;
  created_at: Millis;
  last_used_at: Millis | null;
}

export interface AliasesTable {
  customer_id: string;
  id: string;
  domain_id: string;
  address: string;
  destinations: string; // JSON array of addresses
  created_at: Millis;
}

export interface ListsTable {
  customer_id: string;
  id: string;
  domain_id: string;
  address: string;
  name: string;
  posting_policy: 'members' | 'anyone' | 'moderators';
  moderators: string; // JSON array of addresses
  created_at: Millis;
}

export interface ListMembersTable {
  customer_id: string;
  list_id: string;
  address: string;
  created_at: Millis;
  /** Bounces that came back from this member's copies (migration 014). */
  bounce_count?: number;
  last_bounce_at?: Millis | null;
}

export interface TicketsTable {
  customer_id: string;
  id: string;
  subject: string;
  category: 'general' | 'unblock' | 'restore' | 'billing' | 'technical';
  status: 'open' | 'answered' | 'closed';
  opened_by: string;
  created_at: Millis;
  updated_at: Millis;
}

export interface TicketMessagesTable {
  customer_id: string;
  id: string;
  ticket_id: string;
  author_role: 'operator' | 'customer_admin';
  author_id: string;
  body: string;
  created_at: Millis;
}

export interface OperationsTable {
  id: string;
  customer_id: string | null;
  subscription_id: string | null;
  kind: string;
  actor_role: string;
  actor_id: string;
  params: string; // JSON
  status: 'running' | 'succeeded' | 'failed';
  progress: number; // 0..100
  progress_message: string | null;
  result: string | null; // JSON
  error: string | null; // JSON { code, en, fr }
  created_at: Millis;
  finished_at: Millis | null;
  lease_until: Millis;
}

/** At most one running operation per subscription: the primary key is the lock. */
export interface OperationLocksTable {
  subscription_id: string;
  operation_id: string;
  /** 1 for long operations: others are refused at once; 0 for quick ones: others wait briefly. */
  background: Flag;
  lease_until: Millis;
}

export interface SessionsTable {
  id: string; // sha256 of the cookie secret
  principal_role: 'operator' | 'customer_admin' | 'user';
  principal_id: string;
  customer_id: string | null;
  /** 'enrol': must set up TOTP first; 'totp': must enter a code; 'full': logged in. */
  stage: 'enrol' | 'totp' | 'full';
  csrf_token: string;
  created_at: Millis;
  expires_at: Millis;
}

export interface ApiTokensTable {
  customer_id: string;
  id: string;
  name: string;
  token_hash: string; // sha256 of the secret; the secret is shown once
  created_by: string;
  created_at: Millis;
  last_used_at: Millis | null;
  expires_at: Millis | null;
}

export interface JobRunsTable {
  name: string;
  last_started_at: Millis | null;
  last_finished_at: Millis | null;
  lease_until: Millis;
  last_result: string | null;
}

export interface MailboxesTable {
  customer_id: string;
  id: string;
  account_id: string;
  /** Full name with '/' as the hierarchy delimiter; INBOX is always "INBOX". */
  name: string;
  special_use: 'inbox' | 'sent' | 'drafts' | 'junk' | 'trash' | 'archive' | null;
  uid_validity: number;
  uid_next: number;
  highest_modseq: number;
  /** IMAP \Recent: the highest UID a session was already given as recent (migration 010). */
  recent_uid: number;
  /** The MODSEQ up to which the expunge history was trimmed (migration 013): older states resync in full. */
  expunged_floor: number;
  subscribed: Flag;
  created_at: Millis;
}

/** Subscribed names whose folder was deleted (RFC 3501 §6.3.6; migration 016). */
export interface LostSubscriptionsTable {
  customer_id: string;
  account_id: string;
  name: string;
  created_at: Millis;
}

export interface MessagesTable {
  customer_id: string;
  id: string;
  account_id: string;
  mailbox_id: string;
  uid: number;
  modseq: number;
  blob_id: string;
  size: number;
  internal_date: Millis;
  /** JSON array: system flags (\\Seen …) and keywords. */
  flags: string;
  subject: string;
  from_address: string;
  message_id: string | null;
  sent_date: Millis | null;
  /** JSON MessageMetadata (mime/): envelope, body structure with offsets, header fields. */
  metadata: string;
  created_at: Millis;
  /** Migration 011 (mailstore/message-keys.ts): the account's conversation and the keys of SORT and THREAD; NULL until filled. */
  thread_id: string | null;
  sort_subject: string | null;
  subject_is_reply: number | null;
  sort_from: string | null;
  sort_to: string | null;
  sort_cc: string | null;
  sort_display_from: string | null;
  sort_display_to: string | null;
  thread_message_id: string | null;
  /** JSON array of normalized message ids. */
  thread_references: string | null;
}

/** Which conversation a (message id, base subject) belongs to, per account (migration 011). */
export interface ThreadLinksTable {
  customer_id: string;
  account_id: string;
  link_key: string;
  thread_id: string;
  created_at: Millis;
}

export interface ExpungedMessagesTable {
  mailbox_id: string;
  uid: number;
  modseq: number;
  /** Migration 018: the expunged row's id and conversation (JMAP Email/changes, Thread/changes); NULL before it. */
  message_id: string | null;
  thread_id: string | null;
}

/** Blobs by content hash, with how many messages use each. */
export interface BlobsTable {
  id: string;
  size: number;
  refcount: number;
  created_at: Millis;
  /** Set when the collector has decided to remove the content (migration 015): no new reference may be taken. */
  condemned_at?: Millis | null;
}

/** A delivery's claim on a content until it commits its references (migration 015). */
export interface BlobReservationsTable {
  id: string;
  blob_id: string;
  expires_at: Millis;
}

/** Contents of small blobs, kept in the database (see migration 005). */
export interface BlobContentsTable {
  id: string;
  data: Uint8Array;
}

/**
 * The searchable text of a content (migration 012), case-folded: every header field (`headers`, for
 * SEARCH TEXT), the decoded Subject, From, To, Cc and Bcc, and the decoded text of its text parts.
 */
export interface MessageTextsTable {
  id: Generated<number>;
  blob_id: string;
  headers: string;
  subject: string;
  from_field: string;
  to_field: string;
  cc_field: string;
  bcc_field: string;
  body: string;
}

export interface MailUsageTable {
  account_id: string;
  customer_id: string;
  used_bytes: number;
  message_count: number;
}

/** One step of a message's path (R-M6). */
export interface MessageTraceTable {
  id: string;
  /** The customer whose mail it is (recipient's inbound, sender's outbound); null when none is. */
  customer_id: string | null;
  /** The SMTP session or queue entry that ties the steps of one transfer together. */
  session_id: string | null;
  message_id: string | null;
  step:
    | 'received'
    | 'refused'
    | 'verdict'
    | 'stored'
    | 'filtered'
    | 'quarantined'
    | 'released'
    | 'queued'
    | 'attempted'
    | 'delivered'
    | 'deferred'
    | 'bounced'
    | 'expired'
    | 'deleted'
    /** An alias or a list and the recipients it led to (migration 014). */
    | 'expanded';
  direction: 'inbound' | 'outbound' | 'local';
  sender: string;
  recipient: string | null;
  detail: string; // JSON
  at: Millis;
}

/** The outbound queue (R-M2): one row per recipient; due rows are taken with a lease. */
export interface OutboundQueueTable {
  id: string;
  customer_id: string | null;
  /** The envelope sender; '' for the null sender of a bounce. */
  sender: string;
  recipient: string;
  /** The recipient's domain in ASCII: the destination rows are grouped by. */
  domain: string;
  blob_id: string;
  size: number;
  status: 'queued' | 'sending' | 'delivered' | 'bounced' | 'expired';
  attempts: number;
  /** When due; while 'sending', equal to lease_until, so a row whose lease ran out is due again. */
  next_attempt_at: Millis;
  lease_until: Millis | null;
  lease_owner: string | null;
  last_error: string | null;
  created_at: Millis;
  expires_at: Millis;
  dsn_sent: Flag;
  /** The Message-ID (without brackets) of what the row carries, for the trace (migration 014). */
  message_id?: string | null;
  /** When the row became final (migration 013); the retention job purges it `retention.finishedQueueDays` later. */
  finished_at: Millis | null;
}

/** Allow and block lists (migration 008): a domain's (account_id null) or an account's. */
export interface SenderRulesTable {
  customer_id: string;
  id: string;
  domain_id: string;
  account_id: string | null;
  /** An address, a domain (`example.com`) or its subdomains (`.example.com`). */
  pattern: string;
  kind: 'allow' | 'block';
  created_at: Millis;
}

/** Held messages (R-S1): outside the mailbox and its quota, with their verdict. */
export interface QuarantineTable {
  customer_id: string;
  id: string;
  account_id: string;
  domain_id: string;
  blob_id: string;
  size: number;
  sender: string;
  recipient: string;
  subject: string;
  from_header: string;
  message_id: string | null;
  reason: 'spam' | 'blocked-sender' | 'failed-safe';
  score: number;
  /** JSON FilterSymbol[]. */
  symbols: string;
  /** JSON MessageMetadata. */
  metadata: string;
  received_at: Millis;
  expires_at: Millis;
  digested_at: Millis | null;
}

export interface BayesTokensTable {
  /** 'global' or a domain id. */
  scope: string;
  token: string;
  spam: number;
  ham: number;
}

export interface BayesTotalsTable {
  scope: string;
  spam: number;
  ham: number;
}

/** Outbound mail that carried malware (R-V1), kept for a year; only the operator reads it (R-A2). */
export interface MalwareVaultTable {
  customer_id: string;
  id: string;
  account_id: string;
  blob_id: string;
  size: number;
  sender: string;
  /** JSON string[]. */
  recipients: string;
  malware: string;
  received_at: Millis;
  purge_at: Millis;
}

export interface VaultReadsTable {
  id: string;
  vault_id: string;
  login_id: string;
  reason: string;
  read_at: Millis;
}

/** Filter preferences of a domain or an account; null columns fall back to the level above. */
export interface FilterPrefsTable {
  customer_id: string;
  owner_id: string;
  quarantine_score: number | null;
  reject_score: number | null;
  blocked_action: 'reject' | 'quarantine' | null;
  digest: 'weekly' | 'daily' | 'off' | null;
  last_digest_at: Millis | null;
}

export interface DigestLinksTable {
  id: string;
  quarantine_id: string;
  action: 'release' | 'delete';
  expires_at: Millis;
  used_at: Millis | null;
}

/** What users taught the filter (migration 019, filter/learning.ts). */
export interface FilterLessonsTable {
  customer_id: string;
  account_id: string;
  blob_id: string;
  wanted: 'spam' | 'ham';
  learned: 'spam' | 'ham' | null;
  /** JSON array of the Bayes scopes the counts were added to. */
  scopes: string | null;
  /** The hashed tokens counted, space-separated. */
  tokens: string | null;
  pending: number;
  /** imap-move, imap-copy, keyword, report, release, digest. */
  source: string;
  updated_at: Millis;
}

/** The operator's corpus imports (migration 019): what each message counted as, per scope. */
export interface FilterCorpusTable {
  scope: string;
  /** sha256 of the message, hex. */
  digest: string;
  learned: 'spam' | 'ham';
  tokens: string;
  imported_at: Millis;
}

export interface Database {
  settings: SettingsTable;
  filter_corpus: FilterCorpusTable;
  filter_lessons: FilterLessonsTable;
  customers: CustomersTable;
  logins: LoginsTable;
  classes: ClassesTable;
  subscriptions: SubscriptionsTable;
  licences: LicencesTable;
  labels: LabelsTable;
  domains: DomainsTable;
  domain_contacts: DomainContactsTable;
  dkim_keys: DkimKeysTable;
  domain_aliases: DomainAliasesTable;
  domain_names: DomainNamesTable;
  addresses: AddressesTable;
  accounts: AccountsTable;
  app_passwords: AppPasswordsTable;
  aliases: AliasesTable;
  lists: ListsTable;
  list_members: ListMembersTable;
  tickets: TicketsTable;
  ticket_messages: TicketMessagesTable;
  operations: OperationsTable;
  operation_locks: OperationLocksTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  job_runs: JobRunsTable;
  mailboxes: MailboxesTable;
  lost_subscriptions: LostSubscriptionsTable;
  messages: MessagesTable;
  thread_links: ThreadLinksTable;
  expunged_messages: ExpungedMessagesTable;
  blobs: BlobsTable;
  mail_usage: MailUsageTable;
  blob_contents: BlobContentsTable;
  message_texts: MessageTextsTable;
  blob_reservations: BlobReservationsTable;
  message_trace: MessageTraceTable;
  outbound_queue: OutboundQueueTable;
  sender_rules: SenderRulesTable;
  quarantine: QuarantineTable;
  bayes_tokens: BayesTokensTable;
  bayes_totals: BayesTotalsTable;
  malware_vault: MalwareVaultTable;
  vault_reads: VaultReadsTable;
  filter_prefs: FilterPrefsTable;
  digest_links: DigestLinksTable;
}
