/**
 * Account classes (R-T2): each offer fixes an account's storage quota, its sending limits (contract
 * §6, defaults from settings) and its features. Default classes exist from the first start and are
 * editable by the operator without code.
 */
import type { Config } from '../config/index.ts';
import type { AppContext } from '../context.ts';
import { invalid, text } from '../shared/errors.ts';
import type { ClassesTable } from '../store/index.ts';
import { claimUnique, ensureFound, requireText } from './common.ts';

export const FEATURES = ['imap', 'pop3', 'webmail', 'calendar', 'contacts', 'filters', 'autoreply', 'archive'] as const;
export type Feature = (typeof FEATURES)[number];

const GIB = 1024 ** 3;

export interface ClassView {
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

export function classView(row: ClassesTable, config: Config): ClassView {
  return {
    id: row.id,
    name: { en: row.name_en, fr: row.name_fr },
    quotaBytes: row.quota_bytes,
    limits: {
      messagesPerMinutePerRecipient: row.messages_per_minute_per_recipient,
      recipientsPerMessage: row.recipients_per_message,
      maxMessageBytes: row.max_message_bytes,
      standardMessageBytes: Math.min(config.limits.standardMessageBytes, row.max_message_bytes),
      recipientsPerHour: row.recipients_per_hour,
      recipientsPerDay: row.recipients_per_day,
    },
    features: JSON.parse(row.features) as string[],
  };
}

function defaultClasses(config: Config, now: number): ClassesTable[] {
  const limits = {
    messages_per_minute_per_recipient: config.limits.messagesPerMinutePerRecipient,
    recipients_per_message: config.limits.recipientsPerMessage,
    max_message_bytes: config.limits.maxMessageBytes,
    recipients_per_hour: null,
    recipients_per_day: null,
    created_at: now,
    updated_at: now,
  };
  return [
    { id: 'basic', name_en: 'Basic', name_fr: 'Essentiel', quota_bytes: 5 * GIB, features: JSON.stringify(['imap', 'pop3', 'webmail']), ...limits },
    {
      id: 'standard',
      name_en: 'Standard',
      name_fr: 'Standard',
      quota_bytes: 25 * GIB,
      features: JSON.stringify(['imap', 'pop3', 'webmail', 'calendar', 'contacts', 'filters', 'autoreply']),
      ...limits,
    },
    { id: 'premium', name_en: 'Premium', name_fr: 'Premium', quota_bytes: 100 * GIB, features: JSON.stringify([...FEATURES]), ...limits },
  ];
}

/** Creates the default classes when there are none yet (first start). */
export async function seedDefaultClasses(ctx: AppContext): Promise<void> {
  const existing = await ctx.db.selectFrom('classes').select('id').limit(1).executeTakeFirst();
  if (existing) return;
  await ctx.db
    .insertInto('classes')
    .values(defaultClasses(ctx.config, ctx.clock.now()))
    .onConflict((oc) => oc.doNothing())
    .execute();
}

export async function listClasses(ctx: AppContext): Promise<ClassView[]> {
  const rows = await ctx.db.selectFrom('classes').selectAll().orderBy('quota_bytes').orderBy('id').execute();
  return rows.map((row) => classView(row, ctx.config));
}

export async function getClassRow(ctx: AppContext, id: string): Promise<ClassesTable> {
  const row = await ctx.db.selectFrom('classes').selectAll().where('id', '=', id).executeTakeFirst();
  return ensureFound(row, text(`No class ${id}`, `Aucune classe ${id}`));
}

export interface ClassInput {
  id?: string;
  name?: { en?: string; fr?: string };
  quotaBytes?: number;
  limits?: {
    messagesPerMinutePerRecipient?: number;
    recipientsPerMessage?: number;
    maxMessageBytes?: number;
    recipientsPerHour?: number | null;
    recipientsPerDay?: number | null;
  };
  features?: string[];
}

function checkFeatures(features: string[]): string[] {
  for (const feature of features) {
    if (!(FEATURES as readonly string[]).includes(feature)) {
      throw invalid(
        'unknown-feature',
        'features',
        `Unknown feature ${feature} (known: ${FEATURES.join(', ')})`,
        `Fonctionnalité inconnue ${feature} (connues : ${FEATURES.join(', ')})`,
      );
    }
  }
  return [...new Set(features)];
}

export async function createClass(ctx: AppContext, input: ClassInput): Promise<ClassView> {
  const id = (input.id ?? '').trim().toLowerCase();
  if (!/^[a-z][a-z0-9-]{1,31}$/.test(id)) {
    throw invalid(
      'invalid-class-id',
      'id',
      'A class id has 2 to 32 lower-case letters, digits or dashes',
      "L'identifiant de classe comporte de 2 à 32 lettres minuscules, chiffres ou tirets",
    );
  }
  const now = ctx.clock.now();
  const limits = input.limits ?? {};
  const row: ClassesTable = {
    id,
    name_en: requireText(input.name?.en, 'name.en', 64, text('The English name', 'Le nom anglais')),
    name_fr: requireText(input.name?.fr, 'name.fr', 64, text('The French name', 'Le nom français')),
    quota_bytes: input.quotaBytes ?? 5 * GIB,
    messages_per_minute_per_recipient: limits.messagesPerMinutePerRecipient ?? ctx.config.limits.messagesPerMinutePerRecipient,
    recipients_per_message: limits.recipientsPerMessage ?? ctx.config.limits.recipientsPerMessage,
    max_message_bytes: limits.maxMessageBytes ?? ctx.config.limits.maxMessageBytes,
    recipients_per_hour: limits.recipientsPerHour ?? null,
    recipients_per_day: limits.recipientsPerDay ?? null,
    features: JSON.stringify(checkFeatures(input.features ?? ['imap', 'pop3', 'webmail'])),
    created_at: now,
    updated_at: now,
  };
  await claimUnique('id', text(`The class ${id} already exists`, `La classe ${id} existe déjà`), () => ctx.db.insertInto('classes').values(row).execute());
  return classView(row, ctx.config);
}

export async function updateClass(ctx: AppContext, id: string, input: ClassInput): Promise<ClassView> {
  const current = await getClassRow(ctx, id);
  const limits = input.limits ?? {};
  const next: ClassesTable = {
    ...current,
    name_en: input.name?.en !== undefined ? requireText(input.name.en, 'name.en', 64, text('The English name', 'Le nom anglais')) : current.name_en,
    name_fr: input.name?.fr !== undefined ? requireText(input.name.fr, 'name.fr', 64, text('The French name', 'Le nom français')) : current.name_fr,
    quota_bytes: input.quotaBytes ?? current.quota_bytes,
    messages_per_minute_per_recipient: limits.messagesPerMinutePerRecipient ?? current.messages_per_minute_per_recipient,
    recipients_per_message: limits.recipientsPerMessage ?? current.recipients_per_message,
    max_message_bytes: limits.maxMessageBytes ?? current.max_message_bytes,
    recipients_per_hour: limits.recipientsPerHour !== undefined ? limits.recipientsPerHour : current.recipients_per_hour,
    recipients_per_day: limits.recipientsPerDay !== undefined ? limits.recipientsPerDay : current.recipients_per_day,
    features: input.features ? JSON.stringify(checkFeatures(input.features)) : current.features,
    updated_at: ctx.clock.now(),
  };
  await ctx.db.updateTable('classes').set(next).where('id', '=', id).execute();
  return classView(next, ctx.config);
}
