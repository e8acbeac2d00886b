/**
 * IMAP conversations for every command and extension the server advertises (issue 4, SPEC R-M3):
 * tagged requests and the exact responses the RFC texts prescribe, with the RFCs' own examples where
 * they can be replayed (message numbers and UIDs adapted to the folder each test builds).
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { deliverMessage, receiveMessage } from '../src/mailstore/index.ts';
import { expectStatus, operatorClient, setupCustomer, waitForOperation } from './helpers/client.ts';
import { RawImap } from './helpers/imap.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'imapx.test';
const USER = `user@${DOMAIN}`;
const PASSWORD = 'user-password-1';
let service: TestService;
let port: number;
let admin: Awaited<ReturnType<typeof setupCustomer>>['admin'];
let subscriptionId: string;
const accounts: Record<string, string> = {};

async function addAccount(address: string): Promise<string> {
  const account = await admin.post(`/api/subscriptions/${subscriptionId}/accounts`, { address, classId: 'standard', password: PASSWORD });
  expectStatus(account, 201);
  accounts[address] = account.body.id;
  return account.body.id;
}

function message(n: number, extra: { subject?: string; body?: string; date?: string } = {}): string {
  return [
    `From: Sender ${n} <sender${n}@example.test>`,
    `To: ${USER}`,
    `Subject: ${extra.subject ?? `Message ${n}`}`,
    `Date: ${extra.date ?? `Thu, 26 Nov 2026 10:0${n % 10}:00 +0000`}`,
    `Message-ID: <x${n}@example.test>`,
    '',
    extra.body ?? `Body of message ${n}`,
    '',
  ].join('\r\n');
}

/** A message whose second part is a message/rfc822 (RFC 3501 §6.4.5: HEADER and TEXT of an encapsulated message). */
const FORWARD = [
  'From: Alice <alice@example.test>',
  `To: ${USER}`,
  'Subject: Forwarded',
  'Date: Thu, 26 Nov 2026 09:00:00 +0000',
  'Message-ID: <fwd@example.test>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="outer"',
  '',
  '--outer',
  'Content-Type: text/plain; charset=us-ascii',
  '',
  'See attached.',
  '--outer',
  'Content-Type: message/rfc822',
  '',
  'From: Bob <bob@example.test>',
  'Subject: Inner',
  '',
  'Inner body.',
  '--outer--',
  '',
].join('\r\n');

async function deliverTo(accountId: string, raw: string): Promise<number> {
  const received = await receiveMessage(service.ctx, Readable.from([Buffer.from(raw)]), { maxBytes: 1 << 20 });
  const [result] = await deliverMessage(service.ctx, received, [{ accountId }]);
  assert.ok(result?.ok);
  return result.uid;
}

async function loggedIn(user = USER): Promise<RawImap> {
  const imap = await RawImap.open(port);
  const reply = await imap.command(`LOGIN ${user} ${PASSWORD}`);
  assert.match(reply.tagged, /^a\d+ OK /);
  return imap;
}

/** APPEND with a non-synchronizing literal (RFC 7888 LITERAL+). */
async function append(imap: RawImap, folder: string, raw: string, flags = ''): Promise<string> {
  const tag = `ap${Math.random().toString(36).slice(2, 8)}`;
  imap.send(`${tag} APPEND ${folder} ${flags ? `(${flags}) ` : ''}{${Buffer.byteLength(raw)}+}\r\n${raw}\r\n`);
  const reply = await imap.until(tag);
  assert.match(reply.tagged, / OK \[APPENDUID \d+ \d+\]/);
  return reply.tagged;
}

/**
 * A new folder holding `count` messages (flags per message optional), filled in a session of its own
 * that then selects it: the messages are recent in that session, not in those the tests open (RFC 3501
 * §2.3.2; the \Recent tests build their folders otherwise).
 */
async function folderWith(name: string, count: number, flags: (n: number) => string = () => ''): Promise<void> {
  const imap = await loggedIn();
  assert.match((await imap.command(`CREATE ${name}`)).tagged, /^a\d+ OK /);
  for (let n = 1; n <= count; n++) await append(imap, name, message(n), flags(n));
  assert.match((await imap.command(`SELECT ${name}`)).lines.join('\n'), new RegExp(`\\* ${count} RECENT`));
  imap.close();
}

function uidValidityOf(lines: string[]): number {
  const line = lines.find((l) => l.startsWith('* OK [UIDVALIDITY '));
  return Number(/UIDVALIDITY (\d+)/.exec(line ?? '')?.[1]);
}

function highestModseqOf(lines: string[]): number {
  const line = lines.find((l) => l.startsWith('* OK [HIGHESTMODSEQ '));
  return Number(/HIGHESTMODSEQ (\d+)/.exec(line ?? '')?.[1]);
}

