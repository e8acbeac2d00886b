/**
 * Mailing lists as their recipients expect them (R-T4): the copies carry List-Id (RFC 2919) and
 * List-Post, List-Help, List-Unsubscribe (RFC 2369); they leave with a bounce address of the list per
 * member (VERP, signed), never the poster's address, so a bounce — refused at RCPT by the member's
 * server, or a DSN (RFC 3464) that server sends later through our MX — is counted for the member,
 * shown through the API on the list's members, and never reaches the poster. Real clients: an SMTP
 * client posts through the MX and through submission, the local copy is read over IMAP, remote copies
 * at "the Internet" (an SMTP server on loopback). The list's copies commit with the poster's message:
 * a failure injected once the list's copy is filed keeps nothing of either, and the retry one of each.
 */
import assert from 'node:assert/strict';
import { text } from 'node:stream/consumers';
import { after, before, test } from 'node:test';
import nodemailer from 'nodemailer';
import { runDeliveryOnce } from '../src/delivery/index.ts';
import { readContent } from '../src/mailstore/index.ts';
import { type ApiClient, expectStatus, operatorClient, setupCustomer, waitForOperation } from './helpers/client.ts';
import { RawImap } from './helpers/imap.ts';
import { messagesOf, RawSmtp } from './helpers/mail.ts';
import { type RemoteMx, startRemoteMx } from './helpers/remote-mx.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'lists.test';
const LIST = `news@${DOMAIN}`;
const ALICE = `alice@${DOMAIN}`;
const BOB = `bob@${DOMAIN}`;
const PASSWORD = 'lists-password-1';
const POSTER = 'poster@remote.test';
const BOUNCE_SENDER = /^news\+bounces-[a-z2-7]{16}@lists\.test$/;

let remote: RemoteMx;
let service: TestService;
let admin: ApiClient;
let listId = '';

before(async () => {
  remote = await startRemoteMx();
  service = await startTestService({
    overrides: {
      roles: ['web', 'mx', 'submission', 'imap'],
      ports: { http: 0, mx: 0, submission: 0, submissions: 0, imap: 0, imaps: 0 },
      mailAccess: { allowPlaintextOnLoopback: true },
      delivery: { smtpPort: remote.port, connectTimeoutMs: 2000, responseTimeoutMs: 2000, retryJitter: 0 },
    },
    zone: { 'remote.test': { MX: [{ exchange: 'mx.remote.test', priority: 10 }] }, 'mx.remote.test': { A: ['127.0.0.1'] } },
  });
  const operator = await operatorClient(service);
  const setup = await setupCustomer(service, operator, 'Listco', { basic: 3 });
  admin = setup.admin;
  const added = await admin.post(`/api/subscriptions/${setup.subscriptionId}/domains`, { name: DOMAIN });
  await waitForOperation(admin, added.body.id);
  for (const address of [ALICE, BOB]) {
    expectStatus(await admin.post(`/api/subscriptions/${setup.subscriptionId}/accounts`, { address, classId: 'basic', password: PASSWORD }), 201);
  }
  const list = await admin.post(`/api/subscriptions/${setup.subscriptionId}/lists`, {
    address: LIST,
    name: 'News of Listco',
    postingPolicy: 'anyone',
    moderators: [BOB],
    members: [ALICE, 'carol@remote.test', 'gone@remote.test'],
  });
  expectStatus(list, 201);
  listId = list.body.id;
  remote.refuse.set('gone@remote.test', 550);
});

after(async () => {
  await service?.close();
  await remote?.close();
});

let serial = 0;

/** One transaction through the MX; the replies to RCPT and to the end of DATA. */
async function sendThroughMx(sender: string, recipient: string, content: string): Promise<{ rcpt: string; data?: string }> {
  const smtp = await RawSmtp.open(service.mxPort as number);
  try {
    await smtp.command('EHLO mx.remote.test');
    assert.match(await smtp.command(`MAIL FROM:<${sender}>`), /^250 /);
    const rcpt = await smtp.command(`RCPT TO:<${recipient}>`);
    if (!rcpt.startsWith('250 ')) return { rcpt };
    assert.match(await smtp.command('DATA'), /^354 /);
    return { rcpt, data: await smtp.command(`${content}.`) };
  } finally {
    smtp.close();
  }
}

function post(subject: string): string {
  return `From: <${POSTER}>\r\nTo: <${LIST}>\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@remote.test>\r\n\r\nNews.\r\n`;
}

