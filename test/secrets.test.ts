/**
 * Secrets at rest: DKIM private keys, TOTP secrets and the SRS and digest link secrets are sealed
 * (AES-256-GCM) under a key kept outside the database, so a dump of every table shows none of them;
 * values stored in clear by an older version are sealed at the next start; `facteur secrets rotate-key`
 * seals everything under a new key while the service runs. The real service on loopback, a real
 * submission client, and the `facteur` command as an operator runs it.
 */
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { authenticate } from 'mailauth';
import nodemailer from 'nodemailer';
import { forwardingSender, reverseSrs } from '../src/delivery/srs.ts';
import { linkSecret } from '../src/filter/links.ts';
import { parseAddress } from '../src/shared/addresses.ts';
import { storedSecret } from '../src/store/index.ts';
import { cliEnv, runFacteur } from './helpers/cli.ts';
import { ApiClient, expectStatus, operatorClient, secretOf, setupCustomer, waitForOperation } from './helpers/client.ts';
import { messagesOf } from './helpers/mail.ts';
import { OPERATOR, startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'sealed.test';
const ALICE = { address: `alice@${DOMAIN}`, password: 'alice-password-1' };
/** Sends through submission: with TOTP on, Alice would need an app password for SMTP. */
const BOB = { address: `bob@${DOMAIN}`, password: 'bob-password-1' };
let service: TestService;
let domainId: string;
let admin: ApiClient;
let aliceTotp: string;

before(async () => {
  service = await startTestService({ overrides: { roles: ['web', 'submission'], ports: { http: 0, submission: 0, submissions: 0 } } });
  const operator = await operatorClient(service);
  const setup = await setupCustomer(service, operator, 'Sealed', { basic: 2 });
  admin = setup.admin;
  const added = await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/domains`, { name: DOMAIN });
  expectStatus(added, 202);
  await waitForOperation(setup.admin, added.body.id);
  for (const account of [ALICE, BOB])
    expectStatus(await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/accounts`, { ...account, classId: 'basic' }), 201);
  const domain = (await setup.admin.get(`/api/domains/${DOMAIN}`)).body;
  domainId = domain.id;
  publishDkim(domain.records);
  // A pending DKIM rotation, so dkim_keys holds a private key too.
  expectStatus(await setup.admin.post(`/api/domains/${domainId}/dkim/rotate`), 201);
  // A user who turned TOTP on (R-A1).
  const alice = await new ApiClient(service.url, service.clock).login(ALICE.address, ALICE.password);
  const enrol = await alice.post('/api/auth/totp/enrol');
  expectStatus(enrol, 200);
  expectStatus(await alice.post('/api/auth/totp/confirm', { code: await alice.totpCode(enrol.body.secret) }), 200);
  aliceTotp = enrol.body.secret;
  // The service's own secrets exist once used.
  await linkSecret(service.ctx);
  await forwardingSender(service.ctx, 'someone@origin.test', async () => false);
});
after(() => service.close());

function publishDkim(records: { kind: string; host: string; value: string }[]): void {
  const dkim = records.find((r) => r.kind === 'dkim');
  assert.ok(dkim);
  const chunks: string[] = [];
  for (let i = 0; i < dkim.value.length; i += 255) chunks.push(dkim.value.slice(i, i + 255));
  service.dns.set(dkim.host, 'TXT', [chunks]);
}

/** What a dump of the database holds: every text value of every table, as a backup would carry it. */
async function dumpText(): Promise<string> {
  const { db, engine } = service.ctx;
  // PostgreSQL: only this service's schema (search_path). Introspecting every schema raced with other
  // test files dropping theirs ("schema … does not exist").
  const all =
    engine === 'postgres'
      ? (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(db)).rows.map(
          (row) => row.name,
        )
      : (await db.introspection.getTables()).map((t) => t.name);
  const names = all.filter((name) => !name.startsWith('kysely_'));
  assert.ok(names.includes('domains') && names.includes('settings') && names.includes('accounts'), names.join(','));
  const parts: string[] = [];
  for (const name of names) {
    const rows = await (service.ctx.db as any).selectFrom(name).selectAll().execute();
    for (const row of rows) for (const value of Object.values(row as Record<string, unknown>)) if (typeof value === 'string') parts.push(value);
  }
  return parts.join('\n');
}

