/**
 * Where mail for a recipient goes (SPEC R-M1): the routing decision the MX and the submission server
 * take at RCPT time, checked on the real service after a customer admin built its domains, domain
 * aliases, accounts, address aliases and mailing lists through the API, and the operator ended another
 * customer's service. The tests share the data built once in `before`.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { domainToASCII } from 'node:url';
import type { AppContext } from '../src/context.ts';
import { isHostedDomain, MAX_EXPANSION_DEPTH, type Route, routeRecipient } from '../src/delivery/index.ts';
import { type ApiClient, type CustomerSetup, expectStatus, operatorClient, setupCustomer, waitForOperation } from './helpers/client.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const D = 'routage.test';
const IDN = 'café-routage.test';
const IDN_ASCII = domainToASCII(IDN);
const ALIAS_DOMAIN = 'routage-alias.test';
const IDN_ALIAS_DOMAIN = 'routage-été.test';
const ENDED = 'fin-routage.test';
const MB = 1024 * 1024;
const SMALL_CLASS = { id: 'routing-small', quotaBytes: 123_456_789, maxMessageBytes: 7 * MB };
const PASSWORD = 'Routage-mot-de-passe-7';
/** Aliases in a chain longer than the expansion depth: chaine-0 → chaine-1 → … → chaine-11 → alice. */
const CHAIN = 12;

let service: TestService;
let operator: ApiClient;
let main: CustomerSetup;
let mainDomainId: string;
let ended: CustomerSetup;
const ids: Record<string, string> = {};
const classes: Record<string, { quotaBytes: number; maxMessageBytes: number }> = {};

async function addDomain(setup: CustomerSetup, name: string): Promise<string> {
  const started = await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/domains`, { name });
  expectStatus(started, 202);
  const op = await waitForOperation(setup.admin, started.body.id);
  assert.equal(op.status, 'succeeded', JSON.stringify(op));
  return op.result.domainId;
}

async function addAccount(setup: CustomerSetup, name: string, address: string, classId = 'basic'): Promise<void> {
  const reply = await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/accounts`, { address, classId, password: PASSWORD });
  expectStatus(reply, 201);
  ids[name] = reply.body.id;
}

async function addAlias(setup: CustomerSetup, local: string, destinations: string[]): Promise<void> {
  expectStatus(await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/aliases`, { address: `${local}@${D}`, destinations }), 201);
}

async function addList(
  setup: CustomerSetup,
  local: string,
  input: { members: string[]; postingPolicy: 'members' | 'moderators' | 'anyone'; moderators?: string[] },
  domain = D,
): Promise<void> {
  const reply = await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/lists`, { address: `${local}@${domain}`, ...input });
  expectStatus(reply, 201);
  ids[local] = reply.body.id;
}

