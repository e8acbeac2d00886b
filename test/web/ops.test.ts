/**
 * The operator console and the pages it shares with the customer admin, in a real browser (issue 15),
 * in French and in English: customers and subscriptions (R-T1, R-T2), a class's limits (R-M5), the
 * outbound queue (R-M2), the malware vault read with a justification (R-A2) seen afterwards by the
 * customer admin and the user in their audit logs, support tickets between admin and operator (R-T7),
 * the trace (R-M6) and the journal (R-T5). Stored-XSS attempts in the customer's name and the ticket's
 * text are shown as text with no script run. axe-core and screenshots at both widths.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { enqueueOutbound } from '../../src/delivery/queue.ts';
import { vaultOutbound } from '../../src/filter/vault.ts';
import { receiveMessage } from '../../src/mailstore/index.ts';
import { recordTrace } from '../../src/trace/index.ts';
import { ops } from '../../web/messages/ops.ts';
import { shared } from '../../web/messages/shared.ts';
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
import { ApiClient, operatorClient, secretOf } from '../helpers/client.ts';
import { type MailCustomer, rawMessage, setupMailCustomer } from '../helpers/filter.ts';
import { OPERATOR, startTestService, type TestService } from '../helpers/service.ts';

const XSS = '<img src=x onerror=alert(1)><script>alert(2)</script>';
const LANGS = ['en', 'fr'] as const;
type Lang = (typeof LANGS)[number];

let service: TestService;
let browser: Browser | undefined;
let operator: ApiClient;
let acme: MailCustomer;
let codes: ApiClient;

before(async () => {
  await ensureWebBuilt();
  service = await startTestService();
  operator = await operatorClient(service);
  acme = await setupMailCustomer(service, operator, 'Acme Web', 'acme-web.test', ['alice', 'bob']);
  codes = new ApiClient(service.url, service.clock);
  if (browserAvailable()) browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await service?.close();
});

const alice = () => acme.accounts[0] as MailCustomer['accounts'][number];

/** A page that fails the test on any dialog (alert from an injected script) and checks no injected <img> got in. */
async function opened(lang: Lang, width: number = WIDTHS.desktop) {
  assert.ok(browser);
  const page = await openPage(browser, { lang, width });
  page.page.on('dialog', (dialog) => {
    page.problems.push(`dialog opened: ${dialog.message()}`);
    void dialog.dismiss();
  });
  return page;
}

async function noInjectedMarkup(page: Page): Promise<void> {
  assert.equal(await page.locator('img[src="x"]').count(), 0, 'no <img> from a stored text');
  assert.equal(await page.evaluate('document.querySelectorAll("main script").length'), 0, 'no <script> from a stored text');
}

async function asOperator(page: Page, lang: Lang): Promise<void> {
  await logInThroughPage(page, service.url, codes, { email: OPERATOR.email, password: OPERATOR.password, secret: secretOf(OPERATOR.email), lang });
}

async function asAdmin(page: Page, lang: Lang): Promise<void> {
  const email = `admin@${'Acme Web'.toLowerCase().replace(/[^a-z0-9]/g, '')}.test`;
  await logInThroughPage(page, service.url, codes, { email, password: 'admin-password-acmeweb', secret: secretOf(email), lang });
}