/** The plaintexts the service works with, read through its keyring. */
async function plainSecrets(): Promise<{ label: string; value: string }[]> {
  const { db, secrets } = service.ctx;
  const domain = await db.selectFrom('domains').select('dkim_private_key').where('id', '=', domainId).executeTakeFirstOrThrow();
  const pending = await db
    .selectFrom('dkim_keys')
    .select('private_key')
    .where('domain_id', '=', domainId)
    .where('state', '=', 'pending')
    .executeTakeFirstOrThrow();
  const pem = secrets.open('dkim', domain.dkim_private_key);
  const pendingPem = secrets.open('dkim', pending.private_key as string);
  assert.match(pem, /^-----BEGIN PRIVATE KEY-----/);
  const operatorTotp = secretOf(OPERATOR.email);
  assert.ok(operatorTotp);
  const now = service.clock.now();
  return [
    { label: 'DKIM private key', value: pemBody(pem) },
    { label: 'pending DKIM private key', value: pemBody(pendingPem) },
    { label: "the operator's TOTP secret", value: operatorTotp },
    { label: "a user's TOTP secret", value: aliceTotp },
    { label: 'SRS secret', value: await storedSecret(db, secrets, 'srs.secret', now) },
    { label: 'digest link secret', value: await storedSecret(db, secrets, 'filter.digestLinkSecret', now) },
  ];
}

/** A line of the key's base64, found in a dump whatever its line breaks. */
function pemBody(pem: string): string {
  return pem.split('\n')[3] as string;
}

async function assertDumpHasNoSecret(): Promise<void> {
  const dump = await dumpText();
  assert.doesNotMatch(dump, /BEGIN (RSA )?PRIVATE KEY/);
  for (const { label, value } of await plainSecrets()) {
    assert.ok(value.length >= 16, label);
    assert.ok(!dump.includes(value), `${label} is in the dump in clear`);
  }
}

/**
 * The bytes of the database files that held the secrets, as a file-level backup copies them: SQLite's
 * file and WAL; PostgreSQL's files of the secret tables and their TOAST (after a checkpoint, as root:
 * CI's user). Undefined when PostgreSQL's files cannot be read here (then said in the test's output).
 */
async function rawStorage(): Promise<Buffer | undefined> {
  const { db, engine } = service.ctx;
  if (engine === 'sqlite') {
    const file = path.join(service.dataDir, 'facteur.db');
    return Buffer.concat([await readFile(file), await readFile(`${file}-wal`).catch(() => Buffer.alloc(0))]);
  }
  await sql`checkpoint`.execute(db);
  const directory = (await sql<{ d: string }>`select current_setting('data_directory') as d`.execute(db)).rows[0]?.d as string;
  const { rows } = await sql<{ file: string }>`
    select pg_relation_filepath(c.oid) as file from pg_class c
    where c.oid in (select oid from pg_class where relname in ('domains', 'accounts', 'settings') and relnamespace = current_schema()::regnamespace
                    union select reltoastrelid from pg_class where relname in ('domains', 'accounts', 'settings') and relnamespace = current_schema()::regnamespace)`.execute(
    db,
  );
  try {
    return Buffer.concat(await Promise.all(rows.map((row) => readFile(path.join(directory, row.file)))));
  } catch (error) {
    console.log(`# NOT TESTED: PostgreSQL's data files cannot be read by this user (${(error as Error).message})`);
    return undefined;
  }
}

