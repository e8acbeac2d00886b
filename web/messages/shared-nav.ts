/** The menu's words of the shared pages (tickets, trace, journal, audit): apart from the pages' catalogue, which only their chunks load. */
const en = { tickets: 'Support tickets', trace: 'Message trace', journal: 'Operations journal', audit: 'Audit log', myAudit: 'Accesses to my mailbox' };

const fr: typeof en = {
  tickets: 'Tickets de support',
  trace: 'Trace des messages',
  journal: 'Journal des opérations',
  audit: 'Journal d’audit',
  myAudit: 'Accès à ma boîte',
};

export const sharedNav: { en: typeof en; fr: typeof en } = { en, fr };
