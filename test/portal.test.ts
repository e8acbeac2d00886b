/**
 * The contract's customer portal (§7, SPEC R-T4) walked through the HTTP API as a customer admin would,
 * after the operator created the customer and its subscription: real server on loopback, real
 * database, real DNS server on loopback for the domain checks (R-T3), every step recorded (R-T5).
 * The tests run in order and share the state they build.
 */
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { after, before, test } from 'node:test';
import { domainToASCII } from 'node:url';
import { ApiClient, type CustomerSetup, expectProblem, expectStatus, operatorClient, setupCustomer, waitForOperation } from './helpers/client.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'acme-portail.test';
const IDN_DOMAIN = 'café-exemple.test';
const MB = 1024 * 1024;

/** What the customer's DNS holds when it adds the domain: the MX is right, the SPF is an old provider's, nothing else. */
const FIXTURE_ZONE = {
  [DOMAIN]: {
    MX: [{ exchange: 'mail.provider.test', priority: 10 }],
    TXT: [['v=spf1 include:_spf.ancien-hebergeur.test -all'], ['google-site-verification=abc123']],
  },
  [`www.${DOMAIN}`]: { A: ['192.0.2.10'] },
};

let service: TestService;
let operator: ApiClient;
let setup: CustomerSetup;
let admin: ApiClient;
let adminLoginId: string;
let subscriptionId: string;
let domainId: string;
let idnDomainId: string;
let aliceId: string;
let bobId: string;
let bobPassword: string;
let listId: string;
let labelId: string;

before(async () => {
  service = await startTestService({ zone: FIXTURE_ZONE });
  operator = await operatorClient(service);
  setup = await setupCustomer(service, operator, 'Acme Portail', { basic: 3, standard: 2 });
  admin = setup.admin;
  subscriptionId = setup.subscriptionId;
  const me = await admin.get('/api/me');
  assert.equal(me.status, 200, JSON.stringify(me.body));
  adminLoginId = me.body.login.id;
});
after(() => service.close());

function recordOf(domain: any, kind: string): any {
  const record = domain.lastCheck?.records.find((r: any) => r.kind === kind);
  assert.ok(record, `no ${kind} record in the last check: ${JSON.stringify(domain.lastCheck)}`);
  return record;
}

function statuses(domain: any): Record<string, string> {
  return Object.fromEntries(domain.lastCheck.records.map((r: any) => [r.kind, r.status]));
}

async function details(): Promise<any> {
  const reply = await admin.get(`/api/subscriptions/${subscriptionId}`);
  expectStatus(reply, 200);
  return reply.body;
}

/** Adds a domain as the portal does: 202 with the operation, polled to its end. */
async function addDomain(name: string): Promise<any> {
  const started = await admin.post(`/api/subscriptions/${subscriptionId}/domains`, { name });
  expectStatus(started, 202);
  assert.equal(started.headers.get('location'), `/api/operations/${started.body.id}`);
  assert.equal(started.body.kind, 'domain.add');
  return waitForOperation(admin, started.body.id);
}

test('R-T4 R-T2 the customer admin sees the subscription details: licences per class, period, domains, labels, sending limits (§6)', async () => {
  const body = await details();
  assert.equal(body.id, subscriptionId);
  assert.equal(body.customerId, setup.customerId);
  assert.equal(body.status, 'active');
  assert.equal(body.periodMonths, 12);
  assert.equal(body.billingCycle, 'monthly');
  assert.equal(body.cancelAtPeriodEnd, false);
  assert.deepEqual(
    body.licences.map((l: any) => [l.classId, l.quantity, l.used, l.available]),
    [
      ['basic', 3, 0, 3],
      ['standard', 2, 0, 2],
    ],
  );
  // Start at activation (the operator created it active), end twelve calendar months later.
  const start = new Date(body.currentPeriodStart);
  assert.equal(body.activatedAt, body.currentPeriodStart);
  const expectedEnd = new Date(start);
  expectedEnd.setUTCFullYear(start.getUTCFullYear() + 1);
  assert.equal(body.currentPeriodEnd, expectedEnd.toISOString());
  assert.ok(start.getTime() <= service.clock.now());
  assert.deepEqual(body.domains, []);
  assert.deepEqual(body.labels, []);
  assert.equal(body.accountCount, 0);
  // The sending limits in force for each class of the subscription (contract §6).
  assert.deepEqual(
    body.classes.map((c: any) => c.id),
    ['basic', 'standard'],
  );
  for (const cls of body.classes) {
    assert.deepEqual(cls.limits, {
      messagesPerMinutePerRecipient: 100,
      recipientsPerMessage: 100,
      maxMessageBytes: 50 * MB,
      standardMessageBytes: 10 * MB,
      recipientsPerHour: null,
      recipientsPerDay: null,
    });
    assert.ok(cls.quotaBytes > 0);
    assert.ok(cls.features.includes('imap'));
    assert.ok(cls.name.en && cls.name.fr);
  }
  // The same limits on the classes page, which the customer may read too.
  const classes = await admin.get('/api/classes');
  expectStatus(classes, 200);
  assert.equal(classes.body.items.find((c: any) => c.id === 'premium').limits.maxMessageBytes, 50 * MB);
  // The subscription list shows it, and only the customer's own.
  const list = await admin.get('/api/subscriptions');
  expectStatus(list, 200);
  assert.deepEqual(
    list.body.items.map((s: any) => s.id),
    [subscriptionId],
  );
});