async function sendSigned(subject: string): Promise<void> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: service.submissionPort,
    requireTLS: true,
    tls: { ca: service.tlsCert, servername: 'localhost' },
    auth: { user: BOB.address, pass: BOB.password },
  });
  await transport.sendMail({ from: BOB.address, to: ALICE.address, subject, text: 'Signed with a sealed key.' });
  transport.close();
  const message = (await messagesOf(service.ctx, ALICE.address)).find((m) => m.raw.includes(`Subject: ${subject}`));
  assert.ok(message, 'delivered');
  const auth = await authenticate(Buffer.from(message.raw, 'latin1'), {
    ip: '127.0.0.1',
    helo: 'client.test',
    sender: BOB.address,
    mta: 'mx.elsewhere.test',
    resolver: service.ctx.resolver.mailauthResolver,
    disableBimi: true,
    disableArc: true,
  });
  assert.equal(auth.dkim.results?.[0]?.status.result, 'pass', JSON.stringify(auth.dkim.results));
}

async function totpLogin(email: string, password: string, secret: string): Promise<void> {
  const client = new ApiClient(service.url, service.clock);
  const login = await client.post('/api/auth/login', { email, password });
  expectStatus(login, 200);
  assert.equal(login.body.stage, 'totp');
  client.csrf = login.body.csrfToken;
  expectStatus(await client.post('/api/auth/totp/verify', { code: await client.totpCode(secret) }), 200);
  expectStatus(await client.get('/api/me'), 200);
}

async function assertSrsWorks(): Promise<void> {
  const rewritten = await forwardingSender(service.ctx, 'someone@origin.test', async () => false);
  assert.match(rewritten, /^SRS0=/);
  assert.equal(await reverseSrs(service.ctx, parseAddress(rewritten)), 'someone@origin.test');
}

test('Secrets at rest: a dump of every table holds no DKIM private key, TOTP secret, SRS or link secret in clear; signing, TOTP login and SRS work', async () => {
  await assertDumpHasNoSecret();
  const domain = await service.ctx.db.selectFrom('domains').select('dkim_private_key').where('id', '=', domainId).executeTakeFirstOrThrow();
  assert.match(domain.dkim_private_key, /^fs1:k[0-9a-f]{10}:/, 'sealed, with the id of its key');
  await sendSigned('Sealed DKIM key');
  await totpLogin(ALICE.address, ALICE.password, aliceTotp);
  await assertSrsWorks();
  // The key is a file of the data directory, readable by the service's user only.
  const keyFile = path.join(service.dataDir, 'secrets.key');
  assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
});

test('Secrets at rest: a sealed value copied into another kind of column does not open (the purpose is authenticated)', async () => {
  const { db, secrets } = service.ctx;
  const domain = await db.selectFrom('domains').select('dkim_private_key').where('id', '=', domainId).executeTakeFirstOrThrow();
  assert.throws(() => secrets.open('totp', domain.dkim_private_key), /does not open/);
  const tampered = `${domain.dkim_private_key.slice(0, -4)}AAAA`;
  assert.throws(() => secrets.open('dkim', tampered), /does not open/);
});

test('Secrets at rest: secrets stored in clear by an older version are sealed at the next start (a `facteur` process), and work meanwhile', async () => {
  const { db, secrets } = service.ctx;
  const [key, , , alice] = await plainSecrets();
  const domain = await db.selectFrom('domains').select('dkim_private_key').where('id', '=', domainId).executeTakeFirstOrThrow();
  const pem = secrets.open('dkim', domain.dkim_private_key);
  const srs = await storedSecret(db, secrets, 'srs.secret', service.clock.now());
  // As an older version left them: in clear.
  await db.updateTable('domains').set({ dkim_private_key: pem }).where('id', '=', domainId).execute();
  await db
    .updateTable('accounts')
    .set({ totp_secret: alice?.value as string })
    .where('address', '=', ALICE.address)
    .execute();
  await db
    .updateTable('settings')
    .set({ value: JSON.stringify(srs) })
    .where('key', '=', 'srs.secret')
    .execute();
  assert.ok((await dumpText()).includes(key?.value as string), 'the test did put a key in clear');
  await sendSigned('Key still in clear');
  await totpLogin(ALICE.address, ALICE.password, aliceTotp);

  const before = await rawStorage();
  const run = await runFacteur(cliEnv(service), ['customer', 'list', '--json']);
  assert.equal(run.code, 0, run.stderr);
  await assertDumpHasNoSecret();
  // Nor do the files: the space that held the values in clear was rewritten (VACUUM).
  const raw = await rawStorage();
  if (before && raw) {
    assert.ok(before.includes(Buffer.from(alice?.value as string)), 'the files did hold a secret in clear');
    for (const [label, value] of [
      ["a user's TOTP secret", alice?.value as string],
      ['SRS secret', srs],
    ]) {
      // The command's own account (its log says why a scrub failed) helps when this fails under load.
      assert.ok(!raw.includes(Buffer.from(value as string)), `${label} is still in the database files in clear; the command said: ${run.stderr.slice(-2000)}`);
    }
  }
  const setting = await db.selectFrom('settings').select('value').where('key', '=', 'srs.secret').executeTakeFirstOrThrow();
  assert.match(JSON.parse(setting.value), /^fs1:/);
  await sendSigned('Key sealed again');
  await totpLogin(ALICE.address, ALICE.password, aliceTotp);
  await assertSrsWorks();
});

