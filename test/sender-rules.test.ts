/**
 * Allow and block lists (issue 5, R-S2) and per-recipient decisions: rules per user (its own access)
 * and per domain (the customer admin), exact addresses, whole domains and subdomains; the user's
 * rules before the domain's, a block winning over an allow at the same level; what an allow or a
 * block does to a verdict (never malware, never a failed DMARC reject policy); preferences falling back
 * to the settings. Through the API, the CLI, and `matchSender` / `decideForRecipient` as the MX calls them.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DMARC_REJECT_SYMBOL, decide, decideForRecipient } from '../src/filter/decide.ts';
import { matchSender, normalizePattern } from '../src/filter/sender-rules.ts';
import { expectProblem, expectStatus } from './helpers/client.ts';
import { facteur, facteurJson, type MailCustomer, startWithTwoCustomers, verdictOf } from './helpers/filter.ts';
import type { TestService } from './helpers/service.ts';

let service: TestService;
let acme: MailCustomer;
let other: MailCustomer;

before(async () => {
  ({ service, acme, other } = await startWithTwoCustomers(['alice', 'bob'], ['carol']));
});
after(() => service.close());

const alice = () => acme.accounts[0] as MailCustomer['accounts'][number];
const bob = () => acme.accounts[1] as MailCustomer['accounts'][number];
const who = (a: { id: string; domainId: string }) => ({ accountId: a.id, domainId: a.domainId });

test('R-S2 patterns: exact addresses, whole domains, subdomains; anything else is refused', () => {
  assert.equal(normalizePattern('Boss@Partner.TEST'), 'boss@partner.test');
  assert.equal(normalizePattern('partner.test'), 'partner.test');
  assert.equal(normalizePattern('@partner.test'), 'partner.test');
  assert.equal(normalizePattern('.partner.test'), '.partner.test');
  assert.equal(normalizePattern('*.partner.test'), '.partner.test');
  assert.equal(normalizePattern('bücher.test'), 'xn--bcher-kva.test');
  for (const bad of ['', 'nodot', 'a@', '@', '..x.test', 'a b@x.test']) assert.throws(() => normalizePattern(bad), { kind: 'invalid' });
});

test('R-S2 a user manages its own lists through the API; a domain’s rules are its customer admin’s', async () => {
  const added = await alice().client.post('/api/me/sender-rules', { pattern: 'news@shop.test', kind: 'block' });
  expectStatus(added, 201);
  assert.equal(added.body.accountId, alice().id);
  const again = await alice().client.post('/api/me/sender-rules', { pattern: 'NEWS@shop.test', kind: 'allow' });
  expectStatus(again, 201);
  assert.equal(again.body.id, added.body.id, 'the same pattern is one rule, turned over');
  const list = await alice().client.get('/api/me/sender-rules');
  assert.deepEqual(
    list.body.items.map((r: { pattern: string; kind: string }) => [r.pattern, r.kind]),
    [['news@shop.test', 'allow']],
  );
  expectProblem(await alice().client.post('/api/me/sender-rules', { pattern: 'not a pattern', kind: 'allow' }), 400, 'invalid-sender-pattern', 'pattern');
  // Users reach neither the domain's rules nor other accounts'.
  expectProblem(await alice().client.get(`/api/domains/${acme.domainId}/sender-rules`), 403, 'forbidden');
  expectProblem(await alice().client.get(`/api/accounts/${bob().id}/sender-rules`), 403, 'forbidden');
  const domainRule = await acme.admin.post(`/api/domains/${acme.domainId}/sender-rules`, { pattern: '.bulk.test', kind: 'block' });
  expectStatus(domainRule, 201);
  assert.equal(domainRule.body.accountId, null);
  expectProblem(await bob().client.delete(`/api/me/sender-rules/${added.body.id}`), 404, 'not-found');
  expectProblem(await bob().client.delete(`/api/me/sender-rules/${domainRule.body.id}`), 404, 'not-found');
  // Another customer sees none of it.
  expectProblem(await other.admin.get(`/api/accounts/${alice().id}/sender-rules`), 404, 'not-found');
  expectProblem(await other.admin.post(`/api/domains/${acme.domainId}/sender-rules`, { pattern: 'x.test', kind: 'allow' }), 404, 'not-found');
  expectProblem(await other.admin.delete(`/api/sender-rules/${domainRule.body.id}`), 404, 'not-found');
  expectStatus(await alice().client.delete(`/api/me/sender-rules/${added.body.id}`), 204);
  expectStatus(await acme.admin.delete(`/api/sender-rules/${domainRule.body.id}`), 204);
});

test('R-S2 matching: user rules before domain rules, block wins at the same level, From header counts too', async () => {
  const db = service.ctx.db;
  await acme.admin.post(`/api/domains/${acme.domainId}/sender-rules`, { pattern: 'partner.test', kind: 'allow' });
  await acme.admin.post(`/api/domains/${acme.domainId}/sender-rules`, { pattern: '.spam.test', kind: 'block' });
  await bob().client.post('/api/me/sender-rules', { pattern: 'sales@partner.test', kind: 'block' });
  await bob().client.post('/api/me/sender-rules', { pattern: 'friend@x.spam.test', kind: 'allow' });

  assert.equal(await matchSender(db, who(alice()), 'anyone@partner.test'), 'allow');
  assert.equal(await matchSender(db, who(alice()), 'anyone@sub.partner.test'), null, 'a domain pattern is that domain only');
  assert.equal(await matchSender(db, who(alice()), 'x@a.b.spam.test'), 'block', 'subdomains at any depth');
  assert.equal(await matchSender(db, who(alice()), 'x@spam.test'), null, 'not the domain itself');
  assert.equal(await matchSender(db, who(bob()), 'sales@partner.test'), 'block', 'the user’s block before the domain’s allow');
  assert.equal(await matchSender(db, who(bob()), 'friend@x.spam.test'), 'allow', 'the user’s allow before the domain’s block');
  assert.equal(await matchSender(db, who(alice()), 'bounce@mailer.test', 'Sales@Partner.test'), 'allow', 'the From header address');
  assert.equal(await matchSender(db, who(bob()), 'anyone@partner.test', 'sales@partner.test'), 'block', 'block wins at the same level');
  assert.equal(await matchSender(db, who(alice()), ''), null, 'the null sender');
  // Another customer's domain rules do not apply.
  const carol = other.accounts[0] as MailCustomer['accounts'][number];
  assert.equal(await matchSender(db, who(carol), 'anyone@partner.test'), null);
});

test('R-S2 decide: allow overrides spam, never malware nor a failed DMARC reject policy; block follows blockedAction', () => {
  const thresholds = { quarantine: 6, reject: 15 };
  const base = { thresholds, blockedAction: 'quarantine' as const };
  assert.deepEqual(decide(verdictOf(1), { ...base, rule: null }), { action: 'inbox' });
  assert.deepEqual(decide(verdictOf(6), { ...base, rule: null }), { action: 'quarantine', reason: 'spam' });
  assert.deepEqual(decide(verdictOf(15), { ...base, rule: null }), { action: 'reject', reason: 'spam' });
  assert.deepEqual(decide(verdictOf(1000), { ...base, rule: 'allow' }), { action: 'inbox' });
  const malware = verdictOf(0, { malware: { name: 'Eicar-Test-Signature', reason: { en: 'EICAR', fr: 'EICAR' }, source: 'malware' } });
  assert.deepEqual(decide(malware, { ...base, rule: 'allow' }), { action: 'delete', reason: 'malware' });
  assert.deepEqual(decide(malware, { ...base, rule: 'block', blockedAction: 'reject' }), { action: 'delete', reason: 'malware' });
  const dmarc = verdictOf(8, { symbols: [{ name: DMARC_REJECT_SYMBOL, score: 8, reason: { en: 'DMARC', fr: 'DMARC' }, source: 'auth' }] });
  assert.deepEqual(decide(dmarc, { ...base, rule: 'allow' }), { action: 'quarantine', reason: 'spam' });
  assert.deepEqual(decide(verdictOf(0), { ...base, rule: 'block' }), { action: 'quarantine', reason: 'blocked-sender' });
  assert.deepEqual(decide(verdictOf(0), { ...base, rule: 'block', blockedAction: 'reject' }), { action: 'reject', reason: 'blocked-sender' });
  const failed = verdictOf(0, { failedSafe: true });
  assert.deepEqual(decide(failed, { ...base, rule: null }), { action: 'quarantine', reason: 'failed-safe' });
  assert.deepEqual(decide(failed, { ...base, rule: 'allow' }), { action: 'quarantine', reason: 'failed-safe' });
});

test('R-S2 preferences per domain and per account fall back to the settings; decideForRecipient uses them', async () => {
  const defaults = await alice().client.get('/api/me/filter-prefs');
  expectStatus(defaults, 200);
  assert.deepEqual(defaults.body.effective, {
    thresholds: { quarantine: service.ctx.config.filter.quarantineScore, reject: service.ctx.config.filter.rejectScore },
    blockedAction: service.ctx.config.filter.blockedAction,
    digest: 'weekly',
  });
  expectStatus(await acme.admin.patch(`/api/domains/${acme.domainId}/filter-prefs`, { quarantineScore: 4, blockedAction: 'reject' }), 200);
  const mine = await alice().client.patch('/api/me/filter-prefs', { rejectScore: 30, digest: 'daily' });
  expectStatus(mine, 200);
  assert.deepEqual(mine.body.effective, { thresholds: { quarantine: 4, reject: 30 }, blockedAction: 'reject', digest: 'daily' });
  assert.equal(mine.body.own.quarantineScore, null);
  expectProblem(await alice().client.patch('/api/me/filter-prefs', { quarantineScore: 40 }), 400, 'thresholds-out-of-order', 'quarantineScore');
  expectProblem(await other.admin.patch(`/api/domains/${acme.domainId}/filter-prefs`, { quarantineScore: 1 }), 404, 'not-found');

  const decision = await decideForRecipient(service.ctx, { accountId: alice().id }, verdictOf(5), { envelope: 'someone@unknown.test' });
  assert.deepEqual(decision.disposition, { action: 'quarantine', reason: 'spam' });
  await alice().client.post('/api/me/sender-rules', { pattern: 'pest@unknown.test', kind: 'block' });
  const blocked = await decideForRecipient(service.ctx, { accountId: alice().id }, verdictOf(0), { envelope: 'pest@unknown.test' });
  assert.deepEqual(blocked.disposition, { action: 'reject', reason: 'blocked-sender' });
  const forBob = await decideForRecipient(service.ctx, { accountId: bob().id, domainId: bob().domainId }, verdictOf(20), { envelope: 'x@unknown.test' });
  assert.deepEqual(forBob.disposition, { action: 'reject', reason: 'spam' });
  expectStatus(await alice().client.patch('/api/me/filter-prefs', { rejectScore: null, digest: null }), 200);
  expectStatus(await acme.admin.patch(`/api/domains/${acme.domainId}/filter-prefs`, { quarantineScore: null, blockedAction: null }), 200);
});

test('R-S2 CLI: facteur senders allow|block ADDRESS-OR-DOMAIN --account / --domain, list, remove', async () => {
  const carol = other.accounts[0] as MailCustomer['accounts'][number];
  const allowed = await facteurJson(service, ['senders', 'allow', 'friend@pals.test', '--account', carol.address]);
  assert.equal(allowed.kind, 'allow');
  assert.equal(allowed.accountId, carol.id);
  const blocked = await facteurJson(service, ['senders', 'block', '.junk.test', '--domain', 'other.test']);
  assert.equal(blocked.accountId, null);
  assert.equal(blocked.pattern, '.junk.test');
  const listed = await facteurJson(service, ['senders', 'list', '--account', carol.address]);
  assert.deepEqual(
    listed.map((r: { pattern: string }) => r.pattern),
    ['friend@pals.test'],
  );
  assert.equal(await matchSender(service.ctx.db, who(carol), 'x@y.junk.test'), 'block');
  const bad = await facteur(service, ['senders', 'allow', 'x.test']);
  assert.equal(bad.code, 2, bad.stderr);
  const removed = await facteur(service, ['senders', 'remove', blocked.id]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(await matchSender(service.ctx.db, who(carol), 'x@y.junk.test'), null);
});
