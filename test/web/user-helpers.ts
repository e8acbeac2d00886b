/**
 * What the browser tests of a mail user's self-service share (test/web/user*.test.ts): the service
 * with IMAP on ports of its own (the mail client settings page shows them), a customer with a domain,
 * users made through the API, logging in through the login page, axe and screenshots at both widths,
 * and the words of each language the tests look for.
 */
import assert from 'node:assert/strict';
import type { Browser, Locator, Page } from 'playwright-core';
import {
  assertAccessible,
  assertClean,
  type BrowserPage,
  browserAvailable,
  ensureWebBuilt,
  launchBrowser,
  logInThroughPage,
  openPage,
  screenshot,
  WIDTHS,
} from '../helpers/browser.ts';
import { ApiClient, type CustomerSetup, expectStatus, operatorClient, setupCustomer, waitForOperation } from '../helpers/client.ts';
import { RawImap } from '../helpers/imap.ts';
import { freePort } from '../helpers/ports.ts';
import { startTestService, type TestService } from '../helpers/service.ts';

export type Lang = 'en' | 'fr';
export const DOMAIN = 'selfservice.test';
export const XSS = '<img src=x onerror=alert(1)><script>alert(2)</script>';

export let service: TestService;
export let browser: Browser | undefined;
let customer: CustomerSetup;
export let imapsPort: number;
export let imapPort: number;
export const codes = () => new ApiClient(service.url, service.clock);

/** Starts the service (web and IMAP on ports of its own), a customer with the domain, and the browser. */
export async function setUp(): Promise<void> {
  await ensureWebBuilt();
  imapsPort = await freePort();
  imapPort = await freePort();
  service = await startTestService({ overrides: { roles: ['web', 'imap'], ports: { http: 0, imap: imapPort, imaps: imapsPort } } });
  const operator = await operatorClient(service);
  customer = await setupCustomer(service, operator, 'Selfservice', { basic: 30 });
  const added = await customer.admin.post(`/api/subscriptions/${customer.subscriptionId}/domains`, { name: DOMAIN });
  await waitForOperation(customer.admin, added.body.id);
  if (browserAvailable()) browser = await launchBrowser();
}

export async function tearDown(): Promise<void> {
  await browser?.close();
  await service?.close();
}

export interface User {
  id: string;
  address: string;
  password: string;
  customerId: string;
  domainId: string;
}

let counter = 0;
export async function newUser(lang: Lang, displayName?: string): Promise<User> {
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
export async function apiAs(user: User, password = user.password, secret?: string): Promise<ApiClient> {
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
export async function loggedIn(user: User, lang: Lang, secret?: string): Promise<BrowserPage & { dialogs: string[] }> {
  const opened = await openPage(browser as Browser, { lang });
  const dialogs: string[] = [];
  opened.page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await logInThroughPage(opened.page, service.url, codes(), { email: user.address, password: user.password, lang, ...(secret ? { secret } : {}) });
  return { ...opened, dialogs };
}

export async function go(page: Page, path: string, heading: string | RegExp): Promise<void> {
  await page.goto(`${service.url}${path}`);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

/** axe-core at both widths, and a screenshot at each. */
export async function checkPage(page: Page, name: string, lang: Lang): Promise<void> {
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
export async function fieldError(field: Locator): Promise<string> {
  assert.equal(await field.getAttribute('aria-invalid'), 'true', 'the field is marked invalid');
  const ids = ((await field.getAttribute('aria-describedby')) ?? '').split(' ').filter((id) => id.endsWith('-error'));
  assert.equal(ids.length, 1, 'the error is linked to its field');
  return (await field.page().locator(`[id="${ids[0]}"]`).textContent()) ?? '';
}

/** The live region's words after an action. */
export async function announced(page: Page, text: string | RegExp): Promise<void> {
  await page.getByRole('status').filter({ hasText: text }).first().waitFor();
}

export async function imapLogin(address: string, password: string): Promise<{ imap: RawImap; ok: boolean; tagged: string }> {
  const imap = await RawImap.open(imapsPort, { tls: { ca: service.tlsCert } });
  const reply = await imap.command(`LOGIN "${address}" "${password}"`);
  return { imap, ok: /^a\d+ OK/.test(reply.tagged), tagged: reply.tagged };
}

export function finish(opened: BrowserPage & { dialogs: string[] }): Promise<void> {
  assert.deepEqual(opened.dialogs, [], 'no script ran a dialog');
  assertClean(opened);
  return opened.context.close();
}

export const W = {
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