test('facteur secrets rotate-key: every secret sealed under a new key while the service runs; the old key leaves the key file; signing, TOTP and SRS still work', async () => {
  const { db, secrets } = service.ctx;
  const before = secrets.current().id;
  const keyFile = path.join(service.dataDir, 'secrets.key');
  const run = await runFacteur(cliEnv(service), ['secrets', 'rotate-key', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout) as { key: string; resealed: number; retired: string[] };
  assert.notEqual(result.key, before);
  assert.deepEqual(result.retired, [before]);
  assert.ok(result.resealed >= 6, `resealed ${result.resealed}`);
  const file = await readFile(keyFile, 'utf8');
  assert.ok(file.includes(result.key) && !file.includes(before), 'only the new key is in the file');
  assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
  for (const row of await db.selectFrom('domains').select('dkim_private_key').execute()) assert.ok(row.dkim_private_key.startsWith(`fs1:${result.key}:`));
  const totp = await db.selectFrom('accounts').select('totp_secret').where('address', '=', ALICE.address).executeTakeFirstOrThrow();
  assert.ok(totp.totp_secret?.startsWith(`fs1:${result.key}:`));

  // The running service was not restarted: it reads the new key from the file when it meets it.
  await sendSigned('After the rotation');
  await totpLogin(ALICE.address, ALICE.password, aliceTotp);
  await totpLogin(OPERATOR.email, OPERATOR.password, secretOf(OPERATOR.email) as string);
  await assertSrsWorks();
  assert.equal(secrets.current().id, result.key);
  // What the service seals from now on is sealed under the new key.
  expectStatus(await admin.delete(`/api/domains/${domainId}/dkim/pending`), 200);
  expectStatus(await admin.post(`/api/domains/${domainId}/dkim/rotate`), 201);
  const pending = await db
    .selectFrom('dkim_keys')
    .select('private_key')
    .where('domain_id', '=', domainId)
    .where('state', '=', 'pending')
    .executeTakeFirstOrThrow();
  assert.ok(pending.private_key?.startsWith(`fs1:${result.key}:`));
  await assertDumpHasNoSecret();
  const operations = await runFacteur(cliEnv(service), ['operations', '--json']);
  assert.ok(operations.stdout.includes('secrets.rotate-key'), 'the rotation is in the journal');
});

test('Secrets at rest: a process given keys other than those that sealed the data refuses to start, naming the key it lacks', async () => {
  const other = `other:${Buffer.alloc(32, 7).toString('base64')}`;
  const run = await runFacteur(cliEnv(service, { FACTEUR_SECRETS_KEYS: other }), ['customer', 'list']);
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /sealed with key "k[0-9a-f]{10}", which this process does not have/);
  const bad = await runFacteur(cliEnv(service, { FACTEUR_SECRETS_KEYS: 'nokey' }), ['customer', 'list']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /FACTEUR_SECRETS_KEYS/);
});
