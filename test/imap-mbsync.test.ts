/**
 * mbsync (Debian `isync`) against the IMAP server (issue 4, SPEC R-M3): a full two-way sync of an account
 * with several folders (INBOX, Sent, Archive, the nested Projects/2026), flags and 1,000 messages into a
 * local Maildir, then an incremental sync after changes on both sides, then a sync with nothing to do.
 * After each sync both sides are compared message by message (by Message-ID): folder, flags and bytes.
 *
 * mbsync cannot skip certificate checks: it connects to `localhost` over IMAPS with the service's
 * self-signed certificate pinned (`CertificateFile`). CI installs isync (scripts/services.sh install);
 * without mbsync this file fails in CI and says loudly elsewhere that it did not run.
 *
 * What mbsync 1.4 does to the bytes, and nothing else is allowed: line ends become LF in the Maildir (CRLF
 * on the IMAP side), and every message it copies (either way) gets an `X-TUID:` header line at the end
 * of its header.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { AppContext } from '../src/context.ts';
import {
  createMailbox,
  deliverMessage,
  expungeMessages,
  findMailbox,
  listMailboxes,
  loadMailboxIndex,
  parseFlags,
  readContent,
  readMessages,
  receiveMessage,
  updateFlags,
} from '../src/mailstore/index.ts';
import { setupMailAccount } from './helpers/client.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'mbsync.test';
const USER = `sync@${DOMAIN}`;
const PASSWORD = 'sync-password-1';
const MESSAGES = 1000;
/** How the 1,000 messages are spread over the folders. */
const SEED: Array<[folder: string, count: number]> = [
  ['INBOX', 700],
  ['Sent', 120],
  ['Archive', 120],
  ['Projects/2026', 60],
];
/** IMAP flags mbsync carries, with their Maildir letters (isync 1.4: D F R S T). */
const MAILDIR_FLAGS: Array<[letter: string, flag: string]> = [
  ['D', '\\Draft'],
  ['F', '\\Flagged'],
  ['R', '\\Answered'],
  ['S', '\\Seen'],
  ['T', '\\Deleted'],
];

let service: TestService;
let accountId: string;
let mbsyncVersion: string | undefined;
let work: string;
let maildir: string;
let rcFile: string;

/** What both sides must hold: Message-ID -> folder, flags and the message as the server stores it (CRLF). */
interface Expected {
  folder: string;
  flags: Set<string>;
  raw: Buffer;
}
const expected = new Map<string, Expected>();

const run = promisify(execFile);

async function findMbsync(): Promise<string | undefined> {
  try {
    const { stdout } = await run('mbsync', ['--version']);
    return stdout.trim();
  } catch {
    return undefined;
  }
}

/** Without mbsync: CI fails (it installs isync), elsewhere the test says loudly it was NOT run. */
function requireMbsync(t: { skip(message: string): void }): boolean {
  if (mbsyncVersion) return true;
  assert.ok(!process.env.CI, 'mbsync is not installed: CI installs Debian isync (scripts/services.sh install)');
  console.error('!!! mbsync (Debian isync) is not installed here: the mbsync sync test is NOT run (scripts/services.sh install adds it)');
  t.skip('mbsync is not installed here: NOT tested (scripts/services.sh install adds isync)');
  return false;
}

