/**
 * The quarantine digest (issue 5, R-S3): a user with newly held messages gets an e-mail in its Inbox,
 * in its language, listing sender, subject, date and reason with release and delete links that work
 * without logging in, once, until they expire, and reveal nothing when tampered with. The job is safe
 * to run twice, never sends a digest twice, never sends one when nothing is new, and follows the
 * user's frequency (weekly by default, daily, off).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { simpleParser } from 'mailparser';
import { sendDigestIfDue, sendDueDigests } from '../src/filter/digest.ts';
import { JOBS, runJob } from '../src/jobs/index.ts';
import { findMailbox, loadMailboxIndex, readContent, readMessages } from '../src/mailstore/index.ts';
import { DAY_MS } from '../src/shared/clock.ts';
import { type ApiClient, expectProblem, expectStatus, operatorClient } from './helpers/client.ts';
import { facteurJson, holdFor, inboxSubjects, type MailCustomer, setupMailCustomer } from './helpers/filter.ts';
import { startTestService, type TestService } from './helpers/service.ts';

let service: TestService;
let operator: ApiClient;
let acme: MailCustomer;
let french: MailCustomer;

before(async () => {
  service = await startTestService();
  operator = await operatorClient(service);
  acme = await setupMailCustomer(service, operator, 'Acme', 'acme.test', ['alice', 'bob', 'dave', 'carol']);
  french = await setupMailCustomer(service, operator, 'Francais', 'francais.test', ['eloise'], 'fr');
});
after(() => service.close());

const alice = () => acme.accounts[0] as MailCustomer['accounts'][number];
const bob = () => acme.accounts[1] as MailCustomer['accounts'][number];
const dave = () => acme.accounts[2] as MailCustomer['accounts'][number];
const carol = () => acme.accounts[3] as MailCustomer['accounts'][number];
const eloise = () => french.accounts[0] as MailCustomer['accounts'][number];

interface Digest {
  subject: string;
  text: string;
  html: string;
  /** Release and delete tokens by the subject of the held message. */
  links: Map<string, { release: string; delete: string }>;
}

/** The digests in an account's Inbox, oldest first. */
async function digestsOf(accountId: string): Promise<Digest[]> {
  const inbox = await findMailbox(service.ctx.db, accountId, 'INBOX');
  if (!inbox) return [];
  const index = await loadMailboxIndex(service.ctx.db, inbox.id);
  const out: Digest[] = [];
  for (const message of await readMessages(
    service.ctx.db,
    inbox.id,
    index.map((e) => e.uid),
  )) {
    const parsed = await simpleParser(readContent(service.ctx, message.blob_id));
    if (parsed.headers.get('auto-submitted') !== 'auto-generated') continue;
    const text = parsed.text ?? '';
    const links = new Map<string, { release: string; delete: string }>();
    for (const block of text.split(/\n\n/)) {
      const subject = /^(?:Subject|Objet) ?: (.*)$/m.exec(block)?.[1];
      const tokens = [...block.matchAll(/\/api\/digest-links\/(\S+)/g)].map((m) => decodeURIComponent(m[1] as string));
      if (subject && tokens.length === 2) links.set(subject, { release: tokens[0] as string, delete: tokens[1] as string });
    }
    out.push({ subject: parsed.subject ?? '', text, html: typeof parsed.html === 'string' ? parsed.html : '', links });
  }
  return out;
}

function link(token: string, method: 'GET' | 'POST', headers: Record<string, string> = {}) {
  return fetch(`${service.url}/api/digest-links/${encodeURIComponent(token)}`, { method, headers });
}

