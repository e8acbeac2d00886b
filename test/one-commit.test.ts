/**
 * One commit per message (DESIGN "One write path", "nothing is acknowledged before it is on stable
 * storage"): every effect of an incoming message — outbound queue rows for aliases that forward
 * outside and for remote recipients, copies held in quarantine, copies filed in Inboxes and Sent —
 * commits in one transaction. A failure injected after any one step leaves none of them, the client
 * gets a 4xx (RFC 5321 §4.2.5: the client retries later), and its retry leaves exactly one copy
 * everywhere. Driven with a real SMTP client (nodemailer) through the MX and the submission server.
 */
import assert from 'node:assert/strict';
import { text } from 'node:stream/consumers';
import { after, before, test } from 'node:test';
import nodemailer from 'nodemailer';
import { addSenderRule, GTUBE } from '../src/filter/index.ts';
import { readContent } from '../src/mailstore/index.ts';
import type { FaultPoint } from '../src/shared/faults.ts';
import { expectStatus, operatorClient } from './helpers/client.ts';
import { type MailCustomer, setupMailCustomer } from './helpers/filter.ts';
import { messagesOf } from './helpers/mail.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'once.test';
const ALICE = `alice@${DOMAIN}`; // Inbox: allows the sender, so GTUBE still reaches her
const BOB = `bob@${DOMAIN}`; // GTUBE is held for him
const FORWARD = `fwd@${DOMAIN}`; // an alias forwarding outside
const FRIEND = 'friend@remote.test';
const REMOTE = 'someone@remote.test';
const SENDER = 'sender@elsewhere.test';

let service: TestService;
let customer: MailCustomer;

before(async () => {
  // No worker role: queued rows stay in the queue, where the test counts them.
  service = await startTestService({
    overrides: { roles: ['web', 'mx', 'submission'], ports: { http: 0, mx: 0, submission: 0, submissions: 0 } },
  });
  customer = await setupMailCustomer(service, await operatorClient(service), 'Once', DOMAIN, ['alice', 'bob']);
  expectStatus(await customer.admin.post(`/api/subscriptions/${customer.subscriptionId}/aliases`, { address: FORWARD, destinations: [FRIEND] }), 201);
  const alice = customer.accounts[0] as MailCustomer['accounts'][number];
  await addSenderRule(service.ctx, null, { account: alice.id }, { pattern: SENDER, kind: 'allow' });
});
after(() => service.close());

/** Makes the work fail once, right after `point`; returns how many times the point was reached. */
function failOnceAfter(point: FaultPoint): () => number {
  let reached = 0;
  service.ctx.faults = {
    reached(at) {
      if (at === point && reached++ === 0) throw new Error(`injected failure after ${point}`);
    },
  };
  return () => reached;
}

function transport(port: number, auth?: { user: string; pass: string }) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    requireTLS: true,
    tls: { ca: service.tlsCert, servername: 'localhost' },
    ...(auth ? { auth } : {}),
  });
}

/** Sends once with a fault after `point` (expecting 451 4.3.0), then again as the client's retry (250). */
async function sendFailingThenRetry(point: FaultPoint, send: () => Promise<unknown>): Promise<void> {
  const reached = failOnceAfter(point);
  try {
    await assert.rejects(send(), (error: { responseCode?: number }) => error.responseCode === 451);
    assert.ok(reached() >= 1, `the work reached ${point}`);
  } finally {
    service.ctx.faults = undefined;
  }
  await send();
}

const copiesIn = async (address: string, subject: string, mailbox = 'INBOX') =>
  (await messagesOf(service.ctx, address, mailbox)).filter((m) => m.raw.includes(`Subject: ${subject}\r\n`)).length;

const heldFor = async (address: string, subject: string) =>
  (await service.ctx.db.selectFrom('quarantine').select('id').where('recipient', '=', address).where('subject', '=', subject).execute()).length;

/** The recipients of the queue rows whose content has this subject, sorted. */
async function queuedWith(subject: string): Promise<string[]> {
  const rows = await service.ctx.db.selectFrom('outbound_queue').select(['recipient', 'blob_id']).execute();
  const found: string[] = [];
  for (const row of rows) if ((await text(readContent(service.ctx, row.blob_id))).includes(`Subject: ${subject}\r\n`)) found.push(row.recipient);
  return found.sort();
}

const MX_STEPS: FaultPoint[] = ['outbound.queued', 'quarantine.held', 'delivery.filed'];

for (const point of MX_STEPS) {
  test(`R-M1 MX: a failure after ${point} answers 451 and keeps nothing; the retry leaves one copy in the Inbox, the quarantine and the queue`, async () => {
    const subject = `MX once ${point}`;
    const mx = transport(service.mxPort as number);
    await sendFailingThenRetry(point, () => mx.sendMail({ from: SENDER, to: [ALICE, BOB, FORWARD], subject, text: `Mixed recipients. ${GTUBE}` }));
    mx.close();
    assert.equal(await copiesIn(ALICE, subject), 1, 'one copy in the Inbox');
    assert.equal(await copiesIn(BOB, subject), 0, 'nothing in the held recipient’s Inbox');
    assert.equal(await heldFor(BOB, subject), 1, 'one copy held');
    assert.deepEqual(await queuedWith(subject), [FRIEND], 'one forwarded copy queued');
  });
}

const SUBMISSION_STEPS: FaultPoint[] = ['outbound.queued', 'delivery.filed'];

for (const point of SUBMISSION_STEPS) {
  test(`R-M2 submission: a failure after ${point} answers 451 and keeps nothing; the retry leaves one copy in the queue, the Inbox and Sent`, async () => {
    const subject = `Submission once ${point}`;
    const alice = customer.accounts[0] as MailCustomer['accounts'][number];
    const submission = transport(service.submissionPort as number, { user: ALICE, pass: alice.password });
    await sendFailingThenRetry(point, () =>
      submission.sendMail({ from: ALICE, to: [BOB, FORWARD, REMOTE], subject, text: 'To a local, a forward and a remote.' }),
    );
    submission.close();
    assert.equal(await copiesIn(BOB, subject), 1, 'one copy in the local recipient’s Inbox');
    assert.equal(await copiesIn(ALICE, subject, 'Sent'), 1, 'one copy in Sent');
    assert.deepEqual(await queuedWith(subject), [FRIEND, REMOTE].sort(), 'one queued copy per remote recipient');
  });
}
