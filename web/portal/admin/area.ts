/** The customer administrator's area: its routes (pages loaded on demand) and menu. */
import type { Area } from '../../lib/area.ts';
import { messages } from '../../lib/i18n.ts';
import { admin } from '../../messages/admin.ts';
import { adminMailNav } from '../../messages/admin-mail-nav.ts';
import { sharedNav } from '../../messages/shared-nav.ts';

const ROLES = ['customer_admin'] as const;

export const adminArea: Area = {
  routes: [
    // Subscription, domains and the journal
    { path: '/admin', roles: ROLES, load: () => import('./Overview.tsx') },
    { path: '/admin/domains', roles: ROLES, load: () => import('./Domains.tsx') },
    { path: '/admin/domains/:id', roles: ROLES, load: () => import('./Domain.tsx') },
    { path: '/admin/operations', roles: ROLES, load: () => import('./Operations.tsx') },
    // Accounts, aliases, lists, admins, API tokens, FAQ
    { path: '/admin/accounts', roles: ROLES, load: () => import('./mail/Accounts.tsx') },
    { path: '/admin/accounts/new', roles: ROLES, load: () => import('./mail/NewAccount.tsx') },
    { path: '/admin/accounts/:id', roles: ROLES, load: () => import('./mail/Account.tsx') },
    { path: '/admin/aliases', roles: ROLES, load: () => import('./mail/Aliases.tsx') },
    { path: '/admin/lists', roles: ROLES, load: () => import('./mail/Lists.tsx') },
    { path: '/admin/lists/:id', roles: ROLES, load: () => import('./mail/MailingList.tsx') },
    { path: '/admin/admins', roles: ROLES, load: () => import('./settings/Admins.tsx') },
    { path: '/admin/tokens', roles: ROLES, load: () => import('./settings/Tokens.tsx') },
    { path: '/admin/faq', roles: ROLES, load: () => import('./settings/Faq.tsx') },
    { path: '/admin/faq/:slug', roles: ROLES, load: () => import('./settings/Faq.tsx') },
    // Shared with the operator console: tickets, trace, the journal's operator view; the audit log (R-A2).
    { path: '/admin/tickets', roles: ROLES, load: () => import('../common/Tickets.tsx') },
    { path: '/admin/tickets/:id', roles: ROLES, load: () => import('../common/Ticket.tsx') },
    { path: '/admin/trace', roles: ROLES, load: () => import('../common/Trace.tsx') },
    { path: '/admin/journal', roles: ROLES, load: () => import('../common/Journal.tsx') },
    { path: '/admin/audit', roles: ROLES, load: () => import('../common/Audit.tsx') },
  ],
  nav() {
    const m = messages(admin).nav;
    const b = messages(adminMailNav);
    const s = messages(sharedNav);
    // One entry for the journal: the admin's own page (/admin/operations); /admin/journal stays reachable.
    return [
      { href: '/admin', label: m.overview },
      { href: '/admin/domains', label: m.domains },
      { href: '/admin/accounts', label: b.accounts },
      { href: '/admin/aliases', label: b.aliases },
      { href: '/admin/lists', label: b.lists },
      { href: '/admin/admins', label: b.admins },
      { href: '/admin/tokens', label: b.tokens },
      { href: '/admin/operations', label: m.operations },
      { href: '/admin/tickets', label: s.tickets },
      { href: '/admin/trace', label: s.trace },
      { href: '/admin/audit', label: s.audit },
      { href: '/admin/faq', label: b.faq },
    ];
  },
};
