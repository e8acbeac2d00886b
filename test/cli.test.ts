/**
 * The `facteur` CLI as the operator uses it: real child processes (`node bin/facteur.js …`) working on
 * the same data as a running test service (SQLite file or PostgreSQL schema), checked both through
 * what the CLI prints and through what the service's HTTP API then sees. Ends with `facteur serve`
 * on a fresh data directory: first-start operator login printed once, not on the second start.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addMonths } from '../src/shared/clock.ts';
import { BIN, cliEnv, ROOT, type Run, runFacteur } from './helpers/cli.ts';
import { ApiClient, operatorClient } from './helpers/client.ts';
import { startTestService, type TestService } from './helpers/service.ts';

type Json = any;

let service: TestService;
let op: ApiClient;

before(async () => {
  service = await startTestService();
  op = await operatorClient(service);
});
after(() => service.close());

function facteur(args: string[], extra: Record<string, string> = {}, env: NodeJS.ProcessEnv = cliEnv(service, extra)): Promise<Run> {
  return runFacteur(env, args);
}

/** Runs a command that must succeed and parses its `--json` output. */
async function json(args: string[], extra: Record<string, string> = {}): Promise<Json> {
  const run = await facteur([...args, '--json'], extra);
  assert.equal(run.code, 0, `facteur ${args.join(' ')} exited ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  try {
    return JSON.parse(run.stdout);
  } catch {
    assert.fail(`facteur ${args.join(' ')} did not print JSON: ${run.stdout}`);
  }
}

function ok(reply: { status: number; body: unknown }, status = 200): void {
  assert.equal(reply.status, status, JSON.stringify(reply.body));
}

// State built up by the walk through the command list, in order.
const DOMAIN = 'cli-walk.test';
let customerId: string;
let subscriptionId: string;
let domainId: string;
let generatedPassword: string;
const PASSWORD = 'alice-password-123';

test('R-T1 CLI: facteur customer create --json prints the customer with its id, and the API sees it', async () => {
  const created = await json(['customer', 'create', '--name', 'Walk SARL', '--contact-email', 'Contact@Walk.test']);
  assert.match(created.id, /^cus_/);
  assert.equal(created.name, 'Walk SARL');
  assert.equal(created.contactEmail, 'contact@walk.test');
  customerId = created.id;
  const seen = await op.get(`/api/customers/${customerId}`);
  ok(seen);
  assert.equal(seen.body.id, customerId);
  assert.equal(seen.body.name, 'Walk SARL');
  assert.equal(seen.body.contactEmail, 'contact@walk.test');
});

test('R-T2 R-T6 CLI: facteur subscription create --licences basic=2,standard=1 --months 12 prints the active subscription', async () => {
  const created = await json(['subscription', 'create', '--customer', customerId, '--licences', 'basic=2,standard=1', '--months', '12']);
  assert.match(created.id, /^sub_/);
  assert.equal(created.customerId, customerId);
  assert.equal(created.status, 'active');
  assert.equal(created.periodMonths, 12);
  assert.deepEqual(
    created.licences.map((l: Json) => [l.classId, l.quantity, l.used, l.available]),
    [
      ['basic', 2, 0, 2],
      ['standard', 1, 0, 1],
    ],
  );
  assert.equal(created.currentPeriodEnd, new Date(addMonths(Date.parse(created.currentPeriodStart), 12)).toISOString());
  subscriptionId = created.id;
  const seen = await op.get(`/api/subscriptions/${subscriptionId}`);
  ok(seen);
  assert.equal(seen.body.customerId, customerId);
  assert.deepEqual(seen.body.licences, created.licences);
});

test('R-T3 CLI: facteur domain add shows the records to publish; domain check exits 3 until every record is ok, then 0', async () => {
  const added = await json(['domain', 'add', DOMAIN, '--subscription', subscriptionId]);
  assert.match(added.id, /^dom_/);
  assert.equal(added.name, DOMAIN);
  assert.equal(added.subscriptionId, subscriptionId);
  assert.deepEqual(added.records.map((r: Json) => r.kind).sort(), ['dkim', 'dmarc', 'mx', 'spf']);
  assert.equal(added.lastCheck?.ok, false, 'nothing is published yet');
  domainId = added.id;

  const seen = await op.get(`/api/domains/${DOMAIN}`);
  ok(seen);
  assert.equal(seen.body.id, domainId);
  assert.equal(seen.body.dkim.publicKey, added.dkim.publicKey);

  // Nothing published: every record is missing, exit code 3, status per record.
  const missing = await facteur(['domain', 'check', DOMAIN, '--json']);
  assert.equal(missing.code, 3, missing.stderr);
  const missingCheck = JSON.parse(missing.stdout).lastCheck;
  assert.equal(missingCheck.ok, false);
  assert.deepEqual([...new Set(missingCheck.records.map((r: Json) => r.status))], ['missing']);

  // Publish MX, SPF and DKIM but not DMARC: still 3, with DMARC the only record not ok.
  const records = added.records as { kind: string; type: 'MX' | 'TXT'; host: string; value: string; priority?: number }[];
  const mx = new Map<string, { exchange: string; priority: number }[]>();
  for (const record of records) {
    if (record.type === 'MX') {
      const exchange = record.value.slice(record.value.indexOf(' ') + 1);
      mx.set(record.host, [...(mx.get(record.host) ?? []), { exchange, priority: record.priority ?? 10 }]);
    } else if (record.kind !== 'dmarc') service.dns.set(record.host, 'TXT', [[record.value]]);
  }
  for (const [host, list] of mx) service.dns.set(host, 'MX', list);
  const partial = await facteur(['domain', 'check', DOMAIN, '--json']);
  assert.equal(partial.code, 3, partial.stderr);
  const partialCheck = JSON.parse(partial.stdout).lastCheck;
  assert.deepEqual(
    partialCheck.records.filter((r: Json) => r.status !== 'ok').map((r: Json) => r.kind),
    ['dmarc'],
  );

  // Everything published: exit 0, readable output says so, and the API sees the domain active.
  const dmarc = records.find((r) => r.kind === 'dmarc');
  assert.ok(dmarc);
  service.dns.set(dmarc.host, 'TXT', [[dmarc.value]]);
  const [allOk, human] = await Promise.all([facteur(['domain', 'check', DOMAIN, '--json']), facteur(['domain', 'check', DOMAIN])]);
  assert.equal(allOk.code, 0, allOk.stderr);
  const okCheck = JSON.parse(allOk.stdout).lastCheck;
  assert.equal(okCheck.ok, true);
  assert.ok(okCheck.records.every((r: Json) => r.status === 'ok'));
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^ok\s+MX\s/m);
  assert.match(human.stdout, /all records ok/);

  const after = await op.get(`/api/domains/${domainId}`);
  ok(after);
  assert.equal(after.body.status, 'active');
  assert.equal(after.body.lastCheck.ok, true);
});

test('R-T4 R-A1 CLI: facteur account create with --password, and without (generated password printed once)', async () => {
  const [alice, bob] = await Promise.all([
    json(['account', 'create', `alice@${DOMAIN}`, '--class', 'basic', '--password', PASSWORD, '--name', 'Alice']),
    json(['account', 'create', `Bob@${DOMAIN}`, '--class', 'standard']),
  ]);
  assert.match(alice.id, /^acc_/);
  assert.equal(alice.address, `alice@${DOMAIN}`);
  assert.equal(alice.classId, 'basic');
  assert.equal(alice.displayName, 'Alice');
  assert.equal(alice.subscriptionId, subscriptionId);
  assert.equal(alice.generatedPassword, undefined, 'a password given is not printed back');
  assert.equal(JSON.stringify(alice).includes(PASSWORD), false);

  assert.match(bob.id, /^acc_/);
  assert.equal(bob.address, `bob@${DOMAIN}`);
  assert.equal(bob.classId, 'standard');
  assert.equal(typeof bob.generatedPassword, 'string');
  assert.ok(bob.generatedPassword.length >= 10, bob.generatedPassword);
  generatedPassword = bob.generatedPassword;

  // The API sees both; the passwords work for logging in; the generated one is never shown again.
  const [seenAlice, seenBob, shownAgain] = await Promise.all([
    op.get(`/api/accounts/alice@${DOMAIN}`),
    op.get(`/api/accounts/${bob.id}`),
    facteur(['account', 'show', `bob@${DOMAIN}`, '--json']),
  ]);
  ok(seenAlice);
  assert.equal(seenAlice.body.id, alice.id);
  ok(seenBob);
  assert.equal(seenBob.body.classId, 'standard');
  assert.equal(shownAgain.code, 0, shownAgain.stderr);
  assert.equal(JSON.parse(shownAgain.stdout).id, bob.id);
  for (const text of [JSON.stringify(seenBob.body), shownAgain.stdout]) assert.equal(text.includes(generatedPassword), false);

  const aliceLogin = await new ApiClient(service.url, service.clock).post('/api/auth/login', { email: `alice@${DOMAIN}`, password: PASSWORD });
  ok(aliceLogin);
  assert.equal(aliceLogin.body.role, 'user');
  const bobLogin = await new ApiClient(service.url, service.clock).post('/api/auth/login', { email: `bob@${DOMAIN}`, password: generatedPassword });
  ok(bobLogin);
  assert.equal(bobLogin.body.role, 'user');
});

test('R-T4 CLI: facteur alias add --to A,B and facteur list create --members A,B', async () => {
  const [alias, list] = await Promise.all([
    json(['alias', 'add', `info@${DOMAIN}`, '--to', `alice@${DOMAIN}, partner@elsewhere.test`]),
    json(['list', 'create', `team@${DOMAIN}`, '--members', `bob@${DOMAIN},alice@${DOMAIN}`, '--name', 'The team']),
  ]);
  assert.match(alias.id, /^ali_/);
  assert.equal(alias.address, `info@${DOMAIN}`);
  assert.deepEqual(alias.destinations, [`alice@${DOMAIN}`, 'partner@elsewhere.test']);
  assert.match(list.id, /^lst_/);
  assert.equal(list.address, `team@${DOMAIN}`);
  assert.equal(list.name, 'The team');
  assert.deepEqual(list.members, [`alice@${DOMAIN}`, `bob@${DOMAIN}`]);

  const [aliases, seenList] = await Promise.all([op.get(`/api/subscriptions/${subscriptionId}/aliases`), op.get(`/api/lists/${list.id}`)]);
  ok(aliases);
  assert.deepEqual(
    aliases.body.items.map((a: Json) => [a.id, a.address]),
    [[alias.id, `info@${DOMAIN}`]],
  );
  ok(seenList);
  assert.deepEqual(seenList.body.members, list.members);
});

test('R-T4 R-T2 CLI: facteur subscription show prints licences used/available and the domains', async () => {
  const shown = await json(['subscription', 'show', subscriptionId]);
  assert.equal(shown.id, subscriptionId);
  assert.deepEqual(
    shown.licences.map((l: Json) => [l.classId, l.quantity, l.used, l.available]),
    [
      ['basic', 2, 1, 1],
      ['standard', 1, 1, 0],
    ],
  );
  assert.deepEqual(
    shown.domains.map((d: Json) => [d.id, d.name, d.status]),
    [[domainId, DOMAIN, 'active']],
  );
  assert.equal(shown.accountCount, 2);
  assert.ok(shown.classes.some((c: Json) => c.id === 'basic'));
  const seen = await op.get(`/api/subscriptions/${subscriptionId}`);
  ok(seen);
  assert.deepEqual(seen.body.licences, shown.licences);
  assert.deepEqual(seen.body.domains, shown.domains);
});

test('R-T2 CLI: an unknown class or exhausted licences exit non-zero with a clear message (French with FACTEUR_LANG=fr) and create nothing', async () => {
  const accountsBefore = await op.get(`/api/subscriptions/${subscriptionId}/accounts`);
  const subscriptionsBefore = await op.get(`/api/subscriptions?customerId=${customerId}`);
  ok(accountsBefore);
  ok(subscriptionsBefore);

  const [unknownClass, exhausted, exhaustedFr, unknownLicenceClass, badLicences, badAddress, noDomain] = await Promise.all([
    facteur(['account', 'create', `carol@${DOMAIN}`, '--class', 'platinum', '--password', PASSWORD, '--json']),
    facteur(['account', 'create', `dave@${DOMAIN}`, '--class', 'standard', '--password', PASSWORD, '--json']),
    facteur(['account', 'create', `dave@${DOMAIN}`, '--class', 'standard', '--password', PASSWORD], { FACTEUR_LANG: 'fr' }),
    facteur(['subscription', 'create', '--customer', customerId, '--licences', 'basic=1,gold=2', '--months', '12', '--json']),
    facteur(['subscription', 'create', '--customer', customerId, '--licences', 'basic=two', '--months', '12']),
    facteur(['account', 'create', 'no-at-sign', '--class', 'basic', '--password', PASSWORD]),
    facteur(['account', 'create', 'erin@not-ours.test', '--class', 'basic', '--password', PASSWORD]),
  ]);

  assert.notEqual(unknownClass.code, 0);
  assert.equal(unknownClass.stdout, '', 'nothing printed as a result');
  assert.match(unknownClass.stderr, /No class platinum/);
  assert.match(unknownClass.stderr, /classId/);

  assert.notEqual(exhausted.code, 0);
  assert.equal(exhausted.stdout, '');
  assert.match(exhausted.stderr, /All 1 licences of class standard are in use/);
  assert.match(exhausted.stderr, /licences-exhausted/);

  assert.equal(exhaustedFr.code, exhausted.code);
  assert.match(exhaustedFr.stderr, /Les 1 licences de la classe standard sont toutes utilisées/);
  assert.doesNotMatch(exhaustedFr.stderr, /are in use/);

  assert.notEqual(unknownLicenceClass.code, 0);
  assert.match(unknownLicenceClass.stderr, /No class gold/);
  assert.match(unknownLicenceClass.stderr, /licences\.gold/);

  assert.notEqual(badLicences.code, 0);
  assert.match(badLicences.stderr, /CLASS=COUNT/);

  assert.notEqual(badAddress.code, 0);
  assert.match(badAddress.stderr, /"no-at-sign" is not a valid e-mail address/);

  assert.notEqual(noDomain.code, 0);
  assert.match(noDomain.stderr, /No such domain/);

  const [accountsAfter, subscriptionsAfter, carol, dave] = await Promise.all([
    op.get(`/api/subscriptions/${subscriptionId}/accounts`),
    op.get(`/api/subscriptions?customerId=${customerId}`),
    op.get(`/api/accounts/carol@${DOMAIN}`),
    op.get(`/api/accounts/dave@${DOMAIN}`),
  ]);
  assert.deepEqual(accountsAfter.body, accountsBefore.body);
  assert.deepEqual(subscriptionsAfter.body, subscriptionsBefore.body);
  assert.equal(carol.status, 404);
  assert.equal(dave.status, 404);
});

test('R-T6 CLI: facteur jobs run-due renews a subscription that is due, once, and is safe to run twice', async () => {
  // Put the subscription at the end of its period (the CLI runs on the test's clock).
  const end = service.clock.now() - 60_000;
  await service.ctx.db
    .updateTable('subscriptions')
    .set({ activated_at: addMonths(end, -12), current_period_start: addMonths(end, -12), current_period_end: end })
    .where('id', '=', subscriptionId)
    .execute();

  const first = await json(['jobs', 'run-due']);
  assert.deepEqual(first['subscriptions.renew'], { renewed: 1, ended: 0 });
  const renewed = await op.get(`/api/subscriptions/${subscriptionId}`);
  ok(renewed);
  assert.equal(renewed.body.status, 'active');
  assert.equal(renewed.body.currentPeriodStart, new Date(end).toISOString());
  assert.equal(renewed.body.currentPeriodEnd, new Date(addMonths(end, 12)).toISOString());

  const second = await json(['jobs', 'run-due']);
  assert.deepEqual(second['subscriptions.renew'], { renewed: 0, ended: 0 });
  const again = await op.get(`/api/subscriptions/${subscriptionId}`);
  assert.equal(again.body.currentPeriodEnd, renewed.body.currentPeriodEnd);
});

test('R-T5 CLI: facteur operations --json records every CLI change with actor role operator; the API journal shows them', async () => {
  const printed = await json(['operations', '--subscription', subscriptionId, '--limit', '200']);
  assert.ok(Array.isArray(printed));
  const kinds = (status: string) =>
    new Set(printed.filter((o: Json) => o.status === status && (o.actor_role ?? o.actor?.role) === 'operator').map((o: Json) => o.kind));
  for (const kind of ['domain.add', 'domain.check', 'account.create', 'alias.create', 'list.create']) assert.ok(kinds('succeeded').has(kind), kind);
  assert.ok(kinds('failed').has('account.create'), 'the refused account creations are recorded as failed');
  for (const o of printed) assert.match(o.id, /^op_/);
  assert.equal(JSON.stringify(printed).includes(PASSWORD), false, 'passwords never reach the journal');

  const journal = await op.get(`/api/operations?subscriptionId=${subscriptionId}&limit=500`);
  ok(journal);
  const fromCli = journal.body.items.filter((o: Json) => o.actor.role === 'operator' && o.actor.id === 'cli');
  assert.deepEqual(new Set(fromCli.map((o: Json) => o.id)), new Set(printed.map((o: Json) => o.id)));
  const failedCreate = fromCli.find((o: Json) => o.kind === 'account.create' && o.status === 'failed' && o.error?.code === 'licences-exhausted');
  assert.ok(failedCreate, 'the licence refusal is in the journal with its reason');

  const all = await op.get('/api/operations?limit=500');
  const created = all.body.items.find((o: Json) => o.kind === 'customer.create' && o.actor.id === 'cli' && o.status === 'succeeded');
  assert.ok(created, 'customer.create by the CLI is journalled');
  assert.equal(created.actor.role, 'operator');
});

test('configuration CLI: an invalid setting exits 2 naming the setting and its environment variable', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'facteur-cli-config-'));
  try {
    const base = { ...cliEnv(service), FACTEUR_DATA_DIR: dataDir, FACTEUR_DATABASE_URL: '' };
    const [badPort, badDatabase] = await Promise.all([
      facteur(['serve'], {}, { ...base, FACTEUR_HTTP_PORT: 'abc' }),
      facteur(['customer', 'list', '--json'], {}, { ...base, FACTEUR_DATABASE_URL: 'mysql://x' }),
    ]);
    assert.equal(badPort.code, 2, badPort.stderr);
    assert.match(badPort.stderr, /ports\.http/);
    assert.match(badPort.stderr, /FACTEUR_HTTP_PORT/);
    assert.equal(badPort.stdout, '');
    assert.equal(badDatabase.code, 2, badDatabase.stderr);
    assert.match(badDatabase.stderr, /databaseUrl/);
    assert.match(badDatabase.stderr, /FACTEUR_DATABASE_URL/);
    assert.equal(badDatabase.stdout, '');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

// --- facteur serve ---

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

interface Served {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function serve(env: NodeJS.ProcessEnv): Served {
  const child = spawn(process.execPath, [BIN, 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitForOutput(served: Served, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(served.output())) {
    if (served.child.exitCode !== null) assert.fail(`facteur serve exited ${served.child.exitCode}: ${served.output()}`);
    if (Date.now() > deadline) assert.fail(`facteur serve printed no ${pattern} in ${timeoutMs} ms: ${served.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return served.output();
}

async function stop(served: Served): Promise<number | null> {
  if (served.child.exitCode !== null) return served.child.exitCode;
  served.child.kill('SIGTERM');
  const timer = setTimeout(() => served.child.kill('SIGKILL'), 10_000);
  const code = await served.exited;
  clearTimeout(timer);
  return code;
}

test('R-A1 CLI: facteur serve prints the API URL and, on first start only, the operator login, which works', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'facteur-serve-'));
  const [http, mx, submission, submissions, imap, imaps, pop3, pop3s] = await freePorts(8);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FACTEUR_LANG: '',
    FACTEUR_DATA_DIR: dataDir,
    FACTEUR_DATABASE_URL: '',
    FACTEUR_HOSTNAME: 'mail.serve.test',
    FACTEUR_LISTEN_HOST: '127.0.0.1',
    FACTEUR_HTTP_PORT: String(http),
    FACTEUR_MX_PORT: String(mx),
    FACTEUR_SUBMISSION_PORT: String(submission),
    FACTEUR_SUBMISSIONS_PORT: String(submissions),
    FACTEUR_IMAP_PORT: String(imap),
    FACTEUR_IMAPS_PORT: String(imaps),
    FACTEUR_POP3_PORT: String(pop3),
    FACTEUR_POP3S_PORT: String(pop3s),
    FACTEUR_OPERATOR_EMAIL: '',
    FACTEUR_OPERATOR_PASSWORD: '',
    FACTEUR_DNS_SERVERS: service.dns.address,
    FACTEUR_DKIM_KEY_BITS: '1024',
    FACTEUR_LOG_LEVEL: 'silent',
  };
  delete env.FACTEUR_CONFIG;
  const base = `http://127.0.0.1:${http}`;
  let first: Served | undefined;
  let second: Served | undefined;
  try {
    first = serve(env);
    const out = await waitForOutput(first, /password: *\S+\n[\s\S]*two-factor/);
    assert.ok(out.includes(`${base}/api`), out);
    const email = /e-mail: *(\S+)/.exec(out)?.[1];
    const password = /password: *(\S+)/.exec(out)?.[1];
    assert.equal(email, 'operator@mail.serve.test');
    assert.ok(password && password.length >= 10, out);

    const health = await fetch(`${base}/api/health`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as Json).engine, 'sqlite');
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    const loginBody = (await login.json()) as Json;
    assert.equal(login.status, 200, JSON.stringify(loginBody));
    assert.equal(loginBody.stage, 'enrol');
    assert.equal(loginBody.role, 'operator');
    assert.equal(await stop(first), 0, first.output());

    second = serve(env);
    const again = await waitForOutput(second, /API docs: *\S+\n/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(again.includes(`${base}/api`), again);
    assert.doesNotMatch(second.output(), /password/i);
    assert.doesNotMatch(second.output(), /First start/);
    const relogin = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    assert.equal(relogin.status, 200, 'the first password still works on the second start');
    assert.equal(await stop(second), 0, second.output());
  } finally {
    if (first) await stop(first);
    if (second) await stop(second);
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('R-T7 CLI: facteur ticket open, reply and close, as the support answers a customer; the customer sees it through the API', async () => {
  const opened = await json(['ticket', 'open', '--customer', customerId, '--subject', 'Unblock bob', '--category', 'unblock', '--body', 'Called in by phone.']);
  assert.match(opened.id, /^tkt_/);
  assert.equal(opened.status, 'open');
  assert.equal(opened.category, 'unblock');

  const run = await facteur(['ticket', 'reply', opened.id, '--body-file', '-'], {}, cliEnv(service));
  assert.notEqual(run.code, 0, 'no standard input to read: an empty body is refused');
  service.clock.advance(60_000); // the CLI runs on the test's clock: the answer comes a minute later
  const replied = await json(['ticket', 'reply', opened.id, '--body', 'Done: the password was changed.']);
  assert.deepEqual(
    replied.messages.map((m: Json) => [m.authorRole, m.body]),
    [
      ['operator', 'Called in by phone.'],
      ['operator', 'Done: the password was changed.'],
    ],
  );
  const closed = await json(['ticket', 'close', opened.id]);
  assert.equal(closed.status, 'closed');
  const shown = await json(['ticket', 'show', opened.id]);
  assert.equal(shown.messages.length, 2);

  const viaApi = await op.get(`/api/tickets/${opened.id}`);
  ok(viaApi);
  assert.equal(viaApi.body.status, 'closed');
  const unknown = await facteur(['ticket', 'open', '--customer', 'cus_nobody', '--subject', 'x', '--body', 'y']);
  assert.equal(unknown.code, 1, unknown.stderr);
  assert.match(unknown.stderr, /not-found/);
});

test('R-T4 CLI: facteur faq prints the pages customers read, in English or French, with the service host name', async () => {
  const pages = await json(['faq', '--lang', 'fr']);
  assert.ok(pages.length >= 10);
  const settings = await json(['faq', 'server-settings', '--lang', 'fr']);
  assert.equal(settings.title, 'Paramètres des serveurs pour les logiciels de messagerie');
  assert.match(settings.body, /mail\.provider\.test/);
  const human = await facteur(['faq', 'sending-limits']);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^# Sending limits and error messages\n/);
  const missing = await facteur(['faq', 'no-such-page']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No FAQ page no-such-page/);
});

test('CLI: output into a closed pipe (facteur … | head) ends quietly with exit 0; help text speaks of features, not requirement ids', async () => {
  const child = spawn(process.execPath, [BIN, 'faq', '--lang', 'fr'], { cwd: ROOT, env: cliEnv(service), stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // the reader is gone before the first line is written
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(stderr, '');
  assert.equal(code, 0);

  for (const args of [['--help'], ['quarantine', '--help'], ['vault', '--help'], ['subscription', '--help']]) {
    const help = await facteur(args);
    assert.equal(help.code, 0);
    assert.doesNotMatch(help.stdout, /R-[A-Z]\d/, `facteur ${args.join(' ')}`);
  }
});