/** The header block of the message with this subject in an account's INBOX, read over IMAP. */
async function headerOverImap(user: string, subject: string): Promise<string> {
  const imap = await RawImap.open(service.imapPort as number);
  try {
    assert.match((await imap.command(`LOGIN ${user} ${PASSWORD}`)).tagged, /^a\d+ OK /);
    await imap.command('SELECT INBOX');
    const found = await imap.command(`UID SEARCH SUBJECT "${subject}"`);
    const uid = /^\* SEARCH (\d+)/m.exec(found.lines.join('\n'))?.[1];
    assert.ok(uid, `"${subject}" in ${user}'s INBOX`);
    const fetched = await imap.command(`UID FETCH ${uid} BODY.PEEK[HEADER]`);
    return fetched.lines.join('\r\n');
  } finally {
    imap.close();
  }
}

async function memberBounces(): Promise<Record<string, number>> {
  const list = await admin.get(`/api/lists/${listId}`);
  expectStatus(list, 200);
  return Object.fromEntries((list.body.memberDetails as { address: string; bounceCount: number }[]).map((m) => [m.address, m.bounceCount]));
}

function dsnFor(bounceAddress: string, recipient: string, action: 'failed' | 'delayed'): string {
  const boundary = `b${++serial}`;
  return [
    'From: Mail Delivery System <mailer-daemon@mx.remote.test>',
    `To: <${bounceAddress}>`,
    `Subject: Delivery Status Notification (${action === 'failed' ? 'Failure' : 'Delay'})`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain',
    '',
    'The message could not be delivered.',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.remote.test',
    '',
    `Final-Recipient: rfc822; ${recipient}`,
    `Action: ${action}`,
    action === 'failed' ? 'Status: 5.2.1' : 'Status: 4.2.2',
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

test('R-T4 RFC 2919 §3 RFC 2369 §3 list copies carry List-Id, List-Post, List-Help and List-Unsubscribe; remote ones leave with a bounce address per member', async () => {
  const subject = `Issue ${Date.now()}`;
  const sent = await sendThroughMx(POSTER, LIST, post(subject));
  assert.match(sent.data ?? '', /^250 /);
  const local = await headerOverImap(ALICE, subject);
  assert.match(local, /^List-Id: "News of Listco" <news\.lists\.test>\r$/m);
  assert.match(local, /^List-Post: <mailto:news@lists\.test>\r$/m);
  assert.match(local, /^List-Help: <mailto:postmaster@lists\.test\?subject=help%20news%40lists\.test>\r$/m);
  assert.match(local, /^List-Unsubscribe: <mailto:postmaster@lists\.test\?subject=unsubscribe%20news%40lists\.test>\r$/m);
  assert.match(local, /^List-Owner: <mailto:bob@lists\.test>\r$/m, 'RFC 2369 §3.6: the moderators');

  await runDeliveryOnce(service.ctx);
  const copies = remote.received.filter((m) => m.data.includes(`Subject: ${subject}\r\n`));
  assert.deepEqual(
    copies.map((c) => c.to.join()),
    ['carol@remote.test'],
  );
  const carol = copies[0];
  assert.match(carol?.from ?? '', BOUNCE_SENDER, 'the envelope sender is the list, never the poster');
  assert.match(carol?.data ?? '', /^List-Id: "News of Listco" <news\.lists\.test>\r$/m);
  assert.match(carol?.data ?? '', /^List-Unsubscribe: <mailto:/m);
});

test('R-T4 a member refused by its server (5xx) counts a bounce for that member; the poster gets nothing', async () => {
  const before = await memberBounces();
  const subject = `Refused ${Date.now()}`;
  assert.match((await sendThroughMx(POSTER, LIST, post(subject))).data ?? '', /^250 /);
  await runDeliveryOnce(service.ctx);
  const after = await memberBounces();
  assert.equal(after['gone@remote.test'], (before['gone@remote.test'] ?? 0) + 1, JSON.stringify(after));
  assert.equal(after['carol@remote.test'], before['carol@remote.test'], 'the member delivered to counts nothing');
  await runDeliveryOnce(service.ctx);
  assert.deepEqual(
    remote.received.filter((m) => m.to.includes(POSTER)),
    [],
    'no DSN to the poster',
  );
  const queued = await service.ctx.db.selectFrom('outbound_queue').select('recipient').where('recipient', '=', POSTER).execute();
  assert.deepEqual(queued, [], 'none queued either');
  const list = await admin.get(`/api/lists/${listId}`);
  const gone = (list.body.memberDetails as { address: string; lastBounceAt: string | null }[]).find((m) => m.address === 'gone@remote.test');
  assert.ok(gone?.lastBounceAt, 'when it last bounced');
});

test('R-T4 RFC 3464 a DSN sent later to the bounce address through the MX is recognised and counted for its member; other mail there counts nothing', async () => {
  const subject = `Later ${Date.now()}`;
  assert.match((await sendThroughMx(POSTER, LIST, post(subject))).data ?? '', /^250 /);
  await runDeliveryOnce(service.ctx);
  const copy = remote.received.find((m) => m.data.includes(`Subject: ${subject}\r\n`) && m.to.includes('carol@remote.test'));
  assert.ok(copy);
  const bounceAddress = copy.from;
  const before = (await memberBounces())['carol@remote.test'] ?? 0;

  const delayed = await sendThroughMx('', bounceAddress, dsnFor(bounceAddress, 'carol@remote.test', 'delayed'));
  assert.match(delayed.data ?? '', /^250 /);
  const reply = await sendThroughMx('', bounceAddress, 'From: <carol@remote.test>\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\n\r\nAway.\r\n');
  assert.match(reply.data ?? '', /^250 /);
  assert.equal((await memberBounces())['carol@remote.test'], before, 'a delay notice and an auto-reply count nothing');

  const failed = await sendThroughMx('', bounceAddress.toUpperCase(), dsnFor(bounceAddress, 'carol@remote.test', 'failed'));
  assert.match(failed.rcpt, /^250 /);
  assert.match(failed.data ?? '', /^250 /);
  assert.equal((await memberBounces())['carol@remote.test'], before + 1);

  // Nothing reached the poster, and nothing reached the list's members.
  await runDeliveryOnce(service.ctx);
  assert.deepEqual(
    remote.received.filter((m) => m.to.includes(POSTER) || /Delivery Status Notification|Out of office/.test(m.data)),
    [],
  );
  // A forged token is refused like an unknown address (RFC 5321 §3.3: 550).
  const forged = bounceAddress.replace(/bounces-[a-z2-7]{16}/, 'bounces-aaaaaaaaaaaaaaaa');
  assert.match((await sendThroughMx('', forged, dsnFor(forged, 'carol@remote.test', 'failed'))).rcpt, /^550 /);
});

test('R-T4 a member posting through submission: the list copies carry the list fields and bounce to the list, not to the poster', async () => {
  const subject = `Submitted ${Date.now()}`;
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: service.submissionPort,
    requireTLS: true,
    tls: { ca: service.tlsCert, servername: 'localhost' },
    auth: { user: BOB, pass: PASSWORD },
  });
  try {
    await transport.sendMail({ from: BOB, to: LIST, subject, text: 'From a member.' });
  } finally {
    transport.close();
  }
  assert.match(await headerOverImap(ALICE, subject), /^List-Id: "News of Listco" <news\.lists\.test>\r$/m);
  const before = (await memberBounces())['gone@remote.test'] ?? 0;
  await runDeliveryOnce(service.ctx);
  const carol = remote.received.find((m) => m.data.includes(`Subject: ${subject}\r\n`));
  assert.match(carol?.from ?? '', BOUNCE_SENDER);
  assert.equal((await memberBounces())['gone@remote.test'], before + 1);
  const imap = await RawImap.open(service.imapPort as number);
  try {
    assert.match((await imap.command(`LOGIN ${BOB} ${PASSWORD}`)).tagged, /^a\d+ OK /);
    await imap.command('SELECT INBOX');
    const search = await imap.command('SEARCH SUBJECT "Delivery"');
    assert.deepEqual(
      search.lines.filter((l) => /^\* SEARCH \d/.test(l)),
      [],
      "no DSN in the poster's INBOX",
    );
  } finally {
    imap.close();
  }
});