async function visit(page: Page, path: string, heading: string): Promise<void> {
  await page.goto(`${service.url}${path}`);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

/** axe and a screenshot of the page as it is, at both widths (the second one by resizing). */
async function checkBothWidths(page: Page, name: string, lang: Lang): Promise<void> {
  for (const [label, width] of Object.entries(WIDTHS)) {
    await page.setViewportSize({ width, height: 900 });
    await assertAccessible(page, `${name} (${lang}, ${width} px)`);
    await screenshot(page, `${name}-${lang}-${label}`);
  }
  await page.setViewportSize({ width: WIDTHS.desktop, height: 900 });
}

for (const lang of LANGS) {
  const o = ops[lang];

  test(`R-T1 R-T2 operator console (${lang}): creates a customer (its name an XSS attempt, shown as text), a pending subscription with licences per class, activates it, changes its licences, ends it after a confirmation`, async (t) => {
    if (!needsBrowser(t, browser)) return;
    const view = await opened(lang);
    const { page } = view;
    await asOperator(page, lang);
    assert.equal(new URL(page.url()).pathname, '/ops');
    await page.getByRole('heading', { level: 1, name: o.customers.title }).waitFor();
    await checkBothWidths(page, 'ops-customers', lang);

    const name = `${XSS} ${lang}`;
    await page.getByLabel(o.customers.name, { exact: true }).fill(name);
    await page.getByLabel(o.customers.contact, { exact: true }).fill(`contact-${lang}@xss.test`);
    await page.getByRole('button', { name: o.customers.create }).click();
    await page.getByRole('heading', { level: 1, name }).waitFor();
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), name, 'the name is shown as typed, as text');
    await noInjectedMarkup(page);

    // A subscription: 3 licences of Basic, pending; then activated.
    const basic = lang === 'fr' ? 'Essentiel' : 'Basic';
    await page.getByLabel(o.customer.licenceOf(basic)).fill('3');
    await page.getByLabel(o.customer.activateNow).uncheck();
    await page.getByRole('button', { name: o.customer.createSubscription }).click();
    const card = page.getByRole('article');
    await card.getByText(o.customer.subStatus.pending as string).waitFor();
    await checkBothWidths(page, 'ops-customer', lang);
    await card.getByRole('button', { name: o.customer.activate }).click();
    await card.getByText(o.customer.subStatus.active as string).waitFor();

    // Licences changed: the table says so, and so does the API.
    await card.getByRole('button', { name: o.customer.editLicences }).click();
    await card.getByLabel(o.customer.licenceOf(basic)).fill('7');
    await card.getByRole('button', { name: o.customer.saveLicences }).click();
    await card.getByRole('cell', { name: '7', exact: true }).waitFor();
    const customerId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() as string);
    const subs = await operator.get(`/api/subscriptions?customerId=${customerId}`);
    assert.deepEqual(
      subs.body.items[0].licences.map((l: { classId: string; quantity: number }) => [l.classId, l.quantity]),
      [['basic', 7]],
    );

    // Ending it asks first, naming the customer and what is lost; Escape cancels, from the keyboard.
    await card.getByRole('button', { name: o.customer.terminate }).click();
    const dialog = page.getByRole('dialog', { name: o.customer.terminateTitle });
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal((await operator.get(`/api/subscriptions?customerId=${customerId}`)).body.items[0].status, 'active');
    await card.getByRole('button', { name: o.customer.terminate }).click();
    await dialog.waitFor();
    assert.match((await dialog.textContent()) ?? '', lang === 'fr' ? /inaccessibles immédiatement/ : /inaccessible immediately/);
    assert.ok(((await dialog.textContent()) ?? '').includes(name), 'the dialog names the customer, as text');
    await assertAccessible(page, `terminate dialog (${lang})`);
    await dialog.getByRole('button', { name: o.customer.terminate }).click();
    await card.getByText(o.customer.subStatus.ended as string).waitFor();
    assert.equal((await operator.get(`/api/subscriptions?customerId=${customerId}`)).body.items[0].status, 'ended');

    // The list finds it by a part of its name, shown as text there too.
    await page.goto(`${service.url}/ops/customers`);
    await page.getByRole('searchbox', { name: o.customers.searchLabel }).fill(`${lang}`);
    await page.getByRole('button', { name: o.customers.searchButton, exact: true }).click();
    await page.getByRole('link', { name }).waitFor();
    await noInjectedMarkup(page);
    assertClean(view);
    await view.context.close();
  });

  test(`R-T2 R-M5 the operator changes a class's sending limit in the browser (${lang}); a wrong value is refused on its field`, async (t) => {
    if (!needsBrowser(t, browser)) return;
    const view = await opened(lang);
    const { page } = view;
    await asOperator(page, lang);
    await visit(page, '/ops/classes', o.classes.title);
    await checkBothWidths(page, 'ops-classes', lang);
    const premium = 'Premium';
    await page.getByRole('button', { name: o.classes.edit(premium) }).click();
    const form = page.getByRole('form', { name: o.classes.editTitle(premium) });
    await form.getByLabel(o.classes.perMessage).fill('0');
    await form.getByRole('button', { name: o.classes.save }).click();
    await form.getByRole('alert').waitFor();
    assert.equal(await form.getByLabel(o.classes.perMessage).getAttribute('aria-invalid'), 'true', 'the error is on its field');
    const value = lang === 'fr' ? '42' : '41';
    await form.getByLabel(o.classes.perMessage).fill(value);
    await form.getByRole('button', { name: o.classes.save }).click();
    await form.waitFor({ state: 'detached' });
    const classes = await operator.get('/api/classes');
    const after = classes.body.items.find((c: { id: string }) => c.id === 'premium');
    assert.equal(after.limits.recipientsPerMessage, Number(value));
    assert.equal(after.quotaBytes, 100 * 1024 ** 3, 'what was not touched is not changed (no rounding of the quota)');
    await page.getByRole('cell', { name: new RegExp(`${value} ${lang === 'fr' ? 'destinataires' : 'recipients'}`) }).waitFor();

    // A new class, with its names in both languages and a recipients-per-day limit.
    const create = page.getByRole('form', { name: o.classes.newTitle });
    await create.getByLabel(o.classes.id).fill(`gold-${lang}`);
    await create.getByLabel(o.classes.nameEn).fill(`Gold ${lang}`);
    await create.getByLabel(o.classes.nameFr).fill(`Or ${lang}`);
    await create.getByLabel(new RegExp(`^${o.classes.perDay}`)).fill('500');
    await create.getByRole('button', { name: o.classes.create }).click();
    await page.getByRole('button', { name: o.classes.edit(lang === 'fr' ? `Or ${lang}` : `Gold ${lang}`) }).waitFor();
    const gold = (await operator.get('/api/classes')).body.items.find((c: { id: string }) => c.id === `gold-${lang}`);
    assert.equal(gold.limits.recipientsPerDay, 500);
    assert.equal(gold.quotaBytes, 5_000_000_000);
    assertClean(view);
    await view.context.close();
  });
}

