/** The operator console. */
import type { Messages } from '../lib/i18n.ts';

const en = {
  nav: { customers: 'Customers' },
  customers: { title: 'Customers' },
};

const fr: typeof en = {
  nav: { customers: 'Clients' },
  customers: { title: 'Clients' },
};

export const ops: Messages<typeof en> = { en, fr };