/** `MODSEQ (n)` of each FETCH line, by sequence number. */
function modseqs(lines: string[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of lines) {
    const m = /^\* (\d+) FETCH \(.*MODSEQ \((\d+)\)/.exec(line);
    if (m) out.set(Number(m[1]), Number(m[2]));
  }
  return out;
}

before(async () => {
  service = await startTestService({
    overrides: { roles: ['web', 'imap'], ports: { http: 0, imap: 0, imaps: 0 }, mailAccess: { allowPlaintextOnLoopback: true } },
  });
  port = service.imapPort as number;
  const operator = await operatorClient(service);
  const setup = await setupCustomer(service, operator, 'ImapX', { standard: 10 });
  admin = setup.admin;
  subscriptionId = setup.subscriptionId;
  const added = await admin.post(`/api/subscriptions/${subscriptionId}/domains`, { name: DOMAIN });
  await waitForOperation(admin, added.body.id);
  await addAccount(USER);
});
after(() => service.close());

describe('RFC 7162 §3.1 CONDSTORE', () => {
  test('RFC 5161 §3.1 ENABLE CONDSTORE answers ENABLED with what it newly enabled; unknown names are ignored', async () => {
    const imap = await loggedIn();
    const first = await imap.command('ENABLE CONDSTORE X-GOOD-IDEA');
    assert.deepEqual(first.lines, ['* ENABLED CONDSTORE']);
    assert.equal(first.tagged, 'a2 OK ENABLE completed');
    const again = await imap.command('ENABLE CONDSTORE');
    assert.deepEqual(again.lines, ['* ENABLED']);
    assert.match((await imap.command('ENABLE')).tagged, /^a4 BAD /, 'ENABLE needs at least one capability');
    imap.close();
  });

  test('RFC 7162 §3.1.8 SELECT (CONDSTORE) reports HIGHESTMODSEQ and turns MODSEQ on in unsolicited FETCH', async () => {
    await folderWith('cs-select', 2);
    const imap = await loggedIn();
    const reply = await imap.command('SELECT cs-select (CONDSTORE)');
    assert.ok(highestModseqOf(reply.lines) > 0);
    assert.equal(reply.tagged, 'a2 OK [READ-WRITE] SELECT completed');
    const other = await loggedIn();
    await other.command('SELECT cs-select');
    await other.command('STORE 1 +FLAGS.SILENT (\\Flagged)');
    const noop = await imap.command('NOOP');
    assert.match(noop.lines[0] ?? '', /^\* 1 FETCH \(UID 1 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)$/);
    imap.close();
    other.close();
  });

  test('RFC 7162 §3.1.4.1 FETCH (CHANGEDSINCE) returns only messages changed since, each with its MODSEQ', async () => {
    await folderWith('cs-fetch', 3);
    const imap = await loggedIn();
    await imap.command('SELECT cs-fetch');
    const before = modseqs((await imap.command('FETCH 1:* (MODSEQ)')).lines);
    assert.equal(before.size, 3);
    const since = Math.max(...before.values());
    const stored = await imap.command('STORE 2 +FLAGS (\\Seen)');
    const [line] = stored.lines;
    assert.match(line ?? '', /^\* 2 FETCH \(FLAGS \(\\Seen\) MODSEQ \(\d+\)\)$/, 'CONDSTORE is on after FETCH MODSEQ');
    const changed = await imap.command(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${since})`);
    assert.deepEqual(changed.lines, [`* 2 FETCH (FLAGS (\\Seen) MODSEQ (${modseqs(stored.lines).get(2)}))`]);
    // RFC 7162 §3.1.4.1 example: s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)
    const byUid = await imap.command(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${since})`, 's100');
    assert.deepEqual(byUid.lines, [`* 2 FETCH (UID 2 FLAGS (\\Seen) MODSEQ (${modseqs(stored.lines).get(2)}))`]);
    assert.equal(byUid.tagged, 's100 OK FETCH completed');
    imap.close();
  });

  test('RFC 7162 §3.1.3 STORE (UNCHANGEDSINCE) stores where unchanged and answers [MODIFIED] with the others', async () => {
    await folderWith('cs-store', 3);
    const imap = await loggedIn();
    await imap.command('SELECT cs-store (CONDSTORE)');
    const known = modseqs((await imap.command('FETCH 1:3 (MODSEQ)')).lines);
    const since = Math.max(...known.values());
    const other = await loggedIn();
    await other.command('SELECT cs-store');
    await other.command('STORE 2 +FLAGS.SILENT (\\Answered)');
    // RFC 7162 §3.1.3 Example 7: d105 STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\Deleted)
    const reply = await imap.command(`STORE 3,1,2 (UNCHANGEDSINCE ${since}) +FLAGS.SILENT (\\Deleted)`, 'd105');
    const fetches = reply.lines.filter((l) => !/^\* 2 FETCH \(UID 2 FLAGS/.test(l));
    assert.equal(fetches.length, 2, reply.lines.join('\n'));
    assert.match(fetches[0] ?? '', /^\* 1 FETCH \(MODSEQ \(\d+\)\)$/);
    assert.match(fetches[1] ?? '', /^\* 3 FETCH \(MODSEQ \(\d+\)\)$/);
    assert.equal(reply.tagged, 'd105 OK [MODIFIED 2] Conditional STORE failed for some messages');
    // Example 10, by UID: the FETCH responses carry UID and MODSEQ.
    const byUid = await imap.command(`UID STORE 1,3 (UNCHANGEDSINCE ${since}) -FLAGS.SILENT (\\Deleted)`, 'a103');
    assert.equal(byUid.tagged, 'a103 OK [MODIFIED 1,3] Conditional STORE failed for some messages');
    const current = Math.max(...modseqs((await imap.command('FETCH 1:3 (MODSEQ)')).lines).values());
    const ok = await imap.command(`UID STORE 1,3 (UNCHANGEDSINCE ${current}) -FLAGS.SILENT (\\Deleted)`, 'a104');
    assert.equal(ok.lines.length, 2);
    assert.match(ok.lines[0] ?? '', /^\* 1 FETCH \(UID 1 MODSEQ \(\d+\)\)$/);
    assert.match(ok.lines[1] ?? '', /^\* 3 FETCH \(UID 3 MODSEQ \(\d+\)\)$/);
    assert.equal(ok.tagged, 'a104 OK STORE completed');
    // §3.1.3: a conditional STORE that changes nothing still answers the MODSEQ, even with .SILENT.
    const same = await imap.command(`STORE 1 (UNCHANGEDSINCE ${current + 10}) -FLAGS.SILENT (\\Deleted)`);
    assert.match(same.lines[0] ?? '', /^\* 1 FETCH \(MODSEQ \(\d+\)\)$/);
    // UNCHANGEDSINCE 0 fails for every message (§3.1.3: every message has a mod-sequence above 0).
    const zero = await imap.command('STORE 1 (UNCHANGEDSINCE 0) +FLAGS (\\Seen)');
    assert.match(zero.tagged, /^a\d+ OK \[MODIFIED 1\] /);
    imap.close();
    other.close();
  });

  test('RFC 7162 §3.1.5 SEARCH MODSEQ answers the matches and their highest MODSEQ', async () => {
    await folderWith('cs-search', 3);
    const imap = await loggedIn();
    await imap.command('SELECT cs-search');
    const before = Math.max(...modseqs((await imap.command('FETCH 1:* (MODSEQ)')).lines).values());
    const stored = await imap.command('STORE 1,3 +FLAGS (\\Flagged)');
    const highest = Math.max(...modseqs(stored.lines).values());
    const reply = await imap.command(`SEARCH MODSEQ ${before + 1}`);
    assert.deepEqual(reply.lines, [`* SEARCH 1 3 (MODSEQ ${highest})`]);
    // RFC 7162 §3.1.5 example: with an entry name and type, which this server treats like the plain key.
    const entry = await imap.command(`SEARCH MODSEQ "/flags/\\\\draft" all ${before + 1}`);
    assert.deepEqual(entry.lines, [`* SEARCH 1 3 (MODSEQ ${highest})`]);
    const none = await imap.command(`SEARCH MODSEQ ${highest + 1}`);
    assert.deepEqual(none.lines, ['* SEARCH'], 'no MODSEQ when nothing matched');
    imap.close();
  });

  test('RFC 7162 §3.1.6 STATUS HIGHESTMODSEQ', async () => {
    await folderWith('cs-status', 1);
    const imap = await loggedIn();
    const selected = await imap.command('EXAMINE cs-status');
    const reply = await imap.command('STATUS cs-status (HIGHESTMODSEQ MESSAGES)');
    // RFC 7162 §3.1: STATUS HIGHESTMODSEQ is a CONDSTORE enabling command; the first one with a folder selected reports its HIGHESTMODSEQ.
    const highest = highestModseqOf(selected.lines);
    assert.deepEqual(reply.lines, [`* OK [HIGHESTMODSEQ ${highest}] Highest`, `* STATUS "cs-status" (HIGHESTMODSEQ ${highest} MESSAGES 1)`]);
    imap.close();
  });
});

describe('RFC 7162 §3.2 QRESYNC', () => {
  test('RFC 7162 §3.2.3 ENABLE QRESYNC; SELECT (QRESYNC ...) without it is BAD', async () => {
    await folderWith('qr-enable', 1);
    const imap = await loggedIn();
    const early = await imap.command('SELECT qr-enable (QRESYNC (1 1))');
    assert.match(early.tagged, /^a2 BAD /);
    const enabled = await imap.command('ENABLE QRESYNC');
    assert.deepEqual(enabled.lines, ['* ENABLED QRESYNC']);
    imap.close();
  });

  test('RFC 7162 §3.2.5.1 SELECT (QRESYNC ...) reports VANISHED (EARLIER) and the flags changed since', async () => {
    await folderWith('qr-select', 5);
    const setup = await loggedIn();
    const first = await setup.command('SELECT qr-select');
    const uidValidity = uidValidityOf(first.lines);
    const modseq = highestModseqOf(first.lines);
    await setup.command('STORE 2,4 +FLAGS.SILENT (\\Deleted)');
    await setup.command('EXPUNGE');
    await setup.command('UID STORE 3 +FLAGS.SILENT (\\Seen \\Answered)');
    setup.close();

    const imap = await loggedIn();
    await imap.command('ENABLE QRESYNC');
    // RFC 7162 §3.2.5.1 example: A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))
    const reply = await imap.command(`SELECT qr-select (QRESYNC (${uidValidity} ${modseq} 1:5))`, 'A02');
    assert.ok(reply.lines.includes('* 3 EXISTS'));
    const vanished = reply.lines.indexOf('* VANISHED (EARLIER) 2,4');
    assert.ok(vanished >= 0, reply.lines.join('\n'));
    const fetch = reply.lines.findIndex((l) => /^\* 2 FETCH \(UID 3 FLAGS \(\\Seen \\Answered\) MODSEQ \(\d+\)\)$/.test(l));
    assert.ok(fetch > vanished, 'VANISHED (EARLIER) comes before the FETCH of changed flags');
    assert.equal(reply.lines.filter((l) => /FETCH/.test(l)).length, 1, 'only the changed message');
    assert.equal(reply.tagged, 'A02 OK [READ-WRITE] SELECT completed');

    // Known UIDs limit what vanishes (§3.2.5: only UIDs the client named).
    await imap.command('UNSELECT');
    const limited = await imap.command(`EXAMINE qr-select (QRESYNC (${uidValidity} ${modseq} 1:3))`);
    assert.ok(limited.lines.includes('* VANISHED (EARLIER) 2'), limited.lines.join('\n'));
    // Another UIDVALIDITY: the client's cache is stale, no VANISHED and no FETCH.
    await imap.command('UNSELECT');
    const stale = await imap.command(`EXAMINE qr-select (QRESYNC (${uidValidity + 1} ${modseq}))`);
    assert.ok(!stale.lines.some((l) => l.includes('VANISHED') || l.includes('FETCH')), stale.lines.join('\n'));
    imap.close();
  });

  test('RFC 7162 §3.2.6 UID FETCH (CHANGEDSINCE n VANISHED)', async () => {
    await folderWith('qr-fetch', 4);
    const imap = await loggedIn();
    await imap.command('ENABLE QRESYNC');
    const selected = await imap.command('SELECT qr-fetch');
    const modseq = highestModseqOf(selected.lines);
    const other = await loggedIn();
    await other.command('SELECT qr-fetch');
    await other.command('UID STORE 1 +FLAGS.SILENT (\\Deleted)');
    await other.command('EXPUNGE');
    await other.command('UID STORE 4 +FLAGS.SILENT (\\Seen)');
    other.close();
    // RFC 7162 §3.2.6 example: A03 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)
    const reply = await imap.command(`UID FETCH 1:4 (FLAGS) (CHANGEDSINCE ${modseq} VANISHED)`, 'A03');
    assert.equal(reply.lines[0], '* VANISHED (EARLIER) 1');
    assert.match(reply.lines[1] ?? '', /^\* 4 FETCH \(UID 4 FLAGS \(\\Seen\) MODSEQ \(\d+\)\)$/, 'message 1 is not yet expunged in this session');
    assert.equal(reply.tagged, 'A03 OK FETCH completed');
    const noop = await imap.command('NOOP');
    assert.deepEqual(noop.lines, ['* VANISHED 1']);
    const plain = await imap.command(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq} VANISHED)`);
    assert.match(plain.tagged, /^a\d+ BAD /, 'VANISHED only with UID FETCH');
    imap.close();
  });

  test('RFC 7162 §3.2.10 EXPUNGE in a QRESYNC session is reported as VANISHED, never as EXPUNGE', async () => {
    await folderWith('qr-expunge', 4);
    const imap = await loggedIn();
    await imap.command('ENABLE QRESYNC');
    await imap.command('SELECT qr-expunge');
    await imap.command('STORE 2:3 +FLAGS.SILENT (\\Deleted)');
    const reply = await imap.command('EXPUNGE');
    assert.deepEqual(reply.lines, ['* VANISHED 2:3']);
    assert.equal(reply.tagged, 'a5 OK EXPUNGE completed');
    // RFC 6851 §4.4: MOVE in a QRESYNC session also answers VANISHED.
    await imap.command('CREATE qr-moved');
    const moved = await imap.command('UID MOVE 4 qr-moved');
    assert.equal(moved.lines.length, 2);
    assert.match(moved.lines[0] ?? '', /^\* OK \[COPYUID \d+ 4 1\] /);
    assert.equal(moved.lines[1], '* VANISHED 4');
    imap.close();
  });

  test('RFC 7162 §3.2.11 SELECT of another folder starts with OK [CLOSED], with or without QRESYNC', async () => {
    await folderWith('qr-closed', 1);
    for (const enable of [true, false]) {
      const imap = await loggedIn();
      if (enable) await imap.command('ENABLE QRESYNC');
      await imap.command('SELECT INBOX');
      const reply = await imap.command('SELECT qr-closed');
      assert.match(reply.lines[0] ?? '', /^\* OK \[CLOSED\]/);
      const unselect = await imap.command('UNSELECT');
      assert.deepEqual(unselect.lines, [], 'no CLOSED after UNSELECT');
      imap.close();
    }
  });
});

describe('RFC 4315 UIDPLUS and RFC 6851 MOVE', () => {
  test('RFC 4315 §3 COPY answers COPYUID; APPEND answers APPENDUID', async () => {
    await folderWith('up-src', 3);
    const imap = await loggedIn();
    await imap.command('CREATE up-dst');
    const dst = await imap.command('STATUS up-dst (UIDVALIDITY)');
    const validity = Number(/UIDVALIDITY (\d+)/.exec(dst.lines[0] ?? '')?.[1]);
    await imap.command('SELECT up-src');
    // RFC 4315 §3 example: A003 COPY 2:4 MEETING → A003 OK [COPYUID 38505 304,319:320 3956:3958] Done
    const copied = await imap.command('COPY 2:3 up-dst', 'A003');
    assert.deepEqual(copied.lines, []);
    assert.equal(copied.tagged, `A003 OK [COPYUID ${validity} 2:3 1:2] COPY completed`);
    const byUid = await imap.command('UID COPY 1 up-dst');
    assert.equal(byUid.tagged, `a5 OK [COPYUID ${validity} 1 3] COPY completed`);
    // RFC 4315 §3 example: A003 OK [APPENDUID 38505 3955] APPEND completed
    const appended = await append(imap, 'up-dst', message(9));
    assert.equal(appended.replace(/^\S+ /, ''), `OK [APPENDUID ${validity} 4] APPEND completed`);
    imap.close();
  });

  test('RFC 4315 §2.1 UID EXPUNGE removes only the given UIDs of the \\Deleted messages', async () => {
    await folderWith('up-expunge', 3, () => '\\Deleted');
    const imap = await loggedIn();
    await imap.command('SELECT up-expunge');
    // RFC 4315 §2.1 example: A003 UID EXPUNGE 3000:3002 → * 3 EXPUNGE ...
    const reply = await imap.command('UID EXPUNGE 2', 'A003');
    assert.deepEqual(reply.lines, ['* 2 EXPUNGE']);
    assert.equal(reply.tagged, 'A003 OK EXPUNGE completed');
    assert.deepEqual((await imap.command('UID SEARCH DELETED')).lines, ['* SEARCH 1 3']);
    assert.match((await imap.command('EXPUNGE 1')).tagged, /^a\d+ BAD /, 'EXPUNGE takes no arguments');
    imap.close();
  });

  test('RFC 6851 §4.3 MOVE: untagged OK [COPYUID ...], then EXPUNGE; the message is in the target', async () => {
    await folderWith('mv-src', 3);
    const imap = await loggedIn();
    await imap.command('CREATE mv-dst');
    const dst = await imap.command('STATUS mv-dst (UIDVALIDITY)');
    const validity = Number(/UIDVALIDITY (\d+)/.exec(dst.lines[0] ?? '')?.[1]);
    await imap.command('SELECT mv-src');
    // RFC 6851 §4.3 example: a UID MOVE 42:69 foo
    const reply = await imap.command('UID MOVE 2:3 mv-dst', 'a');
    assert.deepEqual(reply.lines, [`* OK [COPYUID ${validity} 2:3 1:2] Moved`, '* 3 EXPUNGE', '* 2 EXPUNGE']);
    assert.equal(reply.tagged, 'a OK MOVE completed');
    const moved = await imap.command('MOVE 1 mv-dst', 'b');
    assert.deepEqual(moved.lines, [`* OK [COPYUID ${validity} 1 3] Moved`, '* 1 EXPUNGE']);
    await imap.command('SELECT mv-dst');
    const subjects = await imap.command('FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    assert.deepEqual(
      subjects.lines.map((l) => /Subject: (.*)\r\n/.exec(l)?.[1]),
      ['Message 2', 'Message 3', 'Message 1'],
    );
    imap.close();
  });

  test('RFC 3501 §6.4.7 COPY or MOVE to a missing folder: NO [TRYCREATE]', async () => {
    await folderWith('tc-src', 1);
    const imap = await loggedIn();
    await imap.command('SELECT tc-src');
    assert.match((await imap.command('COPY 1 no-such-folder')).tagged, /^a3 NO \[TRYCREATE\] /);
    assert.match((await imap.command('MOVE 1 no-such-folder')).tagged, /^a4 NO \[TRYCREATE\] /);
    assert.match((await imap.command('APPEND no-such-folder {1+}\r\nx')).tagged, /^a5 NO \[TRYCREATE\] /);
    imap.close();
  });
});

describe('folders: LIST, LSUB, CREATE, RENAME, DELETE (RFC 3501 §6.3, RFC 5258, RFC 5819, RFC 6154, RFC 3348)', () => {
  test('RFC 3501 §6.3.8 LIST "" "" answers the delimiter and the root', async () => {
    const imap = await loggedIn();
    const reply = await imap.command('LIST "" ""');
    assert.deepEqual(reply.lines, ['* LIST (\\Noselect) "/" ""']);
    assert.equal(reply.tagged, 'a2 OK LIST completed');
    imap.close();
  });

  test('RFC 3348 CREATE a/b gives a \\HasChildren; RFC 5530 DELETE of a folder with children: NO [HASCHILDREN]', async () => {
    const imap = await loggedIn();
    assert.equal((await imap.command('CREATE parent/child')).tagged, 'a2 OK CREATE completed');
    const list = await imap.command('LIST "" "parent*"');
    assert.deepEqual(list.lines, ['* LIST (\\HasChildren) "/" "parent"', '* LIST (\\HasNoChildren) "/" "parent/child"']);
    const percent = await imap.command('LIST "" "%"');
    assert.ok(percent.lines.includes('* LIST (\\HasChildren) "/" "parent"'));
    assert.ok(!percent.lines.some((l) => l.includes('parent/child')), '% does not match the delimiter');
    assert.match((await imap.command('DELETE parent')).tagged, /^a5 NO \[HASCHILDREN\] /);
    assert.equal((await imap.command('DELETE parent/child')).tagged, 'a6 OK DELETE completed');
    assert.equal((await imap.command('DELETE parent')).tagged, 'a7 OK DELETE completed');
    assert.match((await imap.command('DELETE parent')).tagged, /^a8 NO \[NONEXISTENT\] /);
    assert.match((await imap.command('CREATE INBOX')).tagged, /^a9 NO \[ALREADYEXISTS\] /);
    assert.match((await imap.command('DELETE INBOX')).tagged, /^a10 NO /);
    imap.close();
  });

  test('RFC 3501 §6.3.5 RENAME moves the inferiors; RENAME INBOX moves its messages and leaves INBOX empty', async () => {
    const address = `rename@${DOMAIN}`;
    const id = await addAccount(address);
    await deliverTo(id, message(1));
    await deliverTo(id, message(2));
    const imap = await loggedIn(address);
    await imap.command('CREATE foo/bar/zap');
    // RFC 3501 §6.3.5: renaming foo to zowie renames foo/bar to zowie/bar.
    assert.equal((await imap.command('RENAME foo zowie')).tagged, 'a3 OK RENAME completed');
    const list = await imap.command('LIST "" "zowie*"');
    assert.deepEqual(list.lines, [
      '* LIST (\\HasChildren) "/" "zowie"',
      '* LIST (\\HasChildren) "/" "zowie/bar"',
      '* LIST (\\HasNoChildren) "/" "zowie/bar/zap"',
    ]);
    assert.deepEqual((await imap.command('LIST "" "foo*"')).lines, []);
    assert.match((await imap.command('RENAME nothing-here x')).tagged, /^a6 NO \[NONEXISTENT\] /);
    assert.match((await imap.command('RENAME zowie Sent')).tagged, /^a7 NO \[ALREADYEXISTS\] /);
    assert.equal((await imap.command('RENAME INBOX old-mail')).tagged, 'a8 OK RENAME completed');
    const inbox = await imap.command('STATUS INBOX (MESSAGES)');
    assert.deepEqual(inbox.lines, ['* STATUS "INBOX" (MESSAGES 0)']);
    const moved = await imap.command('STATUS old-mail (MESSAGES UIDNEXT)');
    assert.deepEqual(moved.lines, ['* STATUS "old-mail" (MESSAGES 2 UIDNEXT 3)']);
    imap.close();
  });

  test('RFC 3501 §5.1.3 modified UTF-7 names: CREATE "&ZeVnLIqe-" lists as sent', async () => {
    const imap = await loggedIn();
    assert.equal((await imap.command('CREATE "&ZeVnLIqe-"')).tagged, 'a2 OK CREATE completed');
    assert.deepEqual((await imap.command('LIST "" "&ZeVnLIqe-"')).lines, ['* LIST (\\HasNoChildren) "/" "&ZeVnLIqe-"']);
    // The RFC's example: ~peter/mail/&U,BTFw-/&ZeVnLIqe- is "~peter/mail/台北/日本語".
    assert.equal((await imap.command('CREATE ~peter/mail/&U,BTFw-/&ZeVnLIqe-')).tagged, 'a4 OK CREATE completed');
    const list = await imap.command('LIST "~peter/mail/" "*"');
    assert.deepEqual(list.lines, ['* LIST (\\HasChildren) "/" "~peter/mail/&U,BTFw-"', '* LIST (\\HasNoChildren) "/" "~peter/mail/&U,BTFw-/&ZeVnLIqe-"']);
    assert.match((await imap.command('CREATE "&Jjo!"')).tagged, /^a6 (BAD|NO) /, 'a broken modified UTF-7 name is refused');
    imap.close();
  });

  test('RFC 3501 §6.3.9 LSUB after SUBSCRIBE and UNSUBSCRIBE', async () => {
    const imap = await loggedIn();
    await imap.command('CREATE news/comp');
    assert.equal((await imap.command('SUBSCRIBE news/comp')).tagged, 'a3 OK SUBSCRIBE completed');
    assert.deepEqual((await imap.command('LSUB "news/" "*"')).lines, ['* LSUB (\\HasNoChildren) "/" "news/comp"']);
    assert.equal((await imap.command('UNSUBSCRIBE news/comp')).tagged, 'a5 OK UNSUBSCRIBE completed');
    assert.deepEqual((await imap.command('LSUB "news/" "*"')).lines, []);
    imap.close();
  });

  test('RFC 5258 LIST-EXTENDED: (SUBSCRIBED) selection, several patterns, RETURN (SUBSCRIBED CHILDREN)', async () => {
    const imap = await loggedIn();
    await imap.command('CREATE lx/a');
    await imap.command('CREATE lx/b');
    await imap.command('SUBSCRIBE lx/a');
    const subscribed = await imap.command('LIST (SUBSCRIBED) "" "lx/*"');
    assert.deepEqual(subscribed.lines, ['* LIST (\\HasNoChildren \\Subscribed) "/" "lx/a"']);
    const returned = await imap.command('LIST "" "lx/*" RETURN (SUBSCRIBED CHILDREN)');
    assert.deepEqual(returned.lines, ['* LIST (\\HasNoChildren \\Subscribed) "/" "lx/a"', '* LIST (\\HasNoChildren) "/" "lx/b"']);
    const patterns = await imap.command('LIST "" ("lx/b" "lx")');
    assert.deepEqual(patterns.lines, ['* LIST (\\HasChildren) "/" "lx"', '* LIST (\\HasNoChildren) "/" "lx/b"']);
    assert.match((await imap.command('LIST (RECURSIVEMATCH) "" "*"')).tagged, /^a\d+ BAD /, 'RFC 5258 §3: RECURSIVEMATCH alone is BAD');
    assert.match((await imap.command('LIST (NO-SUCH-OPTION) "" "*"')).tagged, /^a\d+ BAD /);
    imap.close();
  });

  test('RFC 5258 §5 example 9: LIST (RECURSIVEMATCH SUBSCRIBED) adds CHILDINFO; RFC 3501 §6.3.9 LSUB shows \\Noselect parents', async () => {
    const imap = await loggedIn();
    for (const name of ['foo2/bar1', 'foo2/bar2', 'baz2/bar2', 'baz2/bar22', 'baz2/bar222', 'eps2/mamba', 'qux2/bar2']) await imap.command(`CREATE rm/${name}`);
    for (const name of ['foo2/bar1', 'foo2/bar2', 'baz2/bar2', 'baz2/bar22', 'baz2/bar222', 'eps2', 'eps2/mamba', 'qux2/bar2'])
      await imap.command(`SUBSCRIBE rm/${name}`);
    const reply = await imap.command('LIST (RECURSIVEMATCH SUBSCRIBED) "rm/" "*2"', 'D03');
    // The RFC lists them in its own order; names come here in the folders' order.
    assert.deepEqual(
      [...reply.lines].sort(),
      [
        '* LIST (\\HasChildren) "/" "rm/foo2" ("CHILDINFO" ("SUBSCRIBED"))',
        '* LIST (\\HasNoChildren \\Subscribed) "/" "rm/foo2/bar2"',
        '* LIST (\\HasNoChildren \\Subscribed) "/" "rm/baz2/bar2"',
        '* LIST (\\HasNoChildren \\Subscribed) "/" "rm/baz2/bar22"',
        '* LIST (\\HasNoChildren \\Subscribed) "/" "rm/baz2/bar222"',
        '* LIST (\\HasChildren \\Subscribed) "/" "rm/eps2" ("CHILDINFO" ("SUBSCRIBED"))',
        '* LIST (\\HasNoChildren \\Subscribed) "/" "rm/qux2/bar2"',
      ].sort(),
    );
    const plain = await imap.command('LIST (SUBSCRIBED) "rm/" "%"');
    assert.deepEqual(plain.lines, ['* LIST (\\HasChildren \\Subscribed) "/" "rm/eps2"'], 'no CHILDINFO without RECURSIVEMATCH');
    const lsub = await imap.command('LSUB "rm/" "%"');
    assert.deepEqual([...lsub.lines].sort(), [
      '* LSUB (\\HasChildren) "/" "rm/eps2"',
      '* LSUB (\\Noselect \\HasChildren) "/" "rm/baz2"',
      '* LSUB (\\Noselect \\HasChildren) "/" "rm/foo2"',
      '* LSUB (\\Noselect \\HasChildren) "/" "rm/qux2"',
    ]);
    imap.close();
  });

  test('RFC 5819 LIST-STATUS: LIST ... RETURN (STATUS (MESSAGES UNSEEN)) follows each name with its STATUS', async () => {
    await folderWith('ls-one', 2, (n) => (n === 1 ? '\\Seen' : ''));
    const imap = await loggedIn();
    // RFC 5819 §2 example: A01 LIST "" % RETURN (STATUS (MESSAGES UNSEEN))
    const reply = await imap.command('LIST "" "ls-one" RETURN (STATUS (MESSAGES UNSEEN))', 'A01');
    assert.deepEqual(reply.lines, ['* LIST (\\HasNoChildren) "/" "ls-one"', '* STATUS "ls-one" (MESSAGES 2 UNSEEN 1)']);
    assert.equal(reply.tagged, 'A01 OK LIST completed');
    imap.close();
  });

  test('RFC 6154 §2 SPECIAL-USE: LIST (SPECIAL-USE) "" "*" lists only the special folders, with their role', async () => {
    const imap = await loggedIn();
    // RFC 6154 §5.1 example: t3 LIST (SPECIAL-USE) "" "*"
    const reply = await imap.command('LIST (SPECIAL-USE) "" "*"', 't3');
    assert.deepEqual([...reply.lines].sort(), [
      '* LIST (\\HasNoChildren \\Archive) "/" "Archive"',
      '* LIST (\\HasNoChildren \\Drafts) "/" "Drafts"',
      '* LIST (\\HasNoChildren \\Junk) "/" "Junk"',
      '* LIST (\\HasNoChildren \\Sent) "/" "Sent"',
      '* LIST (\\HasNoChildren \\Trash) "/" "Trash"',
    ]);
    assert.equal(reply.tagged, 't3 OK LIST completed');
    // RFC 6154 §5.1 example: t2 LIST "" "%" RETURN (SPECIAL-USE)
    const returned = await imap.command('LIST "" "Sent" RETURN (SPECIAL-USE)', 't2');
    assert.deepEqual(returned.lines, ['* LIST (\\HasNoChildren \\Sent) "/" "Sent"']);
    imap.close();
  });
});

describe('other commands of the authenticated and selected states', () => {
  test('RFC 2342 NAMESPACE: one personal namespace', async () => {
    const imap = await loggedIn();
    const reply = await imap.command('NAMESPACE', 'A001');
    assert.deepEqual(reply.lines, ['* NAMESPACE (("" "/")) NIL NIL']);
    assert.equal(reply.tagged, 'A001 OK NAMESPACE completed');
    imap.close();
  });

  test("RFC 2971 §3.1 ID with the client's fields or NIL, in any state", async () => {
    const imap = await RawImap.open(port);
    // RFC 2971 §3.1 example: a023 ID ("name" "sodr" "version" "19.34" ...)
    const reply = await imap.command('ID ("name" "sodr" "version" "19.34" "vendor" "Pink Floyd Music Limited")', 'a023');
    assert.deepEqual(reply.lines, ['* ID ("name" "Facteur" "vendor" "Facteur")']);
    assert.equal(reply.tagged, 'a023 OK ID completed');
    assert.deepEqual((await imap.command('ID NIL')).lines, ['* ID ("name" "Facteur" "vendor" "Facteur")']);
    assert.match((await imap.command('ID')).tagged, /^a\d+ BAD /);
    imap.close();
  });

  test('RFC 3691 UNSELECT leaves \\Deleted messages; RFC 3501 §6.4.2 CLOSE expunges them silently', async () => {
    await folderWith('close-me', 3, (n) => (n === 2 ? '\\Deleted' : ''));
    const imap = await loggedIn();
    await imap.command('SELECT close-me');
    const unselect = await imap.command('UNSELECT');
    assert.deepEqual(unselect.lines, []);
    assert.equal(unselect.tagged, 'a3 OK UNSELECT completed');
    assert.match((await imap.command('FETCH 1 FLAGS')).tagged, /^a4 BAD /, 'no folder selected any more');
    assert.deepEqual((await imap.command('STATUS close-me (MESSAGES)')).lines, ['* STATUS "close-me" (MESSAGES 3)']);
    await imap.command('SELECT close-me');
    assert.equal((await imap.command('CHECK')).tagged, 'a7 OK CHECK completed');
    const close = await imap.command('CLOSE');
    assert.deepEqual(close.lines, [], 'no untagged EXPUNGE');
    assert.equal(close.tagged, 'a8 OK CLOSE completed');
    assert.deepEqual((await imap.command('STATUS close-me (MESSAGES)')).lines, ['* STATUS "close-me" (MESSAGES 2)']);
    assert.match((await imap.command('CLOSE')).tagged, /^a10 BAD /);
    assert.match((await imap.command('UNSELECT')).tagged, /^a11 BAD /);
    imap.close();
  });

  test('RFC 3501 §6.3.2 EXAMINE is read-only: STORE, EXPUNGE and MOVE are refused, BODY[] sets no \\Seen, CLOSE expunges nothing', async () => {
    await folderWith('examined', 2, (n) => (n === 1 ? '\\Deleted' : ''));
    const imap = await loggedIn();
    const reply = await imap.command('EXAMINE examined');
    assert.ok(reply.lines.includes('* OK [PERMANENTFLAGS ()] Flags permitted'));
    assert.equal(reply.tagged, 'a2 OK [READ-ONLY] EXAMINE completed');
    assert.match((await imap.command('STORE 1 +FLAGS (\\Seen)')).tagged, /^a3 NO /);
    assert.match((await imap.command('EXPUNGE')).tagged, /^a4 NO /);
    assert.match((await imap.command('MOVE 1 INBOX')).tagged, /^a5 NO /);
    const body = await imap.command('FETCH 2 BODY[TEXT]');
    assert.equal(body.lines[0], '* 2 FETCH (BODY[TEXT] {19}\r\nBody of message 2\r\n)');
    assert.deepEqual((await imap.command('FETCH 2 FLAGS')).lines, ['* 2 FETCH (FLAGS ())']);
    await imap.command('CLOSE');
    assert.deepEqual((await imap.command('STATUS examined (MESSAGES)')).lines, ['* STATUS "examined" (MESSAGES 2)']);
    imap.close();
  });

  test('RFC 8438 STATUS SIZE is the sum of RFC822.SIZE', async () => {
    await folderWith('sized', 2);
    const imap = await loggedIn();
    await imap.command('EXAMINE sized');
    const sizes = await imap.command('FETCH 1:* RFC822.SIZE');
    const total = sizes.lines.reduce((sum, l) => sum + Number(/RFC822\.SIZE (\d+)/.exec(l)?.[1]), 0);
    // RFC 8438 §3 example: S: * STATUS INBOX (MESSAGES 52 UIDNEXT 4242 SIZE 12345)
    assert.deepEqual((await imap.command('STATUS sized (MESSAGES SIZE)')).lines, [`* STATUS "sized" (MESSAGES 2 SIZE ${total})`]);
    imap.close();
  });

  test('RFC 9208 §4.3 GETQUOTAROOT INBOX and §4.2 GETQUOTA ""; SETQUOTA is refused', async () => {
    const imap = await loggedIn();
    // RFC 9208 §4.3 example: G0001 GETQUOTAROOT INBOX
    const root = await imap.command('GETQUOTAROOT INBOX', 'G0001');
    assert.equal(root.lines[0], '* QUOTAROOT "INBOX" ""');
    assert.match(root.lines[1] ?? '', /^\* QUOTA "" \(STORAGE \d+ \d+\)$/);
    assert.equal(root.lines.length, 2);
    assert.equal(root.tagged, 'G0001 OK GETQUOTAROOT completed');
    const quota = await imap.command('GETQUOTA ""', 'G0002');
    assert.deepEqual(quota.lines, [root.lines[1]]);
    assert.match((await imap.command('GETQUOTA "other"')).tagged, /^a\d+ NO \[NONEXISTENT\] /);
    assert.match((await imap.command('SETQUOTA "" (STORAGE 512)')).tagged, /^a\d+ NO /);
    assert.match((await imap.command('GETQUOTAROOT no-such-folder')).tagged, /^a\d+ NO \[NONEXISTENT\] /);
    const caps = await imap.command('CAPABILITY');
    assert.ok(!caps.lines[0]?.includes('QUOTA=RES-MESSAGE'), 'no MESSAGE limit, so RES-MESSAGE is not advertised');
    imap.close();
  });

  test('RFC 9208 §4.1.4 STATUS DELETED and DELETED-STORAGE (required with QUOTA=RES-STORAGE)', async () => {
    await folderWith('deleted-status', 3, (n) => (n === 2 ? '\\Deleted' : ''));
    const imap = await loggedIn();
    await imap.command('EXAMINE deleted-status');
    const size = Number(/RFC822\.SIZE (\d+)/.exec((await imap.command('FETCH 2 RFC822.SIZE')).lines[0] ?? '')?.[1]);
    // RFC 9208 §4.1.4 example: S0003 STATUS INBOX (MESSAGES DELETED DELETED-STORAGE)
    const reply = await imap.command('STATUS deleted-status (MESSAGES DELETED DELETED-STORAGE)', 'S0003');
    assert.deepEqual(reply.lines, [`* STATUS "deleted-status" (MESSAGES 3 DELETED 1 DELETED-STORAGE ${size})`]);
    imap.close();
  });

  test('RFC 9208 §5.1 / RFC 5530 APPEND into a full mailbox: NO [OVERQUOTA], nothing kept', async () => {
    const address = `full@${DOMAIN}`;
    const id = await addAccount(address);
    const imap = await loggedIn(address);
    const quota = await imap.command('GETQUOTA ""');
    const limitKb = Number(/STORAGE \d+ (\d+)/.exec(quota.lines[0] ?? '')?.[1]);
    const { db } = service.ctx;
    const usage = await db.selectFrom('mail_usage').select('account_id').where('account_id', '=', id).executeTakeFirst();
    if (usage)
      await db
        .updateTable('mail_usage')
        .set({ used_bytes: limitKb * 1024 - 10 })
        .where('account_id', '=', id)
        .execute();
    else {
      const { customer_id } = await db.selectFrom('accounts').select('customer_id').where('id', '=', id).executeTakeFirstOrThrow();
      await db
        .insertInto('mail_usage')
        .values({ account_id: id, customer_id, used_bytes: limitKb * 1024 - 10, message_count: 0 })
        .execute();
    }
    imap.send(`a3 APPEND INBOX {${message(1).length}+}\r\n${message(1)}\r\n`);
    const reply = await imap.until('a3');
    assert.match(reply.tagged, /^a3 NO \[OVERQUOTA\] /);
    assert.deepEqual((await imap.command('STATUS INBOX (MESSAGES)')).lines, ['* STATUS "INBOX" (MESSAGES 0)']);
    const full = await imap.command('GETQUOTA ""');
    assert.deepEqual(full.lines, [`* QUOTA "" (STORAGE ${limitKb} ${limitKb})`]);
    // RFC 3501 §9: response text is 7-bit, also in the account's language.
    await service.ctx.db.updateTable('accounts').set({ language: 'fr' }).where('id', '=', id).execute();
    const french = await loggedIn(address);
    french.send(`f1 APPEND INBOX {${message(1).length}+}\r\n${message(1)}\r\n`);
    assert.equal((await french.until('f1')).tagged, 'f1 NO [OVERQUOTA] La boite aux lettres est pleine');
    assert.equal((await french.command('SELECT nulle-part')).tagged, "a2 NO [NONEXISTENT] Ce dossier n'existe pas");
    french.close();
    imap.close();
  });
});

describe('RFC 3501 §6.4.6 STORE and §6.4.5 FETCH macros', () => {
  test('STORE FLAGS, +FLAGS, -FLAGS, .SILENT and keywords (PERMANENTFLAGS \\*)', async () => {
    await folderWith('stored', 4);
    const imap = await loggedIn();
    const selected = await imap.command('SELECT stored');
    assert.ok(selected.lines.includes('* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted'));
    // RFC 3501 §6.4.6 example: A003 STORE 2:4 +FLAGS (\Deleted)
    const added = await imap.command('STORE 2:4 +FLAGS (\\Deleted)', 'A003');
    assert.deepEqual(added.lines, ['* 2 FETCH (FLAGS (\\Deleted))', '* 3 FETCH (FLAGS (\\Deleted))', '* 4 FETCH (FLAGS (\\Deleted))']);
    assert.equal(added.tagged, 'A003 OK STORE completed');
    const replaced = await imap.command('STORE 2 FLAGS ($Forwarded \\Seen)');
    // RFC 3501 §7.2.6: the new keyword is announced in FLAGS (and PERMANENTFLAGS) before the FETCH shows it.
    assert.equal(replaced.lines[0], '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)');
    assert.match(replaced.lines[2] ?? '', /^\* 2 FETCH \(FLAGS \((\$Forwarded \\Seen|\\Seen \$Forwarded)\)\)$/);
    const removed = await imap.command('STORE 3:4 -FLAGS.SILENT (\\Deleted)');
    assert.deepEqual(removed.lines, []);
    const byUid = await imap.command('UID STORE 3 +FLAGS (\\Flagged)');
    assert.deepEqual(byUid.lines, ['* 3 FETCH (UID 3 FLAGS (\\Flagged))']);
    assert.deepEqual((await imap.command('SEARCH KEYWORD $Forwarded')).lines, ['* SEARCH 2']);
    assert.deepEqual((await imap.command('SEARCH UNKEYWORD $Forwarded DELETED')).lines, ['* SEARCH']);
    assert.match((await imap.command('STORE 1 +FLAGS (\\Recent)')).tagged, /^a\d+ BAD /, '\\Recent cannot be stored');
    assert.match((await imap.command('STORE 1 +FLAGS (\\Bogus)')).tagged, /^a\d+ BAD /);
    imap.close();
  });

  test('FETCH FAST, ALL and FULL (RFC 3501 §6.4.5 macros)', async () => {
    await folderWith('macros', 1);
    const imap = await loggedIn();
    await imap.command('EXAMINE macros');
    const fast = await imap.command('FETCH 1 FAST');
    assert.match(fast.lines[0] ?? '', /^\* 1 FETCH \(FLAGS \(\) INTERNALDATE "\d{2}-\w{3}-\d{4} \d{2}:\d{2}:\d{2} \+0000" RFC822\.SIZE \d+\)$/);
    const all = await imap.command('FETCH 1 ALL');
    assert.match(all.lines[0] ?? '', /^\* 1 FETCH \(FLAGS \(\) INTERNALDATE "[^"]+" RFC822\.SIZE \d+ ENVELOPE \(.*\)\)$/);
    const full = await imap.command('FETCH 1 FULL');
    assert.match(full.lines[0] ?? '', /ENVELOPE \(.*\) BODY \("text" "plain" \("charset" "us-ascii"\) NIL NIL "7bit" \d+ \d+\)\)$/);
    imap.close();
  });
});

describe('RFC 3501 §6.4.4 SEARCH and RFC 4731 ESEARCH', () => {
  before(async () => {
    const imap = await loggedIn();
    await imap.command('CREATE searched');
    await append(imap, 'searched', message(1, { subject: 'Réunion café', body: 'Le café est prêt' }), '\\Seen');
    await append(imap, 'searched', message(2, { subject: 'Budget', body: `${'x'.repeat(2000)}`, date: 'Mon, 02 Nov 2026 08:00:00 +0000' }));
    await append(imap, 'searched', message(3, { subject: 'Lunch', date: 'Tue, 01 Dec 2026 12:00:00 +0000' }), '\\Flagged');
    await append(imap, 'searched', message(4, { subject: 'Budget again' }), '\\Seen \\Flagged');
    imap.close();
  });

  test('RFC 3501 §6.4.4 SEARCH CHARSET UTF-8 with a literal', async () => {
    const imap = await loggedIn();
    await imap.command('EXAMINE searched');
    const word = Buffer.from('café');
    imap.send(`a3 SEARCH CHARSET UTF-8 TEXT {${word.length}}\r\n`);
    assert.equal(await imap.line(), '+ Ready for literal data');
    imap.send(Buffer.concat([word, Buffer.from('\r\n')]));
    const reply = await imap.until('a3');
    assert.deepEqual(reply.lines, ['* SEARCH 1']);
    imap.send(`a4 SEARCH CHARSET UTF-8 SUBJECT {${Buffer.byteLength('réunion')}+}\r\nréunion\r\n`);
    assert.deepEqual((await imap.until('a4')).lines, ['* SEARCH 1']);
    imap.close();
  });

  test('RFC 3501 §6.4.4 SEARCH with an unknown charset: NO [BADCHARSET (US-ASCII UTF-8)]', async () => {
    const imap = await loggedIn();
    await imap.command('EXAMINE searched');
    const reply = await imap.command('SEARCH CHARSET KOI8-R TEXT hello');
    assert.deepEqual(reply.lines, []);
    assert.match(reply.tagged, /^a3 NO \[BADCHARSET \(US-ASCII UTF-8\)\] /);
    imap.close();
  });

  test('RFC 3501 §6.4.4 keys: OR, NOT, HEADER, LARGER, SMALLER, SINCE, BEFORE, ON, flags, UID and sequence sets', async () => {
    const imap = await loggedIn();
    await imap.command('EXAMINE searched');
    const cases: Array<[string, string]> = [
      // RFC 3501 §6.4.4 examples
      ['FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"', '* SEARCH 3 4'],
      ['TEXT "string not in mailbox"', '* SEARCH'],
      ['OR SUBJECT lunch SUBJECT budget', '* SEARCH 2 3 4'],
      ['NOT SEEN', '* SEARCH 2 3'],
      ['NOT NOT SEEN', '* SEARCH 1 4'],
      ['OR SEEN FLAGGED', '* SEARCH 1 3 4'],
      ['HEADER Message-ID "<x3@example.test>"', '* SEARCH 3'],
      ['HEADER X-Absent ""', '* SEARCH'],
      ['LARGER 1500', '* SEARCH 2'],
      ['SMALLER 1500', '* SEARCH 1 3 4'],
      ['SENTSINCE 1-Dec-2026', '* SEARCH 3'],
      ['SENTBEFORE 26-Nov-2026', '* SEARCH 2'],
      ['SENTON 26-Nov-2026', '* SEARCH 1 4'],
      ['SINCE 1-Jan-2026 BEFORE 1-Jan-2100', '* SEARCH 1 2 3 4'],
      ['BEFORE 1-Jan-2000', '* SEARCH'],
      ['UID 2:3', '* SEARCH 2 3'],
      ['UID 3:*', '* SEARCH 3 4'],
      ['2,4', '* SEARCH 2 4'],
      ['*', '* SEARCH 4'],
      ['(SEEN FLAGGED) OR 1 2', '* SEARCH'],
      ['ALL', '* SEARCH 1 2 3 4'],
    ];
    for (const [key, expected] of cases) {
      const reply = await imap.command(`SEARCH ${key}`);
      assert.deepEqual(reply.lines, [expected], key);
      assert.match(reply.tagged, /^a\d+ OK SEARCH completed$/, key);
    }
    assert.deepEqual((await imap.command('UID SEARCH UID 2:*')).lines, ['* SEARCH 2 3 4']);
    imap.close();
  });

  test('RFC 4731 §3.1 ESEARCH RETURN (MIN MAX COUNT ALL), RETURN () and empty results', async () => {
    const imap = await loggedIn();
    await imap.command('EXAMINE searched');
    // RFC 4731 §4 examples: A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"
    const minCount = await imap.command('SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"', 'A282');
    assert.deepEqual(minCount.lines, ['* ESEARCH (TAG "A282") MIN 3 COUNT 2']);
    assert.equal(minCount.tagged, 'A282 OK SEARCH completed');
    const all = await imap.command('SEARCH RETURN () NOT DELETED', 'A283');
    assert.deepEqual(all.lines, ['* ESEARCH (TAG "A283") ALL 1:4']);
    const everything = await imap.command('UID SEARCH RETURN (MIN MAX COUNT ALL) OR 1 3', 'A285');
    // RFC 4731 §3.1 sets no order among the return data items.
    assert.deepEqual(everything.lines, ['* ESEARCH (TAG "A285") UID MIN 1 MAX 3 ALL 1,3 COUNT 2']);
    const none = await imap.command('SEARCH RETURN (MIN MAX COUNT ALL) DELETED', 'A286');
    assert.deepEqual(none.lines, ['* ESEARCH (TAG "A286") COUNT 0']);
    const nothing = await imap.command('SEARCH RETURN (MIN) DELETED', 'A287');
    assert.deepEqual(nothing.lines, ['* ESEARCH (TAG "A287")']);
    imap.close();
  });
});

describe('RFC 3501 §6.4.5 FETCH of body parts', () => {
  test('BODY[HEADER], BODY[TEXT], BODY[1.MIME], BODY[2.HEADER] of a message/rfc822, RFC822.HEADER/TEXT, INTERNALDATE', async () => {
    const imap = await loggedIn();
    await imap.command('CREATE parts');
    imap.send(`a3 APPEND parts "26-Nov-2026 11:12:13 +0100" {${FORWARD.length}+}\r\n${FORWARD}\r\n`);
    assert.match((await imap.until('a3')).tagged, /^a3 OK /);
    await imap.command('SELECT parts');
    const headerEnd = FORWARD.indexOf('\r\n\r\n') + 4;
    const header = FORWARD.slice(0, headerEnd);
    const text = FORWARD.slice(headerEnd);
    const lit = (s: string) => `{${Buffer.byteLength(s)}}\r\n${s}`;
    const expectations: Array<[string, string]> = [
      ['BODY.PEEK[HEADER]', `BODY[HEADER] ${lit(header)}`],
      ['BODY.PEEK[TEXT]', `BODY[TEXT] ${lit(text)}`],
      ['BODY.PEEK[1]', `BODY[1] ${lit('See attached.')}`],
      ['BODY.PEEK[1.MIME]', `BODY[1.MIME] ${lit('Content-Type: text/plain; charset=us-ascii\r\n\r\n')}`],
      ['BODY.PEEK[2.MIME]', `BODY[2.MIME] ${lit('Content-Type: message/rfc822\r\n\r\n')}`],
      ['BODY.PEEK[2.HEADER]', `BODY[2.HEADER] ${lit('From: Bob <bob@example.test>\r\nSubject: Inner\r\n\r\n')}`],
      ['BODY.PEEK[2.TEXT]', `BODY[2.TEXT] ${lit('Inner body.')}`],
      ['BODY.PEEK[2.HEADER.FIELDS (SUBJECT)]', `BODY[2.HEADER.FIELDS (SUBJECT)] ${lit('Subject: Inner\r\n\r\n')}`],
      [
        'BODY.PEEK[HEADER.FIELDS.NOT (FROM TO DATE MESSAGE-ID MIME-VERSION CONTENT-TYPE)]',
        `BODY[HEADER.FIELDS.NOT (FROM TO DATE MESSAGE-ID MIME-VERSION CONTENT-TYPE)] ${lit('Subject: Forwarded\r\n\r\n')}`,
      ],
      ['BODY.PEEK[]<0.4>', `BODY[]<0> ${lit('From')}`],
      ['BODY.PEEK[3]', `BODY[3] ${lit('')}`],
      ['RFC822.HEADER', `RFC822.HEADER ${lit(header)}`],
      ['INTERNALDATE', 'INTERNALDATE "26-Nov-2026 10:12:13 +0000"'],
      ['RFC822.SIZE', `RFC822.SIZE ${FORWARD.length}`],
    ];
    for (const [item, expected] of expectations) {
      const reply = await imap.command(`FETCH 1 (${item})`);
      assert.deepEqual(reply.lines, [`* 1 FETCH (${expected})`], item);
    }
    assert.deepEqual(
      (await imap.command('FETCH 1 FLAGS')).lines,
      ['* 1 FETCH (FLAGS (\\Recent))'],
      'PEEK and RFC822.HEADER set no \\Seen (recent: this session selected it first)',
    );
    const textReply = await imap.command('FETCH 1 RFC822.TEXT');
    assert.deepEqual(textReply.lines, [`* 1 FETCH (RFC822.TEXT ${lit(text)} FLAGS (\\Seen \\Recent))`], 'RFC822.TEXT sets \\Seen');
    imap.close();
  });
});

describe('RFC 3501 §6.4.5 HEADER.FIELDS of a whole folder (how clients sync)', () => {
  test('UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (...)]) gives each message its fields, a header over 64 KB included', async () => {
    const imap = await loggedIn();
    await imap.command('CREATE sync');
    const raws = [1, 2, 3].map((n) => message(n, { subject: `Sync ${n}` }));
    raws.push(['From: Big <big@example.test>', `X-Padding: ${'p'.repeat(70_000)}`, 'Subject: Big header', '', 'body', ''].join('\r\n'));
    raws.push('From: lf@example.test\nSubject: Bare LF\n\nbody\n');
    for (const raw of raws) await append(imap, 'sync', raw);
    await imap.command('EXAMINE sync');
    const reply = await imap.command('UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)])');
    const lit = (s: string) => `{${Buffer.byteLength(s, 'latin1')}}\r\n${s}`;
    assert.deepEqual(reply.lines, [
      `* 1 FETCH (UID 1 BODY[HEADER.FIELDS (SUBJECT FROM)] ${lit('From: Sender 1 <sender1@example.test>\r\nSubject: Sync 1\r\n\r\n')})`,
      `* 2 FETCH (UID 2 BODY[HEADER.FIELDS (SUBJECT FROM)] ${lit('From: Sender 2 <sender2@example.test>\r\nSubject: Sync 2\r\n\r\n')})`,
      `* 3 FETCH (UID 3 BODY[HEADER.FIELDS (SUBJECT FROM)] ${lit('From: Sender 3 <sender3@example.test>\r\nSubject: Sync 3\r\n\r\n')})`,
      `* 4 FETCH (UID 4 BODY[HEADER.FIELDS (SUBJECT FROM)] ${lit('From: Big <big@example.test>\r\nSubject: Big header\r\n\r\n')})`,
      // The field lines as stored (here with bare LF, as BODY[] gives them), then the blank line.
      `* 5 FETCH (UID 5 BODY[HEADER.FIELDS (SUBJECT FROM)] ${lit('From: lf@example.test\nSubject: Bare LF\n\r\n')})`,
    ]);
    const not = await imap.command('FETCH 2 (BODY.PEEK[HEADER.FIELDS.NOT (FROM TO DATE MESSAGE-ID)]<0.10>)');
    assert.deepEqual(not.lines, [`* 2 FETCH (BODY[HEADER.FIELDS.NOT (FROM TO DATE MESSAGE-ID)]<0> ${lit('Subject: S')})`]);
    imap.close();
  });
});

describe('authentication: suspended accounts, LOGINDISABLED, throttling', () => {
  test('RFC 5530 a suspended account gets NO [ALERT] with a text for the user', async () => {
    const address = `suspended@${DOMAIN}`;
    const id = await addAccount(address);
    const changed = await admin.patch(`/api/accounts/${id}`, { status: 'suspended' }).catch(() => undefined);
    if (!changed || changed.status >= 300) await service.ctx.db.updateTable('accounts').set({ status: 'suspended' }).where('id', '=', id).execute();
    const imap = await RawImap.open(port);
    const reply = await imap.command(`LOGIN ${address} ${PASSWORD}`);
    assert.match(reply.tagged, /^a1 NO \[ALERT\] .*suspended/);
    const ir = Buffer.from(`\u0000${address}\u0000${PASSWORD}`).toString('base64');
    assert.match((await imap.command(`AUTHENTICATE PLAIN ${ir}`)).tagged, /^a2 NO \[ALERT\] /);
    assert.match((await imap.command('SELECT INBOX')).tagged, /^a3 BAD /, 'still not authenticated');
    imap.close();
  });

  test('RFC 3501 §6.2.3 LOGINDISABLED before TLS: LOGIN gets NO [PRIVACYREQUIRED]; after STARTTLS it works', async () => {
    const strict = await startTestService({
      overrides: { roles: ['web', 'imap'], ports: { http: 0, imap: 0, imaps: 0 }, mailAccess: { allowPlaintextOnLoopback: false } },
    });
    try {
      const operator = await operatorClient(strict);
      const setup = await setupCustomer(strict, operator, 'Strict', { standard: 1 });
      const added = await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/domains`, { name: 'strict.test' });
      await waitForOperation(setup.admin, added.body.id);
      expectStatus(
        await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/accounts`, { address: 'me@strict.test', classId: 'standard', password: PASSWORD }),
        201,
      );
      const imap = await RawImap.open(strict.imapPort as number);
      const caps = await imap.command('CAPABILITY');
      assert.match(caps.lines[0] ?? '', /^\* CAPABILITY IMAP4rev1 .*STARTTLS.*LOGINDISABLED/);
      assert.ok(!caps.lines[0]?.includes('AUTH=PLAIN'));
      assert.match((await imap.command(`LOGIN me@strict.test ${PASSWORD}`)).tagged, /^a2 NO \[PRIVACYREQUIRED\] /);
      const ir = Buffer.from(`\u0000me@strict.test\u0000${PASSWORD}`).toString('base64');
      assert.match((await imap.command(`AUTHENTICATE PLAIN ${ir}`)).tagged, /^a3 NO \[PRIVACYREQUIRED\] /);
      assert.equal((await imap.command('STARTTLS')).tagged, 'a4 OK Begin TLS negotiation now');
      await imap.startTls(strict.tlsCert);
      const after = await imap.command('CAPABILITY', 'b1');
      assert.ok(after.lines[0]?.includes('AUTH=PLAIN') && !after.lines[0].includes('LOGINDISABLED'));
      assert.match((await imap.command(`LOGIN me@strict.test ${PASSWORD}`, 'b2')).tagged, /^b2 OK \[CAPABILITY /);
      imap.close();
    } finally {
      await strict.close();
    }
  });

  test("failed logins are throttled: after the account's limit, NO [UNAVAILABLE] even with the right password", async () => {
    const address = `throttled@${DOMAIN}`;
    await addAccount(address);
    const limit = service.ctx.config.auth.loginFailuresPerAccount;
    const imap = await RawImap.open(port);
    for (let i = 0; i < limit; i++) {
      assert.match((await imap.command(`LOGIN ${address} wrong-password`)).tagged, /^a\d+ NO \[AUTHENTICATIONFAILED\] /);
    }
    const blocked = await imap.command(`LOGIN ${address} ${PASSWORD}`);
    assert.match(blocked.tagged, /^a\d+ NO \[UNAVAILABLE\] /);
    imap.close();
    // Another account from the same address is not blocked (the per-IP limit is higher).
    (await loggedIn()).close();
  });
});

describe('two sessions on one folder (RFC 3501 §7.4.1, §5.2)', () => {
  test('an EXPUNGE in one session reaches the other at NOOP, never during FETCH, STORE or SEARCH', async () => {
    await folderWith('shared', 4);
    const first = await loggedIn();
    await first.command('SELECT shared');
    const second = await loggedIn();
    await second.command('SELECT shared');
    await second.command('STORE 2 +FLAGS.SILENT (\\Deleted)');
    const expunged = await second.command('EXPUNGE');
    assert.deepEqual(expunged.lines, ['* 2 EXPUNGE']);

    // Message 2 keeps its number until the EXPUNGE is announced; its data may or may not still be sent.
    const fetched = await first.command('FETCH 1:4 (UID)');
    assert.deepEqual(
      fetched.lines.filter((l) => !l.startsWith('* 2 ')),
      ['* 1 FETCH (UID 1)', '* 3 FETCH (UID 3)', '* 4 FETCH (UID 4)'],
      'no EXPUNGE during FETCH',
    );
    const stored = await first.command('STORE 3 +FLAGS (\\Seen)');
    assert.deepEqual(stored.lines, ['* 3 FETCH (FLAGS (\\Seen))']);
    const searched = await first.command('SEARCH ALL');
    assert.deepEqual(searched.lines, ['* SEARCH 1 3 4']);
    const uidFetched = await first.command('UID FETCH 1:* FLAGS');
    assert.ok(!uidFetched.lines.some((l) => l.endsWith('EXPUNGE')));
    const noop = await first.command('NOOP');
    assert.deepEqual(noop.lines, ['* 2 EXPUNGE']);
    assert.deepEqual((await first.command('FETCH 2 UID')).lines, ['* 2 FETCH (UID 3)']);

    // §7.4.2: a flag change by another session is a FETCH FLAGS at the next NOOP.
    await second.command('NOOP');
    await second.command('UID STORE 4 +FLAGS (\\Answered)');
    assert.deepEqual((await first.command('NOOP')).lines, ['* 3 FETCH (UID 4 FLAGS (\\Answered))']);
    // A new message: EXISTS at NOOP, with RECENT (§7.3.2).
    // RFC 3501 §6.3.11: APPEND to the selected folder reports the new EXISTS to the appending session too,
    // which is the first told of it: the message is recent there (§2.3.2), not in the other session.
    second.send(`ap1 APPEND shared {${message(5).length}+}\r\n${message(5)}\r\n`);
    const appended = await second.until('ap1');
    assert.deepEqual(appended.lines, ['* 4 EXISTS', '* 1 RECENT']);
    assert.deepEqual((await first.command('NOOP')).lines, ['* 4 EXISTS', '* 0 RECENT']);
    first.close();
    second.close();
  });
});

describe('RFC 3516 BINARY', () => {
  const PARTS = [
    'From: Alice <alice@example.test>',
    `To: ${USER}`,
    'Subject: Encoded parts',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b"',
    '',
    '--b',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'caf=C3=A9 au lait, une tr=C3=A8s longue ligne coup=C3=A9e =',
    'en deux',
    '--b',
    'Content-Type: application/octet-stream; name="four.bin"',
    'Content-Transfer-Encoding: base64',
    '',
    'AAEC',
    'Aw==',
    '--b',
    'Content-Type: application/octet-stream',
    'Content-Transfer-Encoding: x-uuencode',
    '',
    'begin 644 x',
    '--b--',
    '',
  ].join('\r\n');
  const SINGLE = ['From: Bob <bob@example.test>', 'Subject: Single', 'Content-Transfer-Encoding: base64', '', 'SGVsbG8g', 'd29ybGQ=', ''].join('\r\n');
  const lit = (s: string, binary = false) => `${binary ? '~' : ''}{${Buffer.byteLength(s, 'latin1')}}\r\n${s}`;
  const decodedText = Buffer.from('café au lait, une très longue ligne coupée en deux', 'utf8').toString('latin1');

  test('RFC 3516 §4.1 BINARY is advertised after login', async () => {
    const imap = await loggedIn();
    assert.match((await imap.command('CAPABILITY')).lines[0] ?? '', / BINARY( |$)/);
    imap.close();
  });

  test('RFC 3516 §4.2-4.3 BINARY[part] decodes base64 and quoted-printable; BINARY.SIZE matches; literal8 only for NUL', async () => {
    const imap = await loggedIn();
    await imap.command('CREATE binary');
    await append(imap, 'binary', PARTS);
    await append(imap, 'binary', SINGLE);
    await imap.command('SELECT binary');
    const expectations: Array<[string, string]> = [
      ['BINARY.SIZE[1] BINARY.SIZE[2]', `BINARY.SIZE[1] ${Buffer.byteLength(decodedText, 'latin1')} BINARY.SIZE[2] 4`],
      ['BINARY.PEEK[1]', `BINARY[1] ${lit(decodedText)}`],
      ['BINARY.PEEK[2]', `BINARY[2] ${lit('\x00\x01\x02\x03', true)}`],
      ['BINARY.PEEK[2]<1.2>', `BINARY[2]<1> ${lit('\x01\x02', true)}`],
      ['BINARY.PEEK[1]<5.100>', `BINARY[1]<5> ${lit(decodedText.slice(5))}`],
      ['BINARY.PEEK[4]', `BINARY[4] ${lit('')}`],
    ];
    for (const [item, expected] of expectations) {
      assert.deepEqual((await imap.command(`FETCH 1 (${item})`)).lines, [`* 1 FETCH (${expected})`], item);
    }
    const header = SINGLE.slice(0, SINGLE.indexOf('\r\n\r\n') + 4);
    assert.deepEqual(
      (await imap.command('FETCH 2 (BINARY.PEEK[])')).lines,
      [`* 2 FETCH (BINARY[] ${lit(`${header}Hello world`)})`],
      'BINARY[] of a single part: header, then the decoded body',
    );
    assert.deepEqual((await imap.command('FETCH 2 (BINARY.PEEK[1] BINARY.SIZE[1])')).lines, [`* 2 FETCH (BINARY[1] ${lit('Hello world')} BINARY.SIZE[1] 11)`]);
    assert.deepEqual((await imap.command('FETCH 1 FLAGS')).lines, ['* 1 FETCH (FLAGS (\\Recent))'], 'BINARY.PEEK and BINARY.SIZE set no \\Seen');
    assert.deepEqual(
      (await imap.command('FETCH 1 BINARY[2]')).lines,
      [`* 1 FETCH (BINARY[2] ${lit('\x00\x01\x02\x03', true)} FLAGS (\\Seen \\Recent))`],
      'BINARY sets \\Seen',
    );
    imap.close();
  });

  test('RFC 3516 §4.3 an unknown transfer encoding: NO [UNKNOWN-CTE] for BINARY and BINARY.SIZE', async () => {
    const imap = await loggedIn();
    await imap.command('EXAMINE binary');
    assert.match((await imap.command('FETCH 1 (BINARY.PEEK[3])')).tagged, /^a\d+ NO \[UNKNOWN-CTE\] /);
    assert.match((await imap.command('FETCH 1 (BINARY.SIZE[3])')).tagged, /^a\d+ NO \[UNKNOWN-CTE\] /);
    assert.match((await imap.command('FETCH 1 (BINARY.PEEK[HEADER])')).tagged, /^a\d+ BAD /, 'section-binary is part numbers only');
    imap.close();
  });

  test('RFC 3516 §4.4 APPEND with a literal8 keeps NUL bytes: BINARY gives them back', async () => {
    const imap = await loggedIn();
    const raw = Buffer.concat([
      Buffer.from('From: c@example.test\r\nSubject: raw\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n'),
      Buffer.from([0, 1, 2, 0, 255, 13, 10]),
    ]);
    imap.send(Buffer.concat([Buffer.from(`b1 APPEND binary ~{${raw.length}+}\r\n`), raw, Buffer.from('\r\n')]));
    assert.match((await imap.until('b1')).tagged, /^b1 OK \[APPENDUID \d+ 3\]/);
    await imap.command('EXAMINE binary');
    const body = Buffer.from([0, 1, 2, 0, 255, 13, 10]).toString('latin1');
    assert.deepEqual((await imap.command('UID FETCH 3 (BINARY.PEEK[1])')).lines, [`* 3 FETCH (UID 3 BINARY[1] ${lit(body, true)})`]);
    imap.close();
  });
});

describe('RFC 3501 §2.3.2 \\Recent', () => {
  test('recent in the first session that selects the folder; EXAMINE shows it and leaves it; STATUS RECENT; SEARCH RECENT, NEW, OLD', async () => {
    const filler = await loggedIn();
    await filler.command('CREATE recent');
    await append(filler, 'recent', message(1));
    await append(filler, 'recent', message(2));
    assert.deepEqual((await filler.command('STATUS recent (MESSAGES RECENT)')).lines, ['* STATUS "recent" (MESSAGES 2 RECENT 2)']);

    const examiner = await loggedIn();
    assert.ok((await examiner.command('EXAMINE recent')).lines.includes('* 2 RECENT'));
    assert.deepEqual((await examiner.command('FETCH 1:2 FLAGS')).lines, ['* 1 FETCH (FLAGS (\\Recent))', '* 2 FETCH (FLAGS (\\Recent))']);

    const first = await loggedIn();
    assert.ok((await first.command('SELECT recent')).lines.includes('* 2 RECENT'), 'EXAMINE did not take them (§6.3.2)');
    assert.deepEqual((await first.command('SEARCH NEW')).lines, ['* SEARCH 1 2']);
    assert.deepEqual((await first.command('STORE 1 +FLAGS (\\Seen)')).lines, ['* 1 FETCH (FLAGS (\\Seen \\Recent))']);
    assert.deepEqual((await first.command('SEARCH NEW')).lines, ['* SEARCH 2']);
    assert.deepEqual((await first.command('SEARCH RECENT')).lines, ['* SEARCH 1 2']);
    assert.deepEqual((await first.command('SEARCH OLD')).lines, ['* SEARCH']);
    assert.match((await first.command('STORE 2 +FLAGS (\\Recent)')).tagged, /^a\d+ BAD /, 'only the server sets \\Recent');

    const second = await loggedIn();
    assert.ok((await second.command('SELECT recent')).lines.includes('* 0 RECENT'));
    assert.deepEqual((await second.command('FETCH 1:2 FLAGS')).lines, ['* 1 FETCH (FLAGS (\\Seen))', '* 2 FETCH (FLAGS ())']);
    assert.deepEqual((await second.command('SEARCH OLD')).lines, ['* SEARCH 1 2']);
    assert.deepEqual((await filler.command('STATUS recent (RECENT)')).lines, ['* STATUS "recent" (RECENT 0)']);

    // A new message is recent in the first session told of it (§7.3.2: RECENT comes with EXISTS).
    await append(filler, 'recent', message(3));
    assert.deepEqual((await first.command('NOOP')).lines, ['* 3 EXISTS', '* 3 RECENT'], 'messages 1 and 2 stay recent in this session');
    assert.deepEqual((await second.command('NOOP')).lines, ['* 3 EXISTS', '* 0 RECENT']);
    assert.deepEqual((await first.command('FETCH 3 FLAGS')).lines, ['* 3 FETCH (FLAGS (\\Recent))']);
    for (const imap of [filler, examiner, first, second]) imap.close();
  });
});
