/** The customer administrator's area: its routes (pages loaded on demand) and menu. */
import type { Area } from '../../lib/area.ts';
import { messages } from '../../lib/i18n.ts';
import { admin } from '../../messages/admin.ts';

const ROLES = ['customer_admin'] as const;

export const adminArea: Area = {
  routes: [
    // Subscription and domains (web-a)
    { path: '/admin', roles: ROLES, load: () => import('./Overview.tsx') },
    { path: '/admin/domains', roles: ROLES, load: () => import('./Domains.tsx') },
    { path: '/admin/domains/:id', roles: ROLES, load: () => import('./Domain.tsx') },
    { path: '/admin/operations', roles: ROLES, load: () => import('./Operations.tsx') },
  ],
  nav() {
    const m = messages(admin).nav;
    return [
      // Subscription and domains (web-a)
      { href: '/admin', label: m.overview },
      { href: '/admin/domains', label: m.domains },
      { href: '/admin/operations', label: m.operations },
    ];
  },
};
