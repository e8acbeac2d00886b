/**
 * The customer admin's subscription and domains in a real browser (issue 15, contract §7), in French
 * and in English: subscription details and sending limits, labels, billing cycle, renewal,
 * cancellation and its withdrawal, adding a domain with its progress, the DNS wizard against the DNS
 * server on loopback (a missing record, then OK once the zone is fixed), domain aliases, contacts,
 * DKIM rotation, a conflicting change answered 409, and the operations journal. Every result is read
 * back through the API; free texts carry a stored-XSS attempt that must show as text.
 *
 * The service gets its own DNS server with a longer timeout (so a domain whose DNS does not answer
 * keeps its operation running for seconds: long enough to try a conflicting change) and 2048-bit DKIM
 * keys (whose record is longer than one 255-character string, as in production).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { dkimSelector } from '../../src/dns/index.ts';
import {
  assertAccessible,
  assertClean,
  type BrowserPage,
  browserAvailable,
  ensureWebBuilt,
  launchBrowser,
  logInThroughPage,
  needsBrowser,
  openPage,
  screenshot,
  WIDTHS,
} from '../helpers/browser.ts';
import { ApiClient, type CustomerSetup, expectStatus, operatorClient, secretOf, setupCustomer, waitForOperation } from '../helpers/client.ts';
import { type DnsServer, startDnsServer } from '../helpers/dns-server.ts';
import { startTestService, type TestService } from '../helpers/service.ts';

const XSS = '<img src=x onerror=alert(1)><script>alert(2)</script>';
const TOKEN_NAME = 'ci <b>deploy</b>';
const LANGS = ['en', 'fr'] as const;
type Lang = (typeof LANGS)[number];

const domainOf = (lang: Lang) => `wizard-${lang}.test`;

/** Each customer's DNS when it adds its domain: the MX already right, the SPF an old provider's. */
function zone() {
  const out: Record<string, { MX?: { exchange: string; priority: number }[]; TXT?: string[][] }> = {};
  for (const lang of LANGS) {
    out[domainOf(lang)] = { MX: [{ exchange: 'mail.provider.test', priority: 10 }], TXT: [['v=spf1 include:_spf.ancien-hebergeur.test -all']] };
  }
  return out;
}

