/** The API's answers the customer admin's pages read (as src/api/schemas.ts sends them). */
export type Bilingual = { en: string; fr: string };

export interface Licence {
  classId: string;
  quantity: number;
  used: number;
  available: number;
}

export interface ClassInfo {
  id: string;
  name: Bilingual;
  quotaBytes: number;
  limits: {
    messagesPerMinutePerRecipient: number;
    recipientsPerMessage: number;
    maxMessageBytes: number;
    standardMessageBytes: number;
    recipientsPerHour: number | null;
    recipientsPerDay: number | null;
  };
  features: string[];
}

export interface Label {
  id: string;
  subscriptionId: string;
  name: string;
  color: string | null;
}

export type BillingCycle = 'monthly' | 'quarterly' | 'yearly';

export interface Subscription {
  id: string;
  customerId: string;
  status: 'pending' | 'active' | 'ended';
  periodMonths: number;
  nextPeriodMonths: number | null;
  billingCycle: BillingCycle;
  activatedAt: string | null;
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
  cancelAtPeriodEnd: boolean;
  cancelledAt: string | null;
  endedAt: string | null;
  endReason: string | null;
  licences: Licence[];
  createdAt: string;
}

export interface SubscriptionDetails extends Subscription {
  domains: { id: string; name: string; displayName: string; status: string }[];
  labels: Label[];
  classes: ClassInfo[];
  accountCount: number;
}

export type RecordKind = 'mx' | 'spf' | 'dkim' | 'dmarc';
export type RecordStatus = 'ok' | 'missing' | 'wrong' | 'error';

export interface DnsRecord {
  kind: RecordKind;
  type: 'MX' | 'TXT';
  host: string;
  value: string;
  priority?: number;
  description: Bilingual;
  rotation?: 'pending' | 'previous';
  selector?: string;
}

export interface CheckedRecord extends DnsRecord {
  status: RecordStatus;
  found: string[];
  message: Bilingual;
}

export interface Contact {
  name: string;
  email: string;
  phone: string | null;
}

export type ContactKind = 'administrative' | 'technical' | 'billing';

export interface Domain {
  id: string;
  name: string;
  displayName: string;
  customerId: string;
  subscriptionId: string;
  status: 'pending' | 'active';
  dkim: {
    selector: string;
    publicKey: string;
    pending: { selector: string; publicKey: string; createdAt: string } | null;
    previous: { selector: string; publicKey: string; retireAt: string }[];
  };
  records: DnsRecord[];
  lastCheck: { domain: string; checkedAt: string; ok: boolean; records: CheckedRecord[] } | null;
  contacts: Record<ContactKind, Contact | null>;
  aliases: { id: string; name: string; displayName: string }[];
  createdAt: string;
}

export interface Operation {
  id: string;
  kind: string;
  status: 'running' | 'succeeded' | 'failed';
  progress: number;
  progressMessage: string | null;
  customerId: string | null;
  subscriptionId: string | null;
  actor: { role: string; id: string };
  params: Record<string, unknown> | null;
  result: Record<string, unknown> | null;
  error: { code: string; kind: string; en: string; fr: string; field?: string } | null;
  createdAt: string;
  finishedAt: string | null;
  durationMs: number | null;
}