before(async () => {
  service = await startTestService();
  operator = await operatorClient(service);
  expectStatus(
    await operator.post('/api/classes', {
      id: SMALL_CLASS.id,
      name: { en: 'Small', fr: 'Petite' },
      quotaBytes: SMALL_CLASS.quotaBytes,
      limits: { maxMessageBytes: SMALL_CLASS.maxMessageBytes },
    }),
    201,
  );
  const classList = await operator.get('/api/classes');
  expectStatus(classList, 200);
  for (const c of classList.body.items) classes[c.id] = { quotaBytes: c.quotaBytes, maxMessageBytes: c.limits.maxMessageBytes };

  main = await setupCustomer(service, operator, 'Routage', { basic: 10, standard: 2, [SMALL_CLASS.id]: 1 });
  const domainId = await addDomain(main, D);
  mainDomainId = domainId;
  await addDomain(main, IDN);
  expectStatus(await main.admin.post(`/api/domains/${domainId}/aliases`, { name: ALIAS_DOMAIN }), 201);
  expectStatus(await main.admin.post(`/api/domains/${domainId}/aliases`, { name: IDN_ALIAS_DOMAIN }), 201);

  await addAccount(main, 'alice', `alice@${D}`);
  await addAccount(main, 'bob', `Bob@${D}`, 'standard');
  await addAccount(main, 'carol', `carol@${D}`);
  await addAccount(main, 'dave', `dave@${D}`, SMALL_CLASS.id);
  await addAccount(main, 'elodie', `elodie@${IDN}`);
  await addAccount(main, 'jose', `josé@${IDN}`);
  expectStatus(await main.admin.patch(`/api/accounts/${ids.carol}`, { status: 'disabled' }), 200);

  // The customer whose service the operator ends in the "service-ended" test.
  ended = await setupCustomer(service, operator, 'Fin Routage', { basic: 2 });
  await addDomain(ended, ENDED);
  await addAccount(ended, 'zoe', `zoe@${ENDED}`);
  expectStatus(await ended.admin.post(`/api/subscriptions/${ended.subscriptionId}/aliases`, { address: `info@${ENDED}`, destinations: [`zoe@${ENDED}`] }), 201);
  await addList(ended, 'liste', { members: [`zoe@${ENDED}`], postingPolicy: 'anyone' }, ENDED);
  expectStatus(
    await ended.admin.post(`/api/subscriptions/${ended.subscriptionId}/aliases`, { address: `renvoi@${ENDED}`, destinations: ['ailleurs@example.net'] }),
    201,
  );

  // Address aliases: to accounts and outside, to another alias, to a list, with a tag in their own name.
  await addAlias(main, 'ventes', [`alice@${D}`, `bob@${D}`, 'Partner@Example.org']);
  await addAlias(main, 'contact', [`ventes@${D}`]);
  await addAlias(main, 'annonces', [`equipe@${D}`]);
  await addAlias(main, 'alice+vip', [`bob@${D}`]);
  await addAlias(main, 'externe', ['someone@example.net']);
  await addAlias(main, 'ext-doublons', ['partner@example.org', `ventes@${D}`]);
  await addAlias(main, 'doublons', [`alice@${D}`, `alice+x@${D}`, `ALICE@${ALIAS_DOMAIN}`, `ouverte@${D}`, `bob@${D}`]);
  // Loops: A → B → A with accounts on the way, and one with nothing else.
  await addAlias(main, 'boucle-a', [`boucle-b@${D}`, `alice@${D}`]);
  await addAlias(main, 'boucle-b', [`boucle-a@${D}`, `bob@${D}`]);
  await addAlias(main, 'vide-a', [`vide-b@${D}`]);
  await addAlias(main, 'vide-b', [`vide-a@${D}`]);
  // A disabled account and an ended service behind aliases.
  await addAlias(main, 'carol-seule', [`carol@${D}`]);
  await addAlias(main, 'carol-et-alice', [`carol@${D}`, `alice@${D}`]);
  await addAlias(main, 'fin-seul', [`zoe@${ENDED}`]);
  await addAlias(main, 'fin-et-bob', [`zoe@${ENDED}`, `bob@${D}`]);
  await addAlias(main, 'vers-renvoi', [`renvoi@${ENDED}`, `bob@${D}`]);
  for (let i = 0; i < CHAIN; i++) await addAlias(main, `chaine-${i}`, [i === CHAIN - 1 ? `alice@${D}` : `chaine-${i + 1}@${D}`]);

  // Mailing lists, one per posting policy, nested ones, and loops through lists.
  await addList(main, 'equipe', { members: [`alice@${D}`, `bob@${D}`, 'Externe@Example.org'], postingPolicy: 'members', moderators: ['chef@example.org'] });
  await addList(main, 'moderee', { members: [`alice@${D}`, `bob@${D}`], postingPolicy: 'moderators', moderators: [`alice@${D}`] });
  await addList(main, 'ouverte', { members: [`alice@${D}`, `boucle-liste@${D}`], postingPolicy: 'anyone' });
  await addAlias(main, 'boucle-liste', [`ouverte@${D}`, `bob@${D}`]); // the list contains itself through this alias
  await addList(main, 'tous', { members: [`equipe@${D}`, `moderee@${D}`, `josé@${IDN}`], postingPolicy: 'anyone' });
  await addList(main, 'liste-a', { members: [`liste-b@${D}`, `alice@${D}`], postingPolicy: 'anyone' });
  await addList(main, 'liste-b', { members: [`liste-a@${D}`, `bob@${D}`], postingPolicy: 'anyone' });
  await addList(main, 'carols', { members: [`carol@${D}`], postingPolicy: 'anyone' });
  await addList(main, 'vide', { members: [], postingPolicy: 'anyone' });
  await addAlias(main, 'mixte', [`equipe@${D}`, `tous@${D}`]);
});
after(() => service.close());

