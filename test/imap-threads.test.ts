/**
 * SORT (RFC 5256, RFC 5957 SORT=DISPLAY, RFC 5267 ESORT) and THREAD (RFC 5256 ORDEREDSUBJECT and
 * REFERENCES) as conversations against the running service, over messages delivered through the MX
 * and APPENDed; and the account's conversations the mailstore stores at delivery (migration 011),
 * including messages stored before it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runDueJobs } from '../src/jobs/index.ts';
import { operatorClient } from './helpers/client.ts';
import { type MailCustomer, setupMailCustomer } from './helpers/filter.ts';
import { RawImap } from './helpers/imap.ts';
import { RawSmtp } from './helpers/mail.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'threads.test';
let service: TestService;
let customer: MailCustomer;

function account(local: string) {
  const found = customer.accounts.find((a) => a.address === `${local}@${DOMAIN}`);
  assert.ok(found);
  return found;
}

interface Mail {
  subject: string;
  id?: string;
  from?: string;
  to?: string;
  cc?: string;
  date?: string;
  inReplyTo?: string;
  references?: string;
  body?: string;
}

function raw(m: Mail): string {
  const lines = [
    `From: ${m.from ?? 'Sender <sender@outside.test>'}`,
    `To: ${m.to ?? `user@${DOMAIN}`}`,
    ...(m.cc ? [`Cc: ${m.cc}`] : []),
    `Subject: ${m.subject}`,
    `Date: ${m.date ?? 'Thu, 26 Nov 2026 10:00:00 +0000'}`,
    ...(m.id ? [`Message-ID: ${m.id}`] : []),
    ...(m.inReplyTo ? [`In-Reply-To: ${m.inReplyTo}`] : []),
    ...(m.references ? [`References: ${m.references}`] : []),
    '',
    m.body ?? `Body of ${m.subject}`,
    '',
  ];
  return lines.join('\r\n');
}

/** Through the MX, as an outside server delivers. */
async function sendInbound(to: string, m: Mail): Promise<void> {
  const smtp = await RawSmtp.open(service.mxPort as number);
  await smtp.command('EHLO mail.outside.test');
  assert.match(await smtp.command('MAIL FROM:<sender@outside.test>'), /^250 /);
  assert.match(await smtp.command(`RCPT TO:<${to}>`), /^250 /);
  assert.match(await smtp.command('DATA'), /^354 /);
  smtp.send(`${raw({ ...m, to }).replace(/^\./gm, '..')}.\r\n`);
  assert.match(await smtp.reply(), /^250 /);
  smtp.close();
}

async function loggedIn(local: string): Promise<RawImap> {
  const imap = await RawImap.open(service.imapPort as number);
  const { password, address } = account(local);
  assert.match((await imap.command(`LOGIN ${address} ${password}`)).tagged, /^a\d+ OK /);
  return imap;
}

/** APPEND with LITERAL+, an internal date when given (RFC 3501 §6.3.11); `to` unless the message has its own. */
async function append(imap: RawImap, folder: string, m: Mail, to: string, internalDate?: string): Promise<void> {
  const text = raw({ to, ...m });
  const date = internalDate ? `"${internalDate}" ` : '';
  const reply = await imap.command(`APPEND ${folder} ${date}{${Buffer.byteLength(text)}+}\r\n${text}`);
  assert.match(reply.tagged, / OK /);
}

/** The one untagged line starting with `prefix`. */
function untagged(lines: string[], prefix: string): string {
  const found = lines.filter((line) => line.startsWith(`* ${prefix}`));
  assert.equal(found.length, 1, lines.join('\n'));
  return found[0] as string;
}

async function threadIds(accountId: string, folder: string): Promise<Map<number, string | null>> {
  const rows = await service.ctx.db
    .selectFrom('messages')
    .innerJoin('mailboxes', 'mailboxes.id', 'messages.mailbox_id')
    .select(['messages.uid', 'messages.thread_id'])
    .where('messages.account_id', '=', accountId)
    .where('mailboxes.name', '=', folder)
    .execute();
  return new Map(rows.map((r) => [Number(r.uid), r.thread_id]));
}

