/**
 * The web application's shell in a real browser (issue 15): served at / with a strict CSP, its files
 * cached for a year under hashed names, light enough; one login page for the three roles with the
 * second factor (R-A1), in French and in English, accessible (axe-core) at phone and desktop widths.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { webDir } from '../../src/web/index.ts';
import {
  assertAccessible,
  assertClean,
  browserAvailable,
  ensureWebBuilt,
  launchBrowser,
  logInThroughPage,
  needsBrowser,
  openPage,
  screenshot,
  WIDTHS,
} from '../helpers/browser.ts';
import { ApiClient, operatorClient, setupCustomer } from '../helpers/client.ts';
import { OPERATOR, startTestService, type TestService } from '../helpers/service.ts';

let service: TestService;
let browser: Browser | undefined;
let operator: ApiClient;

before(async () => {
  await ensureWebBuilt();
  service = await startTestService();
  operator = await operatorClient(service);
  if (browserAvailable()) browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await service?.close();
});

test('GET / is the application: a strict Content-Security-Policy, no framing, and its files cached for a year under hashed names', async () => {
  const html = { accept: 'text/html,application/xhtml+xml' };
  const page = await fetch(`${service.url}/`, { headers: html });
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  const csp = page.headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const body = await page.text();
  assert.doesNotMatch(body, /<script>|<script [^>]*>[^<]/, 'no inline script');
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(body)?.[1];
  assert.ok(script, 'the page loads its script from /assets/');
  const asset = await fetch(`${service.url}${script}`);
  assert.equal(asset.status, 200);
  assert.match(asset.headers.get('cache-control') ?? '', /max-age=31536000, immutable/);
  assert.match(asset.headers.get('content-type') ?? '', /^text\/javascript/);
  // Deep links are pages too (for a browser); a program gets the API's 404, and no path walks out of the assets.
  assert.equal((await fetch(`${service.url}/admin/accounts`, { headers: html })).status, 200);
  assert.equal((await fetch(`${service.url}/admin/accounts`, { headers: { accept: 'application/json' } })).status, 404);
  const api404 = await fetch(`${service.url}/api/nothing-here`);
  assert.equal(api404.status, 404);
  assert.match(api404.headers.get('content-type') ?? '', /problem\+json/);
  assert.match(api404.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  assert.equal((await fetch(`${service.url}/assets/..%2f..%2fpackage.json`)).status, 404);
});

test('the login page weighs under 150 KB of compressed JavaScript and CSS (issue 15)', () => {
  const manifest = JSON.parse(readFileSync(path.join(webDir(), 'manifest.json'), 'utf8'));
  const firstLoad = manifest.firstLoad as string[];
  assert.ok(firstLoad.includes(manifest.script) && firstLoad.includes(manifest.style));
  const gzip = firstLoad.reduce((sum: number, name: string) => sum + manifest.files[name].gzip, 0);
  console.log(`first load: ${firstLoad.length} files, ${(gzip / 1024).toFixed(1)} KiB gzipped`);
  assert.ok(gzip < 150 * 1024, `${gzip} bytes`);
  const opsChunks = Object.keys(manifest.files).filter((name) => /Customers-/.test(name));
  assert.ok(opsChunks.length > 0 && opsChunks.every((name) => !firstLoad.includes(name)), 'the operator console is not part of the first load');
});

for (const lang of ['en', 'fr'] as const) {
  test(`R-A1 the login page in ${lang}: accessible at both widths, a wrong password answered in the language, no enumeration`, async (t) => {
    if (!needsBrowser(t, browser)) return;
    for (const [name, width] of Object.entries(WIDTHS)) {
      const opened = await openPage(browser, { lang, width });
      const { page } = opened;
      await page.goto(`${service.url}/`);
      const title = lang === 'fr' ? 'Connexion' : 'Log in';
      await page.getByRole('heading', { name: title, level: 1 }).waitFor();
      assert.equal(await page.evaluate('document.documentElement.lang'), lang);
      await assertAccessible(page, `login (${lang}, ${width} px)`);
      await screenshot(page, `login-${lang}-${name}`);
      // A wrong password and an unknown address get the same answer, in the page's language.
      const answers: string[] = [];
      for (const email of [OPERATOR.email, 'nobody@nowhere.test']) {
        await page.getByLabel(lang === 'fr' ? 'Adresse e-mail' : 'E-mail address').fill(email);
        await page.getByLabel(lang === 'fr' ? 'Mot de passe' : 'Password').fill('not-the-password');
        // The answer to this attempt (the previous attempt's summary is still on the page until it comes).
        await Promise.all([
          page.waitForResponse((response) => response.url().endsWith('/api/auth/login')),
          page.getByRole('button', { name: lang === 'fr' ? 'Se connecter' : 'Log in' }).click(),
        ]);
        // The error summary takes the focus, so that it is read at once.
        await page.locator('.error-summary:focus').waitFor();
        const alert = page.getByRole('alert');
        answers.push((await alert.textContent()) ?? '');
        await assertAccessible(page, `login error (${lang}, ${width} px)`);
        await page.getByLabel(lang === 'fr' ? 'Mot de passe' : 'Password').fill('');
      }
      assert.equal(answers[0], answers[1], 'no user enumeration');
      assert.match(answers[0] as string, lang === 'fr' ? /incorrect|invalide/i : /incorrect|invalid/i);
      assertClean(opened);
      await opened.context.close();
    }
  });
}

test('R-A1 a customer admin enrols two-factor authentication at the first login in the browser (QR code and key), then logs in with a code', async (t) => {
  if (!needsBrowser(t, browser)) return;
  const customer = await operator.post('/api/customers', { name: 'Shell Co', contactEmail: 'contact@shell.test', language: 'fr' });
  assert.equal(customer.status, 201);
  const email = 'admin@shell.test';
  const password = 'admin-password-shell-1';
  assert.equal((await operator.post(`/api/customers/${customer.body.id}/admins`, { email, password })).status, 201);
  const codes = new ApiClient(service.url, service.clock);
  const opened = await openPage(browser, { lang: 'fr' });
  const { page } = opened;
  await page.goto(`${service.url}/login`);
  await page.getByLabel('Adresse e-mail').fill(email);
  await page.getByLabel('Mot de passe').fill(password);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.getByRole('img', { name: 'QR code de la clé d’authentification' }).waitFor();
  await assertAccessible(page, 'TOTP enrolment');
  await screenshot(page, 'enrol-fr-desktop');
  const secret = await page.locator('[data-secret]').getAttribute('data-secret');
  assert.ok(secret && /^[A-Z2-7]+$/.test(secret), 'the key is shown (base32)');
  // A wrong code is refused with the field named; the right one shows the recovery codes once.
  await page.getByLabel('Code', { exact: true }).fill('000000');
  await page.getByRole('button', { name: 'Activer' }).click();
  await page.getByRole('alert').waitFor();
  await page.getByLabel('Code', { exact: true }).fill(await codes.totpCode(secret));
  await page.getByRole('button', { name: 'Activer' }).click();
  const recovery = page.getByRole('list', { name: 'Vos codes de secours' });
  await recovery.waitFor();
  assert.ok((await recovery.getByRole('listitem').count()) >= 8, 'recovery codes are shown');
  await page.getByRole('button', { name: 'Je les ai conservés : continuer' }).click();
  await page.getByRole('navigation', { name: 'Principal' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/admin');
  // Logged out, then in again: now the code is asked.
  await page.getByRole('button', { name: 'Se déconnecter' }).click();
  await page.getByRole('heading', { name: 'Connexion' }).waitFor();
  const again = await logInThroughPage(page, service.url, codes, { email, password, secret, lang: 'fr' });
  assert.equal(again, secret);
  assert.equal(new URL(page.url()).pathname, '/admin');
  assertClean(opened);
  await opened.context.close();
});

test('the session cookie is HttpOnly and SameSite=Strict; a change from another origin without the CSRF token is refused', async () => {
  const { adminEmail, adminPassword } = await setupCustomer(service, operator, 'Csrf Co');
  const client = new ApiClient(service.url, service.clock);
  const login = await fetch(`${service.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: adminEmail, password: adminPassword }),
  });
  const cookie = login.headers.get('set-cookie') ?? '';
  assert.match(cookie, /HttpOnly/i);
  assert.match(cookie, /SameSite=Strict/i);
  // A forged request as another site's form would send it: the cookie, no CSRF header.
  const forged = await fetch(`${service.url}/api/auth/logout`, {
    method: 'POST',
    headers: { cookie: cookie.split(';')[0] as string, origin: 'https://evil.test', 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(forged.status, 403);
  assert.equal(((await forged.json()) as { code: string }).code, 'csrf');
  assert.ok(client);
});
