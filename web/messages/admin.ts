/** The customer administrator's area: the menu's words (loaded with the shell; each page brings its own texts). */
import type { Messages } from '../lib/i18n.ts';

const en = {
  nav: { overview: 'Subscription', domains: 'Domains', operations: 'Operations journal' },
};

const fr: typeof en = {
  nav: { overview: 'Abonnement', domains: 'Domaines', operations: 'Journal des opérations' },
};

export const admin: Messages<typeof en> = { en, fr };
