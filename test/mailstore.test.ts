/**
 * The mailstore's folder and message operations that IMAP, POP3 and the webmail share (issue 4):
 * RFC 3501 folder semantics, RFC 7162 mod-sequences, quota accounting of copies, blob references.
 * Run on SQLite and PostgreSQL like every other test.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import {
  changesSince,
  collectGarbage,
  copyMessages,
  createMailbox,
  deleteMailbox,
  deliverMessage,
  expungeMessages,
  findMailbox,
  listMailboxes,
  loadMailboxIndex,
  mailboxStatus,
  quotaOf,
  RESERVATION_MS,
  receiveMessage,
  renameMailbox,
  updateFlags,
} from '../src/mailstore/index.ts';
import { expectStatus, operatorClient, setupCustomer, waitForOperation } from './helpers/client.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'store.test';
let service: TestService;
let accountId: string;

async function deliver(subject: string, flags: string[] = []): Promise<number> {
  const source = Readable.from([Buffer.from(`From: a@b.test\r\nSubject: ${subject}\r\n\r\nbody of ${subject}\r\n`)]);
  const message = await receiveMessage(service.ctx, source, { maxBytes: 1 << 20 });
  const [result] = await deliverMessage(service.ctx, message, [{ accountId, flags }]);
  assert.ok(result?.ok);
  return result.uid;
}

async function inbox() {
  const mailbox = await findMailbox(service.ctx.db, accountId, 'inbox');
  assert.ok(mailbox);
  return mailbox;
}

before(async () => {
  service = await startTestService();
  const operator = await operatorClient(service);
  const setup = await setupCustomer(service, operator, 'Store', { basic: 2 });
  const added = await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/domains`, { name: DOMAIN });
  await waitForOperation(setup.admin, added.body.id);
  const account = await setup.admin.post(`/api/subscriptions/${setup.subscriptionId}/accounts`, {
    address: `user@${DOMAIN}`,
    classId: 'basic',
    password: 'user-password-1',
  });
  expectStatus(account, 201);
  accountId = account.body.id;
});
after(() => service.close());

test('RFC 3501 §6.3.3 CREATE makes missing parents; a taken name is refused', async () => {
  await deliver('first');
  await createMailbox(service.ctx, accountId, 'Projects/2026/Q4');
  const names = (await listMailboxes(service.ctx.db, accountId)).map((m) => m.name);
  for (const name of ['Projects', 'Projects/2026', 'Projects/2026/Q4']) assert.ok(names.includes(name), name);
  await assert.rejects(createMailbox(service.ctx, accountId, 'Projects'), { kind: 'exists' });
  await assert.rejects(createMailbox(service.ctx, accountId, 'a//b'), { kind: 'invalid' });
  await assert.rejects(createMailbox(service.ctx, accountId, 'star*'), { kind: 'invalid' });
});

test('RFC 3501 §2.3.1.1 a folder created again after deletion gets a new UIDVALIDITY', async () => {
  const first = await createMailbox(service.ctx, accountId, 'Again');
  await deleteMailbox(service.ctx, accountId, 'Again');
  const second = await createMailbox(service.ctx, accountId, 'Again');
  assert.ok(second.uid_validity > first.uid_validity);
});

test('RFC 3501 §6.3.5 RENAME moves inferiors; renaming INBOX moves its messages and leaves it empty', async () => {
  await renameMailbox(service.ctx, accountId, 'Projects', 'Work');
  const names = (await listMailboxes(service.ctx.db, accountId)).map((m) => m.name);
  assert.ok(names.includes('Work/2026/Q4') && !names.some((n) => n.startsWith('Projects')));
  await deliver('second');
  const before = await mailboxStatus(service.ctx.db, await inbox());
  assert.ok(before.messages >= 2);
  await renameMailbox(service.ctx, accountId, 'INBOX', 'Old inbox');
  const old = await findMailbox(service.ctx.db, accountId, 'Old inbox');
  assert.ok(old);
  assert.equal((await mailboxStatus(service.ctx.db, old)).messages, before.messages);
  assert.equal((await mailboxStatus(service.ctx.db, await inbox())).messages, 0);
  const vanished = await changesSince(service.ctx.db, (await inbox()).id, before.highestModseq);
  assert.equal(vanished.expunged?.length, before.messages, 'INBOX reports the moved messages as expunged');
});

test('RFC 3501 §6.3.4 DELETE refuses INBOX, system folders and folders with children', async () => {
  await assert.rejects(deleteMailbox(service.ctx, accountId, 'inbox'), { kind: 'conflict' });
  await assert.rejects(deleteMailbox(service.ctx, accountId, 'Trash'), { kind: 'conflict' });
  await assert.rejects(deleteMailbox(service.ctx, accountId, 'Work'), { code: 'mailbox-has-children' });
  await assert.rejects(deleteMailbox(service.ctx, accountId, 'Nope'), { kind: 'not-found' });
});

test('RFC 7162 §3.1 STORE raises MODSEQ once per command; UNCHANGEDSINCE leaves newer messages alone', async () => {
  const a = await deliver('flag-a');
  const b = await deliver('flag-b', ['\\Seen']);
  const box = await inbox();
  const start = Number(box.highest_modseq);
  const stored = await updateFlags(service.ctx, { accountId, mailboxId: box.id }, [a, b], { mode: 'add', flags: ['\\Seen', 'Work'] });
  assert.equal(stored.changed.length, 2);
  assert.equal(new Set(stored.changed.map((c) => c.modseq)).size, 1);
  assert.ok(stored.changed[0] && stored.changed[0].modseq > start);
  const unchanged = await updateFlags(service.ctx, { accountId, mailboxId: box.id }, [a], { mode: 'add', flags: ['\\seen'] });
  assert.equal(unchanged.changed.length, 0, 'flags compare without case');
  const conditional = await updateFlags(service.ctx, { accountId, mailboxId: box.id }, [a, b], { mode: 'remove', flags: ['Work'] }, { unchangedSince: start });
  assert.deepEqual(conditional.modified, [a, b]);
  const changes = await changesSince(service.ctx.db, box.id, start);
  assert.deepEqual(
    changes.changed.map((c) => c.uid),
    [a, b],
  );
  const status = await mailboxStatus(service.ctx.db, (await inbox()) ?? box);
  assert.equal(status.unseen, 0);
});

test('RFC 4315 COPY keeps flags, counts in the quota and shares the blob; MOVE expunges the source', async () => {
  const box = await inbox();
  const uid = await deliver('copy-me', ['Important']);
  const archive = await findMailbox(service.ctx.db, accountId, 'Archive');
  assert.ok(archive);
  const usage = await quotaOf(service.ctx.db, accountId);
  const copied = await copyMessages(service.ctx, { accountId, mailboxId: box.id }, [uid], archive, { move: false });
  assert.equal(copied.pairs.length, 1);
  assert.equal(copied.uidValidity, Number(archive.uid_validity));
  const after = await quotaOf(service.ctx.db, accountId);
  assert.ok(usage && after && after.usedBytes > usage.usedBytes);
  const archived = await loadMailboxIndex(service.ctx.db, archive.id);
  assert.deepEqual(archived.at(-1)?.flags, ['Important']);

  const moved = await copyMessages(service.ctx, { accountId, mailboxId: box.id }, [uid], archive, { move: true });
  assert.equal(moved.pairs.length, 1);
  assert.ok(!(await loadMailboxIndex(service.ctx.db, box.id)).some((e) => e.uid === uid));
  assert.equal((await quotaOf(service.ctx.db, accountId))?.usedBytes, after?.usedBytes, 'a move does not count twice');
});

test('RFC 3501 §6.4.3 EXPUNGE removes only \\Deleted messages and gives their blob references back', async () => {
  const box = await inbox();
  const keep = await deliver('keep');
  const drop = await deliver('drop', ['\\Deleted']);
  const usage = await quotaOf(service.ctx.db, accountId);
  const removed = await expungeMessages(service.ctx, { accountId, mailboxId: box.id });
  assert.deepEqual(removed, [drop]);
  const index = await loadMailboxIndex(service.ctx.db, box.id);
  assert.ok(index.some((e) => e.uid === keep));
  const after = await quotaOf(service.ctx.db, accountId);
  assert.equal(after?.messages, (usage?.messages ?? 0) - 1);
  const changes = await changesSince(service.ctx.db, box.id, 0);
  assert.ok(changes.expunged?.includes(drop));
});

test('blob garbage collection removes contents nobody references, and orphan files past their grace', async () => {
  const box = await inbox();
  const big = `From: a@b.test\r\nSubject: big\r\n\r\n${'y'.repeat(300 * 1024)}\r\n`;
  const message = await receiveMessage(service.ctx, Readable.from([Buffer.from(big)]), { maxBytes: 1 << 21 });
  assert.equal(message.blob.inline, undefined, 'over 256 KB: kept in a file');
  const [stored] = await deliverMessage(service.ctx, message, [{ accountId, flags: ['\\Deleted'] }]);
  assert.ok(stored?.ok);
  const small = await deliver('small-gc', ['\\Deleted']);
  const smallRow = (
    await service.ctx.db.selectFrom('messages').select('blob_id').where('mailbox_id', '=', box.id).where('uid', '=', small).executeTakeFirstOrThrow()
  ).blob_id;
  const kept = await deliver('kept-gc');
  assert.ok(await service.ctx.blobs.has(message.blob.id));
  await expungeMessages(service.ctx, { accountId, mailboxId: box.id });
  const orphan = await service.ctx.blobs.put(Buffer.from('written, never committed'));

  const result = await collectGarbage(service.ctx, { orphanGraceMs: 0 });
  assert.ok(result.blobs >= 2 && result.orphans >= 1, JSON.stringify(result));
  assert.equal(await service.ctx.blobs.has(message.blob.id), false);
  assert.equal(await service.ctx.blobs.has(orphan.id), false);
  assert.equal(await service.ctx.db.selectFrom('blob_contents').select('id').where('id', '=', smallRow).executeTakeFirst(), undefined);
  const keptRow = await service.ctx.db
    .selectFrom('messages')
    .select('blob_id')
    .where('mailbox_id', '=', box.id)
    .where('uid', '=', kept)
    .executeTakeFirstOrThrow();
  assert.ok(await service.ctx.db.selectFrom('blob_contents').select('id').where('id', '=', keptRow.blob_id).executeTakeFirst(), 'referenced contents stay');
});

test('a content reserved by a delivery under way is not collected, though nothing references it yet', async () => {
  const big = `From: a@b.test\r\nSubject: reserved\r\n\r\n${'r'.repeat(300 * 1024)}\r\n`;
  const message = await receiveMessage(service.ctx, Readable.from([Buffer.from(big)]), { maxBytes: 1 << 21 });
  assert.ok(message.blob.reservation, 'a stored file is reserved before it is relied on');
  const row = await service.ctx.db.selectFrom('blobs').select('refcount').where('id', '=', message.blob.id).executeTakeFirstOrThrow();
  assert.equal(Number(row.refcount), 0);
  await collectGarbage(service.ctx, { orphanGraceMs: 0 });
  assert.ok(await service.ctx.blobs.has(message.blob.id), 'the reserved file stays');
  const [stored] = await deliverMessage(service.ctx, message, [{ accountId }]);
  assert.ok(stored?.ok);
  const reservations = await service.ctx.db.selectFrom('blob_reservations').select('id').where('blob_id', '=', message.blob.id).execute();
  assert.deepEqual(reservations, [], 'the delivery gave its reservation back when it committed its reference');
});

test('a delivery whose reservation ran out and whose content was collected meanwhile fails unacknowledged', async () => {
  const big = `From: a@b.test\r\nSubject: raced\r\n\r\n${'z'.repeat(300 * 1024)}\r\n`;
  const message = await receiveMessage(service.ctx, Readable.from([Buffer.from(big)]), { maxBytes: 1 << 21 });
  service.clock.advance(RESERVATION_MS + 1);
  await collectGarbage(service.ctx, { orphanGraceMs: 0 });
  assert.equal(await service.ctx.blobs.has(message.blob.id), false, 'collected once its reservation ran out');
  await assert.rejects(deliverMessage(service.ctx, message, [{ accountId }]), { kind: 'temp', code: 'blob-missing' });
  // The sender's retry stores the content again.
  const again = await receiveMessage(service.ctx, Readable.from([Buffer.from(big)]), { maxBytes: 1 << 21 });
  const [stored] = await deliverMessage(service.ctx, again, [{ accountId }]);
  assert.ok(stored?.ok);
  assert.ok(await service.ctx.blobs.has(again.blob.id));
});