test('R-M2 the operator sees the outbound queue: queued and deferred deliveries with their last error (en, fr)', async (t) => {
  if (!needsBrowser(t, browser)) return;
  const message = await receiveMessage(service.ctx, Readable.from([rawMessage({ from: alice().address, to: 'x@far.test', subject: 'Hello' })]), {
    maxBytes: 1 << 20,
  });
  const ids = await enqueueOutbound(service.ctx, {
    customerId: acme.customerId,
    sender: alice().address,
    recipients: ['x@far.test', 'y@slow.test'],
    blob: message.blob,
  });
  await service.ctx.db
    .updateTable('outbound_queue')
    .set({ attempts: 3, last_error: '451 4.7.1 greylisted', next_attempt_at: service.clock.now() + 900_000 })
    .where('id', '=', ids[1] as string)
    .execute();
  for (const lang of LANGS) {
    const o = ops[lang];
    const view = await opened(lang);
    const { page } = view;
    await asOperator(page, lang);
    await visit(page, '/ops/queue', o.queue.title);
    const deferred = page.getByRole('row').filter({ hasText: 'y@slow.test' });
    await deferred.getByText(o.queue.statuses.deferred as string).waitFor();
    await deferred.getByText('451 4.7.1 greylisted').waitFor();
    await page
      .getByRole('row')
      .filter({ hasText: 'x@far.test' })
      .getByText(o.queue.statuses.queued as string)
      .waitFor();
    await checkBothWidths(page, 'ops-queue', lang);
    // Deferred only: the queued one goes.
    await page.getByLabel(o.queue.deferredOnly).check();
    await page.getByRole('button', { name: o.queue.filter }).click();
    await page.getByRole('row').filter({ hasText: 'x@far.test' }).waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('row').filter({ hasText: 'y@slow.test' }).count(), 1);
    // The job runs, while here.
    await visit(page, '/ops/jobs', o.jobs.title);
    await page.getByRole('cell', { name: 'operations.recover' }).waitFor();
    await checkBothWidths(page, 'ops-jobs', lang);
    assertClean(view);
    await view.context.close();
  }
});

