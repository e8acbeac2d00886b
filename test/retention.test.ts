/**
 * Retention (issue 6): message trace (R-M6, one year by default), finished outbound queue rows and the
 * operations journal (R-T5) are purged by jobs once their periods have passed, and a folder's expunge
 * history is capped while QRESYNC clients still get a complete VANISHED (EARLIER) (RFC 7162 §3.2.5.2).
 * The real service on loopback: a remote MX on loopback for the queue, a raw IMAP client for QRESYNC,
 * the test's clock moved forward and the jobs run as `facteur jobs run-due` runs them.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { loadConfig } from '../src/config/index.ts';
import { enqueueOutbound, runDeliveryOnce } from '../src/delivery/index.ts';
import { JOBS, runDueJobs, runJob } from '../src/jobs/index.ts';
import { putContent } from '../src/mailstore/index.ts';
import { cliEnv, runFacteur } from './helpers/cli.ts';
import { operatorClient, setupMailAccount } from './helpers/client.ts';
import { RawImap } from './helpers/imap.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'keep.test';
const ALICE = { address: `alice@${DOMAIN}`, password: 'alice-password-1' };
const DAY_MS = 24 * 60 * 60_000;
const HISTORY = 2;

/** "The Internet": accepts bob, refuses carol for good and dave for now. */
function startRemote(): Promise<SMTPServer> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const code = address.address.startsWith('carol@') ? 550 : address.address.startsWith('dave@') ? 450 : 0;
      if (code) callback(Object.assign(new Error(code === 550 ? '5.1.1 No such user' : '4.3.0 Try later'), { responseCode: code }));
      else callback();
    },
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => callback());
    },
  });
  server.on('error', () => {});
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let remote: SMTPServer;
let service: TestService;

before(async () => {
  remote = await startRemote();
  service = await startTestService({
    overrides: {
      roles: ['web', 'imap'],
      ports: { http: 0, imap: 0, imaps: 0 },
      mailAccess: { allowPlaintextOnLoopback: true },
      delivery: { smtpPort: (remote.server.address() as AddressInfo).port, retryJitter: 0, connectTimeoutMs: 2000 },
      retention: { expungeHistoryPerFolder: HISTORY },
    },
    zone: { 'remote.test': { MX: [{ exchange: 'mx.remote.test', priority: 10 }] }, 'mx.remote.test': { A: ['127.0.0.1'] } },
  });
  await setupMailAccount(service, 'Keep', ALICE);
});

after(async () => {
  await service?.close();
  await new Promise<void>((resolve) => (remote ? remote.close(() => resolve()) : resolve()));
});

async function send(recipients: string[], subject: string): Promise<string[]> {
  const raw = `From: <${ALICE.address}>\r\nTo: ${recipients.join(', ')}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replaceAll(' ', '.')}@keep.test>\r\n\r\nHello.\r\n`;
  const blob = await putContent(service.ctx, Readable.from([Buffer.from(raw)]));
  return enqueueOutbound(service.ctx, { customerId: null, sender: ALICE.address, recipients, blob });
}

async function queueRows(ids: string[]) {
  const rows = await service.ctx.db.selectFrom('outbound_queue').select(['id', 'recipient', 'status']).where('id', 'in', ids).execute();
  return new Map(rows.map((row) => [row.recipient, row.status]));
}

/** Trace rows of the remote recipients recorded in [from, from + 1 day). */
async function traceCount(from: number): Promise<number> {
  const rows = await service.ctx.db
    .selectFrom('message_trace')
    .select('id')
    .where('recipient', 'like', '%@remote.test')
    .where('at', '>=', from)
    .where('at', '<', from + DAY_MS)
    .execute();
  return rows.length;
}

async function operationCount(before: number): Promise<{ older: number; newer: number }> {
  const rows = await service.ctx.db.selectFrom('operations').select('created_at').execute();
  return { older: rows.filter((r) => Number(r.created_at) < before).length, newer: rows.filter((r) => Number(r.created_at) >= before).length };
}