test('R-T4 FAQ pages on client configuration are readable in French and in English', async () => {
  const en = await admin.get('/api/faq?lang=en');
  const fr = await admin.get('/api/faq?lang=fr');
  expectStatus(en, 200);
  expectStatus(fr, 200);
  const slugs = en.body.items.map((p: any) => p.slug);
  assert.deepEqual(
    fr.body.items.map((p: any) => p.slug),
    slugs,
  );
  for (const slug of ['server-settings', 'thunderbird', 'outlook', 'apple-mail', 'android', 'dns-records', 'sending-limits']) {
    assert.ok(slugs.includes(slug), `no FAQ page ${slug}`);
  }
  const settingsEn = await admin.get('/api/faq/server-settings?lang=en');
  const settingsFr = await admin.get('/api/faq/server-settings?lang=fr');
  expectStatus(settingsEn, 200);
  expectStatus(settingsFr, 200);
  assert.equal(settingsEn.body.title, 'Server settings for mail programs');
  assert.equal(settingsFr.body.title, 'Paramètres des serveurs pour les logiciels de messagerie');
  // Filled in with this service's real host name and ports.
  for (const page of [settingsEn.body, settingsFr.body]) {
    assert.match(page.body, /mail\.provider\.test/);
    assert.ok(page.body.includes(`| ${service.ctx.config.ports.imaps} | SSL/TLS |`), page.body);
    assert.ok(page.body.includes(`| ${service.ctx.config.ports.submissions} | SSL/TLS |`), page.body);
  }
  assert.match(settingsFr.body.body, /Réception/);
  assert.match(settingsEn.body.body, /Incoming mail/);
  // The language follows Accept-Language when no lang is given; the page is public.
  const anonymous = new ApiClient(service.url);
  anonymous.language = 'fr';
  const byHeader = await anonymous.get('/api/faq/sending-limits');
  expectStatus(byHeader, 200);
  assert.equal(byHeader.body.title, fr.body.items.find((p: any) => p.slug === 'sending-limits').title);
  assert.match(byHeader.body.body, /100/);
  assert.match(byHeader.body.body, /50/);
  expectProblem(await admin.get('/api/faq/no-such-page'), 404, 'not-found');

  // The limits come from the classes in force: the operator changes one, the page follows.
  const limitLine = /Recipients per message.* \| (\d+) \|/;
  const before = await anonymous.get('/api/faq/sending-limits?lang=en');
  assert.equal(limitLine.exec(before.body.body)?.[1], '100');
  expectStatus(await operator.patch('/api/classes/basic', { limits: { recipientsPerMessage: 40 } }), 200);
  try {
    const after = await anonymous.get('/api/faq/sending-limits?lang=en');
    assert.equal(limitLine.exec(after.body.body)?.[1], '40', 'the FAQ shows the limit every account has now');
  } finally {
    expectStatus(await operator.patch('/api/classes/basic', { limits: { recipientsPerMessage: 100 } }), 200);
  }
});

