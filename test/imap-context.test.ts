/**
 * IMAP CONTEXT=SEARCH (RFC 5267 §4) as conversations against the running service: PARTIAL results,
 * and searches with UPDATE whose results follow the folder as other sessions (and deliveries) change
 * it: ADDTO after EXISTS or FETCH, REMOVEFROM before EXPUNGE, CANCELUPDATE, NOUPDATE past the limit.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { MAX_SEARCH_CONTEXTS } from '../src/imap/server/search-contexts.ts';
import { deliverMessage, receiveMessage } from '../src/mailstore/index.ts';
import { expectStatus, operatorClient, setupCustomer, waitForOperation } from './helpers/client.ts';
import { RawImap } from './helpers/imap.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'context.test';
const USER = `user@${DOMAIN}`;
const PASSWORD = 'user-password-1';
let service: TestService;
let port: number;
let admin: Awaited<ReturnType<typeof setupCustomer>>['admin'];
let subscriptionId: string;

async function addAccount(address: string): Promise<string> {
  const account = await admin.post(`/api/subscriptions/${subscriptionId}/accounts`, { address, classId: 'standard', password: PASSWORD });
  expectStatus(account, 201);
  return account.body.id;
}

function message(n: number, extra: { subject?: string; body?: string } = {}): string {
  return [
    `From: Sender ${n} <sender${n}@example.test>`,
    `To: ${USER}`,
    `Subject: ${extra.subject ?? `Message ${n}`}`,
    'Date: Thu, 26 Nov 2026 10:00:00 +0000',
    `Message-ID: <c${n}.${Math.random().toString(36).slice(2)}@example.test>`,
    '',
    extra.body ?? `Body of message ${n}`,
    '',
  ].join('\r\n');
}

/** A delivery into the account's INBOX, as the MX files it (no IMAP session involved). */
async function deliverTo(accountId: string, raw: string): Promise<number> {
  const received = await receiveMessage(service.ctx, Readable.from([Buffer.from(raw)]), { maxBytes: 1 << 20 });
  const [result] = await deliverMessage(service.ctx, received, [{ accountId }]);
  assert.ok(result?.ok);
  return result.uid;
}

async function loggedIn(user = USER): Promise<RawImap> {
  const imap = await RawImap.open(port);
  assert.match((await imap.command(`LOGIN ${user} ${PASSWORD}`)).tagged, /^a\d+ OK /);
  return imap;
}

async function selected(folder: string, user = USER): Promise<RawImap> {
  const imap = await loggedIn(user);
  assert.match((await imap.command(`SELECT ${folder}`)).tagged, /^a\d+ OK /);
  return imap;
}

/** APPEND with a non-synchronizing literal (RFC 7888 LITERAL+); the new UID. */
async function append(imap: RawImap, folder: string, raw: string, flags = ''): Promise<number> {
  const tag = `ap${Math.random().toString(36).slice(2, 8)}`;
  imap.send(`${tag} APPEND ${folder} ${flags ? `(${flags}) ` : ''}{${Buffer.byteLength(raw)}+}\r\n${raw}\r\n`);
  const reply = await imap.until(tag);
  const uid = / OK \[APPENDUID \d+ (\d+)\]/.exec(reply.tagged)?.[1];
  assert.ok(uid, reply.tagged);
  return Number(uid);
}

/** A new folder of the main account holding `count` messages, filled by a session of its own. */
async function folderWith(name: string, count: number, flags: (n: number) => string = () => ''): Promise<void> {
  const imap = await loggedIn();
  assert.match((await imap.command(`CREATE ${name}`)).tagged, /^a\d+ OK /);
  for (let n = 1; n <= count; n++) await append(imap, name, message(n), flags(n));
  // Selected once here, so the messages are not \Recent in the sessions the tests open.
  await imap.command(`SELECT ${name}`);
  imap.close();
}

/** The untagged lines of a reply that are not \Recent counts (who is told first of a new message varies). */
const withoutRecent = (lines: string[]) => lines.filter((line) => !/^\* \d+ RECENT$/.test(line));