describe('R-M6 retention of traffic data, finished queue rows and the operations journal', () => {
  test('R-M6 retention: trace kept 365 days by default, finished queue rows 30 days after they finished, operations 365 days; purged by `facteur jobs run-due`', async () => {
    const start = service.clock.now();
    const first = await send(['bob@remote.test', 'carol@remote.test', 'dave@remote.test'], 'First day');
    await runDeliveryOnce(service.ctx);
    assert.deepEqual(
      Object.fromEntries(await queueRows(first)),
      { 'bob@remote.test': 'delivered', 'carol@remote.test': 'bounced', 'dave@remote.test': 'queued' },
      'one delivered, one bounced, one deferred',
    );
    assert.ok((await traceCount(start)) >= 3, 'the first message left a trace');
    const earlyOperations = (await operationCount(start + DAY_MS)).older;
    assert.ok(earlyOperations > 0, 'the setup was recorded as operations');

    // A month on: dave's row expires (queue lifetime 5 days) and a new message is delivered.
    service.clock.advance(31 * DAY_MS);
    const monthLater = service.clock.now();
    const second = await send(['bob@remote.test'], 'A month later');
    await runDeliveryOnce(service.ctx);
    const operator = await operatorClient(service);
    assert.equal((await operator.post('/api/customers', { name: 'Later', contactEmail: 'contact@later.test', language: 'en' })).status, 201);
    const run = await runFacteur(cliEnv(service), ['jobs', 'run-due', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const results = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.equal(results['queue.purge'], 2, 'the delivered and bounced rows of a month ago');
    assert.equal(results['trace.purge'], 0);
    assert.deepEqual(Object.fromEntries(await queueRows(first)), { 'dave@remote.test': 'expired' }, 'expired today: kept, whatever its age');
    assert.deepEqual(Object.fromEntries(await queueRows(second)), { 'bob@remote.test': 'delivered' });
    assert.ok((await traceCount(start)) >= 3, 'a month-old trace is kept');
    assert.equal((await operationCount(start + DAY_MS)).older, earlyOperations, 'the journal is kept');

    // One day short of a year after the first message: still there.
    service.clock.set(start + 364 * DAY_MS);
    await runDueJobs(service.ctx);
    assert.ok((await traceCount(start)) >= 3, 'kept 364 days');
    assert.equal((await operationCount(start + DAY_MS)).older, earlyOperations);

    // A year and a day: the first day's trace and journal go; what came a month later stays.
    service.clock.set(start + 366 * DAY_MS);
    await runDueJobs(service.ctx);
    assert.equal(await traceCount(start), 0, 'the trace of a year ago is purged');
    assert.ok((await traceCount(monthLater)) >= 2, 'the trace of 335 days ago is kept');
    const ops = await operationCount(start + DAY_MS);
    assert.equal(ops.older, 0, 'operations finished over a year ago are purged');
    assert.ok(ops.newer >= 1, 'the later operation is kept');
    assert.equal((await queueRows([...first, ...second])).size, 0, 'finished rows go 30 days after they finished');
  });

  test('Retention settings have their defaults and FACTEUR_RETENTION_* overrides', () => {
    const defaults = loadConfig({ env: {}, overrides: {} }).retention;
    assert.deepEqual(defaults, { expungeHistoryPerFolder: 10_000, traceDays: 365, finishedQueueDays: 30, operationsDays: 365 });
    const env = {
      FACTEUR_RETENTION_TRACE_DAYS: '400',
      FACTEUR_RETENTION_QUEUE_DAYS: '7',
      FACTEUR_RETENTION_OPERATIONS_DAYS: '730',
      FACTEUR_RETENTION_EXPUNGE_HISTORY: '500',
    };
    assert.deepEqual(loadConfig({ env, overrides: {} }).retention, { expungeHistoryPerFolder: 500, traceDays: 400, finishedQueueDays: 7, operationsDays: 730 });
    assert.throws(() => loadConfig({ env: { FACTEUR_RETENTION_TRACE_DAYS: '0' }, overrides: {} }), /retention.traceDays.*FACTEUR_RETENTION_TRACE_DAYS/);
  });
});

// ---------------------------------------------------------------------------------------------
// QRESYNC past the expunge history

async function loggedIn(): Promise<RawImap> {
  const imap = await RawImap.open(service.imapPort as number);
  assert.match((await imap.command(`LOGIN ${ALICE.address} ${ALICE.password}`)).tagged, /^a\d+ OK /);
  return imap;
}

function numberAfter(lines: string[], code: string): number {
  return Number(new RegExp(`\\[${code} (\\d+)\\]`).exec(lines.find((l) => l.includes(`[${code} `)) ?? '')?.[1]);
}

async function trim(): Promise<unknown> {
  const job = JOBS.find((j) => j.name === 'expunges.trim');
  assert.ok(job);
  return (await runJob(service.ctx, job)).result;
}

describe('RFC 7162 QRESYNC with a capped expunge history', () => {
  test('RFC 7162 §3.2.5.1, §3.2.5.2, §3.2.6: past the capped history, VANISHED (EARLIER) names every known UID that is gone, narrowed by sequence match data', async () => {
    const setup = await loggedIn();
    assert.match((await setup.command('CREATE capped')).tagged, /OK/);
    for (let n = 1; n <= 10; n++) {
      const raw = `Subject: ${n}\r\n\r\nBody ${n}\r\n`;
      setup.send(`ap${n} APPEND capped {${raw.length}+}\r\n${raw}\r\n`);
      assert.match((await setup.until(`ap${n}`)).tagged, /OK/);
    }
    const opened = await setup.command('SELECT capped');
    const uidValidity = numberAfter(opened.lines, 'UIDVALIDITY');
    const before = numberAfter(opened.lines, 'HIGHESTMODSEQ');

    // A second client, QRESYNC on, stays selected while everything happens (it reads nothing meanwhile).
    const idle = await loggedIn();
    await idle.command('ENABLE QRESYNC');
    await idle.command('SELECT capped');

    // Four expunges, one at a time: UIDs 2, 4, 6, 8.
    let afterSix = 0;
    for (const uid of [2, 4, 6, 8]) {
      await setup.command(`UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`);
      await setup.command(`UID EXPUNGE ${uid}`);
      if (uid === 6) afterSix = Number(/HIGHESTMODSEQ (\d+)/.exec((await setup.command('STATUS capped (HIGHESTMODSEQ)')).lines.join(' '))?.[1]);
    }
    setup.close();
    assert.ok(afterSix > before);

    const client = await loggedIn();
    await client.command('ENABLE QRESYNC');
    const whole = await client.command(`EXAMINE capped (QRESYNC (${uidValidity} ${before}))`);
    assert.ok(whole.lines.includes('* VANISHED (EARLIER) 2,4,6,8'), whole.lines.join('\n'));
    await client.command('UNSELECT');

    // The history keeps the last 2 expunges (UIDs 6 and 8); older MODSEQs are past it.
    assert.deepEqual(await trim(), { folders: 1, rows: 2 });
    const rows = await service.ctx.db.selectFrom('expunged_messages').select('uid').execute();
    assert.deepEqual(rows.map((r) => Number(r.uid)).sort(), [6, 8]);

    // C: EXAMINE capped (QRESYNC (uidvalidity modseq-before-the-history))
    // S: * VANISHED (EARLIER) 2,4,6,8      (every UID of 1:UIDNEXT-1 not in the folder, never a partial answer)
    const past = await client.command(`EXAMINE capped (QRESYNC (${uidValidity} ${before}))`);
    assert.ok(past.lines.includes('* VANISHED (EARLIER) 2,4,6,8'), past.lines.join('\n'));
    await client.command('UNSELECT');
    // Known UIDs limit it (§3.2.5.1).
    const known = await client.command(`EXAMINE capped (QRESYNC (${uidValidity} ${before} 1:5))`);
    assert.ok(known.lines.includes('* VANISHED (EARLIER) 2,4'), known.lines.join('\n'));
    await client.command('UNSELECT');
    // §3.2.5.2: sequence 1 is UID 1 and sequence 2 is UID 3 as the client believes: nothing vanished up to UID 3.
    const matched = await client.command(`EXAMINE capped (QRESYNC (${uidValidity} ${before} 1:10 (1:2 1,3)))`);
    assert.ok(matched.lines.includes('* VANISHED (EARLIER) 4,6,8'), matched.lines.join('\n'));
    await client.command('UNSELECT');
    // A client whose MODSEQ the history still covers gets it from the history: only UID 8.
    const recent = await client.command(`EXAMINE capped (QRESYNC (${uidValidity} ${afterSix}))`);
    assert.ok(recent.lines.includes('* VANISHED (EARLIER) 8'), recent.lines.join('\n'));
    assert.ok(!recent.lines.some((l) => l.startsWith('* VANISHED (EARLIER) 2')), recent.lines.join('\n'));
    // C: UID FETCH 1:* (FLAGS) (CHANGEDSINCE modseq VANISHED)   (§3.2.6)
    const fetched = await client.command(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${before} VANISHED)`);
    assert.ok(fetched.lines.includes('* VANISHED (EARLIER) 2,4,6,8'), fetched.lines.join('\n'));
    client.close();

    // The session selected before it all catches up past the trimmed history: nothing is missed.
    const noop = await idle.command('NOOP');
    assert.ok(noop.lines.includes('* VANISHED 2,4,6,8'), noop.lines.join('\n'));
    idle.close();
  });
});
