/** The customer administrator's area: its routes (pages loaded on demand) and menu. */
import type { Area } from '../../lib/area.ts';
import { messages } from '../../lib/i18n.ts';
import { admin } from '../../messages/admin.ts';
import { sharedNav } from '../../messages/shared-nav.ts';

const ROLES = ['customer_admin'] as const;

export const adminArea: Area = {
  routes: [
    { path: '/admin', roles: ROLES, load: () => import('./Overview.tsx') },
    // Shared with the operator console (part D): tickets, trace, journal; and the audit log (R-A2).
    { path: '/admin/tickets', roles: ROLES, load: () => import('../common/Tickets.tsx') },
    { path: '/admin/tickets/:id', roles: ROLES, load: () => import('../common/Ticket.tsx') },
    { path: '/admin/trace', roles: ROLES, load: () => import('../common/Trace.tsx') },
    { path: '/admin/journal', roles: ROLES, load: () => import('../common/Journal.tsx') },
    { path: '/admin/audit', roles: ROLES, load: () => import('../common/Audit.tsx') },
  ],
  nav() {
    const m = messages(admin).nav;
    const s = messages(sharedNav);
    return [
      { href: '/admin', label: m.overview },
      // Part D's pages, kept together.
      { href: '/admin/tickets', label: s.tickets },
      { href: '/admin/trace', label: s.trace },
      { href: '/admin/journal', label: s.journal },
      { href: '/admin/audit', label: s.audit },
    ];
  },
};