function messageText(n: number, folder: string): string {
  const id = `<seed-${n}@example.test>`;
  const head = [
    `From: Sender ${n % 37} <sender${n % 37}@example.test>`,
    `To: ${USER}`,
    `Subject: Seed message ${n} in ${folder}`,
    `Date: Thu, 26 Nov 2026 ${String(n % 24).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}:00 +0000`,
    `Message-ID: ${id}`,
    'MIME-Version: 1.0',
  ];
  if (n % 50 === 0) {
    return [
      ...head,
      'Content-Type: multipart/mixed; boundary="part-boundary"',
      '',
      '--part-boundary',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      `Pièce jointe du message ${n}.`,
      '--part-boundary',
      'Content-Type: application/octet-stream; name="data.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.alloc(300, n % 256).toString('base64'),
      '--part-boundary--',
      '',
    ].join('\r\n');
  }
  // One large message: stored as a blob file (over 256 KB), streamed to mbsync.
  const lines = n === 500 ? 6000 : 3 + (n % 5);
  const body: string[] = [];
  for (let i = 0; i < lines; i++) body.push(`Line ${i} of message ${n}: café, naïve, 日本 — ${'x'.repeat(i % 40)}`);
  body.push('From the start of a line (no mbox quoting in a Maildir)', '.', '  trailing spaces  ');
  return [...head, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', ...body, ''].join('\r\n');
}

function seedFlags(n: number): string[] {
  const flags: string[] = [];
  if (n % 3 !== 0) flags.push('\\Seen');
  if (n % 7 === 0) flags.push('\\Flagged');
  if (n % 11 === 0) flags.push('\\Answered');
  return flags;
}

const mailboxIds = new Map<string, string>();
async function mailboxId(name: string): Promise<string> {
  const known = mailboxIds.get(name);
  if (known) return known;
  const mailbox = await findMailbox(service.ctx.db, accountId, name);
  assert.ok(mailbox, `folder ${name} exists on the server`);
  mailboxIds.set(name, mailbox.id);
  return mailbox.id;
}

async function deliver(raw: string, folder: string, flags: string[]): Promise<void> {
  const message = await receiveMessage(service.ctx, Readable.from([Buffer.from(raw)]), { maxBytes: 1 << 20 });
  // INBOX by its role: the first delivery creates the special-use folders.
  const mailbox = folder === 'INBOX' ? ('inbox' as const) : { id: await mailboxId(folder) };
  const [result] = await deliverMessage(service.ctx, message, [{ accountId, mailbox, flags }]);
  assert.ok(result?.ok, `delivery into ${folder}: ${JSON.stringify(result)}`);
  expected.set(messageIdOf(Buffer.from(raw)), { folder, flags: new Set(flags), raw: Buffer.from(raw) });
}

function messageIdOf(raw: Buffer): string {
  const text = raw.toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  const match = /^Message-ID:[ \t]*(<[^>\r\n]+>)/im.exec(end >= 0 ? text.slice(0, end) : text);
  assert.ok(match?.[1], `a Message-ID in:\n${text.slice(0, 400)}`);
  return match[1];
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** mbsync converts line ends (IMAP: CRLF, Maildir: LF). */
const toLf = (raw: Buffer) => Buffer.from(raw.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
const toCrlf = (raw: Buffer) => Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');

/** mbsync 1.4 marks the copies it makes with an `X-TUID:` header line (to find their UIDs); any other change is a failure. */
function withoutTuid(raw: Buffer): Buffer {
  const text = raw.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  if (end < 0) return raw;
  return Buffer.from(text.slice(0, end).replace(/\r?\nX-TUID: [^\r\n]*/, '') + text.slice(end), 'latin1');
}

interface Found {
  folder: string;
  flags: Set<string>;
  raw: Buffer;
  file?: string;
}

/** Every message of the account on the server, by Message-ID (a list: duplicates are failures). */
async function serverMessages(ctx: AppContext): Promise<Map<string, Found[]>> {
  const out = new Map<string, Found[]>();
  for (const mailbox of await listMailboxes(ctx.db, accountId)) {
    const index = await loadMailboxIndex(ctx.db, mailbox.id);
    const rows = await readMessages(
      ctx.db,
      mailbox.id,
      index.map((entry) => entry.uid),
    );
    for (const row of rows) {
      const raw = await readAll(readContent(ctx, row.blob_id));
      const id = messageIdOf(raw);
      out.set(id, [...(out.get(id) ?? []), { folder: mailbox.name, flags: new Set(parseFlags(row.flags)), raw }]);
    }
  }
  return out;
}

function flagsOfFile(name: string): Set<string> {
  const info = /:2,([A-Za-z]*)$/.exec(name)?.[1] ?? '';
  return new Set(MAILDIR_FLAGS.filter(([letter]) => info.includes(letter)).map(([, flag]) => flag));
}

/** The Maildir folders under the local root: a directory with cur/ is a folder; INBOX is the one named INBOX. */
async function maildirFolders(dir = maildir, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || ['cur', 'new', 'tmp'].includes(entry.name)) continue;
    const name = prefix ? `${prefix}/${entry.name}` : entry.name;
    const full = path.join(dir, entry.name);
    if (await stat(path.join(full, 'cur')).catch(() => undefined)) out.push(name);
    out.push(...(await maildirFolders(full, name)));
  }
  return out;
}

/** Every message of the local Maildir, by Message-ID. */
async function localMessages(): Promise<Map<string, Found[]>> {
  const out = new Map<string, Found[]>();
  for (const folder of await maildirFolders()) {
    for (const sub of ['new', 'cur']) {
      const dir = path.join(maildir, folder, sub);
      for (const name of await readdir(dir)) {
        const file = path.join(dir, name);
        const raw = await readFile(file);
        const id = messageIdOf(raw);
        // mbsync 1.4 files unseen messages in new/ with their other flags in the name (…:2,FR).
        out.set(id, [...(out.get(id) ?? []), { folder, flags: flagsOfFile(name), raw, file }]);
      }
    }
  }
  return out;
}

const sorted = (flags: Set<string>) => [...flags].sort();

/** Compares one side with the expectation, message by message; `convert` maps the server's bytes to that side's. */
function compare(side: string, found: Map<string, Found[]>, convert: (raw: Buffer) => Buffer): { tuids: number } {
  let tuids = 0;
  const problems: string[] = [];
  for (const [id, want] of expected) {
    const copies = found.get(id) ?? [];
    if (copies.length !== 1) {
      problems.push(`${id}: ${copies.length} copies (${copies.map((c) => c.folder).join(', ')}), expected 1 in ${want.folder}`);
      continue;
    }
    const [got] = copies as [Found];
    if (got.folder !== want.folder) problems.push(`${id}: in ${got.folder}, expected ${want.folder}`);
    if (sorted(got.flags).join(' ') !== sorted(want.flags).join(' ')) {
      problems.push(`${id} in ${want.folder}: flags ${sorted(got.flags).join(' ') || '(none)'}, expected ${sorted(want.flags).join(' ') || '(none)'}`);
    }
    const stripped = withoutTuid(got.raw);
    if (stripped.length !== got.raw.length) tuids++;
    if (!stripped.equals(convert(want.raw))) {
      problems.push(
        `${id} in ${want.folder}: bytes differ (${got.raw.length} vs ${convert(want.raw).length}): ${JSON.stringify(got.raw.subarray(0, 200).toString())}`,
      );
    }
  }
  for (const [id, copies] of found) if (!expected.has(id)) problems.push(`${id}: unexpected, in ${copies.map((c) => c.folder).join(', ')}`);
  if (problems.length > 0) assert.fail(`${side}: ${problems.length} differences, the first:\n${problems.slice(0, 15).join('\n')}`);
  return { tuids };
}

async function mbsync(label: string): Promise<{ output: string; ms: number }> {
  const started = Date.now();
  const result = await run('mbsync', ['-c', rcFile, '-a'], { timeout: 90_000, maxBuffer: 1 << 26 }).catch(
    (error: { code?: number; signal?: string; stdout?: string; stderr?: string }) =>
      assert.fail(`mbsync (${label}) failed: exit ${error.code ?? error.signal}\n--- stdout\n${error.stdout}\n--- stderr\n${error.stderr}`),
  );
  const output = result.stdout + result.stderr;
  // mbsync reports what it tolerates (a server answer it did not expect, messages it lost track of) without failing.
  assert.doesNotMatch(output, /error|warning|lost track/i, `mbsync (${label}) complained:\n${output}`);
  return { output, ms: Date.now() - started };
}

before(async () => {
  mbsyncVersion = await findMbsync();
  service = await startTestService({ overrides: { roles: ['web', 'imap'], ports: { http: 0, imap: 0, imaps: 0 } } });
  ({ accountId } = await setupMailAccount(service, 'Mbsync', { address: USER, password: PASSWORD }, { standard: 1 }));
  if (!mbsyncVersion) return;

  work = path.join(service.dataDir, 'mbsync');
  maildir = path.join(work, 'mail');
  rcFile = path.join(work, 'mbsyncrc');
  await mkdir(maildir, { recursive: true });
  // isync 1.4 spells it SSLType (1.5 renamed it TLSType); both verify the pinned certificate and the host name.
  await writeFile(
    rcFile,
    [
      'IMAPAccount facteur',
      'Host localhost',
      `Port ${service.imapsPort}`,
      `User ${USER}`,
      `Pass ${PASSWORD}`,
      'SSLType IMAPS',
      `CertificateFile ${service.tlsCertFile}`,
      '',
      'IMAPStore facteur-remote',
      'Account facteur',
      '',
      'MaildirStore facteur-local',
      `Path ${maildir}/`,
      `Inbox ${maildir}/INBOX`,
      'SubFolders Verbatim',
      '',
      'Channel facteur',
      'Far :facteur-remote:',
      'Near :facteur-local:',
      'Patterns *',
      'Create Both',
      'Expunge Both',
      'SyncState *',
      'Sync All',
      '',
    ].join('\n'),
  );

  // The first delivery creates the special-use folders; Projects/2026 (and its parent) is made here.
  await deliver(messageText(0, 'INBOX'), 'INBOX', seedFlags(0));
  await createMailbox(service.ctx, accountId, 'Projects/2026');
  const jobs: Array<[n: number, folder: string]> = [];
  let n = 1;
  for (const [folder, count] of SEED) for (let i = folder === 'INBOX' ? 1 : 0; i < count; i++) jobs.push([n++, folder]);
  for (let i = 0; i < jobs.length; i += 100) {
    await Promise.all(jobs.slice(i, i + 100).map(([k, folder]) => deliver(messageText(k, folder), folder, seedFlags(k))));
  }
  assert.equal(expected.size, MESSAGES);
});
after(() => service?.close());

test('R-M3 the service certificate names localhost (what mbsync checks)', () => {
  const cert = new X509Certificate(service.tlsCert);
  assert.ok(cert.checkHost('localhost'), `subjectAltName: ${cert.subjectAltName}`);
});

test('R-M3 mbsync (isync) first full two-way sync: 1,000 messages in 4 folders with their flags', async (t) => {
  if (!requireMbsync(t)) return;
  const { ms, output } = await mbsync('first sync');
  t.diagnostic(`${mbsyncVersion}: first sync of ${MESSAGES} messages in ${ms} ms`);
  const folders = await maildirFolders();
  for (const folder of ['INBOX', 'Sent', 'Archive', 'Projects', 'Projects/2026', 'Drafts', 'Junk', 'Trash']) {
    assert.ok(folders.includes(folder), `local folder ${folder} in ${folders.join(', ')}\n${output}`);
  }
  const local = compare('Maildir after the first sync', await localMessages(), toLf);
  t.diagnostic(`X-TUID lines added locally: ${local.tuids}`);
  // The server is unchanged by the first sync (nothing local to push).
  compare('server after the first sync', await serverMessages(service.ctx), (raw) => raw);
});

test('R-M3 mbsync incremental sync after changes on both sides, then a sync with nothing to do', async (t) => {
  if (!requireMbsync(t)) return;
  const ctx = service.ctx;
  const local = await localMessages();
  const fileOf = (id: string) => {
    const file = local.get(id)?.[0]?.file;
    assert.ok(file, `a local file for ${id}`);
    return file;
  };
  const uidsOf = async (folder: string, ids: string[]): Promise<number[]> => {
    const id = await mailboxId(folder);
    const rows = await readMessages(
      ctx.db,
      id,
      (await loadMailboxIndex(ctx.db, id)).map((e) => e.uid),
    );
    const out: number[] = [];
    for (const row of rows) if (ids.includes(messageIdOf(await readAll(readContent(ctx, row.blob_id))))) out.push(Number(row.uid));
    assert.equal(out.length, ids.length, `${ids.join(' ')} in ${folder}`);
    return out;
  };
  const seed = (n: number) => `<seed-${n}@example.test>`;
  const has = (n: number, flag: string) => expected.get(seed(n))?.flags.has(flag) ?? false;

  // --- Server side (what IMAP clients and the MX would do): new mail, flags, expunges, a new folder.
  for (let i = 1; i <= 5; i++) await deliver(messageText(2000 + i, 'INBOX'), 'INBOX', []);
  await deliver(messageText(2010, 'Projects/2026'), 'Projects/2026', ['\\Flagged']);
  await createMailbox(ctx, accountId, 'Clients/Acme');
  await deliver(messageText(2020, 'Clients/Acme'), 'Clients/Acme', ['\\Seen']);
  // INBOX: messages 3, 6, 9 are unseen (n % 3 === 0) -> seen on the server.
  const inbox = await mailboxId('INBOX');
  await updateFlags(ctx, { accountId, mailboxId: inbox }, await uidsOf('INBOX', [seed(3), seed(6), seed(9)]), { mode: 'add', flags: ['\\Seen'] });
  for (const n of [3, 6, 9]) expected.get(seed(n))?.flags.add('\\Seen');
  // INBOX 14 is flagged -> unflagged; Sent (701..) gets \Answered on 702.
  assert.ok(has(14, '\\Flagged'));
  await updateFlags(ctx, { accountId, mailboxId: inbox }, await uidsOf('INBOX', [seed(14)]), { mode: 'remove', flags: ['\\Flagged'] });
  expected.get(seed(14))?.flags.delete('\\Flagged');
  assert.equal(expected.get(seed(702))?.folder, 'Sent');
  await updateFlags(ctx, { accountId, mailboxId: await mailboxId('Sent') }, await uidsOf('Sent', [seed(702)]), { mode: 'add', flags: ['\\Answered'] });
  expected.get(seed(702))?.flags.add('\\Answered');
  // Expunged on the server: INBOX 20, 21, 22 and Archive 830.
  await expungeMessages(ctx, { accountId, mailboxId: inbox }, await uidsOf('INBOX', [seed(20), seed(21), seed(22)]), { flagged: false });
  assert.equal(expected.get(seed(830))?.folder, 'Archive');
  await expungeMessages(ctx, { accountId, mailboxId: await mailboxId('Archive') }, await uidsOf('Archive', [seed(830)]), { flagged: false });
  for (const n of [20, 21, 22, 830]) expected.delete(seed(n));

  // --- Local side (what a Maildir reader would do): new files, a rename to seen, flags, deletions, a new folder.
  const localMessage = (tag: string, folder: string): string =>
    [
      'From: Sync User <sync@mbsync.test>',
      'To: someone@example.test',
      `Subject: Written locally into ${folder}`,
      'Date: Thu, 26 Nov 2026 12:00:00 +0000',
      `Message-ID: <local-${tag}@mbsync.test>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      `Écrit localement (${tag}).`,
      'Second line.',
      '',
    ].join('\n');
  const addLocal = async (tag: string, folder: string, flags: string): Promise<void> => {
    const raw = localMessage(tag, folder);
    const dir = path.join(maildir, folder);
    const file = flags ? path.join(dir, 'cur', `1795000000.local_${tag}.testhost:2,${flags}`) : path.join(dir, 'new', `1795000000.local_${tag}.testhost`);
    await writeFile(file, raw);
    const want = new Set(MAILDIR_FLAGS.filter(([letter]) => flags.includes(letter)).map(([, flag]) => flag));
    expected.set(`<local-${tag}@mbsync.test>`, { folder, flags: want, raw: toCrlf(Buffer.from(raw)) });
  };
  await addLocal('inbox-new', 'INBOX', '');
  await addLocal('archive-seen', 'Archive', 'FS');
  await addLocal('project-draft', 'Projects/2026', 'DS');
  await mkdir(path.join(maildir, 'Local', 'Notes', 'cur'), { recursive: true });
  await mkdir(path.join(maildir, 'Local', 'Notes', 'new'), { recursive: true });
  await mkdir(path.join(maildir, 'Local', 'Notes', 'tmp'), { recursive: true });
  await addLocal('notes', 'Local/Notes', 'S');
  // INBOX 12 is unseen (12 % 3 === 0) -> seen by renaming, as a Maildir reader does.
  assert.ok(!has(12, '\\Seen'));
  const unseen = fileOf(seed(12));
  const [base, info = ''] = path.basename(unseen).split(':2,');
  const letters = [...new Set([...info, 'S'])].sort().join('');
  await rename(unseen, path.join(path.dirname(path.dirname(unseen)), 'cur', `${base}:2,${letters}`));
  expected.get(seed(12))?.flags.add('\\Seen');
  // INBOX 13 (not flagged) -> flagged locally.
  assert.ok(!has(13, '\\Flagged'));
  const toFlag = fileOf(seed(13));
  assert.match(toFlag, /\/cur\//);
  const [base13, info13 = ''] = path.basename(toFlag).split(':2,');
  await rename(toFlag, path.join(path.dirname(toFlag), `${base13}:2,${[...new Set([...info13, 'F'])].sort().join('')}`));
  expected.get(seed(13))?.flags.add('\\Flagged');
  // Deleted locally: INBOX 30 and Sent 705.
  assert.equal(expected.get(seed(705))?.folder, 'Sent');
  for (const n of [30, 705]) {
    await unlink(fileOf(seed(n)));
    expected.delete(seed(n));
  }

  const second = await mbsync('incremental sync');
  t.diagnostic(`incremental sync in ${second.ms} ms`);
  assert.ok(await findMailbox(ctx.db, accountId, 'Local/Notes'), `mbsync created Local/Notes on the server\n${second.output}`);
  assert.ok((await maildirFolders()).includes('Clients/Acme'), 'mbsync created Clients/Acme locally');
  const localAfter = compare('Maildir after the incremental sync', await localMessages(), toLf);
  const serverAfter = compare('server after the incremental sync', await serverMessages(ctx), (raw) => raw);
  t.diagnostic(`X-TUID lines: ${localAfter.tuids} local, ${serverAfter.tuids} on the server`);

  // Nothing changed since: a third sync changes nothing on either side.
  const third = await mbsync('sync with nothing to do');
  t.diagnostic(`no-op sync in ${third.ms} ms`);
  compare('Maildir after a sync with nothing to do', await localMessages(), toLf);
  compare('server after a sync with nothing to do', await serverMessages(ctx), (raw) => raw);
  await rm(work, { recursive: true, force: true });
});
