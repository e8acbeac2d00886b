/**
 * Blob garbage collection with several nodes (DESIGN: "Messages are stored once per content hash and
 * reference-counted"): two `facteur serve` processes (IMAP role) store the same content through APPEND
 * (RFC 3501 §6.3.11: stored as sent, so every copy has the same hash) while a third node, this test's,
 * runs the collector in a loop, each round starting from that content stored and unreferenced (its
 * file is there, its count is 0: what a delivery finds "already stored"). Every acknowledged APPEND
 * must find its content whole afterwards: a delivery reserves the content before it relies on the file,
 * and the collector never removes a reserved or referenced content. Meant for PostgreSQL (real
 * concurrent transactions); it holds on SQLite too.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, test } from 'node:test';
import { collectGarbage, copyMessages, deliverMessage, expungeMessages, readContent, receiveMessage } from '../src/mailstore/index.ts';
import { cliEnv, killHard, startServe } from './helpers/cli.ts';
import { setupMailAccount } from './helpers/client.ts';
import { RawImap } from './helpers/imap.ts';
import { freePort } from './helpers/ports.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'gc-race.test';
const USER = `user@${DOMAIN}`;
const PASSWORD = 'user-password-1';
const ROUNDS = 5;
/** APPENDs per process per round. */
const APPENDS = 2;

let service: TestService;
let accountId: string;
const nodes: ChildProcess[] = [];
const imapPorts: number[] = [];

before(async () => {
  service = await startTestService();
  accountId = (await setupMailAccount(service, 'Race', { address: USER, password: PASSWORD })).accountId;
  for (let i = 0; i < 2; i++) {
    const [imap, imaps] = [await freePort(), await freePort()];
    const env = cliEnv(service, {
      FACTEUR_ROLES: 'imap',
      FACTEUR_IMAP_PORT: String(imap),
      FACTEUR_IMAPS_PORT: String(imaps),
      FACTEUR_LISTEN_HOST: '127.0.0.1',
      FACTEUR_ALLOW_PLAINTEXT_LOOPBACK: 'true',
    });
    nodes.push(await startServe(env, 'IMAP:'));
    imapPorts.push(imap);
  }
});
after(async () => {
  for (const node of nodes) await killHard(node);
  await service.close();
});

/** Over the inline limit (256 KB): kept in a file, the case the race is about. */
function content(round: number): Buffer {
  return Buffer.from(`From: a@elsewhere.test\r\nSubject: race ${round}\r\n\r\n${`round ${round} `.repeat(30_000)}\r\n`);
}

/** The content stored and unreferenced: delivered to Trash, then expunged (its file stays until collected). */
async function storedUnreferenced(raw: Buffer): Promise<string> {
  const message = await receiveMessage(service.ctx, Readable.from([raw]), { maxBytes: 1 << 22 });
  const [filed] = await deliverMessage(service.ctx, message, [{ accountId, mailbox: 'trash', flags: ['\\Deleted'] }]);
  assert.ok(filed?.ok);
  await expungeMessages(service.ctx, { accountId, mailboxId: filed.mailboxId });
  return message.blob.id;
}

async function appendAll(port: number, raw: Buffer): Promise<string[]> {
  const imap = await RawImap.open(port);
  const replies: string[] = [];
  try {
    assert.match((await imap.command(`LOGIN ${USER} ${PASSWORD}`)).tagged, / OK /);
    for (let i = 0; i < APPENDS; i++) {
      // A content the collector is removing makes the APPEND wait, then fail as temporary (NO
      // [UNAVAILABLE]) if that takes too long (a loaded machine): nothing was stored, and a client retries.
      let reply = '';
      for (let attempt = 0; attempt < 5; attempt++) {
        imap.send(`p${i} APPEND INBOX {${raw.length}+}\r\n`);
        imap.send(raw);
        imap.send('\r\n');
        reply = (await imap.until(`p${i}`)).tagged;
        if (!/^p\d+ NO \[UNAVAILABLE\]/.test(reply)) break;
      }
      replies.push(reply);
    }
    await imap.command('LOGOUT');
  } finally {
    imap.close();
  }
  return replies;
}

test('two processes storing the same content while the collector runs: every acknowledged copy keeps its content', { timeout: 600_000 }, async (t) => {
  let collected = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const raw = content(round);
    const hash = await storedUnreferenced(raw);
    let appending = true;
    const collector = (async () => {
      while (appending) collected += (await collectGarbage(service.ctx)).blobs;
    })();
    let replies: string[][];
    try {
      replies = await Promise.all(imapPorts.map((port) => appendAll(port, raw)));
    } finally {
      appending = false;
      await collector;
    }
    for (const reply of replies.flat()) assert.match(reply, /^p\d+ OK /, `round ${round}: every APPEND acknowledged (retried when temporary): ${reply}`);
    const copies = await service.ctx.db.selectFrom('messages').select('blob_id').where('account_id', '=', accountId).where('blob_id', '=', hash).execute();
    assert.equal(copies.length, 2 * APPENDS, `round ${round}: one message per APPEND`);
    const stored = await buffer(readContent(service.ctx, hash)).catch((error: Error) => assert.fail(`round ${round}: content lost (${error.message})`));
    assert.equal(createHash('sha256').update(stored).digest('hex'), hash, `round ${round}: content whole`);
    const row = await service.ctx.db.selectFrom('blobs').select(['refcount', 'condemned_at']).where('id', '=', hash).executeTakeFirstOrThrow();
    assert.deepEqual([Number(row.refcount), row.condemned_at ?? null], [2 * APPENDS, null], `round ${round}: counted once per copy, not condemned`);
  }
  t.diagnostic(`${ROUNDS} rounds, ${ROUNDS * 2 * APPENDS} copies stored, ${collected} contents collected meanwhile`);
  assert.ok(collected > 0, 'the collector did remove contents during the rounds (the race was run)');
});

test('a COPY never references a content the collector has condemned: it fails to be retried, and nothing is copied', async () => {
  const message = await receiveMessage(service.ctx, Readable.from([content(99)]), { maxBytes: 1 << 22 });
  const [filed] = await deliverMessage(service.ctx, message, [{ accountId }]);
  assert.ok(filed?.ok);
  const destination = await service.ctx.db
    .selectFrom('mailboxes')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('name', '=', 'Archive')
    .executeTakeFirstOrThrow();
  const before = await service.ctx.db.selectFrom('messages').select('id').where('mailbox_id', '=', destination.id).execute();
  // What the collector's first step leaves: the row marked while the file goes (never with a reference in
  // use; forced here to see that the copy checks it).
  await service.ctx.db.updateTable('blobs').set({ condemned_at: Date.now() }).where('id', '=', message.blob.id).execute();
  try {
    await assert.rejects(
      copyMessages(service.ctx, { accountId, mailboxId: filed.mailboxId }, [filed.uid], destination, { move: false }),
      (error: Error & { code?: string }) => error.code === 'blob-missing',
    );
    const after = await service.ctx.db.selectFrom('messages').select('id').where('mailbox_id', '=', destination.id).execute();
    assert.equal(after.length, before.length, 'no copy left behind');
  } finally {
    await service.ctx.db.updateTable('blobs').set({ condemned_at: null }).where('id', '=', message.blob.id).execute();
  }
});