for (const lang of LANGS) {
  const o = ops[lang];
  const s = shared[lang];
  test(`R-A2 (${lang}) the operator reads a vaulted message only with a justification; the customer admin and the user see that access and its reason in their audit logs`, async (t) => {
    if (!needsBrowser(t, browser)) return;
    const subject = `Vaulted ${lang}`;
    const raw = rawMessage({ from: alice().address, to: 'victim@remote.test', subject, body: `${XSS} payload` });
    const message = await receiveMessage(service.ctx, Readable.from([raw]), { maxBytes: 1 << 20 });
    const entry = await vaultOutbound(service.ctx, {
      blob: message.blob,
      account: { accountId: alice().id, customerId: alice().customerId },
      sender: alice().address,
      recipients: ['victim@remote.test'],
      malware: { name: `Eicar-${lang}`, reason: { en: 'EICAR', fr: 'EICAR' }, source: 'malware' },
    });

    const view = await opened(lang);
    const { page } = view;
    await asOperator(page, lang);
    await visit(page, '/ops/vault', o.vault.title);
    const row = page.getByRole('row').filter({ hasText: `Eicar-${lang}` });
    // From the keyboard: the Read button, then the reason field has the focus.
    await row.getByRole('button', { name: new RegExp(alice().address.replace('.', '\\.')) }).focus();
    await page.keyboard.press('Enter');
    const form = page.getByRole('form', { name: o.vault.readTitle });
    await form.waitFor();
    // The focus moves to the reason (after the render: waited for, and fails on timeout if it never comes).
    await page.waitForFunction("document.activeElement?.id === 'reason'", undefined, { timeout: 5000 });
    // Without a reason: refused on the field, nothing shown, nothing recorded as an access.
    await form.getByRole('button', { name: o.vault.confirm }).click();
    await form.getByRole('alert').waitFor();
    assert.equal(await form.getByLabel(o.vault.reason).getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByRole('region', { name: o.vault.content }).count(), 0, 'no content without a reason');
    await checkBothWidths(page, 'ops-vault', lang);
    const reason = lang === 'fr' ? 'Réquisition judiciaire n° 2026-451' : 'Court order ref. 2026-451';
    await form.getByLabel(o.vault.reason).fill(reason);
    await form.getByRole('button', { name: o.vault.confirm }).click();
    const content = page.getByRole('region', { name: o.vault.content });
    await content.waitFor();
    assert.match((await content.textContent()) ?? '', new RegExp(`Subject: ${subject}`));
    assert.ok(((await content.textContent()) ?? '').includes(XSS), 'the raw message is text, its markup not interpreted');
    await noInjectedMarkup(page);
    // The operator's own audit log lists it too.
    await visit(page, '/ops/audit', shared[lang].audit.title);
    await page.getByRole('row').filter({ hasText: reason }).first().waitFor();
    await checkBothWidths(page, 'ops-audit', lang);
    const reads = await operator.get(`/api/vault/${entry.id}/reads`);
    assert.deepEqual(
      reads.body.items.map((r: { reason: string }) => r.reason),
      [reason],
    );
    assertClean(view);
    await view.context.close();

    // The customer admin's audit log names the access and its reason.
    const adminView = await opened(lang);
    await asAdmin(adminView.page, lang);
    await visit(adminView.page, '/admin/audit', s.audit.title);
    const seen = adminView.page.getByRole('row').filter({ hasText: reason });
    await seen.getByText(s.actions['vault.read'] as string).waitFor();
    await seen.getByText(OPERATOR.email).waitFor();
    await checkBothWidths(adminView.page, 'admin-audit', lang);
    assertClean(adminView);
    await adminView.context.close();

    // So does the user's, whose mail it is.
    const userView = await opened(lang);
    await logInThroughPage(userView.page, service.url, codes, { email: alice().address, password: alice().password, secret: secretOf(alice().address), lang });
    await visit(userView.page, '/me/audit', s.audit.titleUser);
    await userView.page
      .getByRole('row')
      .filter({ hasText: reason })
      .getByText(s.actions['vault.read'] as string)
      .waitFor();
    await checkBothWidths(userView.page, 'user-audit', lang);
    assertClean(userView);
    await userView.context.close();
  });

  test(`R-T7 (${lang}) a ticket opened by the customer admin in the browser (its text an XSS attempt) is answered and closed by the operator in the browser`, async (t) => {
    if (!needsBrowser(t, browser)) return;
    const subject = `${XSS} ${lang}`;
    const adminView = await opened(lang);
    const admin = adminView.page;
    await asAdmin(admin, lang);
    await visit(admin, '/admin/tickets', s.tickets.title);
    await checkBothWidths(admin, 'admin-tickets', lang);
    await admin.getByLabel(s.tickets.subject).fill(subject);
    await admin.getByLabel(s.tickets.category).selectOption('unblock');
    await admin.getByLabel(s.tickets.body).fill(`Please unblock alice.\n${XSS}`);
    await admin.getByRole('button', { name: s.tickets.open }).click();
    await admin.getByRole('heading', { level: 1, name: subject }).waitFor();
    assert.ok(((await admin.locator('.thread-body').first().textContent()) ?? '').includes(XSS));
    await noInjectedMarkup(admin);
    await checkBothWidths(admin, 'admin-ticket', lang);

    const opView = await opened(lang);
    const op = opView.page;
    await asOperator(op, lang);
    await visit(op, '/ops/tickets', s.tickets.title);
    await checkBothWidths(op, 'ops-tickets', lang);
    await op.getByRole('link', { name: subject }).click();
    await op.getByRole('heading', { level: 1, name: subject }).waitFor();
    await checkBothWidths(op, 'ops-ticket', lang);
    await noInjectedMarkup(op);
    const answer = lang === 'fr' ? 'Compte débloqué.' : 'Account unblocked.';
    await op.getByLabel(s.ticket.replyLabel).fill(answer);
    await op.getByRole('button', { name: s.ticket.send }).click();
    await op.getByText(answer).waitFor();
    await op.getByText(s.tickets.statuses.answered as string).waitFor();
    await op.getByRole('button', { name: s.ticket.close }).click();
    const dialog = op.getByRole('dialog', { name: s.ticket.closeTitle });
    await dialog.getByRole('button', { name: s.ticket.close }).click();
    await op.getByText(s.ticket.isClosed).waitFor();
    assertClean(opView);
    await opView.context.close();

    // The admin sees the answer and the closing.
    await admin.reload();
    await admin.getByText(answer).waitFor();
    await admin.getByText(s.ticket.isClosed).waitFor();
    await noInjectedMarkup(admin);
    assertClean(adminView);
    await adminView.context.close();
  });

  test(`R-M6 R-T5 (${lang}) the trace by address and the operations journal, for the operator and the customer admin`, async (t) => {
    if (!needsBrowser(t, browser)) return;
    await recordTrace(service.ctx, [
      {
        step: 'received',
        direction: 'inbound',
        customerId: acme.customerId,
        messageId: `trace-${lang}@far.test`,
        sender: 'friend@far.test',
        recipient: alice().address,
      },
      {
        step: 'delivered',
        direction: 'inbound',
        customerId: acme.customerId,
        messageId: `trace-${lang}@far.test`,
        sender: 'friend@far.test',
        recipient: alice().address,
      },
    ]);
    for (const who of ['operator', 'admin'] as const) {
      const view = await opened(lang);
      const { page } = view;
      if (who === 'operator') await asOperator(page, lang);
      else await asAdmin(page, lang);
      const base = who === 'operator' ? '/ops' : '/admin';
      await visit(page, `${base}/trace`, s.trace.title);
      // Neither field: said on the page, not sent.
      await page.getByRole('button', { name: s.trace.search, exact: true }).click();
      await page.getByRole('alert').getByText(s.trace.needOne).waitFor();
      await page.getByRole('searchbox', { name: new RegExp(`^${s.trace.address}`) }).fill(alice().address);
      await page.getByRole('button', { name: s.trace.search, exact: true }).click();
      await page.getByRole('table', { name: s.trace.caption }).waitFor();
      const traced = page.getByRole('row').filter({ hasText: `trace-${lang}@far.test` });
      await traced.first().waitFor();
      assert.ok((await traced.allTextContents()).some((text) => text.includes(s.trace.steps.delivered as string)));
      await checkBothWidths(page, `${who}-trace`, lang);
      await visit(page, `${base}/journal`, s.journal.title);
      await page.getByRole('table', { name: s.journal.caption }).waitFor();
      if (who === 'admin')
        await page
          .getByText(s.actions['subscription.create'] as string)
          .first()
          .waitFor();
      await checkBothWidths(page, `${who}-journal`, lang);
      assertClean(view);
      await view.context.close();
    }
  });
}