before(async () => {
  service = await startTestService({
    overrides: {
      roles: ['web', 'mx', 'imap'],
      ports: { http: 0, mx: 0, imap: 0, imaps: 0 },
      mailAccess: { allowPlaintextOnLoopback: true },
    },
  });
  const operator = await operatorClient(service);
  customer = await setupMailCustomer(service, operator, 'Threads', DOMAIN, ['sorter', 'threader', 'legacy']);
});
after(() => service.close());

describe('RFC 5256 SORT, RFC 5957 SORT=DISPLAY, RFC 5267 ESORT', () => {
  before(async () => {
    const imap = await loggedIn('sorter');
    const to = account('sorter').address;
    assert.match((await imap.command('CREATE Sorting')).tagged, / OK /);
    // Sequence numbers 1..6; subjects carry RFC 5256 §2.1 artifacts.
    const mails: Mail[] = [
      { subject: 'Re: [list] Banana', from: '"Zoé" <zed@b.test>', to: 'Carol <carol@x.test>', date: 'Thu, 26 Nov 2026 12:00:00 +0000', body: 'x'.repeat(300) },
      { subject: 'apple (fwd)', from: 'alice@a.test', to: 'bob@x.test', cc: 'Yann <yann@y.test>', date: 'Thu, 26 Nov 2026 09:00:00 +0000', body: 'short' },
      { subject: '[fwd: Cherry]', from: 'Mallory <bob@c.test>', to: 'Alice <zz@x.test>', date: 'Wed, 25 Nov 2026 23:30:00 -0500', body: 'x'.repeat(100) },
      { subject: 'APPLE', from: 'Émile <emile@d.test>', to: 'dave@x.test', cc: 'abe@y.test', date: 'not a date', body: 'x'.repeat(1000) },
      { subject: 'Fwd: Re: banana', from: 'carl@e.test', date: 'Thu, 26 Nov 2026 08:00:00 +0000', body: 'x'.repeat(50) },
      { subject: '', from: 'anna@f.test', to: 'erin@x.test', date: 'Thu, 26 Nov 2026 11:00:00 +0000', body: 'x'.repeat(500) },
    ];
    // 4 has no usable Date: it sorts by its internal date, given here (the others arrive at the test clock's 26 Nov 10:00).
    for (const [i, m] of mails.entries()) await append(imap, 'Sorting', m, to, i === 3 ? '27-Nov-2026 00:00:00 +0000' : undefined);
    imap.close();
  });

  test('capabilities after login name SORT, SORT=DISPLAY, THREAD=ORDEREDSUBJECT, THREAD=REFERENCES and ESORT (not CONTEXT=SORT)', async () => {
    const imap = await loggedIn('sorter');
    const line = untagged((await imap.command('CAPABILITY')).lines, 'CAPABILITY');
    for (const name of ['SORT', 'SORT=DISPLAY', 'THREAD=ORDEREDSUBJECT', 'THREAD=REFERENCES', 'ESORT']) assert.ok(line.split(' ').includes(name), name);
    // RFC 5267 §4.1: SORT keeps no contexts (UPDATE is refused); CONTEXT=SEARCH is SEARCH's (test/imap-context.test.ts).
    assert.ok(!line.split(' ').includes('CONTEXT=SORT'));
    imap.close();
  });

  test('RFC 5256 §2.1, §3 SORT (SUBJECT): base subjects, empty first, i;unicode-casemap, then mailbox order', async () => {
    const imap = await loggedIn('sorter');
    await imap.command('SELECT Sorting');
    // '' (6), apple (2: "apple (fwd)"), APPLE (4), banana (1: "Re: [list] Banana"), banana (5), cherry (3: "[fwd: Cherry]")
    assert.equal(untagged((await imap.command('SORT (SUBJECT) UTF-8 ALL')).lines, 'SORT'), '* SORT 6 2 4 1 5 3');
    // RFC 5256 §3 example A283: SUBJECT then REVERSE DATE (the Date-less 4 counts at its internal date, later than 2's).
    assert.equal(untagged((await imap.command('SORT (SUBJECT REVERSE DATE) UTF-8 ALL')).lines, 'SORT'), '* SORT 6 4 2 1 5 3');
    // RFC 5256 §3 example A284: nothing matches.
    const none = await imap.command('SORT (SUBJECT) US-ASCII TEXT "not in mailbox"');
    assert.equal(untagged(none.lines, 'SORT'), '* SORT');
    assert.match(none.tagged, / OK /);
    imap.close();
  });

  test('RFC 5256 §2.2, §3 SORT (DATE) in UTC, (ARRIVAL), (SIZE), REVERSE, and UID SORT with search keys', async () => {
    const imap = await loggedIn('sorter');
    await imap.command('SELECT Sorting');
    // 3 is 26 Nov 04:30 UTC; 4 has no usable Date: its internal date (27 Nov, after all of them).
    assert.equal(untagged((await imap.command('SORT (DATE) UTF-8 ALL')).lines, 'SORT'), '* SORT 3 5 2 6 1 4');
    // Equal internal dates keep mailbox order (RFC 5256 §3), also under REVERSE.
    assert.equal(untagged((await imap.command('SORT (ARRIVAL) UTF-8 ALL')).lines, 'SORT'), '* SORT 1 2 3 5 6 4');
    assert.equal(untagged((await imap.command('SORT (REVERSE ARRIVAL) UTF-8 ALL')).lines, 'SORT'), '* SORT 4 1 2 3 5 6');
    assert.equal(untagged((await imap.command('SORT (REVERSE SIZE) UTF-8 ALL')).lines, 'SORT'), '* SORT 4 6 1 3 5 2');
    const fetched = await imap.command('FETCH 1:6 (UID)');
    const uids = fetched.lines.map((l) => Number(/UID (\d+)/.exec(l)?.[1])).filter((n) => n > 0);
    const uidSort = untagged((await imap.command('UID SORT (REVERSE SIZE) UTF-8 NOT SUBJECT apple')).lines, 'SORT');
    assert.equal(uidSort, `* SORT ${[6, 1, 3, 5].map((seq) => uids[seq - 1]).join(' ')}`);
    imap.close();
  });

  test('RFC 5256 §3 FROM, TO, CC sort by addr-mailbox; RFC 5957 §4 DISPLAYFROM, DISPLAYTO by display name', async () => {
    const imap = await loggedIn('sorter');
    await imap.command('SELECT Sorting');
    // mailboxes: zed, alice, bob, emile, carl, anna
    assert.equal(untagged((await imap.command('SORT (FROM) UTF-8 ALL')).lines, 'SORT'), '* SORT 2 6 3 5 4 1');
    // display: Zoé, alice@a.test, Mallory, Émile (É folds to E + accent), carl@e.test, anna@f.test
    assert.equal(untagged((await imap.command('SORT (DISPLAYFROM) UTF-8 ALL')).lines, 'SORT'), '* SORT 2 6 5 4 3 1');
    // To: carol, bob, zz, dave, user (5: the default), erin
    assert.equal(untagged((await imap.command('SORT (TO) UTF-8 ALL')).lines, 'SORT'), '* SORT 2 1 4 6 5 3');
    // DISPLAYTO: Carol, bob@x.test, Alice, dave@x.test, user@threads.test, erin@x.test
    assert.equal(untagged((await imap.command('SORT (DISPLAYTO) UTF-8 ALL')).lines, 'SORT'), '* SORT 3 2 1 4 6 5');
    // Cc absent is the empty string, first; then abe (4), yann (2)
    assert.equal(untagged((await imap.command('SORT (CC) UTF-8 ALL')).lines, 'SORT'), '* SORT 1 3 5 6 4 2');
    imap.close();
  });

  test('RFC 5267 §3.1 ESORT: MIN and MAX in the sorted order, COUNT, ALL as an order-keeping set; §4.4 PARTIAL', async () => {
    const imap = await loggedIn('sorter');
    await imap.command('SELECT Sorting');
    const r1 = await imap.command('SORT RETURN (MIN MAX COUNT) (REVERSE SIZE) UTF-8 ALL');
    assert.match(untagged(r1.lines, 'ESEARCH'), /^\* ESEARCH \(TAG "a\d+"\) MIN 4 MAX 2 COUNT 6$/);
    const r2 = await imap.command('SORT RETURN () (ARRIVAL) UTF-8 ALL');
    assert.match(untagged(r2.lines, 'ESEARCH'), /^\* ESEARCH \(TAG "a\d+"\) ALL 1:3,5:6,4$/);
    // RFC 5267 §3.2: a descending run is not written as a range.
    const r3 = await imap.command('SORT RETURN (ALL) (REVERSE SIZE) UTF-8 ALL');
    assert.match(untagged(r3.lines, 'ESEARCH'), /^\* ESEARCH \(TAG "a\d+"\) ALL 4,6,1,3,5,2$/);
    const r4 = await imap.command('SORT RETURN (PARTIAL 2:4) (SUBJECT) UTF-8 ALL');
    assert.match(untagged(r4.lines, 'ESEARCH'), /^\* ESEARCH \(TAG "a\d+"\) PARTIAL \(2:4 2,4,1\)$/);
    const r5 = await imap.command('UID SORT RETURN (PARTIAL 7:9 COUNT) (SUBJECT) UTF-8 ALL');
    assert.match(untagged(r5.lines, 'ESEARCH'), /^\* ESEARCH \(TAG "a\d+"\) UID COUNT 6 PARTIAL \(7:9 NIL\)$/);
    assert.match((await imap.command('SORT RETURN (PARTIAL 1:2 ALL) (SUBJECT) UTF-8 ALL')).tagged, / BAD /);
    imap.close();
  });

  test('RFC 5256 §3: bad sort programs are BAD, an unknown charset NO [BADCHARSET], SORT outside a folder BAD', async () => {
    const imap = await loggedIn('sorter');
    assert.match((await imap.command('SORT (DATE) UTF-8 ALL')).tagged, / BAD /);
    await imap.command('SELECT Sorting');
    assert.match((await imap.command('SORT (DATE SPEED) UTF-8 ALL')).tagged, / BAD /);
    assert.match((await imap.command('SORT (DATE) ALL')).tagged, / (BAD|NO) /);
    assert.match((await imap.command('SORT (DATE) KOI8-R ALL')).tagged, / NO \[BADCHARSET \(US-ASCII UTF-8\)\]/);
    assert.match((await imap.command('THREAD JWZ UTF-8 ALL')).tagged, / BAD /);
    imap.close();
  });
});