test('R-T4 R-T3 adding a domain shows the records to publish and checks them live, record by record', async () => {
  // Bad input first: nothing is added.
  expectProblem(await admin.post(`/api/subscriptions/${subscriptionId}/domains`, { name: 'not a domain' }), 400, 'invalid-domain', 'name');
  expectProblem(await admin.post(`/api/subscriptions/${subscriptionId}/domains`, { name: DOMAIN, extra: 1 }), 400, 'unknown-field', 'extra');

  const queriesBefore = service.dns.queries.length;
  const op = await addDomain(DOMAIN);
  assert.equal(op.status, 'succeeded', JSON.stringify(op));
  assert.equal(op.progress, 100);
  assert.equal(op.result.name, DOMAIN);
  assert.equal(op.result.ok, false);
  domainId = op.result.domainId;
  assert.match(domainId, /^dom_/);
  // The check really asked the DNS server on loopback.
  const asked = service.dns.queries.slice(queriesBefore).map((q) => `${q.type} ${q.name}`);
  assert.ok(asked.includes(`MX ${DOMAIN}`), asked.join(', '));
  assert.ok(asked.includes(`TXT _dmarc.${DOMAIN}`), asked.join(', '));

  const reply = await admin.get(`/api/domains/${domainId}`);
  expectStatus(reply, 200);
  const domain = reply.body;
  assert.equal(domain.name, DOMAIN);
  assert.equal(domain.subscriptionId, subscriptionId);
  assert.equal(domain.status, 'pending');
  // The records to publish: MX to the provider's MX host, SPF authorising it, the generated DKIM key, DMARC.
  const byKind = Object.fromEntries(domain.records.map((r: any) => [r.kind, r]));
  assert.deepEqual(Object.keys(byKind).sort(), ['dkim', 'dmarc', 'mx', 'spf']);
  assert.deepEqual([byKind.mx.type, byKind.mx.host, byKind.mx.value], ['MX', DOMAIN, '10 mail.provider.test']);
  assert.deepEqual([byKind.spf.type, byKind.spf.host], ['TXT', DOMAIN]);
  assert.match(byKind.spf.value, /^v=spf1 .*\binclude:spf\.mail\.provider\.test\b/);
  assert.match(domain.dkim.selector, /^[a-z0-9-]+$/);
  assert.equal(byKind.dkim.host, `${domain.dkim.selector}._domainkey.${DOMAIN}`);
  assert.equal(byKind.dkim.value, `v=DKIM1; k=rsa; p=${domain.dkim.publicKey}`);
  const key = createPublicKey({ key: Buffer.from(domain.dkim.publicKey, 'base64'), format: 'der', type: 'spki' });
  assert.equal(key.asymmetricKeyType, 'rsa');
  assert.equal(byKind.dmarc.host, `_dmarc.${DOMAIN}`);
  assert.match(byKind.dmarc.value, /^v=DMARC1; p=(quarantine|reject|none)/);
  for (const record of domain.records) assert.ok(record.description.en && record.description.fr);
  // Nothing private leaks.
  assert.equal(JSON.stringify(domain).includes('PRIVATE'), false);

  // The live check, record by record: MX ok, SPF wrong (another provider's), DKIM and DMARC missing.
  assert.equal(domain.lastCheck.ok, false);
  assert.deepEqual(statuses(domain), { mx: 'ok', spf: 'wrong', dkim: 'missing', dmarc: 'missing' });
  assert.deepEqual(recordOf(domain, 'mx').found, ['10 mail.provider.test']);
  assert.deepEqual(recordOf(domain, 'spf').found, ['v=spf1 include:_spf.ancien-hebergeur.test -all']);
  assert.match(recordOf(domain, 'spf').message.en, /include:spf\.mail\.provider\.test/);
  assert.match(recordOf(domain, 'dkim').message.fr, /Aucun enregistrement/);

  // The subscription now shows the domain.
  assert.deepEqual(
    (await details()).domains.map((d: any) => [d.id, d.name, d.status]),
    [[domainId, DOMAIN, 'pending']],
  );
  // The same domain cannot be added twice.
  expectProblem(await admin.post(`/api/subscriptions/${subscriptionId}/domains`, { name: DOMAIN.toUpperCase() }), 409, 'already-exists', 'name');
});

test('R-T3 publishing the records makes each check turn ok, then the domain becomes active', async () => {
  const domain = (await admin.get(`/api/domains/${domainId}`)).body;
  const expected = Object.fromEntries(domain.records.map((r: any) => [r.kind, r]));

  // The customer fixes SPF and publishes a DKIM key, but copies the wrong one.
  service.dns.set(DOMAIN, 'TXT', [[expected.spf.value], ['google-site-verification=abc123']]);
  service.dns.set(expected.dkim.host, 'TXT', [['v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC1TaNgLmzsXzSt']]);
  let check = await admin.post(`/api/domains/${domainId}/check`);
  expectStatus(check, 200);
  assert.deepEqual(statuses(check.body), { mx: 'ok', spf: 'ok', dkim: 'wrong', dmarc: 'missing' });
  assert.equal(check.body.status, 'pending');
  assert.match(recordOf(check.body, 'dkim').message.en, /different key/);

  // Then the right key and the DMARC record: every record ok, the domain is active (R-T3).
  service.dns.set(expected.dkim.host, 'TXT', [[expected.dkim.value]]);
  service.dns.set(expected.dmarc.host, 'TXT', [[expected.dmarc.value]]);
  check = await admin.post(`/api/domains/${domainId}/check`);
  expectStatus(check, 200);
  assert.deepEqual(statuses(check.body), { mx: 'ok', spf: 'ok', dkim: 'ok', dmarc: 'ok' });
  assert.equal(check.body.lastCheck.ok, true);
  assert.equal(check.body.status, 'active');
  assert.equal(new Date(check.body.lastCheck.checkedAt).getTime() <= service.clock.now(), true);

  const stored = await admin.get(`/api/domains/${DOMAIN}`);
  expectStatus(stored, 200);
  assert.equal(stored.body.id, domainId);
  assert.equal(stored.body.status, 'active');
  assert.equal(stored.body.lastCheck.ok, true);
  assert.equal((await details()).domains[0].status, 'active');
});

