import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { isAppError } from '../../shared/errors.ts';
import { attachmentsCheck, EICAR_SIGNATURE, RISKY_ATTACHMENT } from './attachments.ts';
import { EICAR, extensionOf, isEicar, readZipDirectory } from './malware.ts';
import { BASIC_HEADERS, input, makeZip, rawMessage, testContext, withAttachments } from './test-support.ts';

const eicar = Buffer.from(EICAR, 'latin1');
const check = attachmentsCheck(testContext());

async function run(raw: Buffer) {
  return check.run(await input(raw));
}

describe('attachments: EICAR (R-V1)', () => {
  it('finds the EICAR file attached in base64', async () => {
    const result = await run(withAttachments([{ name: 'eicar.com', content: eicar, type: 'application/octet-stream' }]));
    assert.equal(result.malware?.name, EICAR_SIGNATURE);
    assert.match(result.malware?.reason.fr ?? '', /EICAR/);
  });

  it('finds it in quoted-printable, and with trailing white space', async () => {
    const result = await run(
      withAttachments([{ name: 'test.txt', type: 'text/plain', content: Buffer.concat([eicar, Buffer.from('\r\n ')]), encoding: 'quoted-printable' }]),
    );
    assert.equal(result.malware?.name, EICAR_SIGNATURE);
  });

  it('finds it as the whole body of a single-part message', async () => {
    const result = await run(rawMessage([...BASIC_HEADERS, 'Content-Type: text/plain'], `${EICAR}\n`));
    assert.equal(result.malware?.name, EICAR_SIGNATURE);
  });

  it('finds it inside a zip (deflated and stored) and a zip inside a zip', async () => {
    for (const zip of [
      makeZip([
        { name: 'readme.txt', content: Buffer.from('hello') },
        { name: 'dir/eicar.com.txt', content: eicar },
      ]),
      makeZip([{ name: 'eicar.txt', content: eicar, store: true }]),
      makeZip([{ name: 'inner.zip', content: makeZip([{ name: 'eicar.txt', content: eicar }]) }]),
    ]) {
      const result = await run(withAttachments([{ name: 'archive.zip', type: 'application/zip', content: zip }]));
      assert.equal(result.malware?.name, EICAR_SIGNATURE);
      assert.match(result.malware?.reason.en ?? '', /archive\.zip\//);
    }
  });

  it('is not fooled by the string inside a larger file', () => {
    assert.equal(isEicar(Buffer.concat([Buffer.from('prefix '), eicar])), false);
    assert.equal(isEicar(Buffer.concat([eicar, Buffer.alloc(100, 0x41)])), false);
    assert.equal(isEicar(eicar), true);
  });

  it('passes clean attachments', async () => {
    const result = await run(withAttachments([{ name: 'report.pdf', type: 'application/pdf', content: Buffer.from('%PDF-1.4 clean') }]));
    assert.deepEqual(result, { symbols: [] });
  });
});

describe('attachments: risky types (R-V1)', () => {
  it('flags risky extensions, double extensions and MIME types', async () => {
    for (const [name, type] of [
      ['setup.exe', 'application/octet-stream'],
      ['invoice.pdf.exe', 'application/pdf'],
      ['INVOICE.DOCM', 'application/octet-stream'],
      ['update.bin', 'application/x-msdownload'],
      ['script.JS', 'text/plain'],
    ] as const) {
      const result = await run(withAttachments([{ name, type, content: Buffer.from('data') }]));
      assert.equal(result.malware?.name, RISKY_ATTACHMENT, name);
    }
  });

  it('flags a risky file inside a zip, and a Windows executable by its content', async () => {
    const zip = makeZip([{ name: 'docs/run.scr', content: Buffer.from('x') }]);
    const inZip = await run(withAttachments([{ name: 'docs.zip', content: zip }]));
    assert.equal(inZip.malware?.name, RISKY_ATTACHMENT);
    assert.match(inZip.malware?.reason.en ?? '', /docs\.zip\/docs\/run\.scr/);
    const pe = Buffer.alloc(256);
    pe.write('MZ', 0, 'latin1');
    pe.writeUInt32LE(128, 0x3c);
    pe.write('PE\0\0', 128, 'latin1');
    const disguised = await run(withAttachments([{ name: 'photo.jpg', type: 'image/jpeg', content: pe }]));
    assert.equal(disguised.malware?.name, RISKY_ATTACHMENT);
  });

  it('follows the setting', async () => {
    const relaxed = attachmentsCheck(testContext({ filter: { riskyAttachments: ['scr'] } }));
    const result = await relaxed.run(await input(withAttachments([{ name: 'setup.exe', content: Buffer.from('text') }])));
    assert.equal(result.malware, undefined);
  });

  it('reads extensions', () => {
    assert.equal(extensionOf('a.tar.GZ'), 'gz');
    assert.equal(extensionOf('x.exe. '), 'exe');
    assert.equal(extensionOf('.bashrc'), '');
    assert.equal(extensionOf('noext'), '');
  });
});

describe('attachments: zip bombs and limits (issue 5, bad input)', () => {
  async function expectUnscannable(zip: Buffer, maxMs: number) {
    const started = performance.now();
    const memoryBefore = process.memoryUsage().rss;
    await assert.rejects(
      () => run(withAttachments([{ name: 'bomb.zip', type: 'application/zip', content: zip }])),
      (error: unknown) => isAppError(error) && error.kind === 'limit' && /inspected/.test(error.text.en),
    );
    const elapsed = performance.now() - started;
    assert.ok(elapsed < maxMs, `took ${elapsed} ms`);
    assert.ok(process.memoryUsage().rss - memoryBefore < 200 * 1024 * 1024, 'memory stays bounded');
  }

  it('refuses a high-ratio entry without inflating it', async () => {
    const zeros = Buffer.alloc(50 * 1024 * 1024);
    await expectUnscannable(makeZip([{ name: 'zeros.bin', content: zeros }]), 2000);
  });

  it('refuses an entry that inflates past what it declares', async () => {
    const zeros = Buffer.alloc(20 * 1024 * 1024);
    await expectUnscannable(makeZip([{ name: 'small.txt', content: zeros, declaredSize: 1000 }]), 2000);
  });

  it('refuses nesting deeper than two archives (42.zip style)', async () => {
    let zip = makeZip([{ name: 'data.txt', content: Buffer.from('x'.repeat(1000)) }]);
    for (let level = 0; level < 4; level++) zip = makeZip(Array.from({ length: 4 }, (_, i) => ({ name: `l${level}-${i}.zip`, content: zip })));
    await expectUnscannable(zip, 2000);
  });

  it('refuses too many entries', async () => {
    const zip = makeZip(Array.from({ length: 1100 }, (_, i) => ({ name: `f${i}.txt`, content: Buffer.from('a'), store: true })));
    await expectUnscannable(zip, 2000);
  });

  it('still reports malware found before the limit', async () => {
    const zip = makeZip([
      { name: 'eicar.txt', content: eicar },
      { name: 'zeros.bin', content: Buffer.alloc(20 * 1024 * 1024) },
    ]);
    const result = await run(withAttachments([{ name: 'mixed.zip', content: zip }]));
    assert.equal(result.malware?.name, EICAR_SIGNATURE);
  });

  it('ignores a damaged archive (only its name is checked)', async () => {
    const zip = makeZip([{ name: 'a.txt', content: Buffer.from('hello') }]);
    zip.writeUInt32LE(0xdeadbeef, zip.length - 6); // directory offset points nowhere
    const result = await run(withAttachments([{ name: 'broken.zip', content: zip }]));
    assert.deepEqual(result, { symbols: [] });
    assert.throws(() => readZipDirectory(zip));
  });

  it('reads its own deflate output', () => {
    const zip = makeZip([{ name: 'a.txt', content: Buffer.from('hello hello') }]);
    const [entry] = readZipDirectory(zip);
    assert.equal(entry?.name, 'a.txt');
    assert.equal(entry?.compressedSize, deflateRawSync(Buffer.from('hello hello')).length);
  });
});