/** The words of the pages, as a user reads them. */
const WORDS = {
  en: {
    subscription: 'Subscription',
    overviewTitle: 'Your subscription',
    licences: 'Licences per class',
    limits: 'Current sending limits',
    details: 'Details',
    labels: 'Labels',
    newLabel: 'New label',
    label: 'Label',
    colour: 'Colour',
    green: 'Green',
    red: 'Red',
    addLabel: 'Add the label',
    editLabel: (name: string) => `Edit the label ${name}`,
    removeLabel: (name: string) => `Remove the label ${name}`,
    saveLabel: 'Save the label',
    removeTitle: 'Remove this label?',
    remove: 'Remove',
    months: (n: number) => `${n} months`,
    mb: (n: number) => `${n} MB`,
    cycleField: 'Billing cycle',
    yearly: 'Yearly',
    changeCycle: 'Change the billing cycle',
    renewField: 'Length of the next periods, in months',
    renew: 'Renew for this duration',
    cancel: 'Cancel the subscription',
    cancelTitle: 'Cancel the subscription?',
    cancelConfirm: 'Cancel at the end of the period',
    fifteenDays: /15 days/,
    withdraw: 'Withdraw the cancellation',
    domainsTitle: 'Domains',
    domainName: 'Domain name',
    addDomain: 'Add the domain',
    wizard: 'Records to publish',
    mx: 'MX (receiving mail)',
    spf: 'SPF (who may send)',
    dkim: 'DKIM (signature key)',
    dmarc: 'DMARC (policy)',
    pendingKey: 'DKIM, new key',
    previousKey: 'DKIM, previous key',
    ok: 'Published correctly',
    missing: 'Missing',
    wrong: 'Incorrect',
    unchecked: 'Could not be checked',
    fix: 'What to fix',
    allOk: 'Every record is published correctly.',
    checkAgain: 'Check again',
    copyValue: (kind: string) => `Copy: value of the ${kind} record`,
    zone: 'Zone file',
    aliasField: 'Alias domain',
    addAlias: 'Add the alias',
    removeAlias: (name: string) => `Remove the alias ${name}`,
    removeAliasTitle: 'Remove this domain alias?',
    contacts: 'Contacts of the domain',
    technical: 'Technical contact',
    billing: 'Billing contact',
    name: 'Name',
    email: 'E-mail address',
    phone: 'Phone',
    saveContacts: 'Save the contacts',
    dkimSection: 'DKIM key',
    rotate: 'Rotate the DKIM key',
    activate: 'Sign with the new key now',
    cancelRotation: 'Cancel the rotation',
    cancelRotationTitle: 'Cancel the DKIM key rotation?',
    progress: /^Progress of adding /,
    busy: /Another operation is running on this subscription/,
    journal: 'Operations journal',
    domainAdded: 'Domain added',
    cycleChanged: 'Billing cycle changed',
    failed: 'Failed',
    succeeded: 'Succeeded',
    show: 'Show',
    onlyFailed: 'Failed',
    you: 'You',
    next: 'Next',
    token: (name: string) => `API token “${name}”`,
    removeDomain: 'Remove the domain',
    removeDomainTitle: 'Remove this domain?',
    domainInUse: /Remove the accounts, aliases and lists of this domain first/,
  },
  fr: {
    subscription: 'Abonnement',
    overviewTitle: 'Votre abonnement',
    licences: 'Licences par classe',
    limits: 'Limites d’envoi en vigueur',
    details: 'Détails',
    labels: 'Étiquettes',
    newLabel: 'Nouvelle étiquette',
    label: 'Étiquette',
    colour: 'Couleur',
    green: 'Vert',
    red: 'Rouge',
    addLabel: 'Ajouter l’étiquette',
    editLabel: (name: string) => `Modifier l’étiquette ${name}`,
    removeLabel: (name: string) => `Retirer l’étiquette ${name}`,
    saveLabel: 'Enregistrer l’étiquette',
    removeTitle: 'Retirer cette étiquette ?',
    remove: 'Retirer',
    months: (n: number) => `${n} mois`,
    mb: (n: number) => `${n} Mo`,
    cycleField: 'Périodicité de facturation',
    yearly: 'Annuelle',
    changeCycle: 'Changer la périodicité',
    renewField: 'Durée des prochaines périodes, en mois',
    renew: 'Renouveler pour cette durée',
    cancel: 'Résilier l’abonnement',
    cancelTitle: 'Résilier l’abonnement ?',
    cancelConfirm: 'Résilier à la fin de la période',
    fifteenDays: /15 jours/,
    withdraw: 'Annuler la résiliation',
    domainsTitle: 'Domaines',
    domainName: 'Nom de domaine',
    addDomain: 'Ajouter le domaine',
    wizard: 'Enregistrements à publier',
    mx: 'MX (réception du courrier)',
    spf: 'SPF (qui peut envoyer)',
    dkim: 'DKIM (clé de signature)',
    dmarc: 'DMARC (politique)',
    pendingKey: 'DKIM, nouvelle clé',
    previousKey: 'DKIM, clé précédente',
    ok: 'Correctement publié',
    missing: 'Absent',
    wrong: 'Incorrect',
    unchecked: 'Vérification impossible',
    fix: 'À corriger',
    allOk: 'Tous les enregistrements sont correctement publiés.',
    checkAgain: 'Vérifier de nouveau',
    copyValue: (kind: string) => `Copier: valeur de l’enregistrement ${kind}`,
    zone: 'Fichier de zone',
    aliasField: 'Domaine alias',
    addAlias: 'Ajouter l’alias',
    removeAlias: (name: string) => `Retirer l’alias ${name}`,
    removeAliasTitle: 'Retirer cet alias de domaine ?',
    contacts: 'Contacts du domaine',
    technical: 'Contact technique',
    billing: 'Contact facturation',
    name: 'Nom',
    email: 'Adresse e-mail',
    phone: 'Téléphone',
    saveContacts: 'Enregistrer les contacts',
    dkimSection: 'Clé DKIM',
    rotate: 'Renouveler la clé DKIM',
    activate: 'Signer avec la nouvelle clé maintenant',
    cancelRotation: 'Annuler le renouvellement',
    cancelRotationTitle: 'Annuler le renouvellement de la clé DKIM ?',
    progress: /^Avancement : ajout de /,
    busy: /Une autre opération est en cours sur cet abonnement/,
    journal: 'Journal des opérations',
    domainAdded: 'Domaine ajouté',
    cycleChanged: 'Périodicité de facturation modifiée',
    failed: 'Échouée',
    succeeded: 'Réussie',
    show: 'Afficher',
    onlyFailed: 'Échouées',
    you: 'Vous',
    next: 'Suivante',
    token: (name: string) => `Jeton d’API « ${name} »`,
    removeDomain: 'Retirer le domaine',
    removeDomainTitle: 'Retirer ce domaine ?',
    domainInUse: /Supprimez d'abord les comptes, alias et listes de ce domaine/,
  },
} as const;

