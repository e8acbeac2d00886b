import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { after, before, test } from 'node:test';
import { FsBlobStore } from './fs.ts';

let root: string;
let blobs: FsBlobStore;
before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'facteur-blobs-'));
  blobs = new FsBlobStore(root);
});
after(() => rm(root, { recursive: true, force: true }));

async function* chunks(parts: string[]) {
  for (const part of parts) yield new TextEncoder().encode(part);
}

test('blobs are stored by content hash and read back', async () => {
  const ref = await blobs.put(new TextEncoder().encode('hello'));
  assert.equal(ref.id, '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824'); // sha256("hello")
  assert.equal(ref.size, 5);
  assert.equal(await text(blobs.read(ref.id)), 'hello');
  assert.equal(await blobs.has(ref.id), true);
});

test('a streamed blob equals the same bytes in one piece, stored once', async () => {
  const streamed = await blobs.put(chunks(['Subject: x\r\n', '\r\n', 'body\r\n']));
  const whole = await blobs.put(new TextEncoder().encode('Subject: x\r\n\r\nbody\r\n'));
  assert.deepEqual(streamed, whole);
  const dir = path.join(root, whole.id.slice(0, 2), whole.id.slice(2, 4));
  assert.deepEqual(await readdir(dir), [whole.id]);
});

test('a failed write leaves no blob and no temporary file behind', async () => {
  async function* failing() {
    yield new TextEncoder().encode('partial');
    throw new Error('client went away');
  }
  await assert.rejects(blobs.put(failing()), /client went away/);
  assert.deepEqual(await readdir(path.join(root, 'tmp')), []);
});

test('deleted blobs are gone; ids that are not hashes are refused', async () => {
  const ref = await blobs.put(new TextEncoder().encode('to delete'));
  await blobs.delete(ref.id);
  assert.equal(await blobs.has(ref.id), false);
  assert.throws(() => blobs.read('../../etc/passwd'), /invalid blob id/);
});

test('a staged blob is not at its place until published; a content already there is kept, the staged copy dropped', async () => {
  const staged = await blobs.stage(new TextEncoder().encode('staged content'));
  assert.equal(await blobs.has(staged.id), false, 'known by its hash, not yet stored');
  await staged.publish();
  assert.equal(await text(blobs.read(staged.id)), 'staged content');
  const again = await blobs.stage(chunks(['staged ', 'content']));
  assert.equal(again.id, staged.id);
  await again.publish();
  assert.equal(await text(blobs.read(staged.id)), 'staged content');
  const dropped = await blobs.stage(new TextEncoder().encode('never published'));
  await dropped.discard();
  assert.equal(await blobs.has(dropped.id), false);
  assert.deepEqual(await readdir(path.join(root, 'tmp')), [], 'no staged copy left behind');
});
