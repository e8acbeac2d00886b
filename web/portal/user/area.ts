/** A mail user's self-service area. */
import type { Area } from '../../lib/area.ts';
import { messages } from '../../lib/i18n.ts';
import { user } from '../../messages/user.ts';

const ROLES = ['user'] as const;

export const userArea: Area = {
  routes: [{ path: '/me', roles: ROLES, load: () => import('./Account.tsx') }],
  nav() {
    const m = messages(user).nav;
    return [{ href: '/me', label: m.account }];
  },
};