type Local = Extract<Route, { kind: 'local' }>;

function local(route: Route): Local {
  assert.equal(route.kind, 'local', JSON.stringify(route));
  return route as Local;
}

/** The account names a local route delivers to, sorted, and its external addresses. */
function copies(route: Route): { accounts: string[]; external: string[] } {
  const names = Object.fromEntries(Object.entries(ids).map(([name, id]) => [id, name]));
  const r = local(route);
  return { accounts: r.accounts.map((t) => names[t.accountId] ?? t.accountId).sort(), external: [...r.external].sort() };
}

function route(recipient: string, sender?: string | null): Promise<Route> {
  return routeRecipient(service.ctx, recipient, sender === undefined ? {} : { sender });
}

function assertRefused(actual: Route, reason: string): void {
  assert.equal(actual.kind, 'refused', JSON.stringify(actual));
  assert.ok(actual.kind === 'refused');
  assert.equal(actual.reason, reason);
  assert.ok(actual.text.en.length > 0 && actual.text.fr.length > 0);
  assert.notEqual(actual.text.en, actual.text.fr);
}

test('R-M1 hosted domains: a customer domain or a domain alias, in ASCII or Unicode, any case', async () => {
  for (const name of [D, 'ROUTAGE.Test', ALIAS_DOMAIN, IDN, IDN_ASCII, 'CAFÉ-Routage.test', IDN_ALIAS_DOMAIN, domainToASCII(IDN_ALIAS_DOMAIN), `${D}.`]) {
    assert.equal(await isHostedDomain(service.ctx, name), true, name);
  }
  for (const name of ['example.org', `sub.${D}`, 'routage', '', 'not a domain', `${D}:25`]) {
    assert.equal(await isHostedDomain(service.ctx, name), false, name);
  }
});

test('R-M1 an account is routed to itself with its class quota and message size, case-insensitively', async () => {
  const alice = local(await route(`alice@${D}`));
  assert.deepEqual(alice.accounts, [
    {
      accountId: ids.alice,
      customerId: main.customerId,
      subscriptionId: main.subscriptionId,
      domainId: mainDomainId,
      address: `alice@${D}`,
      classId: 'basic',
      quotaBytes: classes.basic?.quotaBytes,
      maxMessageBytes: classes.basic?.maxMessageBytes,
    },
  ]);
  assert.deepEqual(alice.external, []);
  assert.equal(alice.listId, undefined);
  assert.equal(alice.viaAlias, undefined);
  assert.deepEqual(await route('ALICE@Routage.TEST'), alice);
  assert.deepEqual(await route(`  alice@${D} `), alice);
  // Stored lower-cased whatever case it was created with.
  assert.deepEqual(local(await route(`BOB@${D}`)).accounts[0]?.address, `bob@${D}`);
  assert.equal(local(await route(`bob@${D}`)).accounts[0]?.classId, 'standard');
  assert.equal(local(await route(`bob@${D}`)).accounts[0]?.quotaBytes, classes.standard?.quotaBytes);
  const dave = local(await route(`dave@${D}`)).accounts[0];
  assert.deepEqual([dave?.classId, dave?.quotaBytes, dave?.maxMessageBytes], [SMALL_CLASS.id, SMALL_CLASS.quotaBytes, SMALL_CLASS.maxMessageBytes]);
});