describe('RFC 5256 THREAD over mail delivered by SMTP and APPENDed; the stored conversations', () => {
  const mails = {
    root: { subject: 'Plans for Friday', id: '<root@outside.test>', date: 'Mon, 23 Nov 2026 09:00:00 +0000' },
    reply: { subject: 'Re: Plans for Friday', id: '<reply@threads.test>', inReplyTo: '<root@outside.test>', date: 'Mon, 23 Nov 2026 10:00:00 +0000' },
    nested: {
      subject: 'RE: Plans for Friday',
      id: '<"nested"@outside.test>',
      references: '<root@outside.test> <reply@threads.test>',
      date: 'Mon, 23 Nov 2026 11:00:00 +0000',
    },
    other: { subject: 'Invoice', id: '<invoice@outside.test>', date: 'Mon, 23 Nov 2026 09:30:00 +0000' },
    noRefs: { subject: 'Re: Invoice', id: '<noref@outside.test>', date: 'Mon, 23 Nov 2026 12:00:00 +0000' },
    renamed: { subject: 'Something else entirely', id: '<renamed@outside.test>', references: '<root@outside.test>', date: 'Mon, 23 Nov 2026 13:00:00 +0000' },
  } satisfies Record<string, Mail>;

  before(async () => {
    const to = account('threader').address;
    const imap = await loggedIn('threader');
    // Sequence numbers: 1 root (MX), 2 reply (APPEND), 3 nested (MX), 4 other (MX), 5 noRefs (APPEND), 6 renamed (MX).
    await sendInbound(to, mails.root);
    await append(imap, 'INBOX', mails.reply, to);
    await sendInbound(to, mails.nested);
    await sendInbound(to, mails.other);
    await append(imap, 'INBOX', mails.noRefs, to);
    await sendInbound(to, mails.renamed);
    imap.close();
  });

  test('RFC 5256 §3 THREAD=REFERENCES: replies by References or In-Reply-To, quoted ids normalized, subject merge', async () => {
    const imap = await loggedIn('threader');
    await imap.command('SELECT INBOX');
    // 1 <- 2 <- 3 by ids (3's quoted id is the same id); 6 refers to 1 (a child, whatever its subject);
    // 5 "Re: Invoice" has no references: a reply under 4 by base subject (step 5).
    assert.equal(untagged((await imap.command('THREAD REFERENCES UTF-8 ALL')).lines, 'THREAD'), '* THREAD (1 (2 3)(6))(4 5)');
    const fetched = await imap.command('FETCH 1:6 (UID)');
    const uids = fetched.lines.map((l) => Number(/UID (\d+)/.exec(l)?.[1])).filter((n) => n > 0);
    const [u1, u2, u3, u4, u5, u6] = uids;
    assert.equal(untagged((await imap.command('UID THREAD REFERENCES UTF-8 ALL')).lines, 'THREAD'), `* THREAD (${u1} (${u2} ${u3})(${u6}))(${u4} ${u5})`);
    // Searched messages only: without 2, 3 still hangs under 1 through its References.
    assert.equal(untagged((await imap.command('THREAD REFERENCES UTF-8 NOT HEADER Message-ID reply@')).lines, 'THREAD'), '* THREAD (1 (3)(6))(4 5)');
    // Without 1, its two children stay siblings under a dummy (step 3: not promoted to the root), dated by 2.
    assert.equal(untagged((await imap.command('THREAD REFERENCES UTF-8 NOT HEADER Message-ID root@')).lines, 'THREAD'), '* THREAD (4 5)((2 3)(6))');
    assert.equal(untagged((await imap.command('THREAD REFERENCES UTF-8 SUBJECT nothing-like-this')).lines, 'THREAD'), '* THREAD');
    imap.close();
  });

  test('RFC 5256 §3 THREAD=ORDEREDSUBJECT: one thread per base subject, by date', async () => {
    const imap = await loggedIn('threader');
    await imap.command('SELECT INBOX');
    assert.equal(untagged((await imap.command('THREAD ORDEREDSUBJECT UTF-8 ALL')).lines, 'THREAD'), '* THREAD (1 (2)(3))(4 5)(6)');
    imap.close();
  });

  test('RFC 8621 §3 conversations: set once at delivery on every path, shared ids and base subject join, COPY keeps it', async () => {
    const { id } = account('threader');
    const before = await threadIds(id, 'INBOX');
    const [t1, t2, t3, t4, t5, t6] = [...before.entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t);
    assert.ok(t1?.startsWith('thr_'));
    assert.equal(t2, t1, 'the APPENDed reply joins the MX-delivered original');
    assert.equal(t3, t1, 'the nested reply (quoted Message-ID) joins too');
    assert.notEqual(t4, t1);
    assert.notEqual(t5, t4, 'no shared message id: not the same conversation, whatever the subject');
    assert.notEqual(t6, t1, 'a reply that changes the subject starts a conversation');
    const imap = await loggedIn('threader');
    await imap.command('CREATE Kept');
    await imap.command('SELECT INBOX');
    assert.match((await imap.command('COPY 2 Kept')).tagged, / OK /);
    imap.close();
    assert.deepEqual([...(await threadIds(id, 'Kept')).values()], [t1]);
  });

  test('a parent delivered after its reply joins the reply’s conversation (links in both directions)', async () => {
    const to = account('threader').address;
    const { id } = account('threader');
    await sendInbound(to, { subject: 'Re: Late news', id: '<late-reply@outside.test>', references: '<late@outside.test>' });
    await sendInbound(to, { subject: 'Late news', id: '<late@outside.test>' });
    const ids = [...(await threadIds(id, 'INBOX')).entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t);
    assert.equal(ids.at(-1), ids.at(-2));
  });
});

