/** A mail user's self-service area. */
import type { Area } from '../../lib/area.ts';
import { messages } from '../../lib/i18n.ts';
import { sharedNav } from '../../messages/shared-nav.ts';
import { user } from '../../messages/user.ts';

const ROLES = ['user'] as const;

export const userArea: Area = {
  routes: [
    { path: '/me', roles: ROLES, load: () => import('./Account.tsx') },
    // The operator's accesses to this mailbox (R-A2, part D).
    { path: '/me/audit', roles: ROLES, load: () => import('../common/Audit.tsx') },
  ],
  nav() {
    const m = messages(user).nav;
    return [
      { href: '/me', label: m.account },
      // Part D.
      { href: '/me/audit', label: messages(sharedNav).myAudit },
    ];
  },
};