test('R-M1 unknown recipients: a hosted domain without the address, a domain not hosted here, malformed input', async () => {
  for (const recipient of [
    `nobody@${D}`,
    `nobody@${ALIAS_DOMAIN}`,
    `nobody@${IDN}`,
    'alice@example.org',
    `alice@sub.${D}`,
    `alice@${D}.example.org`,
    '',
    'alice',
    `@${D}`,
    'alice@',
    'alice@routage',
    `"alice"@${D}`,
    `alice@@${D}`,
    `<alice@${D}>`,
  ]) {
    assert.deepEqual(await route(recipient), { kind: 'unknown' }, recipient);
  }
});

test('R-M1 sub-addressing: local+tag reaches local unless local+tag is an address itself', async () => {
  for (const recipient of [`alice+news@${D}`, `ALICE+News@ROUTAGE.test`, `alice+a+b@${D}`, `alice+@${D}`, `alice+news@${ALIAS_DOMAIN}`]) {
    assert.deepEqual(copies(await route(recipient)), { accounts: ['alice'], external: [] }, recipient);
  }
  // An alias named with a tag wins over the fallback.
  const vip = local(await route(`alice+vip@${D}`));
  assert.deepEqual(copies(vip), { accounts: ['bob'], external: [] });
  assert.equal(vip.viaAlias, `alice+vip@${D}`);
  // Tags work for aliases and lists too.
  const ventes = local(await route(`ventes+promo@${D}`));
  assert.equal(ventes.viaAlias, `ventes@${D}`);
  assert.deepEqual(copies(ventes), { accounts: ['alice', 'bob'], external: ['partner@example.org'] });
  assert.equal(local(await route(`ouverte+x@${D}`, null)).listId, ids.ouverte);
  // Nothing before the tag, or nothing behind it: unknown.
  assert.deepEqual(await route(`+news@${D}`), { kind: 'unknown' });
  assert.deepEqual(await route(`nobody+news@${D}`), { kind: 'unknown' });
});

test('R-M1 domain aliases rewrite the domain, then the address resolves as at the domain', async () => {
  assert.deepEqual(copies(await route(`bob@${ALIAS_DOMAIN}`)), { accounts: ['bob'], external: [] });
  assert.equal(local(await route(`Bob@${ALIAS_DOMAIN.toUpperCase()}`)).accounts[0]?.address, `bob@${D}`);
  assert.equal(local(await route(`ventes@${ALIAS_DOMAIN}`)).viaAlias, `ventes@${D}`);
  assert.equal(local(await route(`equipe@${ALIAS_DOMAIN}`, `alice@${D}`)).listId, ids.equipe);
  // An alias addressed at the domain alias.
  assert.deepEqual(copies(await route(`carol-et-alice@${ALIAS_DOMAIN}`)), { accounts: ['alice'], external: [] });
});

test('R-M1 internationalised domains: Unicode or ASCII, domain and domain alias, UTF-8 local parts', async () => {
  const elodie = local(await route(`elodie@${IDN}`));
  assert.deepEqual(
    elodie.accounts.map((t) => [t.accountId, t.address]),
    [[ids.elodie, `elodie@${IDN_ASCII}`]],
  );
  assert.deepEqual(await route(`elodie@${IDN_ASCII}`), elodie);
  assert.deepEqual(await route('Elodie@CAFÉ-ROUTAGE.TEST'), elodie);
  assert.deepEqual(await route(`elodie+tag@${IDN}`), elodie);
  const jose = local(await route(`JOSÉ@${IDN}`));
  assert.deepEqual(
    jose.accounts.map((t) => [t.accountId, t.address]),
    [[ids.jose, `josé@${IDN_ASCII}`]],
  );
  assert.deepEqual(await route(`josé@${IDN_ASCII}`), jose);
  assert.deepEqual(copies(await route(`alice@${IDN_ALIAS_DOMAIN}`)), { accounts: ['alice'], external: [] });
  assert.deepEqual(copies(await route(`alice@${domainToASCII(IDN_ALIAS_DOMAIN)}`)), { accounts: ['alice'], external: [] });
});

