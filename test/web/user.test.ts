/**
 * A mail user's self-service in a real browser (issue 15; R-A1, R-S1, R-S2, R-S3, R-S4), in French and
 * in English, at phone and desktop widths with axe-core on every page: password and preferences, two-
 * factor enrolment read from the QR code, app passwords used by an IMAP client then revoked, the
 * quarantine (a held message released then read over IMAP; a hostile one shown as text), the allow and
 * block lists, and the mail client settings. Data is seeded through the API; the browser does the rest.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { generateURI } from 'otplib';
import type { Browser, Locator, Page } from 'playwright-core';
import { create as createQr } from 'qrcode';
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
import { ApiClient, type CustomerSetup, expectStatus, operatorClient, setupCustomer, waitForOperation } from '../helpers/client.ts';
import { holdFor } from '../helpers/filter.ts';
import { RawImap } from '../helpers/imap.ts';
import { freePort } from '../helpers/ports.ts';
import { startTestService, type TestService } from '../helpers/service.ts';

type Lang = 'en' | 'fr';
const DOMAIN = 'selfservice.test';
const XSS = '<img src=x onerror=alert(1)><script>alert(2)</script>';

let service: TestService;
let browser: Browser | undefined;
let customer: CustomerSetup;
let imapsPort: number;
let imapPort: number;
const codes = () => new ApiClient(service.url, service.clock);

before(async () => {
  await ensureWebBuilt();
  imapsPort = await freePort();
  imapPort = await freePort();
  service = await startTestService({ overrides: { roles: ['web', 'imap'], ports: { http: 0, imap: imapPort, imaps: imapsPort } } });
  const operator = await operatorClient(service);
  customer = await setupCustomer(service, operator, 'Selfservice', { basic: 30 });
  const added = await customer.admin.post(`/api/subscriptions/${customer.subscriptionId}/domains`, { name: DOMAIN });
  await waitForOperation(customer.admin, added.body.id);
  if (browserAvailable()) browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await service?.close();
});

interface User {
  id: string;
  address: string;
  password: string;
  customerId: string;
  domainId: string;
}

let counter = 0;
async function newUser(lang: Lang, displayName?: string): Promise<User> {
  const local = `user${++counter}-${lang}`;
  const address = `${local}@${DOMAIN}`;
  const password = `password-of-${local}`;
  const created = await customer.admin.post(`/api/subscriptions/${customer.subscriptionId}/accounts`, {
    address,
    classId: 'basic',
    password,
    language: lang,
    ...(displayName ? { displayName } : {}),
  });
  expectStatus(created, 201);
  return { id: created.body.id, address, password, customerId: created.body.customerId, domainId: created.body.domainId };
}

/** The user's own API client (password login; with `secret`, the TOTP step too). */
async function apiAs(user: User, password = user.password, secret?: string): Promise<ApiClient> {
  const client = new ApiClient(service.url, service.clock);
  const login = await client.post('/api/auth/login', { email: user.address, password });
  expectStatus(login, 200);
  client.csrf = login.body.csrfToken;
  if (login.body.stage === 'totp') {
    assert.ok(secret, 'a code is asked');
    expectStatus(await client.post('/api/auth/totp/verify', { code: await client.totpCode(secret) }), 200);
  }
  return client;
}

/** A page opened for `user`, logged in through the login page; a dialog (alert) fails the test at the end. */
async function loggedIn(user: User, lang: Lang, secret?: string): Promise<BrowserPage & { dialogs: string[] }> {
  const opened = await openPage(browser as Browser, { lang });
  const dialogs: string[] = [];
  opened.page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await logInThroughPage(opened.page, service.url, codes(), { email: user.address, password: user.password, lang, ...(secret ? { secret } : {}) });
  return { ...opened, dialogs };
}

