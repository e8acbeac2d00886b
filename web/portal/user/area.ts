/** A mail user's self-service area. */
import type { Area } from '../../lib/area.ts';
import { messages } from '../../lib/i18n.ts';
import { sharedNav } from '../../messages/shared-nav.ts';
import { user } from '../../messages/user.ts';

const ROLES = ['user'] as const;

export const userArea: Area = {
  routes: [
    { path: '/me', roles: ROLES, load: () => import('./Account.tsx') },
    // Self-service (part C): second factor, app passwords, quarantine, sender rules, mail client settings.
    { path: '/me/two-factor', roles: ROLES, load: () => import('./TwoFactor.tsx') },
    { path: '/me/app-passwords', roles: ROLES, load: () => import('./AppPasswords.tsx') },
    { path: '/me/quarantine', roles: ROLES, load: () => import('./Quarantine.tsx') },
    { path: '/me/quarantine/:id', roles: ROLES, load: () => import('./QuarantineMessage.tsx') },
    { path: '/me/senders', roles: ROLES, load: () => import('./Senders.tsx') },
    { path: '/me/mail-clients', roles: ROLES, load: () => import('./MailClients.tsx') },
    // The operator's accesses to this mailbox (R-A2, part D).
    { path: '/me/audit', roles: ROLES, load: () => import('../common/Audit.tsx') },
  ],
  nav() {
    const m = messages(user).nav;
    return [
      { href: '/me', label: m.account },
      // Self-service (part C)
      { href: '/me/two-factor', label: m.twoFactor },
      { href: '/me/app-passwords', label: m.appPasswords },
      { href: '/me/quarantine', label: m.quarantine },
      { href: '/me/senders', label: m.senders },
      { href: '/me/mail-clients', label: m.mailClients },
      // Part D.
      { href: '/me/audit', label: messages(sharedNav).myAudit },
    ];
  },
};
