/** The customer administrator's pages (R-T1..T7, contract §7). */
import type { Messages } from '../lib/i18n.ts';

const en = {
  nav: { overview: 'Subscription' },
  overview: { title: 'Your subscription' },
};

const fr: typeof en = {
  nav: { overview: 'Abonnement' },
  overview: { title: 'Votre abonnement' },
};

export const admin: Messages<typeof en> = { en, fr };