async function go(page: Page, path: string, heading: string | RegExp): Promise<void> {
  await page.goto(`${service.url}${path}`);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

/** axe-core at both widths, and a screenshot at each. */
async function checkPage(page: Page, name: string, lang: Lang): Promise<void> {
  for (const [label, width] of Object.entries(WIDTHS)) {
    await page.setViewportSize({ width, height: 900 });
    // A toast fading in or out (it appears 50 ms after the announcement) has, for a moment, too
    // little contrast: check the page at rest.
    await page.waitForTimeout(100);
    for (let i = 0; i < 50 && (await page.evaluate('document.getAnimations().length')) !== 0; i++) await page.waitForTimeout(50);
    await assertAccessible(page, `${name} (${lang}, ${width} px)`);
    await screenshot(page, `user-${name}-${lang}-${label}`);
  }
  await page.setViewportSize({ width: WIDTHS.desktop, height: 900 });
}

/** The error shown with a field: the text of what its aria-describedby names last. */
async function fieldError(field: Locator): Promise<string> {
  assert.equal(await field.getAttribute('aria-invalid'), 'true', 'the field is marked invalid');
  const ids = ((await field.getAttribute('aria-describedby')) ?? '').split(' ').filter((id) => id.endsWith('-error'));
  assert.equal(ids.length, 1, 'the error is linked to its field');
  return (await field.page().locator(`[id="${ids[0]}"]`).textContent()) ?? '';
}

/** The live region's words after an action. */
async function announced(page: Page, text: string | RegExp): Promise<void> {
  await page.getByRole('status').filter({ hasText: text }).first().waitFor();
}

async function imapLogin(address: string, password: string): Promise<{ imap: RawImap; ok: boolean; tagged: string }> {
  const imap = await RawImap.open(imapsPort, { tls: { ca: service.tlsCert } });
  const reply = await imap.command(`LOGIN "${address}" "${password}"`);
  return { imap, ok: /^a\d+ OK/.test(reply.tagged), tagged: reply.tagged };
}

function finish(opened: BrowserPage & { dialogs: string[] }): Promise<void> {
  assert.deepEqual(opened.dialogs, [], 'no script ran a dialog');
  assertClean(opened);
  return opened.context.close();
}

const W = {
  en: {
    account: 'My account',
    currentPassword: 'Current password',
    newPassword: 'New password',
    confirmPassword: 'New password again',
    changePassword: 'Change password',
    passwordChanged: 'Password changed',
    wrongPassword: /current password is wrong/,
    weak: /at least 10 characters/,
    mismatch: /not the same/,
    language: 'Language of the messages sent to you',
    digest: 'Quarantine digest',
    save: 'Save preferences',
    saved: 'Préférences enregistrées',
    other: 'fr' as Lang,
    twoFactor: 'Two-factor authentication',
    setUp: 'Set up two-factor authentication',
    qr: 'QR code of the authenticator key',
    code: 'Code',
    turnOn: 'Turn on',
    recoveryList: 'Your recovery codes',
    kept: 'I have kept them: continue',
    statusOn: /On: a code/,
    enrolled: 'Two-factor authentication is on',
    appCode: 'Code from your authenticator app',
    newCodes: 'Get new recovery codes',
    newCodesList: 'Your new recovery codes',
    keptNew: 'I have kept them',
    turnOff: 'Turn off',
    turnOffDialog: 'Turn off two-factor authentication?',
    yourPassword: 'Your password',
    statusOff: /Off: your password/,
    invalidCode: /Invalid or expired code/,
    appPasswords: 'App passwords',
    deviceName: 'Device or program',
    create: 'Create',
    createdFor: (name: string) => `App password for ${name}`,
    done: 'Done, I have entered it',
    revoke: (name: string) => `Revoke ${name}`,
    revokeDialog: (name: string) => `Revoke the app password “${name}”?`,
    revokeConfirm: 'Revoke',
    revoked: 'revoked',
    never: 'Never',
    quarantine: 'Quarantine',
    release: (subject: string) => `Release ${subject}`,
    delete: (subject: string) => `Delete ${subject}`,
    deleteDialog: 'Delete this held message for good?',
    deleteConfirm: 'Delete',
    next: 'Next',
    previous: 'Previous',
    releaseAllow: (sender: string) => `Release and always allow ${sender}`,
    text: 'Text of the message',
    emptyQuarantine: 'Nothing in quarantine',
    senders: 'Allowed and blocked senders',
    sender: 'Sender',
    list: 'List',
    block: 'block',
    add: 'Add',
    allowedTable: 'Allowed senders and when they were added',
    blockedTable: 'Blocked senders and when they were added',
    remove: (pattern: string) => `Remove ${pattern}`,
    removeDialog: (pattern: string) => `Remove ${pattern}?`,
    removeConfirm: 'Remove',
    notAddress: /is not an address/,
    clients: 'Mail client settings',
    servers: 'Incoming and outgoing servers, their ports and encryption',
    username: 'User name',
    appPasswordNeeded: /An app password: two-factor authentication is on/,
  },
  fr: {
    account: 'Mon compte',
    currentPassword: 'Mot de passe actuel',
    newPassword: 'Nouveau mot de passe',
    confirmPassword: 'Nouveau mot de passe, à nouveau',
    changePassword: 'Changer le mot de passe',
    passwordChanged: 'Mot de passe changé',
    wrongPassword: /mot de passe actuel est incorrect/,
    weak: /au moins 10 caractères/,
    mismatch: /pas identiques/,
    language: 'Langue des messages qui vous sont envoyés',
    digest: 'Récapitulatif de quarantaine',
    save: 'Enregistrer les préférences',
    saved: 'Preferences saved',
    other: 'en' as Lang,
    twoFactor: 'Authentification à deux facteurs',
    setUp: 'Configurer l’authentification à deux facteurs',
    qr: 'QR code de la clé d’authentification',
    code: 'Code',
    turnOn: 'Activer',
    recoveryList: 'Vos codes de secours',
    kept: 'Je les ai conservés : continuer',
    statusOn: /Activée : un code/,
    enrolled: 'L’authentification à deux facteurs est activée',
    appCode: 'Code de votre application d’authentification',
    newCodes: 'Obtenir de nouveaux codes de secours',
    newCodesList: 'Vos nouveaux codes de secours',
    keptNew: 'Je les ai conservés',
    turnOff: 'Désactiver',
    turnOffDialog: 'Désactiver l’authentification à deux facteurs ?',
    yourPassword: 'Votre mot de passe',
    statusOff: /Désactivée : votre mot de passe/,
    invalidCode: /Code invalide ou expiré/,
    appPasswords: 'Mots de passe d’application',
    deviceName: 'Appareil ou logiciel',
    create: 'Créer',
    createdFor: (name: string) => `Mot de passe d’application pour ${name}`,
    done: 'C’est fait, je l’ai saisi',
    revoke: (name: string) => `Révoquer ${name}`,
    revokeDialog: (name: string) => `Révoquer le mot de passe d’application « ${name} » ?`,
    revokeConfirm: 'Révoquer',
    revoked: 'révoqué',
    never: 'Jamais',
    quarantine: 'Quarantaine',
    release: (subject: string) => `Relâcher ${subject}`,
    delete: (subject: string) => `Supprimer ${subject}`,
    deleteDialog: 'Supprimer définitivement ce message retenu ?',
    deleteConfirm: 'Supprimer',
    next: 'Suivante',
    previous: 'Précédente',
    releaseAllow: (sender: string) => `Relâcher et toujours autoriser ${sender}`,
    text: 'Texte du message',
    emptyQuarantine: 'Rien en quarantaine',
    senders: 'Expéditeurs autorisés et bloqués',
    sender: 'Expéditeur',
    list: 'Liste',
    block: 'block',
    add: 'Ajouter',
    allowedTable: 'Expéditeurs autorisés et date d’ajout',
    blockedTable: 'Expéditeurs bloqués et date d’ajout',
    remove: (pattern: string) => `Retirer ${pattern}`,
    removeDialog: (pattern: string) => `Retirer ${pattern} ?`,
    removeConfirm: 'Retirer',
    notAddress: /n'est ni une adresse/,
    clients: 'Réglages des logiciels de messagerie',
    servers: 'Serveurs de réception et d’envoi, leurs ports et leur chiffrement',
    username: 'Nom d’utilisateur',
    appPasswordNeeded: /Un mot de passe d’application : l’authentification à deux facteurs est activée/,
  },
};

for (const lang of ['en', 'fr'] as const) {
  const w = W[lang];

  test(`R-A1 (${lang}) my account: the password changed with the API's errors on their fields, then language and digest saved`, async (t) => {
    if (!needsBrowser(t, browser)) return;
    const user = await newUser(lang, XSS);
    const opened = await loggedIn(user, lang);
    const { page } = opened;
    await go(page, '/me', w.account);
    // The display name is an XSS attempt: shown as text.
    await page.getByText(XSS, { exact: true }).waitFor();
    await checkPage(page, 'account', lang);

    const current = page.getByLabel(w.currentPassword);
    const fresh = page.getByLabel(w.newPassword, { exact: true });
    const again = page.getByLabel(w.confirmPassword);
    const submit = page.getByRole('button', { name: w.changePassword });
    await current.fill('not-my-password');
    await fresh.fill('a-new-password-1');
    await again.fill('a-new-password-1');
    await submit.click();
    await page.getByRole('alert').filter({ hasText: w.wrongPassword }).waitFor();
    assert.match(await fieldError(current), w.wrongPassword);
    await assertAccessible(page, `account with an error (${lang})`);

    await current.fill(user.password);
    await fresh.fill('short');
    await again.fill('short');
    await submit.click();
    await page.getByRole('alert').filter({ hasText: w.weak }).waitFor();
    assert.match(await fieldError(fresh), w.weak, "the API's rule on the new password's field");

    await fresh.fill('a-new-password-1');
    await again.fill('a-new-password-2');
    await submit.click();
    await page.getByRole('alert').filter({ hasText: w.mismatch }).waitFor();
    assert.match(await fieldError(again), w.mismatch);

    await again.fill('a-new-password-1');
    await submit.click();
    await announced(page, w.passwordChanged);
    assert.equal(await current.inputValue(), '', 'the fields are emptied');
    await apiAs(user, 'a-new-password-1');
    user.password = 'a-new-password-1';

    // Preferences: the other language and a daily digest; the page follows the language.
    await page.getByLabel(w.language).selectOption(w.other);
    await page.getByLabel(w.digest).selectOption('daily');
    await page.getByRole('button', { name: w.save }).click();
    await announced(page, w.saved);
    assert.equal(await page.evaluate('document.documentElement.lang'), w.other);
    const client = await apiAs(user);
    assert.equal((await client.get('/api/me')).body.account.language, w.other);
    assert.equal((await client.get('/api/me/filter-prefs')).body.own.digest, 'daily');
    await finish(opened);
  });

  test(`R-A1 (${lang}) two-factor: enrolment with the key read from the QR code, new recovery codes, then turned off after a confirmation`, async (t) => {
    if (!needsBrowser(t, browser)) return;
    const user = await newUser(lang);
    const opened = await loggedIn(user, lang);
    const { page } = opened;
    await go(page, '/me/two-factor', w.twoFactor);
    await checkPage(page, 'two-factor-off', lang);
    await page.getByRole('button', { name: w.setUp }).click();
    const qr = page.getByRole('img', { name: w.qr });
    await qr.waitFor();
    await checkPage(page, 'two-factor-enrol', lang);
    // The key as shown (groups of four) and the QR code: the QR carries exactly that key.
    const shown = ((await page.locator('code.secret').textContent()) ?? '').replace(/\s+/g, '');
    assert.match(shown, /^[A-Z2-7]{16,}$/);
    const drawn = await qr.locator('path').getAttribute('d');
    const { modules } = createQr(generateURI({ secret: shown, label: user.address, issuer: 'Facteur' }), { errorCorrectionLevel: 'M' });
    const expected: string[] = [];
    for (let y = 0; y < modules.size; y++) for (let x = 0; x < modules.size; x++) if (modules.get(y, x)) expected.push(`M${x + 4} ${y + 4}h1v1h-1z`);
    assert.equal(drawn, expected.join(''), 'the QR code encodes the otpauth URI of the key shown');

    await page.getByLabel(w.code, { exact: true }).fill('000000');
    await page.getByRole('button', { name: w.turnOn }).click();
    await page.getByRole('alert').filter({ hasText: w.invalidCode }).waitFor();
    await page.getByLabel(w.code, { exact: true }).fill(await codes().totpCode(shown));
    await page.getByRole('button', { name: w.turnOn }).click();
    const recovery = page.getByRole('list', { name: w.recoveryList });
    await recovery.waitFor();
    const firstCodes = await recovery.getByRole('listitem').allTextContents();
    assert.equal(firstCodes.length, 10);
    await page.getByRole('button', { name: w.kept }).click();
    await announced(page, w.enrolled);
    await page.getByText(w.statusOn).waitFor();
    await checkPage(page, 'two-factor-on', lang);
    assert.equal((await (await apiAs(user, user.password, shown)).get('/api/me')).body.account.twoFactorEnabled, true);

    // New recovery codes: a wrong code is refused on its field, a right one shows ten new codes once.
    const appCode = page.getByLabel(w.appCode);
    await appCode.fill('123456');
    await page.getByRole('button', { name: w.newCodes }).click();
    await page.getByRole('alert').filter({ hasText: w.invalidCode }).waitFor();
    assert.match(await fieldError(appCode), w.invalidCode);
    await appCode.fill(await codes().totpCode(shown));
    await page.getByRole('button', { name: w.newCodes }).click();
    const renewed = page.getByRole('list', { name: w.newCodesList });
    await renewed.waitFor();
    const newCodes = await renewed.getByRole('listitem').allTextContents();
    assert.equal(newCodes.length, 10);
    assert.equal(newCodes.filter((c) => firstCodes.includes(c)).length, 0, 'all new');
    await page.getByRole('button', { name: w.keptNew, exact: true }).click();
    assert.equal(await renewed.count(), 0, 'shown once');

    // Turned off: the dialog says what is lost and asks for the password and a code.
    await page.getByRole('button', { name: w.turnOff }).click();
    const dialog = page.getByRole('dialog', { name: w.turnOffDialog });
    await dialog.waitFor();
    await assertAccessible(page, `turn-off dialog (${lang})`);
    await dialog.getByLabel(w.yourPassword).fill('wrong-password-here');
    await dialog.getByLabel(w.appCode).fill(await codes().totpCode(shown));
    await dialog.getByRole('button', { name: w.turnOff }).click();
    await dialog.getByRole('alert').filter({ hasText: w.wrongPassword }).waitFor();
    assert.match(await fieldError(dialog.getByLabel(w.yourPassword)), w.wrongPassword);
    await dialog.getByLabel(w.yourPassword).fill(user.password);
    await dialog.getByLabel(w.appCode).fill(await codes().totpCode(shown));
    await dialog.getByRole('button', { name: w.turnOff }).click();
    await page.getByText(w.statusOff).waitFor();
    assert.equal(await dialog.count(), 0);
    const client = await apiAs(user);
    assert.equal((await client.get('/api/me')).body.account.twoFactorEnabled, false, 'logged in with the password alone');
    await finish(opened);
  });

  test(`R-A1 (${lang}) app passwords: one created in the browser opens the mailbox over IMAP, is shown once, then revoked and refused`, async (t) => {
    if (!needsBrowser(t, browser)) return;
    const user = await newUser(lang);
    // 2FA on (through the API): the account password no longer opens the mailbox, app passwords do.
    const client = await apiAs(user);
    const enrolment = await client.post('/api/auth/totp/enrol');
    expectStatus(await client.post('/api/auth/totp/confirm', { code: await client.totpCode(enrolment.body.secret) }), 200);
    const opened = await loggedIn(user, lang, enrolment.body.secret);
    const { page } = opened;
    await go(page, '/me/app-passwords', w.appPasswords);
    await checkPage(page, 'app-passwords-empty', lang);

    const name = `Laptop ${XSS}`; // 60 characters: the API takes 64
    await page.getByLabel(w.deviceName).fill(name);
    await page.getByRole('button', { name: w.create, exact: true }).click();
    await page.getByRole('heading', { name: w.createdFor(name) }).waitFor();
    const secret = ((await page.locator('.copy-value code').textContent()) ?? '').trim();
    assert.match(secret, /^[a-z0-9]{4}(-[a-z0-9]{4}){3}$/);
    await page.getByRole('button', { name: /^(Copy|Copier)/ }).click();
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), secret, 'Copy puts the secret on the clipboard');
    await checkPage(page, 'app-password-created', lang);

    const refusedFirst = await imapLogin(user.address, user.password);
    assert.equal(refusedFirst.ok, false, 'with 2FA, the account password does not open IMAP');
    refusedFirst.imap.close();
    const opens = await imapLogin(user.address, secret);
    assert.ok(opens.ok, opens.tagged);
    opens.imap.close();

    await page.getByRole('button', { name: w.done }).click();
    assert.equal(await page.getByText(secret).count(), 0, 'the secret is gone from the page');
    await page.reload();
    await page.getByRole('table').getByText(name, { exact: true }).waitFor();
    assert.equal(await page.getByText(secret).count(), 0, 'and never shown again');
    assert.equal(await page.getByRole('table').getByText(w.never, { exact: true }).count(), 0, 'its last use is known');

    await page.getByRole('button', { name: w.revoke(name) }).click();
    const dialog = page.getByRole('dialog', { name: w.revokeDialog(name) });
    await dialog.waitFor();
    await assertAccessible(page, `revoke dialog (${lang})`);
    await dialog.getByRole('button', { name: w.revokeConfirm }).click();
    await announced(page, w.revoked);
    await page.getByRole('table').waitFor({ state: 'detached' });
    const refused = await imapLogin(user.address, secret);
    assert.equal(refused.ok, false, 'a revoked app password is refused');
    refused.imap.close();
    assert.deepEqual((await client.get('/api/me/app-passwords')).body.items, []);
    await finish(opened);
  });

  test(`R-S1 R-S4 (${lang}) quarantine: paged list, a hostile message previewed as text with no script run, deleted after a confirmation`, async (t) => {
    if (!needsBrowser(t, browser)) return;
    const user = await newUser(lang);
    const opened = await loggedIn(user, lang);
    const { page } = opened;
    await go(page, '/me/quarantine', w.quarantine);
    await page.getByText(w.emptyQuarantine).waitFor();
    await checkPage(page, 'quarantine-empty', lang);

    const hostile = await holdFor(service, user, {
      subject: `Prize ${XSS}`,
      from: 'attacker@junk.test',
      html: `<html><body><script>alert(3)</script><p>Click <b>here</b> ${XSS}</p><img src="http://tracker.test/x.png" onerror="alert(4)"></body></html>`,
    });
    for (let i = 1; i <= 26; i++) {
      service.clock.advance(1000); // newest first: each one a second later
      await holdFor(service, user, { subject: `Offer number ${i}` });
    }
    await page.reload();
    const rows = page.getByRole('table').getByRole('row');
    await page.getByRole('link', { name: 'Offer number 26' }).waitFor();
    assert.equal(await rows.count(), 26, 'a header row and 25 held messages on the first page');
    await checkPage(page, 'quarantine', lang);
    await page.getByRole('button', { name: w.next }).click();
    await page.getByRole('link', { name: `Prize ${XSS}` }).waitFor();
    assert.equal(await rows.count(), 3, 'the last two on the second page');
    await page.getByRole('button', { name: w.previous }).click();
    await page.getByRole('link', { name: 'Offer number 26' }).waitFor();
    await page.getByRole('button', { name: w.next }).click();

    await page.getByRole('link', { name: `Prize ${XSS}` }).click();
    await page.getByRole('heading', { level: 1, name: `Prize ${XSS}` }).waitFor();
    const text = page.getByRole('region', { name: w.text });
    await text.getByText(/Click\s+here/).waitFor();
    await checkPage(page, 'quarantine-preview', lang);
    const main = page.locator('main');
    assert.equal(await main.locator('script, img, iframe, object, b').count(), 0, 'nothing of the message became an element');
    assert.match((await main.textContent()) ?? '', /<img src=x onerror=alert\(1\)><script>alert\(2\)<\/script>/, 'the subject is shown as text');

    await page.getByRole('button', { name: w.deleteConfirm, exact: true }).click();
    const dialog = page.getByRole('dialog', { name: w.deleteDialog });
    await dialog.waitFor();
    assert.match((await dialog.textContent()) ?? '', /Prize <img src=x/, 'the dialog names the message');
    await assertAccessible(page, `delete dialog (${lang})`);
    await dialog.getByRole('button', { name: w.deleteConfirm }).click();
    await page.getByRole('heading', { level: 1, name: w.quarantine }).waitFor();
    const client = await apiAs(user);
    assert.equal((await client.get(`/api/quarantine/${hostile.id}`)).status, 404, 'deleted for good');
    assert.deepEqual(opened.dialogs, []);
    await finish(opened);
  });

  test(`R-S2 (${lang}) allow and block lists: added with the API's error on the field, removed after a confirmation`, async (t) => {
    if (!needsBrowser(t, browser)) return;
    const user = await newUser(lang);
    const opened = await loggedIn(user, lang);
    const { page } = opened;
    await go(page, '/me/senders', w.senders);
    await checkPage(page, 'senders-empty', lang);
    const pattern = page.getByLabel(w.sender, { exact: true });
    await pattern.fill(XSS);
    await page.getByRole('button', { name: w.add, exact: true }).click();
    await page.getByRole('alert').filter({ hasText: w.notAddress }).waitFor();
    assert.match(await fieldError(pattern), /<img src=x onerror=alert\(1\)>/, 'the refused input is shown as text');

    await pattern.fill('friend@partner.test');
    await page.getByRole('button', { name: w.add, exact: true }).click();
    await page.getByRole('table', { name: w.allowedTable }).getByText('friend@partner.test').waitFor();
    await pattern.fill('.spammy.test');
    await page.getByLabel(w.list).selectOption(w.block);
    await page.getByRole('button', { name: w.add, exact: true }).click();
    await page.getByRole('table', { name: w.blockedTable }).getByText('.spammy.test').waitFor();
    await checkPage(page, 'senders', lang);

    await page.getByRole('button', { name: w.remove('.spammy.test') }).click();
    const dialog = page.getByRole('dialog', { name: w.removeDialog('.spammy.test') });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: w.removeConfirm }).click();
    await page.getByRole('table', { name: w.blockedTable }).waitFor({ state: 'detached' });
    const rules = (await (await apiAs(user)).get('/api/me/sender-rules')).body.items;
    assert.deepEqual(
      rules.map((r: { pattern: string; kind: string }) => `${r.kind} ${r.pattern}`),
      ['allow friend@partner.test'],
    );
    await finish(opened);
  });

  test(`R-A1 (${lang}) mail client settings: host, ports and TLS from the service's configuration, the steps per client`, async (t) => {
    if (!needsBrowser(t, browser)) return;
    const user = await newUser(lang);
    const opened = await loggedIn(user, lang);
    const { page } = opened;
    await go(page, '/me/mail-clients', w.clients);
    const table = page.getByRole('table', { name: w.servers });
    await table.waitFor();
    const rows = (await table.getByRole('row').allTextContents()).slice(1);
    const { ports, hostname } = service.ctx.config;
    assert.ok(rows[0]?.includes('IMAP') && rows[0].includes(String(imapsPort)) && rows[0].includes('SSL/TLS') && rows[0].includes(hostname), rows[0]);
    assert.ok(rows[1]?.includes('IMAP') && rows[1].includes(String(imapPort)) && rows[1].includes('STARTTLS'), rows[1]);
    assert.ok(rows.some((row) => row.includes('SMTP') && row.includes(String(ports.submissions)) && row.includes('SSL/TLS')));
    assert.ok(rows.some((row) => row.includes('POP3') && row.includes(String(ports.pop3s))));
    for (const client of ['Thunderbird', 'Apple Mail', 'Outlook']) {
      const steps = page.getByRole('region', { name: new RegExp(`^${client}`) });
      assert.match((await steps.textContent()) ?? '', new RegExp(`${hostname.replace(/\./g, '\\.')}.*${imapsPort}`));
    }
    await checkPage(page, 'mail-clients', lang);
    // The settings shown work: an IMAP client logs in with the user name and port read from the page.
    const username = ((await page.locator('dd .copy-value code').first().textContent()) ?? '').trim();
    assert.equal(username, user.address);
    const opens = await imapLogin(username, user.password);
    assert.ok(opens.ok, opens.tagged);
    opens.imap.close();
    await finish(opened);
  });
}