/** Makes the message's transaction fail once, right after its `nth` copy is filed; returns how many copies were reached. */
function failAfterFiled(nth: number): () => number {
  let reached = 0;
  service.ctx.faults = {
    reached(point) {
      if (point === 'delivery.filed' && ++reached === nth) throw new Error(`injected failure after copy ${nth} was filed`);
    },
  };
  return () => reached;
}

/** What the store holds of the message with this subject: the copies per "address mailbox", its queue rows, its trace steps. */
async function storedOf(subject: string, messageId: string, mailboxes: [string, string][]) {
  const copies: Record<string, string[]> = {};
  for (const [address, mailbox] of mailboxes) {
    copies[`${address} ${mailbox}`] = (await messagesOf(service.ctx, address, mailbox))
      .map((m) => m.raw)
      .filter((raw) => raw.includes(`Subject: ${subject}\r\n`));
  }
  const queued: { recipient: string; sender: string }[] = [];
  for (const row of await service.ctx.db.selectFrom('outbound_queue').select(['recipient', 'sender', 'blob_id']).execute()) {
    if ((await text(readContent(service.ctx, row.blob_id))).includes(`Subject: ${subject}\r\n`)) queued.push({ recipient: row.recipient, sender: row.sender });
  }
  queued.sort((a, b) => a.recipient.localeCompare(b.recipient));
  const steps = await service.ctx.db.selectFrom('message_trace').select(['step', 'recipient']).where('message_id', '=', messageId).execute();
  return { copies, queued, steps: steps.map((s) => `${s.step} ${s.recipient ?? '-'}`).sort() };
}