test('R-T4 R-T3 an IDN domain is stored in punycode and shown in Unicode', async () => {
  const ascii = domainToASCII(IDN_DOMAIN);
  assert.match(ascii, /^xn--/);
  const op = await addDomain(IDN_DOMAIN);
  assert.equal(op.status, 'succeeded', JSON.stringify(op));
  assert.equal(op.result.name, ascii);
  idnDomainId = op.result.domainId;
  const byName = await admin.get(`/api/domains/${encodeURIComponent(IDN_DOMAIN)}`);
  expectStatus(byName, 200);
  assert.equal(byName.body.id, idnDomainId);
  assert.equal(byName.body.name, ascii);
  assert.equal(byName.body.displayName, IDN_DOMAIN);
  // The records to publish name the ASCII form, the one DNS servers know.
  assert.ok(byName.body.records.every((r: any) => r.host.endsWith(ascii)));
  assert.deepEqual(statuses(byName.body), { mx: 'missing', spf: 'missing', dkim: 'missing', dmarc: 'missing' });
  const byAscii = await admin.get(`/api/domains/${ascii}`);
  expectStatus(byAscii, 200);
  assert.equal(byAscii.body.id, idnDomainId);
  const listed = (await details()).domains.find((d: any) => d.id === idnDomainId);
  assert.deepEqual([listed.name, listed.displayName], [ascii, IDN_DOMAIN]);
  // An account at the IDN domain: stored with the ASCII domain, shown in Unicode.
  const account = await admin.post(`/api/subscriptions/${subscriptionId}/accounts`, {
    address: `contact@${IDN_DOMAIN}`,
    classId: 'basic',
    password: 'motdepasse-cafe-1',
  });
  expectStatus(account, 201);
  assert.equal(account.body.address, `contact@${ascii}`);
  assert.equal(account.body.displayAddress, `contact@${IDN_DOMAIN}`);
  // Written in ASCII, the same domain is taken.
  expectProblem(await admin.post(`/api/subscriptions/${subscriptionId}/domains`, { name: ascii }), 409, 'already-exists', 'name');
});

test('R-T5 while a domain is being added, other changes to the subscription are refused with what is running', async () => {
  const slow = 'lent-exemple.test';
  service.dns.unanswered.add(slow); // MX and SPF lookups get no reply: the check takes about a second
  try {
    const started = await admin.post(`/api/subscriptions/${subscriptionId}/domains`, { name: slow });
    expectStatus(started, 202);
    assert.equal(started.body.status, 'running');
    const refused = await admin.post(`/api/subscriptions/${subscriptionId}/labels`, { name: 'pendant' });
    expectProblem(refused, 409, 'operation-running');
    assert.equal(refused.body.details.operation.id, started.body.id);
    assert.equal(refused.body.details.operation.kind, 'domain.add');
    assert.match(refused.body.detail, /domain\.add/);
    const progress = await admin.get(`/api/operations/${started.body.id}`);
    expectStatus(progress, 200);
    assert.equal(progress.body.status, 'running');
    assert.equal(typeof progress.body.progress, 'number');
    const op = await waitForOperation(admin, started.body.id);
    assert.equal(op.status, 'succeeded', JSON.stringify(op));
    // The lookups that got no answer are reported as such, not as missing.
    const domain = (await admin.get(`/api/domains/${op.result.domainId}`)).body;
    assert.equal(recordOf(domain, 'mx').status, 'error');
    assert.equal(recordOf(domain, 'spf').status, 'error');
    // Nothing of the refused change happened; once the operation is over, changes go through again.
    assert.deepEqual((await details()).labels, []);
    const removed = await admin.delete(`/api/domains/${op.result.domainId}`);
    expectStatus(removed, 204);
    expectProblem(await admin.get(`/api/domains/${slow}`), 404, 'not-found');
  } finally {
    service.dns.unanswered.delete(slow);
  }
});

test('R-T4 R-A1 adding accounts with a given password and with a generated one (shown once)', async () => {
  const alice = await admin.post(`/api/subscriptions/${subscriptionId}/accounts`, {
    address: `Alice.Martin@${DOMAIN}`,
    classId: 'basic',
    password: 'alice-password-1',
    displayName: 'Alice Martin',
  });
  expectStatus(alice, 201);
  aliceId = alice.body.id;
  assert.equal(alice.body.address, `alice.martin@${DOMAIN}`);
  assert.equal(alice.body.classId, 'basic');
  assert.equal(alice.body.displayName, 'Alice Martin');
  assert.equal(alice.body.status, 'active');
  assert.equal(alice.body.generatedPassword, undefined);
  assert.equal(JSON.stringify(alice.body).includes('alice-password-1'), false);

  const bob = await admin.post(`/api/subscriptions/${subscriptionId}/accounts`, { address: `bob@${DOMAIN}`, classId: 'standard' });
  expectStatus(bob, 201);
  bobId = bob.body.id;
  bobPassword = bob.body.generatedPassword;
  assert.equal(typeof bobPassword, 'string');
  assert.ok(bobPassword.length >= 16, bobPassword);
  // Shown once: never again.
  const shown = await admin.get(`/api/accounts/${bobId}`);
  expectStatus(shown, 200);
  assert.equal(shown.body.generatedPassword, undefined);
  assert.equal(JSON.stringify(shown.body).includes(bobPassword), false);

  // Both passwords open the user's own session.
  const aliceUser = await new ApiClient(service.url, service.clock).login(`alice.martin@${DOMAIN}`, 'alice-password-1');
  const aliceMe = await aliceUser.get('/api/me');
  expectStatus(aliceMe, 200);
  assert.equal(aliceMe.body.account.id, aliceId);
  const bobUser = await new ApiClient(service.url, service.clock).login(`bob@${DOMAIN}`, bobPassword);
  expectStatus(await bobUser.get('/api/me'), 200);

  // Bad input: a weak password, a domain outside the subscription, an address already used.
  expectProblem(
    await admin.post(`/api/subscriptions/${subscriptionId}/accounts`, { address: `carol@${DOMAIN}`, classId: 'basic', password: 'short' }),
    400,
    'weak-password',
    'password',
  );
  expectProblem(
    await admin.post(`/api/subscriptions/${subscriptionId}/accounts`, { address: 'carol@elsewhere.test', classId: 'basic' }),
    400,
    'domain-not-in-subscription',
    'address',
  );
  expectProblem(
    await admin.post(`/api/subscriptions/${subscriptionId}/accounts`, { address: `ALICE.MARTIN@${DOMAIN}`, classId: 'basic' }),
    409,
    'already-exists',
    'address',
  );
  // Licences in use: contact@café (basic), alice (basic), bob (standard).
  assert.deepEqual(
    (await details()).licences.map((l: any) => [l.classId, l.used, l.available]),
    [
      ['basic', 2, 1],
      ['standard', 1, 1],
    ],
  );
  const accounts = await admin.get(`/api/subscriptions/${subscriptionId}/accounts`);
  expectStatus(accounts, 200);
  assert.deepEqual(
    accounts.body.items.map((a: any) => a.address),
    [`alice.martin@${DOMAIN}`, `bob@${DOMAIN}`, `contact@${domainToASCII(IDN_DOMAIN)}`],
  );
});