test('R-S3 the digest arrives in the Inbox once, in the user’s language, listing sender, subject, date and reason', async () => {
  await holdFor(service, alice(), { subject: 'Cheap watches', from: 'watches@junk.test' });
  await holdFor(service, alice(), { subject: 'Blocked one', from: 'pest@junk.test', reason: 'blocked-sender' });
  const first = await sendDueDigests(service.ctx);
  assert.ok(first.sent >= 1);
  const again = await sendDueDigests(service.ctx);
  assert.deepEqual(again, { sent: 0, messages: 0 }, 'running it twice sends nothing more');

  const digests = await digestsOf(alice().id);
  assert.equal(digests.length, 1);
  const digest = digests[0] as Digest;
  assert.match(digest.subject, /Quarantine: 2 new messages/);
  assert.match(digest.text, /watches@junk\.test/);
  assert.match(digest.text, /Cheap watches/);
  assert.match(digest.text, /Reason: Spam \(score 1,000: GTUBE test string\)/);
  assert.match(digest.text, /Reason: Blocked sender/);
  assert.match(digest.text, /Date: \d+ \w+ \d{4}, \d{2}:\d{2} UTC/);
  assert.ok(digest.links.has('Cheap watches') && digest.links.has('Blocked one'));
  assert.match(digest.html, /<table/);
  const rows = await service.ctx.db.selectFrom('quarantine').select('digested_at').where('account_id', '=', alice().id).execute();
  assert.ok(rows.every((r) => r.digested_at !== null));

  await holdFor(service, eloise(), { subject: 'Pilules pas chères' });
  await sendDueDigests(service.ctx);
  const [fr] = await digestsOf(eloise().id);
  assert.ok(fr);
  assert.match(fr.subject, /^Quarantaine : 1 nouveau message retenu/);
  assert.match(fr.text, /Motif : Indésirable \(score 1\s000 : Chaîne de test GTUBE\)/u);
  assert.match(fr.text, /Objet : Pilules pas chères/);
});

test('R-S3 two runs at the same moment deliver one digest; claim and delivery commit together', async () => {
  await holdFor(service, carol(), { subject: 'Held for carol' });
  const results = await Promise.all([sendDigestIfDue(service.ctx, carol().id), sendDigestIfDue(service.ctx, carol().id)]);
  assert.deepEqual([...results].sort(), [0, 1]);
  const digests = await digestsOf(carol().id);
  assert.equal(digests.length, 1);
  assert.ok(digests[0]?.links.has('Held for carol'));
  const links = await service.ctx.db
    .selectFrom('digest_links')
    .innerJoin('quarantine', 'quarantine.id', 'digest_links.quarantine_id')
    .select('digest_links.id')
    .where('quarantine.account_id', '=', carol().id)
    .execute();
  assert.equal(links.length, 2, 'one release and one delete link, from the run that delivered');
});