/** The account's rows as they were before migration 011: no keys, no conversation, no links. */
async function asBeforeMigration011(accountId: string): Promise<void> {
  const nulls = {
    thread_id: null,
    sort_subject: null,
    subject_is_reply: null,
    sort_from: null,
    sort_to: null,
    sort_cc: null,
    sort_display_from: null,
    sort_display_to: null,
    thread_message_id: null,
    thread_references: null,
  };
  await service.ctx.db.updateTable('messages').set(nulls).where('account_id', '=', accountId).execute();
  await service.ctx.db.deleteFrom('thread_links').where('account_id', '=', accountId).execute();
}

describe('migration 011: messages stored before it get their keys and conversation lazily', () => {
  test('SORT and THREAD fill the keys of older messages, and they join conversations as if delivered now', async () => {
    const { id, address } = account('legacy');
    const imap = await loggedIn('legacy');
    await append(imap, 'INBOX', { subject: 'Old topic', id: '<old@outside.test>', date: 'Mon, 23 Nov 2026 09:00:00 +0000' }, address);
    await append(
      imap,
      'INBOX',
      { subject: 'Re: Old topic', id: '<old-reply@outside.test>', inReplyTo: '<old@outside.test>', date: 'Mon, 23 Nov 2026 10:00:00 +0000' },
      address,
    );
    await append(imap, 'INBOX', { subject: 'Another', id: '<another@outside.test>', date: 'Mon, 23 Nov 2026 08:00:00 +0000' }, address);
    await asBeforeMigration011(id);

    // A new reply arrives before anything filled the old ones: it starts its own conversation for now.
    await sendInbound(address, { subject: 'Re: Old topic', id: '<new-reply@outside.test>', references: '<old@outside.test> <old-reply@outside.test>' });

    await imap.command('SELECT INBOX');
    assert.equal(untagged((await imap.command('SORT (DATE) UTF-8 ALL')).lines, 'SORT'), '* SORT 3 1 2 4');
    const pending = await service.ctx.db.selectFrom('messages').select('id').where('account_id', '=', id).where('thread_id', 'is', null).execute();
    assert.equal(pending.length, 0);
    assert.equal(untagged((await imap.command('SORT (SUBJECT) UTF-8 ALL')).lines, 'SORT'), '* SORT 3 1 2 4');
    assert.equal(untagged((await imap.command('THREAD REFERENCES UTF-8 ALL')).lines, 'THREAD'), '* THREAD (3)(1 2 4)');
    const ids = [...(await threadIds(id, 'INBOX')).entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t);
    // The old original and its old reply find the new reply's conversation through its links.
    assert.equal(ids[0], ids[3]);
    assert.equal(ids[1], ids[3]);
    assert.notEqual(ids[2], ids[0]);
    imap.close();
  });

  test('the messages.keys job fills them in the background, with the same conversations as delivery gave', async () => {
    const { id } = account('threader');
    const delivered = await threadIds(id, 'INBOX');
    await asBeforeMigration011(id);
    const results = await runDueJobs(service.ctx);
    const filled = results['messages.keys'] as { accounts: number; messages: number };
    assert.ok(filled.messages >= delivered.size, JSON.stringify(filled));
    const again = await threadIds(id, 'INBOX');
    // Same grouping (new ids): messages together before are together now, and apart before are apart now.
    const uids = [...delivered.keys()];
    for (const a of uids) for (const b of uids) assert.equal(again.get(a) === again.get(b), delivered.get(a) === delivered.get(b), `${a} ${b}`);
  });
});
