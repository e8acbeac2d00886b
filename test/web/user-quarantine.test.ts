/**
 * A mail user's quarantine and sender lists in a real browser (issue 15; R-S1, R-S2, R-S4), in French
 * and in English, at phone and desktop widths with axe-core on every page: the paged list, a hostile
 * message previewed as text with no script run, release (then read over IMAP), release and always
 * allow the sender, delete after a confirmation; allow and block lists with the API's errors on the
 * field. Held messages are made the way the MX holds them (test/helpers/filter.ts).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertAccessible, needsBrowser } from '../helpers/browser.ts';
import { holdFor } from '../helpers/filter.ts';
import {
  announced,
  apiAs,
  browser,
  checkPage,
  fieldError,
  finish,
  go,
  imapLogin,
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

test('R-S2 (en) keyboard only: a sender added with Enter, its removal reached with Tab, cancelled with Escape, then confirmed', async (t) => {
  if (!needsBrowser(t, browser)) return;
  const w = W.en;
  const user = await newUser('en');
  const opened = await loggedIn(user, 'en');
  const { page } = opened;
  await go(page, '/me/senders', w.senders);
  const active = () => page.evaluate('document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.textContent');
  await page.getByLabel(w.sender, { exact: true }).focus();
  await page.keyboard.type('kb@partner.test');
  await page.keyboard.press('Enter');
  await page.getByRole('table', { name: w.allowedTable }).getByText('kb@partner.test').waitFor();
  let presses = 0;
  while ((await active()) !== w.remove('kb@partner.test') && presses++ < 15) await page.keyboard.press('Tab');
  assert.equal(await active(), w.remove('kb@partner.test'), 'the Remove button is reached with Tab');
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: w.removeDialog('kb@partner.test') });
  await dialog.waitFor();
  assert.equal(await page.evaluate('Boolean(document.activeElement?.closest("dialog"))'), true, 'focus moves into the dialog');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await active(), w.remove('kb@partner.test'), 'focus comes back to the button');
  assert.equal((await (await apiAs(user)).get('/api/me/sender-rules')).body.items.length, 1, 'Escape removed nothing');
  await page.keyboard.press('Enter');
  await dialog.waitFor();
  assert.equal(await active(), w.removeConfirm, 'the confirmation has the focus');
  await page.keyboard.press('Enter');
  await page.getByRole('table', { name: w.allowedTable }).waitFor({ state: 'detached' });
  assert.equal((await (await apiAs(user)).get('/api/me/sender-rules')).body.items.length, 0);
  await finish(opened);
});