test('R-S3 release and delete links work without logging in, once; GET only shows a confirmation page', async () => {
  const [digest] = await digestsOf(alice().id);
  assert.ok(digest);
  const watches = digest.links.get('Cheap watches');
  const blocked = digest.links.get('Blocked one');
  assert.ok(watches && blocked);

  const page = await link(watches.release, 'GET');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  const html = await page.text();
  assert.match(html, /Release this message to your Inbox\?/);
  assert.match(html, /<form method="post">/);
  assert.ok(!(await inboxSubjects(service, alice().id)).includes('Cheap watches'), 'a GET releases nothing');

  // The user is logged in in the same browser: the link still works (no CSRF token is asked of a mailed link).
  const cookie = alice().client.cookie;
  assert.ok(cookie);
  const used = await link(watches.release, 'POST', { cookie });
  assert.equal(used.status, 200);
  assert.deepEqual(((await used.json()) as { action: string }).action, 'release');
  assert.ok((await inboxSubjects(service, alice().id)).includes('Cheap watches'));
  const twice = await link(watches.release, 'POST');
  assert.equal(twice.status, 404);
  assert.equal(((await twice.json()) as { code: string }).code, 'invalid-link');
  // The message's other link is void too: the message is gone from the quarantine.
  assert.equal((await link(watches.delete, 'POST')).status, 404);

  // The form's POST (a browser: form-encoded body, asks for HTML) gets a page back.
  const form = await link(blocked.delete, 'POST', { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' });
  assert.equal(form.status, 200);
  assert.match(await form.text(), /The message was deleted/);
  const left = await service.ctx.db.selectFrom('quarantine').select('id').where('account_id', '=', alice().id).execute();
  assert.equal(left.length, 0);
  const gone = await link(blocked.delete, 'GET');
  assert.equal(gone.status, 404);
  assert.match(await gone.text(), /This link is not valid/);
});

test('R-S3 a tampered token and an expired one fail alike, revealing nothing', async () => {
  await holdFor(service, bob(), { subject: 'Tamper target' });
  await sendDueDigests(service.ctx);
  const [digest] = await digestsOf(bob().id);
  const tokens = digest?.links.get('Tamper target');
  assert.ok(tokens);
  const [id, mac] = tokens.release.split('.') as [string, string];
  const flipped = `${id}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`;
  const otherId = `${Buffer.from('dgl_00000000000000000000').toString('base64url')}.${mac}`;
  const bodies = new Set<string>();
  for (const bad of [flipped, otherId, 'garbage', `${id}.`, `.${mac}`, `${tokens.release}x`]) {
    const reply = await link(bad, 'POST');
    assert.equal(reply.status, 404, bad);
    const problem = (await reply.json()) as { code: string; detail: string };
    assert.equal(problem.code, 'invalid-link');
    bodies.add(problem.detail);
  }
  assert.equal(bodies.size, 1, 'the same answer whatever is wrong');
  assert.ok(!(await inboxSubjects(service, bob().id)).includes('Tamper target'));

  service.clock.advance(service.ctx.config.filter.digestLinkDays * DAY_MS + 1000);
  const expired = await link(tokens.release, 'POST');
  assert.equal(expired.status, 404);
  const problem = (await expired.json()) as { code: string; detail: string };
  assert.equal(problem.code, 'invalid-link');
  assert.ok(bodies.has(problem.detail));
  assert.equal((await link(tokens.release, 'GET')).status, 404);
  assert.ok(!(await inboxSubjects(service, bob().id)).includes('Tamper target'));
});

test('R-S3 frequency: weekly by default, daily when chosen, off never; nothing new, nothing sent; job and CLI', async () => {
  // dave: weekly (default). First digest at once, the next one a week after.
  await holdFor(service, dave(), { subject: 'Week one' });
  await sendDueDigests(service.ctx);
  assert.equal((await digestsOf(dave().id)).length, 1);
  await holdFor(service, dave(), { subject: 'Week one, later' });
  service.clock.advance(DAY_MS);
  assert.equal((await sendDueDigests(service.ctx)).sent, 0, 'not due yet');
  assert.equal((await digestsOf(dave().id)).length, 1);

  // Sessions do not outlive the clock's jumps of the tests before.
  for (const account of [alice(), eloise()]) await account.client.login(account.address, account.password);
  // eloise: daily; alice: off.
  expectStatus(await eloise().client.patch('/api/me/filter-prefs', { digest: 'daily' }), 200);
  expectStatus(await alice().client.patch('/api/me/filter-prefs', { digest: 'off' }), 200);
  await holdFor(service, eloise(), { subject: 'Jour deux' });
  await holdFor(service, alice(), { subject: 'Never digested' });
  service.clock.advance(DAY_MS);

  const job = JOBS.find((j) => j.name === 'digest.send');
  assert.ok(job);
  const run = await runJob(service.ctx, job);
  assert.ok(run.ran);
  assert.equal((await digestsOf(eloise().id)).length, 2);
  assert.equal((await digestsOf(dave().id)).length, 1);
  assert.equal((await digestsOf(alice().id)).length, 1, 'off: no digest');

  service.clock.advance(6 * DAY_MS);
  assert.ok((await sendDueDigests(service.ctx)).sent >= 1);
  const daves = await digestsOf(dave().id);
  assert.equal(daves.length, 2);
  assert.ok(daves[1]?.links.has('Week one, later'));
  assert.ok(!daves[1]?.links.has('Week one'), 'only what is new');

  // Nothing new: nothing sent, even when due.
  service.clock.advance(8 * DAY_MS);
  assert.deepEqual(await sendDueDigests(service.ctx), { sent: 0, messages: 0 });
  // The CLI runs the same (on the real clock, which the test's clock has left behind: nothing is due there).
  const started = Date.now();
  assert.deepEqual(await facteurJson(service, ['digest', 'send-due']), { sent: 0, messages: 0 });
  assert.ok(Date.now() - started < 20_000);
  assert.equal((await digestsOf(dave().id)).length, 2);
});

test('R-S3 the digest links are public routes documented in the OpenAPI; a logged-in user uses the same quarantine routes', async () => {
  const doc = await fetch(`${service.url}/api/openapi.json`).then((r) => r.json() as Promise<{ paths: Record<string, Record<string, unknown>> }>);
  assert.ok(doc.paths['/api/digest-links/{token}']?.post);
  assert.ok(doc.paths['/api/quarantine/{id}/release']?.post);
  await alice().client.login(alice().address, alice().password);
  expectProblem(await alice().client.post('/api/quarantine/qtn_nothere/release', {}), 404, 'not-found');
});
