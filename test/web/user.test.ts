/**
 * A mail user's own account in a real browser (issue 15; R-A1), in French and in English, at phone and
 * desktop widths with axe-core on every page: password and preferences (language, digest), two-factor
 * enrolment read from the QR code, new recovery codes and turning it off, app passwords used by an IMAP
 * client then revoked, and the mail client settings (used by an IMAP client). Data is seeded through
 * the API; the browser does the rest. The quarantine and sender lists are in user-quarantine.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { generateURI } from 'otplib';
import { create as createQr } from 'qrcode';
import { assertAccessible, needsBrowser } from '../helpers/browser.ts';
import { expectStatus } from '../helpers/client.ts';
import {
  announced,
  apiAs,
  browser,
  checkPage,
  codes,
  fieldError,
  finish,
  go,
  imapLogin,
  imapPort,
  imapsPort,
  loggedIn,
  newUser,
  service,
  setUp,
  tearDown,
  W,
  XSS,
} from './user-helpers.ts';

before(setUp);
after(tearDown);

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