let service: TestService;
let dns: DnsServer;
let browser: Browser | undefined;
let operator: ApiClient;
const customers = new Map<Lang, CustomerSetup>();
const domainIds = new Map<Lang, string>();

before(async () => {
  await ensureWebBuilt();
  dns = await startDnsServer(zone());
  service = await startTestService({ overrides: { dns: { servers: [dns.address], timeoutMs: 1500, dkimKeyBits: 2048 } } });
  operator = await operatorClient(service);
  for (const lang of LANGS) customers.set(lang, await setupCustomer(service, operator, `Abonne ${lang}`, { basic: 3, standard: 2 }));
  if (browserAvailable()) browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await service?.close();
  await dns?.close();
});

/** A page logged in as the customer's admin through the login page; a dialog (alert()) fails the test. */
async function adminPage(lang: Lang, setup: CustomerSetup, width: number = WIDTHS.desktop): Promise<BrowserPage> {
  const opened = await openPage(browser as Browser, { lang, width });
  opened.page.on('dialog', (dialog) => {
    opened.problems.push(`a dialog opened: ${dialog.message()}`);
    void dialog.dismiss();
  });
  await logInThroughPage(opened.page, service.url, new ApiClient(service.url, service.clock), {
    email: setup.adminEmail,
    password: setup.adminPassword,
    secret: secretOf(setup.adminEmail),
    lang,
  });
  return opened;
}

async function details(setup: CustomerSetup, id = setup.subscriptionId): Promise<any> {
  const reply = await setup.admin.get(`/api/subscriptions/${id}`);
  expectStatus(reply, 200);
  return reply.body;
}

async function domain(setup: CustomerSetup, id: string): Promise<any> {
  const reply = await setup.admin.get(`/api/domains/${id}`);
  expectStatus(reply, 200);
  return reply.body;
}