test('R-T4 R-T2 modifying an account: class, password, display name', async () => {
  const changed = await admin.patch(`/api/accounts/${aliceId}`, { classId: 'standard', displayName: 'Alice Martin-Dupont' });
  expectStatus(changed, 200);
  assert.equal(changed.body.classId, 'standard');
  assert.equal(changed.body.displayName, 'Alice Martin-Dupont');
  assert.deepEqual(
    (await details()).licences.map((l: any) => [l.classId, l.used, l.available]),
    [
      ['basic', 1, 2],
      ['standard', 2, 0],
    ],
  );

  // A new password replaces the old one and ends the account's sessions.
  const before = await new ApiClient(service.url, service.clock).login(`bob@${DOMAIN}`, bobPassword);
  const newPassword = 'bob-new-password-2';
  const password = await admin.patch(`/api/accounts/${bobId}`, { password: newPassword });
  expectStatus(password, 200);
  assert.notEqual(password.body.passwordChangedAt, undefined);
  expectProblem(await before.get('/api/me'), 401, 'unauthenticated');
  expectProblem(await new ApiClient(service.url).post('/api/auth/login', { email: `bob@${DOMAIN}`, password: bobPassword }), 401, 'invalid-credentials');
  const after = await new ApiClient(service.url, service.clock).login(`bob@${DOMAIN}`, newPassword);
  expectStatus(await after.get('/api/me'), 200);
  bobPassword = newPassword;

  // Bad changes leave the account as it was.
  expectProblem(await admin.patch(`/api/accounts/${bobId}`, { password: 'aaaaaaaaaaaa' }), 400, 'weak-password', 'password');
  expectProblem(await admin.patch(`/api/accounts/${bobId}`, { classId: 'no-such-class' }), 400, 'unknown-class', 'classId');
  expectProblem(await admin.patch(`/api/accounts/${bobId}`, { quota: 1 }), 400, 'unknown-field', 'quota');
  const bob = await admin.get(`/api/accounts/bob@${DOMAIN}`);
  expectStatus(bob, 200);
  assert.equal(bob.body.classId, 'standard');
  assert.equal(bob.body.displayName, 'bob');
});

test('R-T4 adding a domain alias', async () => {
  const added = await admin.post(`/api/domains/${domainId}/aliases`, { name: 'acme-alias.test' });
  expectStatus(added, 201);
  assert.deepEqual(
    added.body.aliases.map((a: any) => a.name),
    ['acme-alias.test'],
  );
  const shown = await admin.get(`/api/domains/${domainId}`);
  assert.deepEqual(
    shown.body.aliases.map((a: any) => [a.name, a.displayName]),
    [['acme-alias.test', 'acme-alias.test']],
  );
  // A name already in use, as a domain or as an alias, is refused.
  expectProblem(await admin.post(`/api/domains/${domainId}/aliases`, { name: 'acme-alias.test' }), 409, 'already-exists', 'name');
  expectProblem(await admin.post(`/api/domains/${domainId}/aliases`, { name: IDN_DOMAIN }), 409, 'already-exists', 'name');
  expectProblem(await admin.post(`/api/domains/${domainId}/aliases`, { name: 'pas un domaine' }), 400, 'invalid-domain', 'name');
  // …and the alias cannot be added as a domain.
  expectProblem(await admin.post(`/api/subscriptions/${subscriptionId}/domains`, { name: 'acme-alias.test' }), 409, 'already-exists', 'name');
  assert.equal((await admin.get(`/api/domains/${domainId}`)).body.aliases.length, 1);
});

