/** A mail user's self-service pages. */
import type { Messages } from '../lib/i18n.ts';

const en = {
  nav: { account: 'My account' },
  account: { title: 'My account' },
};

const fr: typeof en = {
  nav: { account: 'Mon compte' },
  account: { title: 'Mon compte' },
};

export const user: Messages<typeof en> = { en, fr };
