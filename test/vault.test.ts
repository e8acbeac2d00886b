/**
 * The malware vault (issue 5, R-V1, R-A2): outbound mail that carried malware is kept (content, row,
 * blob reference) for `filter.vaultDays`, then purged by a job; only the operator lists or reads it,
 * each read recorded with who, when and why; customers and users get 404, as if it did not exist.
 * Messages are vaulted the way submission will (receiveMessage, then vaultOutbound).
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { purgeVault, vaultOutbound } from '../src/filter/vault.ts';
import { JOBS, runJob } from '../src/jobs/index.ts';
import { receiveMessage } from '../src/mailstore/index.ts';
import { DAY_MS } from '../src/shared/clock.ts';
import { type ApiClient, expectProblem, expectStatus } from './helpers/client.ts';
import { facteur, facteurJson, type MailCustomer, rawMessage, startWithTwoCustomers } from './helpers/filter.ts';
import type { TestService } from './helpers/service.ts';

const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

let service: TestService;
let operator: ApiClient;
let acme: MailCustomer;
let other: MailCustomer;

before(async () => {
  ({ service, operator, acme, other } = await startWithTwoCustomers(['alice'], ['carol']));
});
after(() => service.close());

const alice = () => acme.accounts[0] as MailCustomer['accounts'][number];

async function vaultFromAlice(subject: string) {
  const raw = rawMessage({ from: alice().address, to: 'victim@remote.test', subject, attachment: { name: 'eicar.com', content: EICAR } });
  const message = await receiveMessage(service.ctx, Readable.from([raw]), { maxBytes: 1 << 20 });
  const entry = await vaultOutbound(service.ctx, {
    blob: message.blob,
    account: { accountId: alice().id, customerId: alice().customerId },
    sender: alice().address,
    recipients: ['victim@remote.test'],
    malware: { name: 'Eicar-Test-Signature', reason: { en: 'EICAR test file', fr: 'Fichier de test EICAR' }, source: 'malware' },
    messageId: message.metadata.summary.messageId,
  });
  return { entry, raw, blobId: message.blob.id };
}

test('R-V1 outbound malware is kept in the vault, outside any mailbox, and traced', async () => {
  const { entry, blobId } = await vaultFromAlice('Invoice');
  assert.equal(entry.malware, 'Eicar-Test-Signature');
  assert.equal(entry.customerId, acme.customerId);
  const refs = await service.ctx.db.selectFrom('blobs').select('refcount').where('id', '=', blobId).executeTakeFirstOrThrow();
  assert.equal(Number(refs.refcount), 1);
  const messages = await service.ctx.db.selectFrom('messages').select('id').where('blob_id', '=', blobId).execute();
  assert.equal(messages.length, 0);
  const trace = await service.ctx.db.selectFrom('message_trace').select(['step', 'detail']).where('detail', 'like', `%${entry.id}%`).execute();
  assert.equal(trace.length, 1);
  assert.equal(trace[0]?.step, 'filtered');
});

test('R-A2 only the operator lists and reads the vault; every read is recorded with its reason', async () => {
  const { entry, raw } = await vaultFromAlice('Read me');
  const list = await operator.get('/api/vault');
  expectStatus(list, 200);
  assert.ok(list.body.items.some((i: { id: string }) => i.id === entry.id));

  expectProblem(await operator.post(`/api/vault/${entry.id}/read`, { reason: '' }), 400, 'invalid-field', 'reason');
  const read = await operator.post(`/api/vault/${entry.id}/read`, { reason: 'abuse report #42' });
  expectStatus(read, 200);
  assert.deepEqual(Buffer.from(read.body.contentBase64, 'base64'), raw);
  assert.equal(read.body.read.reason, 'abuse report #42');
  const reads = await operator.get(`/api/vault/${entry.id}/reads`);
  assert.deepEqual(
    reads.body.items.map((r: { reason: string }) => r.reason),
    ['abuse report #42'],
  );
  assert.ok(reads.body.items[0].loginId.startsWith('adm_'));

  // Customers (their own sender's mail included) and users: 404, as if there were no vault.
  for (const client of [acme.admin, other.admin, alice().client]) {
    const listing = await client.get('/api/vault');
    expectProblem(listing, 404, 'no-route'); // not "No such vaulted message": for them there is no such route
    assert.equal(listing.body.detail, 'No route GET /api/vault');
    expectProblem(await client.post(`/api/vault/${entry.id}/read`, { reason: 'curious about it' }), 404, 'not-found');
    expectProblem(await client.get(`/api/vault/${entry.id}/reads`), 404, 'not-found');
  }
  const count = await service.ctx.db.selectFrom('vault_reads').select('id').where('vault_id', '=', entry.id).execute();
  assert.equal(count.length, 1, 'refused reads are not reads');
});

test('R-A2 CLI: facteur vault list, vault read ID --reason TEXT (recorded)', async () => {
  const { entry, raw } = await vaultFromAlice('CLI read');
  const listed = await facteurJson(service, ['vault', 'list', '--customer', acme.customerId]);
  assert.ok(listed.items.some((i: { id: string }) => i.id === entry.id));
  assert.ok(listed.items.every((i: { customerId: string }) => i.customerId === acme.customerId));
  const noReason = await facteur(service, ['vault', 'read', entry.id]);
  assert.notEqual(noReason.code, 0);
  const read = await facteur(service, ['vault', 'read', entry.id, '--reason', 'law enforcement request']);
  assert.equal(read.code, 0, read.stderr);
  assert.equal(read.stdout, raw.toString('latin1'));
  const reads = await service.ctx.db.selectFrom('vault_reads').selectAll().where('vault_id', '=', entry.id).execute();
  assert.deepEqual(
    reads.map((r) => [r.login_id, r.reason]),
    [['cli', 'law enforcement request']],
  );
});

test('R-V1 vaulted messages are purged after filter.vaultDays (job vault.purge), with their blob references', async () => {
  const { entry, blobId } = await vaultFromAlice(`Purge me ${Math.random()}`);
  assert.deepEqual(await purgeVault(service.ctx), { purged: 0 });
  service.clock.advance(service.ctx.config.filter.vaultDays * DAY_MS + 1000);
  const job = JOBS.find((j) => j.name === 'vault.purge');
  assert.ok(job);
  const run = await runJob(service.ctx, job);
  assert.ok((run.result as { purged: number }).purged >= 1);
  const row = await service.ctx.db.selectFrom('malware_vault').select('id').where('id', '=', entry.id).executeTakeFirst();
  assert.equal(row, undefined);
  const refs = await service.ctx.db.selectFrom('blobs').select('refcount').where('id', '=', blobId).executeTakeFirstOrThrow();
  assert.equal(Number(refs.refcount), 0);
  await operator.login('operator@provider.test', 'operator-password-1');
  expectProblem(await operator.post(`/api/vault/${entry.id}/read`, { reason: 'too late now' }), 404, 'not-found');
});
