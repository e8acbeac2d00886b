/** What the user's pages read from the API, and small helpers they share. */

import type { FormState } from '../../ds/Form.tsx';
import { Problem } from '../../lib/api.ts';

export interface Me {
  role: 'user';
  account: {
    id: string;
    address: string;
    displayAddress: string;
    displayName: string;
    language: 'en' | 'fr';
    twoFactorEnabled: boolean;
    passwordChangedAt: string;
  };
  passwordRules?: { minLength: number; maxLength: number };
}

export type Digest = 'weekly' | 'daily' | 'off';

export interface FilterPrefs {
  own: { digest: Digest | null };
  effective: { digest: Digest };
}

export interface AppPassword {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface QuarantineEntry {
  id: string;
  sender: string;
  recipient: string;
  from: string;
  subject: string;
  size: number;
  reason: string;
  score: number;
  symbols: { name: string; score: number; reason: { en: string; fr: string } }[];
  receivedAt: string;
  expiresAt: string;
}

export interface QuarantinePreview extends QuarantineEntry {
  headers: { name: string; value: string }[];
  text: string;
  textTruncated: boolean;
  attachments: { filename: string | null; contentType: string; size: number }[];
}

export interface SenderRule {
  id: string;
  pattern: string;
  kind: 'allow' | 'block';
  createdAt: string;
}

export interface ClientSettings {
  username: string;
  useAppPassword: boolean;
  webUrl: string;
  servers: { protocol: 'imap' | 'pop3' | 'smtp'; host: string; port: number; security: 'tls' | 'starttls' }[];
}

/**
 * The API's message for a field: the API names it `newPassword` in its own checks and `/newPassword`
 * (a JSON pointer) when the request's schema refused it.
 */
export function fieldError(form: FormState, name: string): string | undefined {
  return form.errorFor(name) ?? form.errorFor(`/${name}`);
}

/** Error summary links for fields the API names as JSON pointers. */
export function pointerIds(...ids: string[]): Record<string, string> {
  return Object.fromEntries(ids.map((id) => [`/${id}`, id]));
}

/** A problem found before asking the API (two passwords that differ), shown like the API's. */
export function clientProblem(detail: string, field: string): Problem {
  return new Problem(0, 'client', detail, detail, field);
}