test('R-M1 address aliases expand to local accounts and external destinations, recursively', async () => {
  const ventes = local(await route(`ventes@${D}`));
  assert.equal(ventes.viaAlias, `ventes@${D}`);
  assert.equal(ventes.listId, undefined);
  assert.deepEqual(copies(ventes), { accounts: ['alice', 'bob'], external: ['partner@example.org'] });
  // Each target still carries its own class.
  assert.deepEqual(ventes.accounts.map((t) => t.classId).sort(), ['basic', 'standard']);
  // An alias to an alias.
  const contact = local(await route(`contact@${D}`));
  assert.equal(contact.viaAlias, `contact@${D}`);
  assert.deepEqual(copies(contact), copies(ventes));
  // Only external destinations: still a route, with nothing local.
  assert.deepEqual(copies(await route(`externe@${D}`)), { accounts: [], external: ['someone@example.net'] });
  // An alias to a list: the list's members (posting policy judged on the sender, see below).
  assert.deepEqual(copies(await route(`annonces@${D}`, `bob@${D}`)), { accounts: ['alice', 'bob'], external: ['externe@example.org'] });
});

test('R-M1 mailing lists expand to members, local and external, nested lists included', async () => {
  const equipe = local(await route(`equipe@${D}`, `alice@${D}`));
  assert.equal(equipe.listId, ids.equipe);
  assert.equal(equipe.viaAlias, undefined);
  assert.deepEqual(copies(equipe), { accounts: ['alice', 'bob'], external: ['externe@example.org'] });
  // A list of lists: the inner lists take what the outer list accepted, whatever their own policy.
  const tous = local(await route(`tous@${D}`, 'stranger@example.org'));
  assert.equal(tous.listId, ids.tous);
  assert.deepEqual(copies(tous), { accounts: ['alice', 'bob', 'jose'], external: ['externe@example.org'] });
  // An empty list leads nowhere.
  assert.deepEqual(await route(`vide@${D}`, `alice@${D}`), { kind: 'unknown' });
});

test('R-M1 list posting policy: members, moderators or anyone, judged on the envelope sender', async () => {
  // 'members': members (any case, with a tag, at a domain alias), external members and moderators may post.
  for (const sender of [`alice@${D}`, `Alice+Tag@${ALIAS_DOMAIN.toUpperCase()}`, 'externe@example.org', 'chef@example.org']) {
    assert.equal(local(await route(`equipe@${D}`, sender)).listId, ids.equipe, sender);
  }
  for (const sender of ['stranger@example.org', `dave@${D}`, null, undefined, 'not an address']) {
    const refusedRoute = await route(`equipe@${D}`, sender);
    assertRefused(refusedRoute, 'list-posting-denied');
    assert.ok(refusedRoute.kind === 'refused');
    assert.match(refusedRoute.text.en, /members/);
    assert.match(refusedRoute.text.fr, /membres/);
  }
  // 'moderators': a moderator only, not a mere member.
  assert.deepEqual(copies(await route(`moderee@${D}`, `alice@${D}`)), { accounts: ['alice', 'bob'], external: [] });
  const member = await route(`moderee@${D}`, `bob@${D}`);
  assertRefused(member, 'list-posting-denied');
  assert.ok(member.kind === 'refused');
  assert.match(member.text.en, /moderators/);
  assert.match(member.text.fr, /modérateurs/);
  // 'anyone': even a bounce (null sender).
  assert.equal(local(await route(`ouverte@${D}`, null)).listId, ids.ouverte);
  assert.equal(local(await route(`ouverte@${D}`, 'stranger@example.org')).listId, ids.ouverte);
  // An alias is no way around a list's policy.
  assertRefused(await route(`annonces@${D}`, 'stranger@example.org'), 'list-posting-denied');
  assert.equal(local(await route(`annonces@${D}`, `alice@${D}`)).viaAlias, `annonces@${D}`);
  // Refused through the alias, the list still gets the message as a member of an open list.
  assert.deepEqual(copies(await route(`mixte@${D}`, 'stranger@example.org')), { accounts: ['alice', 'bob', 'jose'], external: ['externe@example.org'] });
});