/** Nothing of the message anywhere: no copy, no queue row, no trace step of one (the filter's verdict is traced apart, before). */
function assertNothingStored(stored: Awaited<ReturnType<typeof storedOf>>): void {
  for (const [where, found] of Object.entries(stored.copies)) assert.equal(found.length, 0, `no copy in ${where}`);
  assert.deepEqual(stored.queued, [], 'no queue row');
  assert.deepEqual(
    stored.steps.filter((s) => !s.startsWith('verdict ')),
    [],
    'no trace step',
  );
}

/** One copy in each mailbox (the list's with its fields), one queue row per remote member with its bounce address. */
function assertOneOfEach(stored: Awaited<ReturnType<typeof storedOf>>, listCopy: string): void {
  for (const [where, found] of Object.entries(stored.copies)) {
    assert.equal(found.length, 1, `one copy in ${where}`);
    const listFields = /^List-Id: /m.test(found[0] as string);
    assert.equal(listFields, where === listCopy, `${where}: ${listFields ? 'with' : 'without'} the list's fields`);
  }
  assert.deepEqual(
    stored.queued.map((q) => q.recipient),
    ['carol@remote.test', 'gone@remote.test'],
    'one queue row per remote member',
  );
  for (const q of stored.queued) assert.match(q.sender, BOUNCE_SENDER);
  for (const step of [`stored ${ALICE}`, 'queued carol@remote.test', 'queued gone@remote.test']) {
    assert.equal(stored.steps.filter((s) => s === step).length, 1, `${step} once in ${stored.steps.join(', ')}`);
  }
}

test("R-M1 R-T4 MX: a failure after the list's copy is filed answers 451 and keeps nothing of the message; the retry leaves each copy once", async () => {
  const subject = `Once through the MX ${Date.now()}`;
  const messageId = `mx-once-${Date.now()}@remote.test`;
  const mailboxes: [string, string][] = [
    [BOB, 'INBOX'],
    [ALICE, 'INBOX'],
  ];
  const mx = nodemailer.createTransport({
    host: '127.0.0.1',
    port: service.mxPort,
    requireTLS: true,
    tls: { ca: service.tlsCert, servername: 'localhost' },
  });
  // Bob addressed directly, Alice through the list: her copy, the list's, is filed second.
  const send = () => mx.sendMail({ from: POSTER, to: [BOB, LIST], subject, messageId: `<${messageId}>`, text: 'To a member of the staff and to the list.' });
  try {
    const reached = failAfterFiled(2);
    try {
      await assert.rejects(send(), (error: { responseCode?: number }) => error.responseCode === 451);
      assert.equal(reached(), 2, "the transaction reached the list's copy");
    } finally {
      service.ctx.faults = undefined;
    }
    assertNothingStored(await storedOf(subject, messageId, mailboxes));
    await send();
  } finally {
    mx.close();
  }
  assertOneOfEach(await storedOf(subject, messageId, mailboxes), `${ALICE} INBOX`);
});

test("R-M2 R-T4 submission: a failure after the list's copy is filed answers 451 and keeps nothing, not even the Sent copy; the retry leaves each copy once", async () => {
  const subject = `Once through submission ${Date.now()}`;
  const messageId = `submission-once-${Date.now()}@${DOMAIN}`;
  const mailboxes: [string, string][] = [
    [BOB, 'Sent'],
    [ALICE, 'INBOX'],
  ];
  const submission = nodemailer.createTransport({
    host: '127.0.0.1',
    port: service.submissionPort,
    requireTLS: true,
    tls: { ca: service.tlsCert, servername: 'localhost' },
    auth: { user: BOB, pass: PASSWORD },
  });
  // The Sent copy is filed first, then the list's copy for Alice.
  const send = () => submission.sendMail({ from: BOB, to: LIST, subject, messageId: `<${messageId}>`, text: 'From a moderator.' });
  try {
    const reached = failAfterFiled(2);
    try {
      await assert.rejects(send(), (error: { responseCode?: number }) => error.responseCode === 451);
      assert.equal(reached(), 2, "the transaction reached the list's copy");
    } finally {
      service.ctx.faults = undefined;
    }
    assertNothingStored(await storedOf(subject, messageId, mailboxes));
    await send();
  } finally {
    submission.close();
  }
  assertOneOfEach(await storedOf(subject, messageId, mailboxes), `${ALICE} INBOX`);
});
