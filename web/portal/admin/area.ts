/** The customer administrator's area: its routes (pages loaded on demand) and menu. */
import type { Area } from '../../lib/area.ts';
import { messages } from '../../lib/i18n.ts';
import { admin } from '../../messages/admin.ts';

const ROLES = ['customer_admin'] as const;

export const adminArea: Area = {
  routes: [{ path: '/admin', roles: ROLES, load: () => import('./Overview.tsx') }],
  nav() {
    const m = messages(admin).nav;
    return [{ href: '/admin', label: m.overview }];
  },
};