test('R-M1 loops through aliases and lists stop expanding and never hang', async () => {
  // alias A → B → A, with an account on each.
  for (const name of ['boucle-a', 'boucle-b']) {
    const r = local(await route(`${name}@${D}`));
    assert.equal(r.viaAlias, `${name}@${D}`);
    assert.deepEqual(copies(r), { accounts: ['alice', 'bob'], external: [] });
  }
  // alias A → B → A and nothing else: leads nowhere.
  assert.deepEqual(await route(`vide-a@${D}`), { kind: 'unknown' });
  // A list containing itself through an alias, from either end.
  const ouverte = local(await route(`ouverte@${D}`, null));
  assert.deepEqual(copies(ouverte), { accounts: ['alice', 'bob'], external: [] });
  assert.equal(ouverte.listId, ids.ouverte);
  assert.deepEqual(copies(await route(`boucle-liste@${D}`, null)), { accounts: ['alice', 'bob'], external: [] });
  // Two lists containing each other.
  assert.deepEqual(copies(await route(`liste-a@${D}`, null)), { accounts: ['alice', 'bob'], external: [] });
  assert.deepEqual(copies(await route(`liste-b@${D}`, null)), { accounts: ['alice', 'bob'], external: [] });
  // Each address is followed once: a loop ends at the first address met again, long before the depth cap.
  for (const recipient of [`boucle-a@${D}`, `vide-a@${D}`, `ouverte@${D}`, `liste-a@${D}`, `doublons@${D}`]) {
    const watched = instrumented(service.ctx);
    await routeRecipient(watched.ctx, recipient, { sender: null });
    assert.deepEqual(watched.events, [], recipient);
    assert.ok(watched.queries() <= 8, `${recipient}: ${watched.queries()} queries`);
  }
});

test('R-M1 expansion stops at the depth cap', async () => {
  assert.equal(MAX_EXPANSION_DEPTH, 10);
  // chaine-2 … chaine-11 are ten aliases deep: alice is reached.
  assert.deepEqual(copies(await route(`chaine-2@${D}`)), { accounts: ['alice'], external: [] });
  assert.deepEqual(copies(await route(`chaine-${CHAIN - 1}@${D}`)), { accounts: ['alice'], external: [] });
  // One or two more: the branch is cut, with a warning for the operator, and nothing remains.
  assert.deepEqual(await route(`chaine-1@${D}`), { kind: 'unknown' });
  const watched = instrumented(service.ctx);
  assert.deepEqual(await routeRecipient(watched.ctx, `chaine-0@${D}`), { kind: 'unknown' });
  assert.deepEqual(watched.events, ['routing.too_deep']);
});

test('R-M1 duplicate targets are removed: one copy per account and per external address', async () => {
  const r = local(await route(`doublons@${D}`));
  assert.deepEqual(
    r.accounts.map((t) => t.accountId),
    [...new Set(r.accounts.map((t) => t.accountId))],
  );
  assert.deepEqual(copies(r), { accounts: ['alice', 'bob'], external: [] });
  assert.deepEqual(copies(await route(`ext-doublons@${D}`)), { accounts: ['alice', 'bob'], external: ['partner@example.org'] });
});

