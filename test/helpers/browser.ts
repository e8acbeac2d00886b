/**
 * A real browser for the web application's tests: Debian's Chromium (`apt-get install chromium`,
 * done by scripts/services.sh install) driven by playwright-core, headless, with the flags this
 * machine's closed network needs. Nothing is downloaded. When Chromium is missing the browser tests
 * fail under CI and are skipped elsewhere, saying loudly what was not tested.
 *
 * Each page keeps the application's real Content-Security-Policy: a violation, an uncaught error or a
 * console error fails the test (`assertClean`). axe-core is evaluated through the DevTools protocol,
 * which the page's CSP does not govern, so checking accessibility needs no relaxed policy.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const CHROMIUM = process.env.FACTEUR_TEST_CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = path.join(ROOT, 'test-artifacts');
export const WIDTHS = { phone: 390, desktop: 1280 } as const;
export type Lang = 'en' | 'fr';

/** Whether the browser tests can run; under CI a missing Chromium is a failure, not a skip. */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const message = `Chromium not found at ${CHROMIUM}: the web application's browser tests did NOT run (install it with scripts/services.sh install)`;
  if (process.env.CI) throw new Error(message);
  console.error(`\n!!! ${message}\n`);
  return false;
}

/** Builds web/ unless a build is there (test.mjs builds it before every run; this is for a test file run alone). */
export async function ensureWebBuilt(): Promise<void> {
  const dir = process.env.FACTEUR_WEB_DIR || path.join(ROOT, 'node_modules/.cache/facteur-web');
  if (existsSync(path.join(dir, 'manifest.json'))) return;
  const { buildWeb } = await import(path.join(ROOT, 'scripts/web-build.mjs'));
  await buildWeb(dir);
}

export async function launchBrowser(): Promise<Browser> {
  await ensureWebBuilt();
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

export interface BrowserPage {
  context: BrowserContext;
  page: Page;
  /** Console errors, uncaught exceptions and CSP violations seen so far. */
  problems: string[];
}

/** A new browser context (its own cookies) in `lang`, at `width` pixels, watching for errors and CSP violations. */
export async function openPage(browser: Browser, options: { lang: Lang; width?: number } = { lang: 'en' }): Promise<BrowserPage> {
  const context = await browser.newContext({
    locale: options.lang === 'fr' ? 'fr-FR' : 'en-GB',
    viewport: { width: options.width ?? WIDTHS.desktop, height: 900 },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const page = await context.newPage();
  const problems: string[] = [];
  // Runs before the page's own scripts (through the DevTools protocol, not subject to the page's CSP).
  await page.addInitScript(
    "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI));",
  );
  page.on('console', (message) => {
    // A 4xx answer the page expected (a wrong password) shows as a resource error: the page handles it.
    if (message.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())) {
      problems.push(message.text());
    }
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  return { context, page, problems };
}

export function assertClean(opened: BrowserPage): void {
  assert.deepEqual(opened.problems, [], 'no console error, uncaught exception or CSP violation');
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core on the page as it is: the serious and critical violations (id, impact, first targets). */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const violations: any[] = await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((result) =>
    result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })))`);
  return violations.filter((v: any) => v.impact === 'serious' || v.impact === 'critical').map((v: any) => `${v.id} (${v.impact}): ${v.targets.join(', ')}`);
}

/** Fails on any serious or critical axe violation; counts are kept for the note. */
export async function assertAccessible(page: Page, where: string): Promise<void> {
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `axe-core: no serious or critical violation on ${where}`);
}

/** A full-page screenshot kept under test-artifacts/screenshots/ (not committed). */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = path.join(ARTIFACTS, 'screenshots');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Skips the whole test when no browser is here (never under CI, see `browserAvailable`). */
export function needsBrowser(t: TestContext, browser: Browser | undefined): browser is Browser {
  if (browser) return true;
  t.skip(`Chromium missing: not tested in a browser (${CHROMIUM})`);
  return false;
}

/** What the login steps need from the test: the service's clock makes the TOTP codes. */
export interface TotpSource {
  totpCode(secret: string): Promise<string>;
}

/**
 * Logs in through the login page as a person would: e-mail and password, then the code of the
 * authenticator (`secret`), or the enrolment when the role requires it (the key is read from the page,
 * as an app would read the QR code). Returns the secret in use, so later logins can give codes.
 */
export async function logInThroughPage(
  page: Page,
  base: string,
  codes: TotpSource,
  login: { email: string; password: string; secret?: string; lang: Lang },
): Promise<string | undefined> {
  const words =
    login.lang === 'fr'
      ? {
          email: 'Adresse e-mail',
          password: 'Mot de passe',
          submit: 'Se connecter',
          code: 'Code',
          verify: 'Vérifier',
          enrol: 'Activer',
          done: 'Je les ai conservés : continuer',
        }
      : {
          email: 'E-mail address',
          password: 'Password',
          submit: 'Log in',
          code: 'Code',
          verify: 'Verify',
          enrol: 'Turn on',
          done: 'I have kept them: continue',
        };
  await page.goto(`${base}/login`);
  await page.getByLabel(words.email).fill(login.email);
  await page.getByLabel(words.password).fill(login.password);
  await page.getByRole('button', { name: words.submit }).click();
  const step = await Promise.race([
    page
      .getByRole('button', { name: words.verify })
      .waitFor()
      .then(() => 'totp' as const),
    page
      .getByRole('button', { name: words.enrol })
      .waitFor()
      .then(() => 'enrol' as const),
    page
      .getByRole('navigation')
      .waitFor()
      .then(() => 'full' as const),
  ]);
  if (step === 'full') return undefined;
  if (step === 'totp') {
    assert.ok(login.secret, `${login.email} has two-factor authentication on: the test must know its secret`);
    await page.getByLabel(words.code, { exact: true }).fill(await codes.totpCode(login.secret));
    await page.getByRole('button', { name: words.verify }).click();
    await page.getByRole('navigation').waitFor();
    return login.secret;
  }
  const secret = await page.locator('[data-secret]').getAttribute('data-secret');
  assert.ok(secret, 'the enrolment shows the key');
  await page.getByLabel(words.code, { exact: true }).fill(await codes.totpCode(secret));
  await page.getByRole('button', { name: words.enrol }).click();
  await page.getByRole('button', { name: words.done }).click();
  await page.getByRole('navigation').waitFor();
  return secret;
}
