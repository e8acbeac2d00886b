/** The API's records the operator console shows (as GET /api/openapi.json describes them). */
export interface Customer {
  id: string;
  name: string;
  contactEmail: string;
  language: 'en' | 'fr';
  phone: string | null;
  address: string | null;
  vatNumber: string | null;
  status: 'active' | 'suspended' | 'closed';
  createdAt: string;
}

export interface Subscription {
  id: string;
  customerId: string;
  status: 'pending' | 'active' | 'ended';
  periodMonths: number;
  billingCycle: 'monthly' | 'quarterly' | 'yearly';
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
  cancelAtPeriodEnd: boolean;
  endedAt: string | null;
  licences: { classId: string; quantity: number; used: number; available: number }[];
  createdAt: string;
}

export interface AccountClass {
  id: string;
  name: { en: string; fr: string };
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

export interface Login {
  id: string;
  email: string;
  displayName: string;
  twoFactorEnabled: boolean;
  status: 'active' | 'disabled';
  createdAt: string;
}

export const FEATURES = ['imap', 'pop3', 'webmail', 'calendar', 'contacts', 'filters', 'autoreply', 'archive'] as const;