test('R-M1 disabled accounts: refused when addressed, skipped through aliases and lists', async () => {
  assertRefused(await route(`carol@${D}`), 'account-disabled');
  assertRefused(await route(`Carol+tag@${ALIAS_DOMAIN}`), 'account-disabled');
  assert.deepEqual(copies(await route(`carol-et-alice@${D}`)), { accounts: ['alice'], external: [] });
  // Nothing left behind the alias or the list: refused.
  assertRefused(await route(`carol-seule@${D}`), 'account-disabled');
  assertRefused(await route(`carols@${D}`, null), 'account-disabled');
  // Suspended by the operator: the same.
  expectStatus(await operator.patch(`/api/accounts/${ids.dave}`, { status: 'suspended' }), 200);
  assertRefused(await route(`dave@${D}`), 'account-disabled');
  expectStatus(await operator.patch(`/api/accounts/${ids.dave}`, { status: 'active' }), 200);
  assert.equal(local(await route(`dave@${D}`)).accounts[0]?.accountId, ids.dave);
});

test('R-M1 an ended service: its accounts, aliases and lists are refused, and skipped behind other aliases', async () => {
  assert.deepEqual(copies(await route(`zoe@${ENDED}`)), { accounts: ['zoe'], external: [] });
  assert.deepEqual(copies(await route(`fin-et-bob@${D}`)), { accounts: ['bob', 'zoe'], external: [] });
  assert.deepEqual(copies(await route(`vers-renvoi@${D}`)), { accounts: ['bob'], external: ['ailleurs@example.net'] });
  expectStatus(await operator.post(`/api/subscriptions/${ended.subscriptionId}/terminate`), 200);

  // Ending the service also disables its accounts: the service's end is the reason given.
  assertRefused(await route(`zoe@${ENDED}`), 'service-ended');
  assertRefused(await route(`zoe+tag@${ENDED}`), 'service-ended');
  assertRefused(await route(`info@${ENDED}`), 'service-ended');
  assertRefused(await route(`liste@${ENDED}`, null), 'service-ended');
  assertRefused(await route(`renvoi@${ENDED}`), 'service-ended');
  assert.deepEqual(await route(`nobody@${ENDED}`), { kind: 'unknown' });
  // Another customer's alias to it: skipped, or refused when nothing remains.
  assert.deepEqual(copies(await route(`fin-et-bob@${D}`)), { accounts: ['bob'], external: [] });
  assertRefused(await route(`fin-seul@${D}`), 'service-ended');
  // Its aliases no longer forward, even outside.
  assert.deepEqual(copies(await route(`vers-renvoi@${D}`)), { accounts: ['bob'], external: [] });
  // The domain is still registered (the MX answers per recipient).
  assert.equal(await isHostedDomain(service.ctx, ENDED), true);
});

/** The context with its database wrapped to count the queries a routing decision makes, and its log recorded. */
function instrumented(ctx: AppContext): { ctx: AppContext; queries: () => number; events: string[] } {
  let queries = 0;
  const events: string[] = [];
  const db = new Proxy(ctx.db, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property === 'selectFrom') {
        return (...args: unknown[]) => {
          queries++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const record = (entry: { event?: string }) => {
    if (entry.event) events.push(entry.event);
  };
  const log = Object.assign(Object.create(ctx.log), { warn: record, info: record, debug: record }) as AppContext['log'];
  return { ctx: { ...ctx, db, log }, queries: () => queries, events };
}

test('R-M1 routing costs a handful of queries: two for an account, one more per level of expansion', async () => {
  const cases: [string, string | null, number][] = [
    [`alice@${D}`, null, 2], // domain, address (with account and class)
    [`alice+tag@${ALIAS_DOMAIN}`, null, 2],
    [`nobody@${D}`, null, 2],
    ['alice@example.org', null, 1],
    [`ventes@${D}`, null, 4], // + the domain example.org, then the destinations at once
    [`equipe@${D}`, `alice@${D}`, 5], // + members, external domain, members' addresses
  ];
  for (const [recipient, sender, expected] of cases) {
    const counting = instrumented(service.ctx);
    await routeRecipient(counting.ctx, recipient, { sender });
    assert.equal(counting.queries(), expected, recipient);
  }
});