test('R-T4 adding an address alias', async () => {
  const created = await admin.post(`/api/subscriptions/${subscriptionId}/aliases`, {
    address: `ventes@${DOMAIN}`,
    destinations: [`alice.martin@${DOMAIN}`, 'Partenaire@Example.org'],
  });
  expectStatus(created, 201);
  assert.equal(created.body.address, `ventes@${DOMAIN}`);
  assert.deepEqual(created.body.destinations, [`alice.martin@${DOMAIN}`, 'partenaire@example.org']);
  const listed = await admin.get(`/api/subscriptions/${subscriptionId}/aliases`);
  expectStatus(listed, 200);
  assert.deepEqual(
    listed.body.items.map((a: any) => a.id),
    [created.body.id],
  );
  // An address of an account cannot also be an alias; an alias cannot point to itself.
  expectProblem(
    await admin.post(`/api/subscriptions/${subscriptionId}/aliases`, { address: `bob@${DOMAIN}`, destinations: [`alice.martin@${DOMAIN}`] }),
    409,
    'already-exists',
    'address',
  );
  expectProblem(
    await admin.post(`/api/subscriptions/${subscriptionId}/aliases`, { address: `boucle@${DOMAIN}`, destinations: [`boucle@${DOMAIN}`] }),
    400,
    'alias-loop',
    'destinations',
  );
  expectProblem(
    await admin.post(`/api/subscriptions/${subscriptionId}/aliases`, { address: `vide@${DOMAIN}`, destinations: ['not-an-address'] }),
    400,
    'invalid-address',
    'destinations.0',
  );
  assert.equal((await admin.get(`/api/subscriptions/${subscriptionId}/aliases`)).body.items.length, 1);
  // And no account can take the alias's address.
  expectProblem(
    await admin.post(`/api/subscriptions/${subscriptionId}/accounts`, { address: `ventes@${DOMAIN}`, classId: 'basic' }),
    409,
    'already-exists',
    'address',
  );
});

test('R-T4 adding a mailing list with members, then adding and removing members', async () => {
  const created = await admin.post(`/api/subscriptions/${subscriptionId}/lists`, {
    address: `equipe@${DOMAIN}`,
    name: 'Équipe',
    postingPolicy: 'members',
    members: [`alice.martin@${DOMAIN}`, `bob@${DOMAIN}`],
  });
  expectStatus(created, 201);
  listId = created.body.id;
  assert.equal(created.body.address, `equipe@${DOMAIN}`);
  assert.equal(created.body.name, 'Équipe');
  assert.equal(created.body.postingPolicy, 'members');
  assert.deepEqual(created.body.members, [`alice.martin@${DOMAIN}`, `bob@${DOMAIN}`]);

  const added = await admin.post(`/api/lists/${listId}/members`, { addresses: ['Externe@Example.org', `bob@${DOMAIN}`] });
  expectStatus(added, 200);
  assert.deepEqual(added.body.members, [`alice.martin@${DOMAIN}`, `bob@${DOMAIN}`, 'externe@example.org']);

  const removed = await admin.delete(`/api/lists/${listId}/members/${encodeURIComponent(`bob@${DOMAIN}`)}`);
  expectStatus(removed, 200);
  assert.deepEqual(removed.body.members, [`alice.martin@${DOMAIN}`, 'externe@example.org']);
  expectProblem(await admin.delete(`/api/lists/${listId}/members/${encodeURIComponent(`bob@${DOMAIN}`)}`), 404, 'not-found');

  const shown = await admin.get(`/api/lists/${listId}`);
  expectStatus(shown, 200);
  assert.deepEqual(shown.body.members, [`alice.martin@${DOMAIN}`, 'externe@example.org']);
  const lists = await admin.get(`/api/subscriptions/${subscriptionId}/lists`);
  assert.deepEqual(
    lists.body.items.map((l: any) => l.id),
    [listId],
  );
  // A list's address is unique among accounts, aliases and lists; a list cannot contain itself.
  expectProblem(await admin.post(`/api/subscriptions/${subscriptionId}/lists`, { address: `ventes@${DOMAIN}`, members: [] }), 409, 'already-exists', 'address');
  expectProblem(await admin.post(`/api/lists/${listId}/members`, { addresses: [`equipe@${DOMAIN}`] }), 400, 'list-loop', 'members');
  expectProblem(
    await admin.post(`/api/subscriptions/${subscriptionId}/lists`, { address: `autre@${DOMAIN}`, postingPolicy: 'everybody' }),
    400,
    'invalid-field',
    'postingPolicy',
  );
  assert.equal((await admin.get(`/api/subscriptions/${subscriptionId}/lists`)).body.items.length, 1);
});

test('R-T4 changing the billing cycle', async () => {
  const changed = await admin.post(`/api/subscriptions/${subscriptionId}/billing-cycle`, { billingCycle: 'yearly' });
  expectStatus(changed, 200);
  assert.equal(changed.body.billingCycle, 'yearly');
  expectProblem(await admin.post(`/api/subscriptions/${subscriptionId}/billing-cycle`, { billingCycle: 'weekly' }), 400, 'invalid-field', 'billingCycle');
  const body = await details();
  assert.equal(body.billingCycle, 'yearly');
  // The period is not touched by the billing cycle.
  assert.equal(body.periodMonths, 12);
});