before(async () => {
  service = await startTestService({
    overrides: { roles: ['web', 'imap'], ports: { http: 0, imap: 0, imaps: 0 }, mailAccess: { allowPlaintextOnLoopback: true } },
  });
  port = service.imapPort as number;
  const operator = await operatorClient(service);
  const setup = await setupCustomer(service, operator, 'Context', { standard: 10 });
  admin = setup.admin;
  subscriptionId = setup.subscriptionId;
  const added = await admin.post(`/api/subscriptions/${subscriptionId}/domains`, { name: DOMAIN });
  await waitForOperation(admin, added.body.id);
  await addAccount(USER);
});
after(() => service.close());

describe('RFC 5267 §4 CONTEXT=SEARCH', () => {
  test('RFC 5267 §4.1 CONTEXT=SEARCH is advertised after login (ESEARCH too), CONTEXT=SORT is not', async () => {
    const imap = await loggedIn();
    const [line] = (await imap.command('CAPABILITY')).lines;
    const names = (line ?? '').split(' ');
    assert.ok(names.includes('CONTEXT=SEARCH'), line);
    assert.ok(names.includes('ESEARCH'), line);
    assert.ok(!names.includes('CONTEXT=SORT'), line);
    imap.close();
  });

  test('RFC 5267 §4.4 PARTIAL m:n gives the results at those positions in mailbox order, NIL past the end; §4.2 CONTEXT is a hint', async () => {
    // Messages 1, 3, 5, 7 and 9 are \Seen: five results.
    await folderWith('partial', 10, (n) => (n % 2 === 1 ? '\\Seen' : ''));
    const imap = await selected('partial');
    const cases: Array<[string, string]> = [
      ['UID SEARCH RETURN (PARTIAL 2:3) SEEN', 'UID PARTIAL (2:3 3,5)'],
      // A range that spans the end gives what there is; one beyond it gives NIL (§4.4 examples A02, A04).
      ['UID SEARCH RETURN (PARTIAL 4:500) SEEN', 'UID PARTIAL (4:500 7,9)'],
      ['UID SEARCH RETURN (PARTIAL 6:8) SEEN', 'UID PARTIAL (6:8 NIL)'],
      // §5: "A range 500:400 is the same as 400:500"; with SEARCH, message numbers.
      ['SEARCH RETURN (PARTIAL 3:1 COUNT) SEEN', 'COUNT 5 PARTIAL (1:3 1,3,5)'],
      ['SEARCH RETURN (PARTIAL 1:10) ALL', 'PARTIAL (1:10 1:10)'],
      ['SEARCH RETURN (MIN PARTIAL 2:2) UNSEEN', 'MIN 2 PARTIAL (2:2 4)'],
      // §4.2 example A01: RETURN (CONTEXT COUNT) answers the COUNT.
      ['SEARCH RETURN (CONTEXT COUNT) UNDELETED UNKEYWORD $Junk', 'COUNT 10'],
    ];
    let n = 0;
    for (const [command, data] of cases) {
      const tag = `P${++n}`;
      const reply = await imap.command(command, tag);
      assert.deepEqual(reply.lines, [`* ESEARCH (TAG "${tag}") ${data}`], command);
      assert.match(reply.tagged, new RegExp(`^${tag} OK `), command);
    }
    // §4.4: "either one PARTIAL, one ALL, or neither PARTIAL nor ALL is allowed".
    for (const command of ['SEARCH RETURN (PARTIAL 1:5 ALL) SEEN', 'SEARCH RETURN (PARTIAL 1:5 PARTIAL 6:9) SEEN', 'SEARCH RETURN (PARTIAL 0:5) SEEN']) {
      const reply = await imap.command(command);
      assert.deepEqual(reply.lines, [], command);
      assert.match(reply.tagged, /^a\d+ BAD /, command);
    }
    imap.close();
  });

  test('RFC 5267 §4.3.3 UPDATE: a delivery from elsewhere is reported by ADDTO after its EXISTS, at NOOP and in IDLE', async () => {
    const address = `deliveries@${DOMAIN}`;
    const accountId = await addAccount(address);
    for (let n = 1; n <= 3; n++) await deliverTo(accountId, message(n));
    const imap = await selected('INBOX', address);
    // §4.3 example B01: the COUNT now, then the changes as they come.
    const counted = await imap.command('UID SEARCH RETURN (UPDATE COUNT) UNSEEN', 'B01');
    assert.deepEqual(counted.lines, ['* ESEARCH (TAG "B01") UID COUNT 3']);
    assert.match(counted.tagged, /^B01 OK /);
    const plain = await imap.command('SEARCH RETURN (UPDATE) UNSEEN', 'B02');
    assert.deepEqual(plain.lines, ['* ESEARCH (TAG "B02")']);

    const uid = await deliverTo(accountId, message(4));
    const noop = await imap.command('NOOP');
    assert.deepEqual(withoutRecent(noop.lines), ['* 4 EXISTS', `* ESEARCH (TAG "B01") UID ADDTO (0 ${uid})`, '* ESEARCH (TAG "B02") ADDTO (0 4)']);

    imap.send('I1 IDLE\r\n');
    assert.equal(await imap.line(), '+ idling');
    const next = await deliverTo(accountId, message(5));
    assert.equal(await imap.line(), '* 5 EXISTS');
    assert.equal(await imap.line(), '* 5 RECENT');
    assert.equal(await imap.line(), `* ESEARCH (TAG "B01") UID ADDTO (0 ${next})`);
    assert.equal(await imap.line(), '* ESEARCH (TAG "B02") ADDTO (0 5)');
    imap.send('DONE\r\n');
    assert.deepEqual(await imap.until('I1'), { lines: [], tagged: 'I1 OK IDLE terminated' });
    // The context's set is what a new search answers.
    assert.deepEqual((await imap.command('UID SEARCH RETURN (ALL) UNSEEN', 'B03')).lines, [`* ESEARCH (TAG "B03") UID ALL 1:${next}`]);
    imap.close();
  });

  test("RFC 5267 §4.3.3-4.3.4 UPDATE: another session's STORE adds (ADDTO) and removes (REMOVEFROM) after the FETCH; so does this session's own", async () => {
    await folderWith('flagged', 4);
    const watcher = await selected('flagged');
    const other = await selected('flagged');
    assert.deepEqual((await watcher.command('UID SEARCH RETURN (UPDATE) FLAGGED', 'F1')).lines, ['* ESEARCH (TAG "F1") UID']);

    await other.command('UID STORE 2 +FLAGS (\\Flagged)');
    assert.deepEqual((await watcher.command('NOOP')).lines, ['* 2 FETCH (UID 2 FLAGS (\\Flagged))', '* ESEARCH (TAG "F1") UID ADDTO (0 2)']);
    // A change that does not touch the result: its FETCH only.
    await other.command('UID STORE 2 +FLAGS (\\Seen)');
    assert.deepEqual((await watcher.command('NOOP')).lines, ['* 2 FETCH (UID 2 FLAGS (\\Flagged \\Seen))']);
    await other.command('UID STORE 3:4 +FLAGS (\\Flagged)');
    await other.command('UID STORE 2 -FLAGS (\\Flagged)');
    assert.deepEqual((await watcher.command('NOOP')).lines, [
      '* 2 FETCH (UID 2 FLAGS (\\Seen))',
      '* 3 FETCH (UID 3 FLAGS (\\Flagged))',
      '* 4 FETCH (UID 4 FLAGS (\\Flagged))',
      '* ESEARCH (TAG "F1") UID REMOVEFROM (0 2) ADDTO (0 3:4)',
    ]);
    // The session's own STORE: its FETCH, then the update.
    const stored = await watcher.command('STORE 1,3 FLAGS (\\Flagged)');
    assert.deepEqual(stored.lines, ['* 1 FETCH (FLAGS (\\Flagged))', '* 3 FETCH (FLAGS (\\Flagged))', '* ESEARCH (TAG "F1") UID ADDTO (0 1)']);
    const silent = await watcher.command('UID STORE 1:4 -FLAGS.SILENT (\\Flagged)');
    assert.deepEqual(silent.lines, ['* ESEARCH (TAG "F1") UID REMOVEFROM (0 1,3:4)']);
    assert.ok(!(await other.command('NOOP')).lines.some((line) => line.includes('ESEARCH')), "the other session is not told of the watcher's contexts");
    watcher.close();
    other.close();
  });

  test('RFC 5267 §4.3.4 UPDATE: REMOVEFROM comes before the EXPUNGE (or VANISHED), with the numbers valid until then', async () => {
    await folderWith('expunged', 5);
    const watcher = await selected('expunged');
    const other = await selected('expunged');
    await watcher.command('UID SEARCH RETURN (UPDATE) NOT SUBJECT "Message 3"', 'E1');
    await watcher.command('SEARCH RETURN (UPDATE) ALL', 'E2');
    await other.command('STORE 2,4 +FLAGS.SILENT (\\Deleted)');
    await other.command('EXPUNGE');
    // RFC 3501 §7.4.1: not during SEARCH (nor FETCH, STORE): the expunge and its REMOVEFROM wait.
    for (let n = 0; n < 2; n++) {
      const searched = await watcher.command('SEARCH ALL');
      assert.ok(
        searched.lines.every((line) => line.startsWith('* SEARCH ')),
        searched.lines.join('\n'),
      );
    }
    const noop = await watcher.command('NOOP');
    assert.deepEqual(noop.lines, ['* ESEARCH (TAG "E1") UID REMOVEFROM (0 2,4)', '* ESEARCH (TAG "E2") REMOVEFROM (0 2,4)', '* 4 EXPUNGE', '* 2 EXPUNGE']);
    // An expunged message that was not in the result: EXPUNGE only.
    await other.command('UID STORE 3 +FLAGS.SILENT (\\Deleted)');
    await other.command('UID EXPUNGE 3');
    assert.deepEqual((await watcher.command('NOOP')).lines, ['* ESEARCH (TAG "E2") REMOVEFROM (0 2)', '* 2 EXPUNGE']);
    // With QRESYNC, VANISHED after the REMOVEFROM.
    const qresync = await loggedIn();
    await qresync.command('ENABLE QRESYNC');
    await qresync.command('SELECT expunged');
    await qresync.command('UID SEARCH RETURN (UPDATE) ALL', 'V1');
    await other.command('UID STORE 5 +FLAGS.SILENT (\\Deleted)');
    await other.command('UID EXPUNGE 5');
    assert.deepEqual((await qresync.command('NOOP')).lines, ['* ESEARCH (TAG "V1") UID REMOVEFROM (0 5)', '* VANISHED 5']);
    watcher.close();
    other.close();
    qresync.close();
  });

  test('RFC 5267 §4.3.2 SEARCH (not UID SEARCH) updates carry message numbers, which differ from UIDs here', async () => {
    await folderWith('numbers', 5);
    const watcher = await selected('numbers');
    const other = await selected('numbers');
    await other.command('UID STORE 1 +FLAGS.SILENT (\\Deleted)');
    await other.command('EXPUNGE');
    assert.deepEqual((await watcher.command('NOOP')).lines, ['* 1 EXPUNGE']);
    // Message n is UID n + 1 now.
    assert.deepEqual((await watcher.command('SEARCH RETURN (UPDATE ALL) NOT FLAGGED', 'N1')).lines, ['* ESEARCH (TAG "N1") ALL 1:4']);
    await other.command('UID STORE 4 +FLAGS (\\Flagged)');
    assert.deepEqual((await watcher.command('NOOP')).lines, ['* 3 FETCH (UID 4 FLAGS (\\Flagged))', '* ESEARCH (TAG "N1") REMOVEFROM (0 3)']);
    const uid = await append(other, 'numbers', message(6));
    assert.equal(uid, 6);
    assert.deepEqual(withoutRecent((await watcher.command('NOOP')).lines), ['* 5 EXISTS', '* ESEARCH (TAG "N1") ADDTO (0 5)']);
    watcher.close();
    other.close();
  });

  test('RFC 5267 §4.3 sequence numbers in an UPDATE search are evaluated when the command is received', async () => {
    await folderWith('sequence', 4);
    const watcher = await selected('sequence');
    const other = await selected('sequence');
    // Messages 2:3 (UIDs 2 and 3) that are not flagged; the set keeps naming those two messages.
    assert.deepEqual((await watcher.command('UID SEARCH RETURN (UPDATE ALL) 2:3 UNFLAGGED', 'S1')).lines, ['* ESEARCH (TAG "S1") UID ALL 2:3']);
    await other.command('UID STORE 1 +FLAGS.SILENT (\\Deleted)');
    await other.command('EXPUNGE');
    await append(other, 'sequence', message(5));
    // UID 4 is message 3 now, UID 5 message 4: neither was named by 2:3 when the search ran.
    assert.deepEqual(withoutRecent((await watcher.command('NOOP')).lines), ['* 1 EXPUNGE', '* 4 EXISTS']);
    await other.command('UID STORE 3 +FLAGS (\\Flagged)');
    assert.deepEqual((await watcher.command('NOOP')).lines, ['* 2 FETCH (UID 3 FLAGS (\\Flagged))', '* ESEARCH (TAG "S1") UID REMOVEFROM (0 3)']);
    // `*` in a UID set names the last message whenever the program is evaluated: it moves with new ones.
    assert.deepEqual((await watcher.command('UID SEARCH RETURN (UPDATE ALL) UID *', 'S2')).lines, ['* ESEARCH (TAG "S2") UID ALL 5']);
    await append(other, 'sequence', message(6));
    assert.deepEqual(withoutRecent((await watcher.command('NOOP')).lines), ['* 5 EXISTS', '* ESEARCH (TAG "S2") UID REMOVEFROM (0 5) ADDTO (0 6)']);
    watcher.close();
    other.close();
  });

  test('RFC 5267 §4.3 UPDATE with a text key (BODY, SUBJECT): only new deliveries that contain it are added; flags still count', async () => {
    const address = `texts@${DOMAIN}`;
    const accountId = await addAccount(address);
    const first = await deliverTo(accountId, message(1, { body: 'A crate of kumquats arrived.' }));
    await deliverTo(accountId, message(2, { body: 'Nothing to see.' }));
    const other = await selected('INBOX', address);
    const imap = await selected('INBOX', address);
    assert.deepEqual((await imap.command('UID SEARCH RETURN (UPDATE ALL) BODY kumquat', 'T1')).lines, [`* ESEARCH (TAG "T1") UID ALL ${first}`]);
    // Flags and text: the text hits stay known for the flag changes of old messages.
    assert.deepEqual((await imap.command('UID SEARCH RETURN (UPDATE ALL) UNSEEN BODY KUMQUAT', 'T2')).lines, [`* ESEARCH (TAG "T2") UID ALL ${first}`]);
    // Two characters: no trigram, the other way through the text index.
    assert.deepEqual((await imap.command('UID SEARCH RETURN (UPDATE COUNT) SUBJECT "zq"', 'T3')).lines, ['* ESEARCH (TAG "T3") UID COUNT 0']);

    const without = await deliverTo(accountId, message(3, { body: 'Apples only.' }));
    const withIt = await deliverTo(accountId, message(4, { subject: 'Zq kumquat news', body: 'Fresh KUMQUATS today.' }));
    assert.deepEqual(withoutRecent((await imap.command('NOOP')).lines), [
      '* 4 EXISTS',
      `* ESEARCH (TAG "T1") UID ADDTO (0 ${withIt})`,
      `* ESEARCH (TAG "T2") UID ADDTO (0 ${withIt})`,
      `* ESEARCH (TAG "T3") UID ADDTO (0 ${withIt})`,
    ]);
    await other.command('NOOP'); // the other session learns of the new messages before it stores on them
    await other.command(`UID STORE ${first},${without} +FLAGS (\\Seen)`);
    // Message 3 is \\Recent in this session, which was told of it first (RFC 3501 §2.3.2).
    assert.deepEqual((await imap.command('NOOP')).lines, [
      `* 1 FETCH (UID ${first} FLAGS (\\Seen))`,
      `* 3 FETCH (UID ${without} FLAGS (\\Seen \\Recent))`,
      `* ESEARCH (TAG "T2") UID REMOVEFROM (0 ${first})`,
    ]);
    imap.close();
    other.close();
  });

  test('RFC 5267 §4.3 a tag still in use by a search with UPDATE is BAD for another UPDATE; free again after CANCELUPDATE', async () => {
    await folderWith('tags', 2);
    const imap = await selected('tags');
    assert.match((await imap.command('UID SEARCH RETURN (UPDATE COUNT) ALL', 'B01')).tagged, /^B01 OK /);
    // §4.3 example: "B01 SORT RETURN (UPDATE) FLAGGED" is rejected; here with SEARCH.
    const reused = await imap.command('SEARCH RETURN (UPDATE) FLAGGED', 'B01');
    assert.deepEqual(reused.lines, []);
    assert.match(reused.tagged, /^B01 BAD /);
    // Without UPDATE the tag is only a tag.
    assert.deepEqual((await imap.command('SEARCH RETURN (COUNT) ALL', 'B01')).lines, ['* ESEARCH (TAG "B01") COUNT 2']);
    assert.equal((await imap.command('CANCELUPDATE "B01"', 'B04')).tagged, 'B04 OK CANCELUPDATE completed, no further updates');
    assert.match((await imap.command('SEARCH RETURN (UPDATE) FLAGGED', 'B01')).tagged, /^B01 OK /);
    imap.close();
  });

  test('RFC 5267 §4.3.5 CANCELUPDATE stops the updates of the contexts named; leaving the folder stops them all', async () => {
    await folderWith('cancelled', 2);
    const imap = await selected('cancelled');
    const other = await selected('cancelled');
    await imap.command('UID SEARCH RETURN (UPDATE) ALL', 'C1');
    await imap.command('UID SEARCH RETURN (UPDATE) ALL', 'C2');
    await imap.command('UID SEARCH RETURN (UPDATE) ALL', 'C3');
    assert.equal((await imap.command('CANCELUPDATE "C1" "C3"', 'B04')).tagged, 'B04 OK CANCELUPDATE completed, no further updates');
    await append(other, 'cancelled', message(3));
    assert.deepEqual(withoutRecent((await imap.command('NOOP')).lines), ['* 3 EXISTS', '* ESEARCH (TAG "C2") UID ADDTO (0 3)']);
    // A tag without a context (cancelled, or never one): BAD, and nothing is cancelled.
    for (const command of ['CANCELUPDATE "C1"', 'CANCELUPDATE "C2" "nope"', 'CANCELUPDATE']) {
      assert.match((await imap.command(command)).tagged, /^a\d+ BAD /, command);
    }
    await append(other, 'cancelled', message(4));
    assert.deepEqual(withoutRecent((await imap.command('NOOP')).lines), ['* 4 EXISTS', '* ESEARCH (TAG "C2") UID ADDTO (0 4)']);
    // §4.3: "Updates will cease when the mailbox is no longer selected".
    await imap.command('UNSELECT');
    assert.match((await imap.command('CANCELUPDATE "C2"')).tagged, /^a\d+ BAD /, 'not in the authenticated state');
    await imap.command('SELECT cancelled');
    await append(other, 'cancelled', message(5));
    assert.deepEqual(withoutRecent((await imap.command('NOOP')).lines), ['* 5 EXISTS']);
    assert.match((await imap.command('CANCELUPDATE "C2"')).tagged, /^a\d+ BAD /, 'the context ended with the folder');
    await imap.command('UID SEARCH RETURN (UPDATE) ALL', 'C4');
    await imap.command('SELECT tags');
    await append(other, 'cancelled', message(6));
    await imap.command('SELECT cancelled');
    await append(other, 'cancelled', message(7));
    assert.deepEqual(withoutRecent((await imap.command('NOOP')).lines), ['* 7 EXISTS']);
    imap.close();
    other.close();
  });

  test(`RFC 5267 §4.3.1 past ${MAX_SEARCH_CONTEXTS} contexts: NO [NOUPDATE "tag"], the other return options still answered`, async () => {
    await folderWith('limited', 3);
    const imap = await selected('limited');
    const other = await selected('limited');
    for (let n = 1; n <= MAX_SEARCH_CONTEXTS; n++) {
      const reply = await imap.command('UID SEARCH RETURN (UPDATE) ALL', `L${n}`);
      assert.deepEqual(reply.lines, [`* ESEARCH (TAG "L${n}") UID`]);
    }
    const refused = await imap.command('UID SEARCH RETURN (UPDATE COUNT) ALL', 'B02');
    assert.equal(refused.lines.length, 2);
    assert.equal(refused.lines[0], '* ESEARCH (TAG "B02") UID COUNT 3');
    assert.match(refused.lines[1] ?? '', /^\* NO \[NOUPDATE "B02"\] /);
    assert.match(refused.tagged, /^B02 OK /);
    await append(other, 'limited', message(4));
    const expected = ['* 4 EXISTS'];
    for (let n = 1; n <= MAX_SEARCH_CONTEXTS; n++) expected.push(`* ESEARCH (TAG "L${n}") UID ADDTO (0 4)`);
    assert.deepEqual(withoutRecent((await imap.command('NOOP')).lines), expected);
    // A context cancelled makes room for another.
    await imap.command('CANCELUPDATE "L1"');
    assert.deepEqual((await imap.command('UID SEARCH RETURN (UPDATE MIN) ALL', 'B03')).lines, ['* ESEARCH (TAG "B03") UID MIN 1']);
    imap.close();
    other.close();
  });
});