test('R-S4 R-S2 (fr) a user releases a held message in the browser, always allowing its sender, then reads it over IMAP', async (t) => {
  if (!needsBrowser(t, browser)) return;
  const w = W.fr;
  const user = await newUser('fr');
  const subject = 'Vraiment attendu';
  const held = await holdFor(service, user, { subject, from: 'ami@partenaire.test', body: 'Le devis que vous attendiez.' });
  const opened = await loggedIn(user, 'fr');
  const { page } = opened;
  await go(page, `/me/quarantine/${held.id}`, subject);
  await page.getByRole('region', { name: w.text }).getByText('Le devis que vous attendiez.').waitFor();
  await page.getByRole('button', { name: w.releaseAllow('ami@partenaire.test') }).click();
  await page.getByRole('heading', { level: 1, name: w.quarantine }).waitFor();
  await announced(page, /toujours autorisé/);

  const { imap, ok, tagged } = await imapLogin(user.address, user.password);
  assert.ok(ok, tagged);
  const selected = await imap.command('SELECT INBOX');
  assert.match(selected.tagged, /OK/);
  const fetched = await imap.command('FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)] BODY.PEEK[TEXT])');
  const all = fetched.lines.join('\n');
  assert.match(all, /Subject: Vraiment attendu/);
  assert.match(all, /Le devis que vous attendiez\./);
  imap.close();

  await go(page, '/me/senders', w.senders);
  await page.getByRole('table', { name: w.allowedTable }).getByText('ami@partenaire.test').waitFor();
  await finish(opened);
});

