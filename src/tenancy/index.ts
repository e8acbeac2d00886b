/**
 * Tenancy: customers, their logins, subscriptions and licences, classes, domains, accounts, aliases,
 * mailing lists, labels and support tickets. Never imports a protocol, the API or the web UI.
 */
export * from './accounts.ts';
export * from './aliases.ts';
export * from './classes.ts';
export type { Scope } from './common.ts';
export * from './customers.ts';
export * from './details.ts';
export { type DkimRotationView, nextSelector } from './dkim.ts';
export * from './domains.ts';
export { type FaqPage, getFaqPage, listFaqPages } from './faq.ts';
export * from './labels.ts';
export * from './lists.ts';
export * from './subscriptions.ts';
export * from './tickets.ts';