test('R-T4 adding, editing and deleting labels to tell subscriptions apart', async () => {
  const added = await admin.post(`/api/subscriptions/${subscriptionId}/labels`, { name: 'Siège', color: '#1E90FF' });
  expectStatus(added, 201);
  labelId = added.body.id;
  assert.deepEqual([added.body.name, added.body.color, added.body.subscriptionId], ['Siège', '#1e90ff', subscriptionId]);
  const second = await admin.post(`/api/subscriptions/${subscriptionId}/labels`, { name: 'Production' });
  expectStatus(second, 201);
  assert.equal(second.body.color, null);
  expectProblem(await admin.post(`/api/subscriptions/${subscriptionId}/labels`, { name: 'Siège' }), 409, 'already-exists', 'name');
  expectProblem(await admin.post(`/api/subscriptions/${subscriptionId}/labels`, { name: 'Rouge', color: 'red' }), 400, 'invalid-field', 'color');

  const edited = await admin.patch(`/api/labels/${labelId}`, { name: 'Siège social', color: '#ff8800' });
  expectStatus(edited, 200);
  assert.deepEqual([edited.body.name, edited.body.color], ['Siège social', '#ff8800']);
  expectProblem(await admin.patch(`/api/labels/${labelId}`, { name: 'Production' }), 409, 'already-exists', 'name');
  // The operator may edit a customer's label too; the customer sees it in its own journal.
  const byOperator = await operator.patch(`/api/labels/${second.body.id}`, { color: '#00aa00' });
  expectStatus(byOperator, 200);
  assert.equal(byOperator.body.color, '#00aa00');

  assert.deepEqual(
    (await details()).labels.map((l: any) => [l.name, l.color]),
    [
      ['Production', '#00aa00'],
      ['Siège social', '#ff8800'],
    ],
  );
  expectStatus(await admin.delete(`/api/labels/${second.body.id}`), 204);
  expectProblem(await admin.delete(`/api/labels/${second.body.id}`), 404, 'not-found');
  assert.deepEqual(
    (await details()).labels.map((l: any) => l.name),
    ['Siège social'],
  );
});

test('R-T4 R-T6 renewing for another duration applies from the next renewal', async () => {
  const before = await details();
  const renewed = await admin.post(`/api/subscriptions/${subscriptionId}/renewal`, { months: 24 });
  expectStatus(renewed, 200);
  assert.equal(renewed.body.nextPeriodMonths, 24);
  assert.equal(renewed.body.periodMonths, 12);
  assert.equal(renewed.body.currentPeriodEnd, before.currentPeriodEnd);
  expectProblem(await admin.post(`/api/subscriptions/${subscriptionId}/renewal`, { months: 0 }), 400, 'invalid-field', 'months');
  expectProblem(await admin.post(`/api/subscriptions/${subscriptionId}/renewal`, { months: 121 }), 400, 'invalid-field', 'months');
  assert.equal((await details()).nextPeriodMonths, 24);
});

test('R-T4 R-T6 cancelling the subscription (effective at the end of the period), then resuming it', async () => {
  const before = await details();
  const started = await admin.post(`/api/subscriptions/${subscriptionId}/cancel`);
  expectStatus(started, 202);
  assert.equal(started.body.kind, 'subscription.cancel');
  const op = await waitForOperation(admin, started.body.id);
  assert.equal(op.status, 'succeeded', JSON.stringify(op));
  assert.equal(op.result.cancelAtPeriodEnd, true);

  let body = await details();
  assert.equal(body.cancelAtPeriodEnd, true);
  assert.equal(body.status, 'active'); // the service runs until the end of the period
  assert.equal(body.currentPeriodEnd, before.currentPeriodEnd);
  assert.equal(typeof body.cancelledAt, 'string');
  assert.equal(body.endedAt, null);
  // The accounts keep working until then.
  expectStatus(await (await new ApiClient(service.url, service.clock).login(`bob@${DOMAIN}`, bobPassword)).get('/api/me'), 200);

  // Cancelling twice: the operation fails and says why.
  const again = await admin.post(`/api/subscriptions/${subscriptionId}/cancel`);
  expectStatus(again, 202);
  const failed = await waitForOperation(admin, again.body.id);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.error.code, 'already-cancelled');
  assert.ok(failed.error.en && failed.error.fr);

  const resumed = await admin.post(`/api/subscriptions/${subscriptionId}/resume`);
  expectStatus(resumed, 200);
  assert.equal(resumed.body.cancelAtPeriodEnd, false);
  assert.equal(resumed.body.cancelledAt, null);
  body = await details();
  assert.equal(body.cancelAtPeriodEnd, false);
  assert.equal(body.status, 'active');
  expectProblem(await admin.post(`/api/subscriptions/${subscriptionId}/resume`), 409, 'not-cancelled');
});

