/**
 * The menu entries of the customer admin's mail pages and settings: apart from their pages' words
 * (web/messages/admin-mail.ts), because the menu is part of the first load and the pages are not.
 */
import type { Messages } from '../lib/i18n.ts';

const en = { accounts: 'Accounts', aliases: 'Aliases', lists: 'Mailing lists', admins: 'Administrators', tokens: 'API tokens', faq: 'Help: mail clients' };

const fr: typeof en = {
  accounts: 'Comptes',
  aliases: 'Alias',
  lists: 'Listes de diffusion',
  admins: 'Administrateurs',
  tokens: 'Jetons d’API',
  faq: 'Aide : logiciels de messagerie',
};

export const adminMailNav: Messages<typeof en> = { en, fr };
