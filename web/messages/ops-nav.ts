/** The menu's words of the operator console: apart from the pages' catalogue, which only their chunks load. */
const en = { customers: 'Customers', classes: 'Classes and limits', queue: 'Outbound queue', vault: 'Malware vault', jobs: 'Job runs' };

const fr: typeof en = {
  customers: 'Clients',
  classes: 'Classes et limites',
  queue: 'File sortante',
  vault: 'Coffre des logiciels malveillants',
  jobs: 'Tâches planifiées',
};

export const opsNav: { en: typeof en; fr: typeof en } = { en, fr };