test('R-S4 (en) releasing from the list moves the message to the Inbox; the list says what happened', async (t) => {
  if (!needsBrowser(t, browser)) return;
  const w = W.en;
  const user = await newUser('en');
  await holdFor(service, user, { subject: 'Keep me' });
  await holdFor(service, user, { subject: 'Drop me' });
  const opened = await loggedIn(user, 'en');
  const { page } = opened;
  await go(page, '/me/quarantine', w.quarantine);
  await page.getByRole('button', { name: w.release('Keep me') }).click();
  await announced(page, /“Keep me” was released/);
  await page.getByRole('link', { name: 'Keep me' }).waitFor({ state: 'detached' });
  await page.getByRole('button', { name: w.delete('Drop me') }).click();
  const dialog = page.getByRole('dialog', { name: w.deleteDialog });
  assert.match((await dialog.textContent()) ?? '', /“Drop me” from .*spammer@junk\.test/);
  await dialog.getByRole('button', { name: w.deleteConfirm }).click();
  await page.getByText(w.emptyQuarantine).waitFor();
  const { imap, ok } = await imapLogin(user.address, user.password);
  assert.ok(ok);
  await imap.command('SELECT INBOX');
  const fetched = await imap.command('FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
  assert.match(fetched.lines.join('\n'), /Subject: Keep me/);
  assert.doesNotMatch(fetched.lines.join('\n'), /Drop me/);
  imap.close();
  await finish(opened);
});
