/** The operator console: its pages are chunks that only an operator's browser loads. */
import type { Area } from '../lib/area.ts';
import { messages } from '../lib/i18n.ts';
import { ops } from '../messages/ops.ts';

const ROLES = ['operator'] as const;

export const opsArea: Area = {
  routes: [{ path: '/ops', roles: ROLES, load: () => import('./Customers.tsx') }],
  nav() {
    const m = messages(ops).nav;
    return [{ href: '/ops', label: m.customers }];
  },
};
