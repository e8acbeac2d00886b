/** The operator console: its pages are chunks that only an operator's browser loads. */
import type { Area } from '../lib/area.ts';
import { messages } from '../lib/i18n.ts';
import { opsNav } from '../messages/ops-nav.ts';
import { sharedNav } from '../messages/shared-nav.ts';

const ROLES = ['operator'] as const;

export const opsArea: Area = {
  routes: [
    { path: '/ops', roles: ROLES, load: () => import('./Customers.tsx') },
    { path: '/ops/customers', roles: ROLES, load: () => import('./Customers.tsx') },
    { path: '/ops/customers/:id', roles: ROLES, load: () => import('./Customer.tsx') },
    { path: '/ops/classes', roles: ROLES, load: () => import('./Classes.tsx') },
    { path: '/ops/tickets', roles: ROLES, load: () => import('../portal/common/Tickets.tsx') },
    { path: '/ops/tickets/:id', roles: ROLES, load: () => import('../portal/common/Ticket.tsx') },
    { path: '/ops/trace', roles: ROLES, load: () => import('../portal/common/Trace.tsx') },
    { path: '/ops/journal', roles: ROLES, load: () => import('../portal/common/Journal.tsx') },
    { path: '/ops/queue', roles: ROLES, load: () => import('./Queue.tsx') },
    { path: '/ops/vault', roles: ROLES, load: () => import('./Vault.tsx') },
    { path: '/ops/jobs', roles: ROLES, load: () => import('./Jobs.tsx') },
    { path: '/ops/audit', roles: ROLES, load: () => import('../portal/common/Audit.tsx') },
  ],
  nav() {
    const m = messages(opsNav);
    const s = messages(sharedNav);
    return [
      // Not '/ops': the shell marks a menu item current for the paths under it, and every page is under /ops.
      { href: '/ops/customers', label: m.customers },
      { href: '/ops/classes', label: m.classes },
      { href: '/ops/tickets', label: s.tickets },
      { href: '/ops/trace', label: s.trace },
      { href: '/ops/journal', label: s.journal },
      { href: '/ops/queue', label: m.queue },
      { href: '/ops/vault', label: m.vault },
      { href: '/ops/jobs', label: m.jobs },
      { href: '/ops/audit', label: s.audit },
    ];
  },
};
