/**
 * JMAP (RFC 8620 core, RFC 8621 mail) against the running service over HTTP: the session resource,
 * authentication, request- and method-level errors, result references, and the Mailbox, Thread and
 * Email methods over mail APPENDed through IMAP and delivered through the MX; changes made over IMAP
 * seen by JMAP at once and the other way round.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { killHard, startServe } from './helpers/cli.ts';
import { type ApiClient, operatorClient } from './helpers/client.ts';
import { type MailCustomer, setupMailCustomer } from './helpers/filter.ts';
import { RawImap } from './helpers/imap.ts';
import { RawSmtp } from './helpers/mail.ts';
import { freePort } from './helpers/ports.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'jmap.test';
const CORE = 'urn:ietf:params:jmap:core';
const MAIL = 'urn:ietf:params:jmap:mail';
let service: TestService;
let customer: MailCustomer;

function account(local: string) {
  const found = customer.accounts.find((a) => a.address === `${local}@${DOMAIN}`);
  assert.ok(found);
  return found;
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

interface HttpReply {
  status: number;
  headers: Headers;
  body: any;
  raw: Buffer;
}

async function http(method: string, path: string, init: { auth?: string; body?: string; headers?: Record<string, string> } = {}): Promise<HttpReply> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.auth) headers.authorization = init.auth;
  const response = await fetch(path.startsWith('http') ? path : `${service.url}${path}`, { method, headers, body: init.body });
  const raw = Buffer.from(await response.arrayBuffer());
  const type = response.headers.get('content-type') ?? '';
  return { status: response.status, headers: response.headers, raw, body: type.includes('json') && raw.length ? JSON.parse(raw.toString()) : raw.toString() };
}

/** A JMAP client over Basic authentication with the account's password. */
class Jmap {
  constructor(
    readonly accountId: string,
    readonly auth: string,
  ) {}

  static of(local: string): Jmap {
    const a = account(local);
    return new Jmap(a.id, basic(a.address, a.password));
  }

  /** Another `facteur serve` on the same data, when set: a fresh process, with nothing in memory. */
  base: string | undefined;

  async request(methodCalls: unknown[], using = [CORE, MAIL]): Promise<HttpReply> {
    return http('POST', `${this.base ?? ''}/jmap/api`, {
      auth: this.auth,
      body: JSON.stringify({ using, methodCalls }),
      headers: { 'content-type': 'application/json' },
    });
  }

  /** One method call; its response arguments (asserting its name). */
  async call(name: string, args: Record<string, unknown>, expected = name): Promise<any> {
    const reply = await this.request([[name, { accountId: this.accountId, ...args }, 'c0']]);
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    const [response] = reply.body.methodResponses;
    assert.equal(response[0], expected, JSON.stringify(response));
    assert.equal(response[2], 'c0');
    return response[1];
  }

  async mailboxId(role: string): Promise<string> {
    const { list } = await this.call('Mailbox/get', { ids: null });
    const found = list.find((m: any) => m.role === role);
    assert.ok(found, role);
    return found.id;
  }
}

interface Mail {
  subject: string;
  from?: string;
  to?: string;
  id?: string;
  inReplyTo?: string;
  date?: string;
  body?: string;
  headers?: string[];
}

function raw(m: Mail): string {
  return [
    `From: ${m.from ?? 'Sender <sender@outside.test>'}`,
    `To: ${m.to ?? `reader@${DOMAIN}`}`,
    `Subject: ${m.subject}`,
    `Date: ${m.date ?? 'Thu, 26 Nov 2026 10:00:00 +0100'}`,
    ...(m.id ? [`Message-ID: ${m.id}`] : []),
    ...(m.inReplyTo ? [`In-Reply-To: ${m.inReplyTo}`, `References: ${m.inReplyTo}`] : []),
    ...(m.headers ?? []),
    '',
    m.body ?? `Body of ${m.subject}`,
    '',
  ].join('\r\n');
}

async function imapFor(local: string): Promise<RawImap> {
  const imap = await RawImap.open(service.imapPort as number);
  const { address, password } = account(local);
  assert.match((await imap.command(`LOGIN ${address} ${password}`)).tagged, / OK /);
  return imap;
}

async function append(imap: RawImap, folder: string, text: string, internalDate?: string): Promise<void> {
  const date = internalDate ? `"${internalDate}" ` : '';
  const reply = await imap.command(`APPEND ${folder} ${date}{${Buffer.byteLength(text)}+}\r\n${text}`);
  assert.match(reply.tagged, / OK /, reply.tagged);
}

async function sendInbound(to: string, text: string): Promise<void> {
  const smtp = await RawSmtp.open(service.mxPort as number);
  await smtp.command('EHLO mail.outside.test');
  assert.match(await smtp.command('MAIL FROM:<sender@outside.test>'), /^250 /);
  assert.match(await smtp.command(`RCPT TO:<${to}>`), /^250 /);
  assert.match(await smtp.command('DATA'), /^354 /);
  smtp.send(`${text.replace(/^\./gm, '..')}.\r\n`);
  assert.match(await smtp.reply(), /^250 /);
  smtp.close();
}

const MULTIPART = [
  'From: =?utf-8?q?Z=C3=A9lie?= <zelie@outside.test>',
  `To: Reader <reader@${DOMAIN}>, other@outside.test`,
  'Cc: Team: one@outside.test, two@outside.test;',
  'Subject: =?utf-8?q?Rapport_trimestriel?=',
  'Date: Fri, 27 Nov 2026 09:30:00 +0100',
  'Message-ID: <report@outside.test>',
  'List-Post: <mailto:list@outside.test>',
  'X-Custom: first',
  'X-Custom: second',
  'X-Folded: one',
  '  two',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="outer"',
  '',
  '--outer',
  'Content-Type: multipart/alternative; boundary="inner"',
  '',
  '--inner',
  'Content-Type: text/plain; charset=iso-8859-1',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Voici le rapport, d=E9j=E0 pr=EAt.',
  '--inner',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p>Voici le <b>rapport</b></p>',
  '--inner--',
  '--outer',
  'Content-Type: application/pdf; name="rapport.pdf"',
  'Content-Disposition: attachment; filename="rapport été.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('%PDF-1.4 not really a pdf').toString('base64'),
  '--outer--',
  '',
].join('\r\n');