/** Polls the API until `check` holds (the page's change is asynchronous). */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) assert.fail(`${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A stored-XSS attempt is on the page as text, and nothing of it became markup. */
async function assertShownAsText(page: Page, text: string): Promise<void> {
  assert.ok((await page.getByText(text).count()) > 0, 'the text is shown as it was typed');
  assert.equal(await page.locator('img[src="x"]').count(), 0, 'no <img> was made of it');
  assert.equal(await page.evaluate('document.querySelectorAll("script:not([src])").length'), 0, 'no inline <script> was made of it');
}

/** axe and a screenshot at both widths, on the page as it is. */
async function checkBothWidths(page: Page, name: string): Promise<void> {
  for (const [widthName, width] of Object.entries(WIDTHS)) {
    await page.setViewportSize({ width, height: 900 });
    // Nothing wider than the screen (no sideways scrolling at 390 px). When something is, each element
    // is hidden in turn to name those whose absence fixes it (the deepest ones are the culprits).
    const wide = await page.evaluate(`(() => {
      if (document.documentElement.scrollWidth <= ${width}) return [];
      const culprits = [];
      for (const e of document.querySelectorAll('body *')) {
        const display = e.style.display;
        e.style.display = 'none';
        if (document.documentElement.scrollWidth <= ${width}) culprits.push(e.tagName + '.' + e.className + ' ' + (e.textContent || '').slice(0, 40));
        e.style.display = display;
      }
      return ['page wider than the screen', ...culprits.slice(-3)];
    })()`);
    assert.deepEqual(wide, [], `${name}: nothing overflows ${width} px`);
    await assertAccessible(page, `${name} (${width} px)`);
    await screenshot(page, `${name}-${widthName}`);
  }
  await page.setViewportSize({ width: WIDTHS.desktop, height: 900 });
}

for (const lang of LANGS) {
  const w = WORDS[lang];

  test(`R-T4 R-T2 R-T6 (${lang}) the subscription page shows licences per class used / bought, the period, renewal, billing cycle, domains, labels and the sending limits (§6); a customer with two subscriptions picks one by its labels`, async (t) => {
    if (!needsBrowser(t, browser)) return;
    const setup = await setupCustomer(service, operator, `Deux abonnements ${lang}`, { basic: 3, standard: 2 });
    const second = await operator.post('/api/subscriptions', { customerId: setup.customerId, licences: { premium: 1 }, months: 24 });
    expectStatus(second, 201);
    expectStatus(await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/labels`, { name: XSS }), 201);
    expectStatus(await setup.admin.post(`/api/subscriptions/${second.body.id}/labels`, { name: 'Agence Lyon', color: '#166534' }), 201);
    const overviewDomain = `apercu-${lang}.test`;
    const added = await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/domains`, { name: overviewDomain });
    expectStatus(added, 202);
    assert.equal((await waitForOperation(setup.admin, added.body.id)).status, 'succeeded');
    expectStatus(
      await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/accounts`, {
        address: `ana@${overviewDomain}`,
        classId: 'standard',
        password: 'ana-password-123',
      }),
      201,
    );

    const opened = await adminPage(lang, setup);
    const { page } = opened;
    await page.goto(`${service.url}/admin?s=${setup.subscriptionId}`);
    await page.getByRole('heading', { name: w.overviewTitle, level: 1 }).waitFor();
    // Licences per class, used / bought.
    const licences = page.getByRole('region', { name: w.licences });
    await licences.getByRole('row').filter({ hasText: 'Standard' }).filter({ hasText: '1 / 2' }).waitFor();
    await licences
      .getByRole('row')
      .filter({ hasText: lang === 'fr' ? 'Essentiel' : 'Basic' })
      .filter({ hasText: '0 / 3' })
      .waitFor();
    // The sending limits in force (§6): 100 a minute to one recipient, 100 recipients, 50 MB, 10 MB guaranteed.
    const limits = page.getByRole('region', { name: w.limits }).getByRole('row').filter({ hasText: 'Standard' });
    const limitsText = (await limits.textContent()) ?? '';
    assert.match(limitsText, /100.*100/);
    assert.ok(limitsText.includes(w.mb(50)) && limitsText.includes(w.mb(10)), limitsText);
    // The period and its renewal, the billing cycle, the domain.
    const facts = (await page.getByRole('region', { name: w.details }).textContent()) ?? '';
    assert.ok(facts.includes(w.months(12)), facts);
    assert.match(facts, lang === 'fr' ? /Mensuelle/ : /Monthly/);
    const end = new Date((await details(setup)).currentPeriodEnd);
    assert.ok(facts.includes(end.toLocaleDateString(lang === 'fr' ? 'fr-FR' : 'en-GB', { dateStyle: 'medium' })), `the end date is shown: ${facts}`);
    await page.getByRole('link', { name: overviewDomain }).waitFor();
    await assertShownAsText(page, XSS);
    await checkBothWidths(page, `admin-overview-${lang}`);

    // The other subscription, picked by its label.
    await page.getByLabel(w.subscription, { exact: true }).selectOption({ label: 'Agence Lyon' });
    await page.getByRole('region', { name: w.licences }).getByRole('row').filter({ hasText: 'Premium' }).filter({ hasText: '0 / 1' }).waitFor();
    assert.ok(((await page.getByRole('region', { name: w.details }).textContent()) ?? '').includes(w.months(24)));
    assert.equal(new URL(page.url()).searchParams.get('s'), second.body.id, 'the choice is in the address');

    // A domain that still has an account cannot be removed: the dialog shows why; Escape closes it.
    await page.goto(`${service.url}/admin/domains/${overviewDomain}`);
    await page.getByRole('button', { name: w.removeDomain }).click();
    const dialog = page.getByRole('dialog', { name: w.removeDomainTitle });
    assert.ok(((await dialog.textContent()) ?? '').includes(overviewDomain), 'the dialog names the domain');
    await dialog.getByRole('button', { name: w.removeDomain }).click();
    await dialog.getByRole('alert').getByText(w.domainInUse).waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expectStatus(await setup.admin.get(`/api/domains/${overviewDomain}`), 200);
    assertClean(opened);
    await opened.context.close();
  });

  test(`R-T4 (${lang}) labels are added, edited and removed in the browser; a label with markup is shown as text`, async (t) => {
    if (!needsBrowser(t, browser)) return;
    const setup = customers.get(lang) as CustomerSetup;
    const opened = await adminPage(lang, setup);
    const { page } = opened;
    await page.goto(`${service.url}/admin`);
    const form = page.getByRole('form', { name: w.newLabel });
    // An empty label is refused by the API, its message on the field.
    await form.getByRole('button', { name: w.addLabel }).click();
    await form.getByRole('alert').waitFor();
    assert.equal(await form.getByLabel(w.label).getAttribute('aria-invalid'), 'true');

    // With the keyboard alone: type the name, Tab to the colour, arrows to Green, Tab to the button, Enter.
    await form.getByLabel(w.label).focus();
    await page.keyboard.type(XSS);
    await page.keyboard.press('Tab');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    assert.equal(await form.getByLabel(w.colour).inputValue(), '#166534', `${w.green} chosen with the arrows`);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: w.editLabel(XSS) }).waitFor();
    let labels = (await details(setup)).labels;
    assert.deepEqual(
      labels.map((l: any) => [l.name, l.color]),
      [[XSS, '#166534']],
    );
    await assertShownAsText(page, XSS);

    await page.getByRole('button', { name: w.editLabel(XSS) }).click();
    const edit = page.getByRole('form', { name: w.editLabel(XSS) });
    await edit.getByLabel(w.label).fill('Projet Phénix');
    await edit.getByLabel(w.colour).selectOption({ label: w.red });
    await edit.getByRole('button', { name: w.saveLabel }).click();
    await page.getByRole('button', { name: w.editLabel('Projet Phénix') }).waitFor();
    labels = (await details(setup)).labels;
    assert.deepEqual(
      labels.map((l: any) => [l.name, l.color]),
      [['Projet Phénix', '#b42318']],
    );

    await page.getByRole('button', { name: w.removeLabel('Projet Phénix') }).click();
    const dialog = page.getByRole('dialog', { name: w.removeTitle });
    await dialog.waitFor();
    assert.match((await dialog.textContent()) ?? '', /Projet Phénix/, 'the dialog names what will be removed');
    await assertAccessible(page, `label removal dialog (${lang})`);
    await dialog.getByRole('button', { name: w.remove, exact: true }).click();
    await page.getByRole('button', { name: w.removeLabel('Projet Phénix') }).waitFor({ state: 'detached' });
    assert.deepEqual((await details(setup)).labels, []);
    assertClean(opened);
    await opened.context.close();
  });

  test(`R-T4 R-T6 (${lang}) the billing cycle is changed, the subscription renewed for another duration, cancelled at the period's end (explained, confirmed, with progress) and the cancellation withdrawn`, async (t) => {
    if (!needsBrowser(t, browser)) return;
    const setup = customers.get(lang) as CustomerSetup;
    const opened = await adminPage(lang, setup);
    const { page } = opened;
    await page.goto(`${service.url}/admin`);
    await page.getByRole('combobox', { name: w.cycleField }).selectOption({ label: w.yearly });
    await page.getByRole('button', { name: w.changeCycle }).click();
    await eventually(
      () => details(setup),
      (d) => d.billingCycle === 'yearly',
      'billing cycle',
    );
    await page.getByRole('region', { name: w.details }).getByText(w.yearly).waitFor();

    await page.getByLabel(w.renewField).fill('24');
    await page.getByRole('button', { name: w.renew }).click();
    await eventually(
      () => details(setup),
      (d) => d.nextPeriodMonths === 24,
      'renewal',
    );
    await page.getByRole('region', { name: w.details }).getByText(w.months(24), { exact: false }).waitFor();

    await page.getByRole('button', { name: w.cancel }).click();
    const dialog = page.getByRole('dialog', { name: w.cancelTitle });
    await dialog.waitFor();
    const end = new Date((await details(setup)).currentPeriodEnd).toLocaleDateString(lang === 'fr' ? 'fr-FR' : 'en-GB', { dateStyle: 'medium' });
    const explained = (await dialog.textContent()) ?? '';
    assert.ok(explained.includes(end), `the dialog says when the service stops: ${explained}`);
    assert.match(explained, w.fifteenDays, 'and what happens after');
    await assertAccessible(page, `cancellation dialog (${lang})`);
    await screenshot(page, `admin-cancel-dialog-${lang}-desktop`);
    await dialog.getByRole('button', { name: w.cancelConfirm }).click();
    await page.getByRole('button', { name: w.withdraw }).waitFor();
    const cancelled = await details(setup);
    assert.equal(cancelled.cancelAtPeriodEnd, true);
    assert.equal(cancelled.status, 'active', 'the service runs until the end of the period');
    const journal = (await setup.admin.get(`/api/operations?subscriptionId=${setup.subscriptionId}`)).body.items;
    assert.ok(
      journal.some((o: any) => o.kind === 'subscription.cancel' && o.status === 'succeeded'),
      'the cancellation ran as a recorded operation',
    );

    await page.getByRole('button', { name: w.withdraw }).click();
    await page.getByRole('button', { name: w.cancel }).waitFor();
    assert.equal((await details(setup)).cancelAtPeriodEnd, false);
    assertClean(opened);
    await opened.context.close();
  });

  test(`R-T3 R-T4 (${lang}) a domain added in the browser opens its DNS wizard: every record with Copy, DKIM in 255-character strings, a zone file, and the live check showing what to fix, then OK once the zone is fixed`, async (t) => {
    if (!needsBrowser(t, browser)) return;
    const setup = customers.get(lang) as CustomerSetup;
    const name = domainOf(lang);
    const opened = await adminPage(lang, setup);
    const { page } = opened;
    await page.getByRole('link', { name: w.domainsTitle, exact: true }).click();
    await page.getByRole('heading', { name: w.domainsTitle, level: 1 }).waitFor();
    await page.getByLabel(w.domainName).fill(name);
    await page.getByRole('button', { name: w.addDomain }).click();
    await page.getByRole('heading', { name, level: 1 }).waitFor();
    const listed = (await setup.admin.get(`/api/domains?subscriptionId=${setup.subscriptionId}`)).body.items;
    const id = listed.find((d: any) => d.name === name)?.id;
    assert.ok(id, 'the domain was added');
    domainIds.set(lang, id);
    const api = await domain(setup, id);
    const expected = Object.fromEntries(api.records.map((r: any) => [r.kind, r]));

    // Each record's status in words, with what to fix when it is not right.
    const card = (title: string) => page.getByRole('article', { name: title, exact: true });
    await card(w.mx).getByText(w.ok).waitFor();
    await card(w.spf).getByText(w.wrong).waitFor();
    const spf = (await card(w.spf).textContent()) ?? '';
    assert.ok(spf.includes(w.fix) && spf.includes('v=spf1 include:_spf.ancien-hebergeur.test -all'), `found value shown: ${spf}`);
    assert.ok(spf.includes(expected.spf.value), 'expected value shown');
    await card(w.dkim).getByText(w.missing).waitFor();
    await card(w.dmarc).getByText(w.missing).waitFor();

    // The DKIM value, longer than 255 characters, also as the strings some DNS hosts ask for.
    const dkimValue: string = expected.dkim.value;
    assert.ok(dkimValue.length > 255, 'a 2048-bit key');
    const strings = (dkimValue.match(/.{1,255}/g) as string[]).map((s) => `"${s}"`).join(' ');
    await card(w.dkim).getByText(strings, { exact: true }).waitFor();
    await card(w.dkim)
      .getByRole('button', { name: w.copyValue(w.dkim), exact: true })
      .click();
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), dkimValue, 'Copy puts the value on the clipboard');
    const zoneText = (await page.getByRole('region', { name: w.zone }).textContent()) ?? '';
    assert.ok(zoneText.includes(`${expected.dkim.host}.`) && zoneText.includes(strings), 'the zone file has the DKIM record in strings');
    assert.ok(zoneText.includes(`${name}.`) && zoneText.includes('10 mail.provider.test.'), 'and the MX');
    await checkBothWidths(page, `admin-dns-wizard-missing-${lang}`);

    // The customer publishes the records; "Check again" runs the live check: every record OK.
    dns.set(name, 'TXT', [[expected.spf.value]]);
    dns.set(expected.dkim.host, 'TXT', [[dkimValue]]);
    dns.set(expected.dmarc.host, 'TXT', [[expected.dmarc.value]]);
    await page.getByRole('button', { name: w.checkAgain }).click();
    await page.getByText(w.allOk).waitFor();
    for (const kind of [w.mx, w.spf, w.dkim, w.dmarc]) await card(kind).getByText(w.ok).waitFor();
    assert.equal(await page.getByText(w.fix).count(), 0, 'nothing left to fix');
    const checked = await domain(setup, id);
    assert.equal(checked.status, 'active');
    assert.equal(checked.lastCheck.ok, true);
    await checkBothWidths(page, `admin-dns-wizard-ok-${lang}`);
    assertClean(opened);
    await opened.context.close();
  });

  test(`R-T1 R-T4 (${lang}) domain aliases are added and removed, the three contacts set (a wrong address shown on its field), and the DKIM key rotation started, cancelled, then completed once its record is published`, async (t) => {
    if (!needsBrowser(t, browser)) return;
    const setup = customers.get(lang) as CustomerSetup;
    const id = domainIds.get(lang);
    assert.ok(id, 'the wizard test added the domain');
    const opened = await adminPage(lang, setup);
    const { page } = opened;
    await page.goto(`${service.url}/admin/domains/${id}`);
    await page.getByRole('heading', { name: domainOf(lang), level: 1 }).waitFor();

    const alias = `alias-${lang}.test`;
    await page.getByLabel(w.aliasField).fill(alias);
    await page.getByRole('button', { name: w.addAlias }).click();
    await page.getByRole('button', { name: w.removeAlias(alias) }).waitFor();
    assert.deepEqual(
      (await domain(setup, id)).aliases.map((a: any) => a.name),
      [alias],
    );
    await page.getByRole('button', { name: w.removeAlias(alias) }).click();
    const dialog = page.getByRole('dialog', { name: w.removeAliasTitle });
    assert.ok(((await dialog.textContent()) ?? '').includes(alias), 'the dialog names the alias');
    await dialog.getByRole('button', { name: w.removeAlias(alias) }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: w.removeAlias(alias), exact: true }).waitFor({ state: 'detached' });
    assert.deepEqual((await domain(setup, id)).aliases, []);

    const before = (await domain(setup, id)).contacts;
    const technical = page.getByRole('group', { name: w.technical });
    const billing = page.getByRole('group', { name: w.billing });
    await technical.getByLabel(w.name).fill(XSS);
    await technical.getByLabel(w.email).fill('not an address');
    await billing.getByLabel(w.name).fill('Service comptable');
    await billing.getByLabel(w.email).fill(`compta@${domainOf(lang)}`);
    await billing.getByLabel(w.phone).fill('+33 1 23 45 67 89');
    await page.getByRole('button', { name: w.saveContacts }).click();
    await page.getByRole('region', { name: w.contacts }).getByRole('alert').waitFor();
    assert.equal(await technical.getByLabel(w.email).getAttribute('aria-invalid'), 'true', 'the error is on the field the API named');
    assert.deepEqual((await domain(setup, id)).contacts, before, 'nothing saved');
    await technical.getByLabel(w.email).fill(`tech@${domainOf(lang)}`);
    await page.getByRole('button', { name: w.saveContacts }).click();
    const contacts = (
      await eventually(
        () => domain(setup, id),
        (d) => d.contacts.technical?.email === `tech@${domainOf(lang)}`,
        'contacts',
      )
    ).contacts;
    assert.deepEqual(contacts.technical, { name: XSS, email: `tech@${domainOf(lang)}`, phone: null });
    assert.deepEqual(contacts.billing, { name: 'Service comptable', email: `compta@${domainOf(lang)}`, phone: '+33 1 23 45 67 89' });
    assert.deepEqual(contacts.administrative, before.administrative, 'the contact left as it was is kept');
    await page.reload();
    assert.equal(await page.getByRole('group', { name: w.technical }).getByLabel(w.name).inputValue(), XSS, 'kept as typed');
    assert.equal(await page.locator('img[src="x"]').count(), 0, 'no <img> was made of the contact name');

    // DKIM rotation: a new key waits for its record; signing with it before is refused (409, shown).
    await page.getByRole('button', { name: w.rotate }).click();
    await page.getByRole('button', { name: w.activate }).waitFor();
    const rotating = await domain(setup, id);
    assert.ok(rotating.dkim.pending, 'a pending key');
    await page.getByRole('article', { name: w.pendingKey }).waitFor();
    await page.getByRole('button', { name: w.activate }).click();
    const refused = page.getByRole('region', { name: w.dkimSection }).getByRole('alert');
    await refused.waitFor();
    assert.ok(((await refused.textContent()) ?? '').length > 0);
    assert.ok((await domain(setup, id)).dkim.pending, 'still pending');
    await checkBothWidths(page, `admin-domain-settings-${lang}`);
    await page.getByRole('button', { name: w.cancelRotation }).click();
    await page.getByRole('dialog', { name: w.cancelRotationTitle }).getByRole('button', { name: w.cancelRotation }).click();
    await page.getByRole('button', { name: w.rotate }).waitFor();
    assert.equal((await domain(setup, id)).dkim.pending, null);

    // Again, and this time the new key's record is published: signing moves to it, the old key stays listed.
    const oldSelector = (await domain(setup, id)).dkim.selector;
    await page.getByRole('button', { name: w.rotate }).click();
    await page.getByRole('button', { name: w.activate }).waitFor();
    const pending = (await domain(setup, id)).records.find((r: any) => r.rotation === 'pending');
    assert.ok(pending, 'the new key is among the records to publish');
    dns.set(pending.host, 'TXT', [[pending.value]]);
    await page.getByRole('button', { name: w.activate }).click();
    await page.getByRole('button', { name: w.rotate }).waitFor();
    const rotated = await domain(setup, id);
    assert.equal(rotated.dkim.selector, pending.selector, 'the new key signs');
    assert.deepEqual(
      rotated.dkim.previous.map((k: any) => k.selector),
      [oldSelector],
    );
    await page.getByRole('article', { name: w.previousKey }).waitFor();
    assertClean(opened);
    await opened.context.close();
  });

  test(`R-T5 (${lang}) adding a domain shows its progress; a change while it runs shows the 409's message; the journal shows who, what, when and the result`, async (t) => {
    if (!needsBrowser(t, browser)) return;
    const setup = await setupCustomer(service, operator, `Occupe ${lang}`, { basic: 1 });
    const slow = `lent-${lang}.test`;
    // Its DNS answers nothing: checking it takes seconds.
    const selector = dkimSelector(service.ctx.config.dns.dkimSelectorPrefix, service.clock.now());
    for (const host of [slow, `_dmarc.${slow}`, `${selector}._domainkey.${slow}`]) dns.unanswered.add(host);
    const opened = await adminPage(lang, setup);
    const { page } = opened;
    const other = await opened.context.newPage();
    other.on('dialog', (d) => {
      opened.problems.push(`a dialog opened: ${d.message()}`);
      void d.dismiss();
    });
    await other.goto(`${service.url}/admin`);
    await other.getByRole('combobox', { name: w.cycleField }).selectOption({ label: w.yearly });

    await page.goto(`${service.url}/admin/domains`);
    await page.getByLabel(w.domainName).fill(slow);
    await page.getByRole('button', { name: w.addDomain }).click();
    await page.getByRole('progressbar', { name: w.progress }).waitFor();
    // Meanwhile, in another tab: the change is refused with the API's message.
    await other.getByRole('button', { name: w.changeCycle }).click();
    const alert = other.getByRole('alert');
    await alert.waitFor();
    await screenshot(page, `admin-domain-progress-${lang}-desktop`);
    assert.match((await alert.textContent()) ?? '', w.busy);
    assert.equal((await details(setup)).billingCycle, 'monthly', 'nothing changed');
    // (The 409 itself proves the addition was still running; how long it runs after that depends on the machine.)
    await page.getByRole('heading', { name: slow, level: 1 }).waitFor({ timeout: 20_000 });
    await page.getByRole('article', { name: w.mx, exact: true }).getByText(w.unchecked).first().waitFor();

    // More than a page of operations, all at the same instant (the test's clock stands still): the
    // journal pages by cursor, so the pages together hold every operation once, none lost or repeated.
    for (let i = 0; i < 25; i++) expectStatus(await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/labels`, { name: `lot ${i}` }), 201);
    // One change made by a script with an API token: the journal names the token.
    const token = await setup.admin.post(`/api/customers/${setup.customerId}/tokens`, { name: TOKEN_NAME });
    expectStatus(token, 201);
    const bot = new ApiClient(service.url, service.clock);
    bot.token = token.body.token;
    expectStatus(await bot.post(`/api/subscriptions/${setup.subscriptionId}/labels`, { name: 'par le script' }), 201);
    const total = (await setup.admin.get(`/api/operations?subscriptionId=${setup.subscriptionId}&limit=500`)).body.items.length;
    await other.goto(`${service.url}/admin/operations`);
    const rows = other.getByRole('table').locator('tbody').getByRole('row');
    await eventually(
      () => rows.count(),
      (n) => n === 25,
      'a first page of 25',
    );
    const firstPage = await rows.allTextContents();
    await checkBothWidths(other, `admin-journal-${lang}`);
    await other.getByRole('button', { name: w.next }).click();
    await other.getByText('Page 2').waitFor();
    await eventually(
      () => rows.count(),
      (n) => n === total - 25,
      'the rest on the second page',
    );
    const journal = [...firstPage, ...(await rows.allTextContents())];
    assert.equal(new Set(journal).size, total, 'every operation once');
    const added = journal.find((row) => row.includes(w.domainAdded) && row.includes(slow)) ?? '';
    assert.ok(added.includes(w.succeeded), `what and result: ${added}`);
    assert.ok(added.includes(`${w.you} (${setup.adminEmail})`), `who: ${added}`);
    const byToken = journal.find((row) => row.includes('par le script')) ?? '';
    assert.ok(byToken.includes(w.token(TOKEN_NAME)), `the token, by name and as text: ${byToken}`);
    const refused = journal.find((row) => row.includes(w.cycleChanged)) ?? '';
    assert.match(refused, new RegExp(`${w.failed}.*${w.busy.source}`), 'a refusal with its reason');
    await other.getByLabel(w.show).selectOption({ label: w.onlyFailed });
    await eventually(
      () => rows.allTextContents(),
      (texts) => texts.length === 1 && texts[0]?.includes(w.cycleChanged) === true,
      'only the failed one',
    );

    // The domain, which has no account, is removed after confirmation.
    await page.getByRole('button', { name: w.removeDomain }).click();
    await page.getByRole('dialog', { name: w.removeDomainTitle }).getByRole('button', { name: w.removeDomain }).click();
    await page.getByRole('heading', { name: w.domainsTitle, level: 1 }).waitFor();
    assert.equal((await setup.admin.get(`/api/domains/${slow}`)).status, 404);
    assertClean(opened);
    await opened.context.close();
    for (const host of [slow, `_dmarc.${slow}`, `${selector}._domainkey.${slow}`]) dns.unanswered.delete(host);
  });
}