test('R-T5 every portal operation is recorded: who, what, when, result', async () => {
  const reply = await admin.get(`/api/operations?limit=500`);
  expectStatus(reply, 200);
  const ops: any[] = reply.body.items;
  const kinds = new Set(ops.map((o) => o.kind));
  for (const kind of [
    'subscription.create',
    'domain.add',
    'domain.check',
    'domain.remove',
    'account.create',
    'account.update',
    'domain.alias.add',
    'alias.create',
    'list.create',
    'list.members.add',
    'list.members.remove',
    'subscription.billing-cycle',
    'label.add',
    'label.update',
    'label.delete',
    'subscription.renewal',
    'subscription.cancel',
    'subscription.resume',
  ]) {
    assert.ok(kinds.has(kind), `no ${kind} operation in the journal: ${[...kinds].join(', ')}`);
  }
  for (const op of ops) {
    assert.equal(op.customerId, setup.customerId);
    assert.ok(['succeeded', 'failed'].includes(op.status), JSON.stringify(op));
    assert.ok(!Number.isNaN(Date.parse(op.createdAt)));
    assert.ok(!Number.isNaN(Date.parse(op.finishedAt)));
    assert.ok(op.durationMs >= 0);
    assert.ok(op.actor.role && op.actor.id);
    if (op.status === 'failed') assert.equal(typeof op.error.code, 'string');
    else assert.equal(op.progress, 100);
  }
  // Latest first.
  const times = ops.map((o) => Date.parse(o.createdAt));
  assert.deepEqual(
    times,
    [...times].sort((a, b) => b - a),
  );
  // Who: the operator created the subscription; the customer admin did the rest.
  const created = ops.find((o) => o.kind === 'subscription.create');
  assert.equal(created.actor.role, 'operator');
  assert.deepEqual(created.params.licences, { basic: 3, standard: 2 });
  const domainAdd = ops.find((o) => o.kind === 'domain.add' && o.params.name === DOMAIN);
  assert.deepEqual(domainAdd.actor, { role: 'customer_admin', id: adminLoginId });
  assert.equal(domainAdd.subscriptionId, subscriptionId);
  assert.equal(domainAdd.result.domainId, domainId);
  // What: parameters, with passwords never written down.
  const aliceCreate = ops.find((o) => o.kind === 'account.create' && o.params.address === `Alice.Martin@${DOMAIN}`);
  assert.equal(aliceCreate.params.password, '[redacted]');
  assert.equal(aliceCreate.result.account.id, aliceId);
  assert.equal(aliceCreate.result.generatedPassword, undefined);
  const bobCreate = ops.find((o) => o.kind === 'account.create' && o.params.address === `bob@${DOMAIN}`);
  assert.equal(JSON.stringify(bobCreate).includes(bobPassword), false);
  const passwordChange = ops.find((o) => o.kind === 'account.update' && o.params.password !== undefined);
  assert.equal(passwordChange.params.password, '[redacted]');
  assert.equal(JSON.stringify(ops).includes('alice-password-1'), false);
  assert.equal(JSON.stringify(ops).includes(bobPassword), false);
  // Result: refused changes are recorded as failed, with the reason.
  const busy = ops.find((o) => o.kind === 'label.add' && o.error?.code === 'operation-running');
  assert.ok(busy, 'the refused label.add is not in the journal');
  assert.equal(busy.status, 'failed');
  assert.equal(busy.subscriptionId, subscriptionId);
  const cancelFailed = ops.find((o) => o.kind === 'subscription.cancel' && o.status === 'failed');
  assert.equal(cancelFailed.error.code, 'already-cancelled');
  // The operator's change to the customer's label is in the customer's journal, with the operator as its author.
  const operatorEdit = ops.find((o) => o.kind === 'label.update' && o.actor.role === 'operator');
  assert.ok(operatorEdit, 'the operator’s label edit is not in the customer’s journal');
  assert.equal(operatorEdit.params.color, '#00aa00');

  // The journal of one subscription, and one operation by its id.
  const bySubscription = await admin.get(`/api/operations?subscriptionId=${subscriptionId}&status=succeeded&limit=500`);
  expectStatus(bySubscription, 200);
  assert.ok(bySubscription.body.items.length > 10);
  assert.ok(bySubscription.body.items.every((o: any) => o.subscriptionId === subscriptionId && o.status === 'succeeded'));
  const subscriptionKinds = new Set(bySubscription.body.items.map((o: any) => o.kind));
  for (const kind of ['label.add', 'label.update', 'label.delete', 'account.create', 'subscription.cancel']) {
    assert.ok(subscriptionKinds.has(kind), `no ${kind} in the journal of the subscription`);
  }
  const one = await admin.get(`/api/operations/${domainAdd.id}`);
  expectStatus(one, 200);
  assert.deepEqual(one.body, domainAdd);
  // Another customer sees none of it.
  const other = await setupCustomer(service, operator, 'Autre Client', { basic: 1 });
  const othersView = await other.admin.get('/api/operations?limit=500');
  expectStatus(othersView, 200);
  assert.ok(othersView.body.items.every((o: any) => o.customerId === other.customerId));
  expectProblem(await other.admin.get(`/api/operations/${domainAdd.id}`), 404, 'not-found');
});