before(async () => {
  service = await startTestService({
    overrides: {
      roles: ['web', 'mx', 'imap'],
      ports: { http: 0, mx: 0, imap: 0, imaps: 0 },
      mailAccess: { allowPlaintextOnLoopback: true },
    },
  });
  const operator = await operatorClient(service);
  customer = await setupMailCustomer(service, operator, 'Jmap', DOMAIN, ['reader', 'writer', 'secure', 'lister', 'changer']);
});
after(() => service.close());

describe('RFC 8620 §2 session resource and authentication', () => {
  test('RFC 8620 §2: GET /.well-known/jmap lists the capabilities, the account, the primary accounts and the URLs', async () => {
    const reader = account('reader');
    const reply = await http('GET', '/.well-known/jmap', { auth: basic(reader.address, reader.password) });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    const session = reply.body;
    assert.deepEqual(Object.keys(session.capabilities).sort(), [CORE, MAIL]);
    assert.equal(session.capabilities[CORE].maxCallsInRequest, 32);
    assert.equal(session.capabilities[CORE].maxObjectsInGet, 500);
    assert.equal(session.capabilities[CORE].maxSizeUpload, 50_000_000);
    assert.deepEqual(session.primaryAccounts, { [CORE]: reader.id, [MAIL]: reader.id });
    const acc = session.accounts[reader.id];
    assert.equal(acc.name, reader.address);
    assert.equal(acc.isPersonal, true);
    assert.equal(acc.accountCapabilities[MAIL].maxMailboxesPerEmail, 1);
    assert.ok(acc.accountCapabilities[MAIL].emailQuerySortOptions.includes('receivedAt'));
    assert.equal(session.username, reader.address);
    assert.equal(session.apiUrl, `${service.url}/jmap/api`);
    assert.equal(session.downloadUrl, `${service.url}/jmap/download/{accountId}/{blobId}/{name}?accept={type}`);
    assert.match(session.uploadUrl, /\{accountId\}/);
    assert.match(session.eventSourceUrl, /\{types\}.*\{closeafter\}.*\{ping\}/);
    assert.equal(typeof session.state, 'string');
  });

  test('Basic: no credentials or a wrong password answer 401 with WWW-Authenticate; failures are throttled', async () => {
    const none = await http('GET', '/.well-known/jmap');
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    assert.match(none.headers.get('content-type') ?? '', /problem\+json/);
    const writer = account('writer');
    const wrong = await http('POST', '/jmap/api', {
      auth: basic(writer.address, 'not-the-password'),
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(wrong.status, 401);
    // The login throttle of src/auth/throttle.ts: enough failures from one address and even the right password waits.
    let limited: HttpReply | undefined;
    for (let i = 0; i < 40 && !limited; i++) {
      const r = await http('GET', '/.well-known/jmap', { auth: basic(`nobody${i % 3}@${DOMAIN}`, 'wrong') });
      if (r.status === 429) limited = r;
      else assert.equal(r.status, 401);
    }
    assert.ok(limited, 'Basic failures are throttled (429)');
    assert.match(limited.headers.get('content-type') ?? '', /problem\+json/);
  });

  test('Basic with 2FA on: the account password is refused, an app password works; a user session needs the CSRF token to POST', async () => {
    const secure = account('secure');
    const client: ApiClient = secure.client;
    const created = await client.post('/api/me/app-passwords', { name: 'JMAP client' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const appPassword: string = created.body.password;
    const body = JSON.stringify({ using: [CORE], methodCalls: [['Core/echo', { hello: true }, 'e']] });
    const post = (auth?: string, headers: Record<string, string> = {}) =>
      http('POST', '/jmap/api', { auth, body, headers: { 'content-type': 'application/json', ...headers } });
    assert.equal((await post(basic(secure.address, secure.password))).status, 200, 'no 2FA yet: the password works');

    const enrol = await client.post('/api/auth/totp/enrol');
    assert.equal(enrol.status, 200, JSON.stringify(enrol.body));
    const confirm = await client.post('/api/auth/totp/confirm', { code: await client.totpCode(enrol.body.secret) });
    assert.equal(confirm.status, 200, JSON.stringify(confirm.body));
    assert.equal((await post(basic(secure.address, secure.password))).status, 401, 'with 2FA the account password is refused over Basic');
    const withApp = await post(basic(secure.address, appPassword));
    assert.equal(withApp.status, 200);
    assert.deepEqual(withApp.body.methodResponses, [['Core/echo', { hello: true }, 'e']]);

    // The portal's session of a user (reader: no 2FA, logged in by the helper).
    const reader = account('reader');
    const cookie = reader.client.cookie as string;
    const csrf = reader.client.csrf as string;
    const session = await http('GET', '/.well-known/jmap', { headers: { cookie } });
    assert.equal(session.status, 200);
    assert.equal(session.body.primaryAccounts[MAIL], reader.id);
    assert.equal((await post(undefined, { cookie })).status, 403, 'a POST with the cookie alone is refused (CSRF)');
    assert.equal((await post(undefined, { cookie, 'x-csrf-token': csrf })).status, 200);
    // An admin's session is no mail account.
    const admin = customer.admin;
    assert.equal((await http('GET', '/.well-known/jmap', { headers: { cookie: admin.cookie as string } })).status, 401);
  });
});

describe('RFC 8620 §3 requests, errors and result references', () => {
  test('RFC 8620 §3.6.1 request-level errors as problem+json: notJSON, notRequest, unknownCapability, limit', async () => {
    const reader = account('reader');
    const auth = basic(reader.address, reader.password);
    const post = (body: string, type = 'application/json') => http('POST', '/jmap/api', { auth, body, headers: { 'content-type': type } });
    const expect = (reply: HttpReply, type: string) => {
      assert.equal(reply.status, 400, JSON.stringify(reply.body));
      assert.match(reply.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(reply.body.type, `urn:ietf:params:jmap:error:${type}`);
      assert.equal(reply.body.status, 400);
      assert.equal(typeof reply.body.detail, 'string');
    };
    expect(await post('{"using": [', 'application/json'), 'notJSON');
    expect(await post('{}', 'text/plain'), 'notJSON');
    expect(await post('[1, 2]'), 'notRequest');
    expect(await post(JSON.stringify({ using: [CORE], methodCalls: [['Core/echo', {}]] })), 'notRequest');
    expect(await post(JSON.stringify({ using: [CORE, 'urn:example:nothing'], methodCalls: [] })), 'unknownCapability');
    const many = Array.from({ length: 33 }, (_, i) => ['Core/echo', {}, `c${i}`]);
    const limit = await post(JSON.stringify({ using: [CORE], methodCalls: many }));
    expect(limit, 'limit');
    assert.equal(limit.body.limit, 'maxCallsInRequest');
    const big = await post(JSON.stringify({ using: [CORE], methodCalls: [['Core/echo', { pad: 'x'.repeat(10_000_001) }, 'c']] }));
    expect(big, 'limit');
    assert.equal(big.body.limit, 'maxSizeRequest');
  });

  test('RFC 8620 §3.6.2 method-level errors: unknownMethod, invalidArguments, accountNotFound, requestTooLarge; later calls still run', async () => {
    const jmap = Jmap.of('reader');
    const reply = await jmap.request([
      ['Nothing/get', {}, 'a'],
      ['Mailbox/get', { accountId: jmap.accountId, ids: 'not-a-list' }, 'b'],
      ['Mailbox/get', { accountId: 'acc_someoneelse' }, 'c'],
      ['Mailbox/get', { accountId: jmap.accountId, bogus: 1 }, 'd'],
      ['Email/get', { accountId: jmap.accountId, ids: Array.from({ length: 501 }, (_, i) => `m${i}`) }, 'e'],
      ['Core/echo', { still: 'here' }, 'f'],
    ]);
    assert.equal(reply.status, 200);
    const types = reply.body.methodResponses.map((r: any) => (r[0] === 'error' ? r[1].type : r[0]));
    assert.deepEqual(types, ['unknownMethod', 'invalidArguments', 'accountNotFound', 'invalidArguments', 'requestTooLarge', 'Core/echo']);
    assert.deepEqual(
      reply.body.methodResponses.map((r: any) => r[2]),
      ['a', 'b', 'c', 'd', 'e', 'f'],
    );
    // §3.6.2: a method whose capability the request did not use is unknown.
    const withoutMail = await jmap.request([['Mailbox/get', { accountId: jmap.accountId }, 'x']], [CORE]);
    assert.equal(withoutMail.body.methodResponses[0][1].type, 'unknownMethod');
  });

  test('RFC 8620 §3.7 result references: a path into an earlier response, `*` over lists, invalidResultReference', async () => {
    const jmap = Jmap.of('reader');
    const reply = await jmap.request([
      ['Mailbox/query', { accountId: jmap.accountId, filter: { role: 'inbox' } }, 'q'],
      ['Mailbox/get', { accountId: jmap.accountId, '#ids': { resultOf: 'q', name: 'Mailbox/query', path: '/ids' }, properties: ['role'] }, 'g'],
      ['Core/echo', { '#roles': { resultOf: 'g', name: 'Mailbox/get', path: '/list/*/role' } }, 'e'],
      ['Mailbox/get', { accountId: jmap.accountId, '#ids': { resultOf: 'q', name: 'Mailbox/get', path: '/ids' } }, 'bad1'],
      ['Mailbox/get', { accountId: jmap.accountId, '#ids': { resultOf: 'q', name: 'Mailbox/query', path: '/nothing' } }, 'bad2'],
      ['Mailbox/get', { accountId: jmap.accountId, ids: [], '#ids': { resultOf: 'q', name: 'Mailbox/query', path: '/ids' } }, 'both'],
    ]);
    const [query, get, echo, bad1, bad2, both] = reply.body.methodResponses;
    assert.equal(query[1].ids.length, 1);
    assert.deepEqual(
      get[1].list.map((m: any) => m.role),
      ['inbox'],
    );
    assert.deepEqual(echo[1], { roles: ['inbox'] });
    assert.equal(bad1[1].type, 'invalidResultReference');
    assert.equal(bad2[1].type, 'invalidResultReference');
    assert.equal(both[1].type, 'invalidArguments');
  });
});

describe('RFC 8621 §2 Mailbox', () => {
  test('RFC 8621 §2.1 Mailbox/get: roles from special-use, counts, rights; notFound', async () => {
    const jmap = Jmap.of('lister');
    const imap = await imapFor('lister');
    await append(imap, 'INBOX', raw({ subject: 'one', to: `lister@${DOMAIN}` }));
    await append(imap, 'INBOX', raw({ subject: 'two', to: `lister@${DOMAIN}` }));
    assert.match((await imap.command('SELECT INBOX')).tagged, / OK /);
    assert.match((await imap.command('STORE 1 +FLAGS (\\Seen)')).tagged, / OK /);
    imap.close();
    const got = await jmap.call('Mailbox/get', { ids: null });
    const roles = got.list.map((m: any) => m.role).sort();
    assert.deepEqual(roles, ['archive', 'drafts', 'inbox', 'junk', 'sent', 'trash']);
    const inbox = got.list.find((m: any) => m.role === 'inbox');
    assert.equal(inbox.name, 'INBOX');
    assert.equal(inbox.parentId, null);
    assert.equal(inbox.totalEmails, 2);
    assert.equal(inbox.unreadEmails, 1);
    assert.equal(inbox.totalThreads, 2);
    assert.equal(inbox.unreadThreads, 1);
    assert.equal(inbox.isSubscribed, true);
    assert.equal(inbox.myRights.mayRename, false);
    assert.equal(inbox.myRights.mayDelete, false);
    const sent = got.list.find((m: any) => m.role === 'sent');
    assert.deepEqual([sent.myRights.mayRename, sent.myRights.mayDelete], [true, false]);
    assert.equal(inbox.myRights.mayAddItems, true);
    const some = await jmap.call('Mailbox/get', { ids: [inbox.id, 'mbx_nothing'], properties: ['name'] });
    assert.deepEqual(some.list, [{ id: inbox.id, name: 'INBOX' }]);
    assert.deepEqual(some.notFound, ['mbx_nothing']);
    assert.equal(some.state, got.state);
  });

  test('RFC 8621 §2.5 Mailbox/set create, rename, move, destroy (mailboxHasChild, mailboxHasEmail, forbidden), creation ids; §2.2 Mailbox/changes; §2.3 Mailbox/query', async () => {
    const jmap = Jmap.of('lister');
    const before = await jmap.call('Mailbox/get', { ids: [] });
    const created = await jmap.call('Mailbox/set', {
      create: {
        p: { name: 'Projects' },
        c: { name: 'Alpha', parentId: '#p' },
        bad: { name: 'a/b' },
        role: { name: 'X', role: 'inbox' },
      },
    });
    assert.equal(created.oldState, before.state);
    const projects = created.created.p.id;
    const alpha = created.created.c.id;
    assert.equal(created.created.c.totalEmails, 0);
    assert.equal(created.notCreated.bad.type, 'invalidProperties');
    assert.deepEqual(created.notCreated.role.properties, ['role']);
    const tree = await jmap.call('Mailbox/get', { ids: [projects, alpha], properties: ['name', 'parentId'] });
    assert.deepEqual(tree.list, [
      { id: projects, name: 'Projects', parentId: null },
      { id: alpha, name: 'Alpha', parentId: projects },
    ]);
    const imap = await imapFor('lister');
    const list = await imap.command('LIST "" "Projects*"');
    assert.ok(
      list.lines.some((l) => l.endsWith('"Projects/Alpha"')),
      list.lines.join('\n'),
    );

    const changes = await jmap.call('Mailbox/changes', { sinceState: before.state });
    assert.deepEqual(changes.created.sort(), [projects, alpha].sort());
    assert.deepEqual(changes.updated, []);
    assert.equal(changes.newState, created.newState);

    // Rename and move; the child follows its parent's rename.
    const renamed = await jmap.call('Mailbox/set', { ifInState: created.newState, update: { [projects]: { name: 'Work' } } });
    assert.deepEqual(renamed.updated, { [projects]: null });
    const afterRename = await jmap.call('Mailbox/changes', { sinceState: created.newState });
    assert.deepEqual(afterRename.updated.sort(), [projects, alpha].sort());
    assert.equal(afterRename.updatedProperties, null);
    const stale = await jmap.request([['Mailbox/set', { accountId: jmap.accountId, ifInState: created.newState, update: { [projects]: { name: 'X' } } }, 's']]);
    assert.equal(stale.body.methodResponses[0][1].type, 'stateMismatch');
    const query = await jmap.call('Mailbox/query', { filter: { parentId: projects }, calculateTotal: true });
    assert.deepEqual(query.ids, [alpha]);
    assert.equal(query.total, 1);
    const named = await jmap.call('Mailbox/query', {
      filter: { operator: 'OR', conditions: [{ name: 'alp' }, { role: 'trash' }] },
      sort: [{ property: 'name' }],
    });
    assert.equal(named.ids.length, 2);
    assert.equal(named.ids[0], alpha);
    const asTree = await jmap.call('Mailbox/query', { sortAsTree: true, sort: [{ property: 'name', isAscending: true }] });
    assert.ok(asTree.ids.indexOf(projects) + 1 === asTree.ids.indexOf(alpha), 'a child right after its parent');
    const unsupported = await jmap.request([['Mailbox/query', { accountId: jmap.accountId, sort: [{ property: 'color' }] }, 'u']]);
    assert.equal(unsupported.body.methodResponses[0][1].type, 'unsupportedSort');

    // Destroy: a parent with a child, a mailbox with mail, a system folder.
    await append(imap, 'Work/Alpha', raw({ subject: 'filed', to: `lister@${DOMAIN}` }));
    imap.close();
    const inbox = await jmap.mailboxId('inbox');
    const refused = await jmap.call('Mailbox/set', { destroy: [projects, alpha, inbox, 'mbx_nothing'] });
    assert.equal(refused.notDestroyed[projects].type, 'mailboxHasChild');
    assert.equal(refused.notDestroyed[alpha].type, 'mailboxHasEmail');
    assert.equal(refused.notDestroyed[inbox].type, 'forbidden');
    assert.equal(refused.notDestroyed.mbx_nothing.type, 'notFound');
    const countsOnly = await jmap.call('Mailbox/changes', { sinceState: renamed.newState });
    assert.deepEqual(countsOnly.updated, [alpha]);
    assert.deepEqual(countsOnly.updatedProperties, ['totalEmails', 'unreadEmails', 'totalThreads', 'unreadThreads']);
    const destroyed = await jmap.call('Mailbox/set', { destroy: [alpha], onDestroyRemoveEmails: true });
    assert.deepEqual(destroyed.destroyed, [alpha]);
    const gone = await jmap.call('Mailbox/changes', { sinceState: renamed.newState });
    assert.deepEqual(gone.destroyed, [alpha]);
  });
});

describe('RFC 8621 §3 Thread and §4 Email', () => {
  let jmap: Jmap;
  let inbox: string;
  const ids: any = {};

  before(async () => {
    jmap = Jmap.of('reader');
    inbox = await jmap.mailboxId('inbox');
    const imap = await imapFor('reader');
    await append(imap, 'INBOX', raw({ subject: 'Hello world', id: '<m1@outside.test>', from: 'Alice <alice@outside.test>' }), '26-Nov-2026 10:00:00 +0000');
    await append(
      imap,
      'INBOX',
      raw({ subject: 'Re: Hello world', id: '<m2@outside.test>', inReplyTo: '<m1@outside.test>', from: 'Bob <bob@outside.test>', body: 'banana split' }),
      '26-Nov-2026 11:00:00 +0000',
    );
    await append(imap, 'INBOX', MULTIPART, '27-Nov-2026 08:30:00 +0000');
    imap.close();
    service.clock.advance(3 * 86_400_000); // received after the APPENDed ones
    await sendInbound(
      `reader@${DOMAIN}`,
      raw({ subject: 'Through the MX', id: '<mx@outside.test>', from: 'Carol <carol@outside.test>', body: 'x'.repeat(2000) }),
    );
    const all = await jmap.call('Email/query', { filter: { inMailbox: inbox }, sort: [{ property: 'receivedAt', isAscending: true }] });
    const got = await jmap.call('Email/get', { ids: all.ids, properties: ['messageId'] });
    for (const e of got.list) ids[e.messageId[0]] = e.id;
    assert.equal(Object.keys(ids).length, 4, JSON.stringify(got));
  });

  test('RFC 8621 §4.1 Email/get: metadata, addresses, keywords, mailboxIds, header forms', async () => {
    const got = await jmap.call('Email/get', {
      ids: [ids['report@outside.test'], 'msg_nothing'],
      properties: [
        'id',
        'blobId',
        'threadId',
        'mailboxIds',
        'keywords',
        'size',
        'receivedAt',
        'messageId',
        'from',
        'to',
        'cc',
        'subject',
        'sentAt',
        'hasAttachment',
        'preview',
        'header:X-Custom',
        'header:X-Custom:all',
        'header:Subject:asText',
        'header:Cc:asGroupedAddresses',
        'header:List-Post:asURLs',
        'header:Date:asDate',
        'header:Nothing',
      ],
    });
    assert.deepEqual(got.notFound, ['msg_nothing']);
    const [email] = got.list;
    assert.equal(email.id, ids['report@outside.test']);
    assert.match(email.blobId, /^[0-9a-f]{64}$/);
    assert.deepEqual(email.mailboxIds, { [inbox]: true });
    assert.deepEqual(email.keywords, {});
    assert.equal(email.receivedAt, '2026-11-27T08:30:00Z');
    assert.deepEqual(email.messageId, ['report@outside.test']);
    assert.deepEqual(email.from, [{ name: 'Zélie', email: 'zelie@outside.test' }]);
    assert.deepEqual(email.to, [
      { name: 'Reader', email: `reader@${DOMAIN}` },
      { name: null, email: 'other@outside.test' },
    ]);
    assert.deepEqual(email.cc, [
      { name: null, email: 'one@outside.test' },
      { name: null, email: 'two@outside.test' },
    ]);
    assert.equal(email.subject, 'Rapport trimestriel');
    assert.equal(email.sentAt, '2026-11-27T08:30:00Z');
    assert.equal(email.hasAttachment, true);
    assert.match(email.preview, /Voici le rapport/);
    assert.equal(email['header:X-Custom'], ' second');
    assert.deepEqual(email['header:X-Custom:all'], [' first', ' second']);
    assert.equal(email['header:Subject:asText'], 'Rapport trimestriel');
    assert.deepEqual(email['header:Cc:asGroupedAddresses'], [
      {
        name: 'Team',
        addresses: [
          { name: null, email: 'one@outside.test' },
          { name: null, email: 'two@outside.test' },
        ],
      },
    ]);
    assert.deepEqual(email['header:List-Post:asURLs'], ['mailto:list@outside.test']);
    assert.equal(email['header:Date:asDate'], '2026-11-27T08:30:00Z');
    assert.equal(email['header:Nothing'], null);
    // §4.1.2.1 Raw keeps the folding; §4.1.3 headers keep the names as written.
    const written = await jmap.call('Email/get', {
      ids: [ids['report@outside.test']],
      properties: ['headers', 'header:x-folded', 'header:X-Folded:asText', 'textBody'],
      bodyProperties: ['partId', 'header:Content-Transfer-Encoding', 'headers'],
    });
    const [w] = written.list;
    assert.equal(w['header:x-folded'], ' one\r\n  two');
    assert.equal(w['header:X-Folded:asText'], 'one  two', 'unfolding removes the line break only (RFC 5322 §2.2.3)');
    assert.deepEqual(w.headers[5], { name: 'Message-ID', value: ' <report@outside.test>' });
    assert.equal(w.headers.length, 12);
    assert.deepEqual(w.textBody, [
      {
        partId: '1.1',
        'header:Content-Transfer-Encoding': ' quoted-printable',
        headers: [
          { name: 'Content-Type', value: ' text/plain; charset=iso-8859-1' },
          { name: 'Content-Transfer-Encoding', value: ' quoted-printable' },
        ],
      },
    ]);
    const bad = await jmap.request([['Email/get', { accountId: jmap.accountId, ids: [], properties: ['nonsense'] }, 'x']]);
    assert.equal(bad.body.methodResponses[0][1].type, 'invalidArguments');
  });

  test('RFC 8621 §4.1.4 bodyStructure, textBody / htmlBody / attachments, bodyValues (charset, truncation); §6.2 download of a part', async () => {
    const got = await jmap.call('Email/get', {
      ids: [ids['report@outside.test']],
      properties: ['bodyStructure', 'textBody', 'htmlBody', 'attachments', 'bodyValues'],
      fetchTextBodyValues: true,
      fetchHTMLBodyValues: true,
      maxBodyValueBytes: 12,
    });
    const [email] = got.list;
    assert.equal(email.bodyStructure.type, 'multipart/mixed');
    assert.equal(email.bodyStructure.partId, null);
    assert.deepEqual(
      email.bodyStructure.subParts.map((p: any) => p.type),
      ['multipart/alternative', 'application/pdf'],
    );
    assert.deepEqual(
      email.textBody.map((p: any) => [p.partId, p.type, p.charset]),
      [['1.1', 'text/plain', 'iso-8859-1']],
    );
    assert.deepEqual(
      email.htmlBody.map((p: any) => [p.partId, p.type]),
      [['1.2', 'text/html']],
    );
    assert.equal(email.attachments.length, 1);
    const [pdf] = email.attachments;
    assert.equal(pdf.name, 'rapport été.pdf');
    assert.equal(pdf.disposition, 'attachment');
    assert.equal(pdf.size, '%PDF-1.4 not really a pdf'.length);
    assert.deepEqual(email.bodyValues['1.1'], { value: 'Voici le rap', isEncodingProblem: false, isTruncated: true });
    assert.deepEqual(email.bodyValues['1.2'], { value: '<p>Voici le ', isEncodingProblem: false, isTruncated: true });
    const whole = await jmap.call('Email/get', { ids: [ids['report@outside.test']], properties: ['bodyValues'], fetchAllBodyValues: true });
    assert.equal(whole.list[0].bodyValues['1.1'].value, 'Voici le rapport, déjà prêt.');

    const reader = account('reader');
    const auth = basic(reader.address, reader.password);
    const download = await http('GET', `/jmap/download/${reader.id}/${pdf.blobId}/${encodeURIComponent(pdf.name)}?accept=application/pdf`, { auth });
    assert.equal(download.status, 200);
    assert.equal(download.raw.toString(), '%PDF-1.4 not really a pdf');
    assert.equal(download.headers.get('content-type'), 'application/pdf');
    assert.match(
      download.headers.get('content-disposition') ?? '',
      /^attachment; filename="rapport _t_\.pdf"; filename\*=UTF-8''rapport%20%C3%A9t%C3%A9\.pdf$/,
    );
    assert.equal(download.headers.get('x-content-type-options'), 'nosniff');
    const html = await http('GET', `/jmap/download/${reader.id}/${email.htmlBody[0].blobId}/x.html?accept=text/html`, { auth });
    assert.match(html.headers.get('content-disposition') ?? '', /^attachment;/, 'HTML is downloaded, never shown in our origin');
    assert.match(html.headers.get('content-security-policy') ?? '', /sandbox/);
    const message = await http(
      'GET',
      `/jmap/download/${reader.id}/${(await jmap.call('Email/get', { ids: [ids['report@outside.test']], properties: ['blobId'] })).list[0].blobId}/m.eml`,
      { auth },
    );
    assert.equal(message.raw.toString().replace(/\r\n/g, '\n'), MULTIPART.replace(/\r\n/g, '\n'));
    // Not yours: another account's credentials, or another account id.
    const writer = account('writer');
    assert.equal((await http('GET', `/jmap/download/${writer.id}/${pdf.blobId}/x?accept=a/b`, { auth: basic(writer.address, writer.password) })).status, 404);
    assert.equal((await http('GET', `/jmap/download/${writer.id}/${pdf.blobId}/x`, { auth })).status, 404);
  });

  test('RFC 8621 §3.1 Thread/get: a reply shares its thread; emailIds oldest first', async () => {
    const got = await jmap.call('Email/get', { ids: [ids['m1@outside.test'], ids['m2@outside.test'], ids['mx@outside.test']], properties: ['threadId'] });
    const [t1, t2, t3] = got.list.map((e: any) => e.threadId);
    assert.equal(t1, t2);
    assert.notEqual(t1, t3);
    const threads = await jmap.call('Thread/get', { ids: [t1, 'thr_nothing'] });
    assert.deepEqual(threads.list, [{ id: t1, emailIds: [ids['m1@outside.test'], ids['m2@outside.test']] }]);
    assert.deepEqual(threads.notFound, ['thr_nothing']);
  });

  test('RFC 8621 §4.4 Email/query: filters, operators, sorts, collapseThreads, position, anchor, calculateTotal', async () => {
    const q = async (args: Record<string, unknown>) => (await jmap.call('Email/query', args)).ids;
    const all = [ids['m1@outside.test'], ids['m2@outside.test'], ids['report@outside.test'], ids['mx@outside.test']];
    const received = await jmap.call('Email/query', {
      filter: { inMailbox: inbox },
      sort: [{ property: 'receivedAt', isAscending: true }],
      calculateTotal: true,
    });
    assert.deepEqual(received.ids.slice(0, 3), all.slice(0, 3));
    assert.equal(received.total, 4);
    assert.equal(received.collapseThreads, false);
    assert.equal(received.canCalculateChanges, false);
    assert.deepEqual(await q({ filter: { from: 'bob@outside' } }), [ids['m2@outside.test']]);
    assert.deepEqual(await q({ filter: { body: 'BANANA' } }), [ids['m2@outside.test']]);
    // One folder's query reads that folder alone (text searched there too).
    assert.deepEqual(await q({ filter: { operator: 'AND', conditions: [{ inMailbox: inbox }, { body: 'banana' }] } }), [ids['m2@outside.test']]);
    assert.deepEqual(await q({ filter: { inMailbox: inbox, from: 'bob@outside' } }), [ids['m2@outside.test']]);
    assert.deepEqual(await q({ filter: { subject: 'trimestriel' } }), [ids['report@outside.test']]);
    assert.deepEqual(await q({ filter: { text: 'zelie@outside' } }), [ids['report@outside.test']]);
    assert.deepEqual(await q({ filter: { to: 'other@outside.test' } }), [ids['report@outside.test']]);
    assert.deepEqual(await q({ filter: { minSize: 1500 } }), [ids['mx@outside.test']]);
    assert.deepEqual((await q({ filter: { maxSize: 1500 } })).length, 3);
    assert.deepEqual(await q({ filter: { before: '2026-11-26T10:30:00Z' } }), [ids['m1@outside.test']]);
    assert.deepEqual(await q({ filter: { after: '2026-11-26T10:30:00Z', before: '2026-11-27T09:00:00Z' }, sort: [{ property: 'receivedAt' }] }), [
      ids['m2@outside.test'],
      ids['report@outside.test'],
    ]);
    assert.deepEqual(
      await q({ filter: { operator: 'OR', conditions: [{ from: 'alice' }, { from: 'carol' }] }, sort: [{ property: 'from', isAscending: true }] }),
      [ids['m1@outside.test'], ids['mx@outside.test']],
    );
    assert.deepEqual((await q({ filter: { operator: 'NOT', conditions: [{ subject: 'hello' }] } })).length, 2);
    assert.deepEqual(await q({ filter: { inMailboxOtherThan: [inbox] } }), []);
    assert.deepEqual(await q({ filter: { hasAttachment: true } }), [ids['report@outside.test']]);
    assert.equal((await q({ filter: { hasAttachment: false } })).length, 3);
    assert.deepEqual(await q({ filter: { header: ['X-Custom'] } }), [ids['report@outside.test']]);
    assert.deepEqual(await q({ filter: { header: ['x-custom', 'SECOND'] } }), [ids['report@outside.test']]);
    assert.deepEqual(await q({ filter: { header: ['X-Custom', 'third'] } }), []);
    assert.deepEqual(await q({ sort: [{ property: 'size', isAscending: false }], limit: 1 }), [ids['mx@outside.test']]);
    assert.deepEqual(await q({ filter: { inMailbox: inbox }, sort: [{ property: 'subject', isAscending: false }], limit: 1 }), [ids['mx@outside.test']]);
    const collapsed = await jmap.call('Email/query', { sort: [{ property: 'receivedAt', isAscending: true }], collapseThreads: true, calculateTotal: true });
    assert.equal(collapsed.total, 3, 'the reply collapses into its thread');
    assert.ok(!collapsed.ids.includes(ids['m2@outside.test']));
    const page = await jmap.call('Email/query', { sort: [{ property: 'receivedAt', isAscending: true }], position: 1, limit: 2 });
    assert.deepEqual(page.ids, all.slice(1, 3));
    assert.equal(page.position, 1);
    const anchored = await jmap.call('Email/query', {
      sort: [{ property: 'receivedAt', isAscending: true }],
      anchor: ids['report@outside.test'],
      anchorOffset: -1,
      limit: 2,
    });
    assert.deepEqual(anchored.ids, all.slice(1, 3));
    assert.equal(anchored.position, 1);
    const errors = await jmap.request([
      ['Email/query', { accountId: jmap.accountId, anchor: 'msg_nothing' }, 'a'],
      ['Email/query', { accountId: jmap.accountId, filter: { hasAttachment: 'yes' } }, 'b'],
      ['Email/query', { accountId: jmap.accountId, sort: [{ property: 'nonsense' }] }, 'c'],
    ]);
    assert.deepEqual(
      errors.body.methodResponses.map((r: any) => r[1].type),
      ['anchorNotFound', 'unsupportedFilter', 'unsupportedSort'],
    );
  });

  test('RFC 8621 §4.6 Email/set keywords: seen by an IMAP session (FETCH FLAGS, CONDSTORE MODSEQ); hasKeyword filters and sorts', async () => {
    const imap = await imapFor('reader');
    assert.match((await imap.command('SELECT INBOX (CONDSTORE)')).tagged, / OK /);
    const before = await imap.command('FETCH 1:* (UID FLAGS MODSEQ)');
    const set = await jmap.call('Email/set', {
      update: {
        [ids['m1@outside.test']]: { 'keywords/$seen': true, 'keywords/$flagged': true, 'keywords/Project-X': true },
        [ids['m2@outside.test']]: { keywords: { $answered: true, $draft: true } },
        msg_nothing: { 'keywords/$seen': true },
      },
    });
    assert.deepEqual(Object.keys(set.updated).sort(), [ids['m1@outside.test'], ids['m2@outside.test']].sort());
    assert.equal(set.notUpdated.msg_nothing.type, 'notFound');
    await imap.command('NOOP'); // the session's view catches up at a command boundary (RFC 3501 §7)
    await imap.command('NOOP'); // the session's view catches up at a command boundary (RFC 3501 §7)
    const after = await imap.command('FETCH 1:2 (FLAGS MODSEQ)');
    const line1 = after.lines.find((l) => l.startsWith('* 1 FETCH')) ?? '';
    assert.match(line1, /\\Seen/);
    assert.match(line1, /\\Flagged/);
    assert.match(line1, /project-x/i);
    assert.match(after.lines.find((l) => l.startsWith('* 2 FETCH')) ?? '', /FLAGS \((?=.*\\Answered)(?=.*\\Draft)[^)]*\)/);
    const modseqOf = (lines: string[], n: number) => Number(/MODSEQ \((\d+)\)/.exec(lines.find((l) => l.startsWith(`* ${n} FETCH`)) ?? '')?.[1]);
    assert.ok(modseqOf(after.lines, 1) > modseqOf(before.lines, 1), 'the keyword change raised the MODSEQ');
    const keywords = await jmap.call('Email/get', { ids: [ids['m1@outside.test']], properties: ['keywords'] });
    assert.deepEqual(keywords.list[0].keywords, { $seen: true, $flagged: true, 'project-x': true });
    assert.deepEqual(await (async () => (await jmap.call('Email/query', { filter: { hasKeyword: '$flagged' } })).ids)(), [ids['m1@outside.test']]);
    assert.equal((await jmap.call('Email/query', { filter: { notKeyword: '$seen' } })).ids.length, 3);
    assert.deepEqual(
      (
        await jmap.call('Email/query', {
          filter: { operator: 'AND', conditions: [{ inMailbox: inbox }, { someInThreadHaveKeyword: '$flagged' }] },
          sort: [{ property: 'receivedAt', isAscending: true }],
        })
      ).ids,
      [ids['m1@outside.test'], ids['m2@outside.test']],
    );
    assert.equal(
      (await jmap.call('Email/query', { sort: [{ property: 'hasKeyword', keyword: '$flagged', isAscending: false }] })).ids[0],
      ids['m1@outside.test'],
    );
    const invalid = await jmap.call('Email/set', { update: { [ids['m1@outside.test']]: { 'keywords/bad(': true, subject: 'x' } } });
    assert.equal(invalid.notUpdated[ids['m1@outside.test']].type, 'invalidProperties');
    // Back to unread over JMAP: IMAP's \Deleted, which is no keyword, stays.
    assert.match((await imap.command('STORE 1 +FLAGS (\\Deleted)')).tagged, / OK /);
    await jmap.call('Email/set', { update: { [ids['m1@outside.test']]: { keywords: {} } } });
    await imap.command('NOOP');
    await imap.command('NOOP');
    const cleared = await imap.command('FETCH 1 (FLAGS)');
    assert.match(cleared.lines[0] ?? '', /FLAGS \(\\Deleted( \\Recent)?\)/);
    assert.match((await imap.command('STORE 1 -FLAGS (\\Deleted)')).tagged, / OK /);
    imap.close();
  });

  test('RFC 8621 §4.3 Email/changes, §3.2 Thread/changes, §2.2 Mailbox/changes see IMAP APPEND, STORE and EXPUNGE at once; mailboxIds moves keep the id', async () => {
    const me = Jmap.of('changer');
    const imap = await imapFor('changer');
    await append(imap, 'INBOX', raw({ subject: 'first', id: '<c1@outside.test>', to: `changer@${DOMAIN}` }));
    await append(imap, 'INBOX', raw({ subject: 'second', id: '<c2@outside.test>', to: `changer@${DOMAIN}` }));
    const start = await me.call('Email/query', { sort: [{ property: 'subject', isAscending: true }] });
    const [c1, c2] = start.ids;
    const state = (await me.call('Email/get', { ids: [] })).state;
    assert.deepEqual(await me.call('Email/changes', { sinceState: state }), {
      accountId: me.accountId,
      oldState: state,
      newState: state,
      hasMoreChanges: false,
      created: [],
      updated: [],
      destroyed: [],
    });

    // Over IMAP: a new message, a flag change, an expunge.
    await append(imap, 'INBOX', raw({ subject: 'third', id: '<c3@outside.test>', to: `changer@${DOMAIN}` }));
    assert.match((await imap.command('SELECT INBOX')).tagged, / OK /);
    assert.match((await imap.command('STORE 1 +FLAGS (\\Seen)')).tagged, / OK /);
    assert.match((await imap.command('STORE 2 +FLAGS (\\Deleted)')).tagged, / OK /);
    assert.match((await imap.command('EXPUNGE')).tagged, / OK /);
    const changes = await me.call('Email/changes', { sinceState: state });
    assert.equal(changes.created.length, 1);
    const c3 = changes.created[0];
    assert.deepEqual(changes.updated, [c1]);
    assert.deepEqual(changes.destroyed, [c2]);
    assert.notEqual(changes.newState, state);
    const threads = await me.call('Thread/changes', { sinceState: state });
    assert.equal(threads.created.length, 1);
    assert.equal(threads.destroyed.length, 1);
    const mailboxes = await me.call('Mailbox/changes', { sinceState: state });
    const inboxId = await me.mailboxId('inbox');
    assert.deepEqual(mailboxes.updated, [inboxId]);
    assert.deepEqual(mailboxes.updatedProperties, ['totalEmails', 'unreadEmails', 'totalThreads', 'unreadThreads']);
    const tooMany = await me.request([['Email/changes', { accountId: me.accountId, sinceState: state, maxChanges: 1 }, 'x']]);
    assert.equal(tooMany.body.methodResponses[0][1].type, 'cannotCalculateChanges');
    const garbage = await me.request([['Email/changes', { accountId: me.accountId, sinceState: 'garbage' }, 'x']]);
    assert.equal(garbage.body.methodResponses[0][1].type, 'cannotCalculateChanges');

    // Over JMAP: a move keeps the Email id (RFC 8621 §4: mailboxIds changes, the id does not) and IMAP sees it.
    const archive = await me.mailboxId('archive');
    const moveState = changes.newState;
    const moved = await me.call('Email/set', { update: { [c1]: { [`mailboxIds/${archive}`]: true, [`mailboxIds/${inboxId}`]: null } } });
    assert.deepEqual(moved.updated, { [c1]: null });
    const where = await me.call('Email/get', { ids: [c1], properties: ['mailboxIds', 'keywords'] });
    assert.deepEqual(where.list[0].mailboxIds, { [archive]: true });
    assert.deepEqual(where.list[0].keywords, { $seen: true });
    const afterMove = await me.call('Email/changes', { sinceState: moveState });
    assert.deepEqual(afterMove, { ...afterMove, created: [], updated: [c1], destroyed: [] });
    const status = await imap.command('STATUS Archive (MESSAGES)');
    assert.match(status.lines[0] ?? '', /MESSAGES 1/);
    const two = await me.call('Email/set', { update: { [c3]: { mailboxIds: { [archive]: true, [inboxId]: true } } } });
    assert.equal(two.notUpdated[c3].type, 'tooManyMailboxes');
    const none = await me.call('Email/set', { update: { [c3]: { mailboxIds: {} } } });
    assert.equal(none.notUpdated[c3].type, 'invalidProperties');
    const create = await me.call('Email/set', { create: { k: { mailboxIds: { [inboxId]: true } } } });
    assert.equal(create.notCreated.k.type, 'forbidden');

    // Destroy over JMAP: IMAP sees the expunge.
    const destroyState = (await me.call('Email/get', { ids: [] })).state;
    const destroyed = await me.call('Email/set', { ifInState: destroyState, destroy: [c3, 'msg_nothing'] });
    assert.deepEqual(destroyed.destroyed, [c3]);
    assert.equal(destroyed.notDestroyed.msg_nothing.type, 'notFound');
    const noop = await imap.command('NOOP');
    assert.ok(
      noop.lines.some((l) => /^\* \d+ EXPUNGE$/.test(l)),
      noop.lines.join('\n'),
    );
    const afterDestroy = await me.call('Email/changes', { sinceState: destroyState });
    assert.deepEqual([afterDestroy.created, afterDestroy.updated, afterDestroy.destroyed], [[], [], [c3]]);
    const stale = await me.request([['Email/set', { accountId: me.accountId, ifInState: destroyState, destroy: [c1] }, 's']]);
    assert.equal(stale.body.methodResponses[0][1].type, 'stateMismatch');
    imap.close();
  });
});

describe('RFC 8620 §5.3 creation ids across methods', () => {
  test('RFC 8620 §5.3: a Mailbox created in one call is "#id" in the next (Email/set mailboxIds); isSubscribed; patch paths with ~1', async () => {
    const me = Jmap.of('writer');
    const imap = await imapFor('writer');
    await append(imap, 'INBOX', raw({ subject: 'to file', id: '<w1@outside.test>', to: `writer@${DOMAIN}` }));
    const [email] = (await me.call('Email/query', {})).ids;
    const reply = await me.request([
      ['Mailbox/set', { accountId: me.accountId, create: { box: { name: 'Filed', isSubscribed: false } } }, 'a'],
      ['Email/set', { accountId: me.accountId, update: { [email]: { mailboxIds: { '#box': true }, 'keywords/a~1b': true } } }, 'b'],
      ['Email/get', { accountId: me.accountId, ids: [email], properties: ['mailboxIds', 'keywords'] }, 'c'],
    ]);
    const [created, moved, got] = reply.body.methodResponses;
    const box = created[1].created.box.id;
    assert.equal(created[1].created.box.isSubscribed, false);
    assert.deepEqual(moved[1].updated, { [email]: null }, JSON.stringify(moved));
    assert.deepEqual(got[1].list[0], { id: email, mailboxIds: { [box]: true }, keywords: { 'a/b': true } });
    const lsub = await imap.command('LSUB "" "*"');
    assert.ok(!lsub.lines.some((l) => l.includes('Filed')), 'created unsubscribed');
    await me.call('Mailbox/set', { update: { [box]: { isSubscribed: true } } });
    assert.ok((await imap.command('LSUB "" "*"')).lines.some((l) => l.includes('Filed')));
    imap.close();
  });
});

describe('states from the mailstore', () => {
  test('RFC 8620 §5.2: a state given by one process is answered exactly by another (nothing is kept in memory: restarts and nodes)', async () => {
    const me = Jmap.of('changer');
    const state = (await me.call('Email/get', { ids: [] })).state;
    const imap = await imapFor('changer');
    await append(imap, 'INBOX', raw({ subject: 'while away', id: '<away@outside.test>', to: `changer@${DOMAIN}` }));
    imap.close();
    const port = await freePort();
    const other = await startServe(
      { ...process.env, ...service.env, FACTEUR_ROLES: 'web', FACTEUR_HTTP_PORT: String(port), FACTEUR_LISTEN_HOST: '127.0.0.1' },
      'API docs:',
    );
    try {
      me.base = `http://127.0.0.1:${port}`;
      const changes = await me.call('Email/changes', { sinceState: state });
      assert.equal(changes.created.length, 1);
      assert.deepEqual([changes.updated, changes.destroyed], [[], []]);
      const [created] = (await me.call('Email/get', { ids: changes.created, properties: ['subject'] })).list;
      assert.equal(created.subject, 'while away');
      const mailboxes = await me.call('Mailbox/changes', { sinceState: state });
      assert.deepEqual(mailboxes.updated, [await me.mailboxId('inbox')]);
    } finally {
      me.base = undefined;
      await killHard(other);
    }
  });
});
