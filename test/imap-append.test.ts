/**
 * APPEND and its literals, as conversations over a real socket (engine issue): literals are decided on
 * before they are read (RFC 3501 §7.5, RFC 7888 §4), MULTIAPPEND is all or none (RFC 3502) with an
 * APPENDUID set (RFC 4315 §3), and CATENATE builds a message from TEXT literals and IMAP URLs of the
 * user's own messages (RFC 4469, RFC 5092).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { deliverAllOrNone, deliverMessage, receiveMessage } from '../src/mailstore/index.ts';
import { setupMailAccount } from './helpers/client.ts';
import { RawImap } from './helpers/imap.ts';
import { runPython } from './helpers/python.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'append.test';
const USER = `user@${DOMAIN}`;
const PASSWORD = 'user-password-1';
let service: TestService;
let port: number;
let accountId: string;

function message(n: number, body = `Body of message ${n}`): string {
  return [`From: sender${n}@example.test`, `To: ${USER}`, `Subject: Message ${n}`, `Message-ID: <ap${n}@example.test>`, '', body, ''].join('\r\n');
}

/** RFC 4469 Appendix A: a draft with two parts, a text and a zip. */
const DRAFT = [
  'From: Bob Ar <bar@example.org>',
  'To: foo@example.net',
  'Subject: About our holiday trip',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="------------030308070208000400050907"',
  '',
  '--------------030308070208000400050907',
  'Content-Type: text/plain; charset=us-ascii; format=flowed',
  'Content-Transfer-Encoding: 7bit',
  '',
  'Our travel agent has sent the updated schedule.',
  '--------------030308070208000400050907',
  'Content-Type: application/x-zip-compressed; name="schedule.zip"',
  'Content-Transfer-Encoding: base64',
  '',
  'UEsDBBQAAAAIAAAAIQAAAAAAAAAAAAAAAAA=',
  '--------------030308070208000400050907--',
  '',
].join('\r\n');

async function loggedIn(): Promise<RawImap> {
  const imap = await RawImap.open(port);
  assert.match((await imap.command(`LOGIN ${USER} ${PASSWORD}`, 'l1')).tagged, /^l1 OK /);
  return imap;
}

async function stillWorks(imap: RawImap, tag = 'ok1'): Promise<void> {
  assert.equal((await imap.command('NOOP', tag)).tagged, `${tag} OK NOOP completed`);
}

async function countIn(imap: RawImap, folder: string): Promise<number> {
  const reply = await imap.command(`STATUS ${folder} (MESSAGES)`, 'st');
  return Number(/MESSAGES (\d+)/.exec(reply.lines[0] ?? '')?.[1]);
}

/** The whole message at `uid` of the selected folder. */
async function fetchBody(imap: RawImap, uid: number): Promise<string> {
  const reply = await imap.command(`UID FETCH ${uid} BODY.PEEK[]`, 'fb');
  const match = /BODY\[\] \{(\d+)\}\r\n/.exec(reply.lines[0] ?? '');
  assert.ok(match, JSON.stringify(reply));
  const start = (match.index ?? 0) + match[0].length;
  return (reply.lines[0] ?? '').slice(start, start + Number(match[1]));
}

async function setUsage(usedBytes: number): Promise<void> {
  const { db } = service.ctx;
  const row = await db.selectFrom('mail_usage').select('account_id').where('account_id', '=', accountId).executeTakeFirst();
  if (row) await db.updateTable('mail_usage').set({ used_bytes: usedBytes }).where('account_id', '=', accountId).execute();
  else {
    const { customer_id } = await db.selectFrom('accounts').select('customer_id').where('id', '=', accountId).executeTakeFirstOrThrow();
    await db.insertInto('mail_usage').values({ account_id: accountId, customer_id, used_bytes: usedBytes, message_count: 0 }).execute();
  }
}

async function quotaBytes(): Promise<number> {
  const row = await service.ctx.db
    .selectFrom('accounts')
    .innerJoin('classes', 'classes.id', 'accounts.class_id')
    .select('classes.quota_bytes')
    .where('accounts.id', '=', accountId)
    .executeTakeFirstOrThrow();
  return Number(row.quota_bytes);
}

async function usedBytes(): Promise<number> {
  const row = await service.ctx.db.selectFrom('mail_usage').select('used_bytes').where('account_id', '=', accountId).executeTakeFirst();
  return Number(row?.used_bytes ?? 0);
}

before(async () => {
  service = await startTestService({
    overrides: { roles: ['web', 'imap'], ports: { http: 0, imap: 0, imaps: 0 }, mailAccess: { allowPlaintextOnLoopback: true } },
  });
  port = service.imapPort as number;
  ({ accountId } = await setupMailAccount(service, 'Append', { address: USER, password: PASSWORD }));
  const imap = await loggedIn();
  for (const folder of ['multi', 'atomic', 'catenate', 'literals']) await imap.command(`CREATE ${folder}`);
  imap.close();
  const received = await receiveMessage(service.ctx, Readable.from([Buffer.from(DRAFT)]), { maxBytes: 1 << 20 });
  const folder = await service.ctx.db
    .selectFrom('mailboxes')
    .select('id')
    .where('account_id', '=', accountId)
    .where('name', '=', 'catenate')
    .executeTakeFirstOrThrow();
  const [result] = await deliverMessage(service.ctx, received, [{ accountId, mailbox: { id: folder.id } }]);
  assert.ok(result?.ok && result.uid === 1);
});
after(() => service.close());

describe('RFC 3501 §7.5 / RFC 7888 §4 literals are decided on before they are read', () => {
  test('RFC 3501 §6.3.11 APPEND before login: BAD without a continuation, for {n} and {n+}; the session goes on', async () => {
    const imap = await RawImap.open(port);
    imap.send('a1 APPEND INBOX {20}\r\n');
    assert.match(await imap.line(), /^a1 BAD APPEND is not allowed now/, 'no "+" continuation');
    await stillWorks(imap, 'a2');
    imap.send(`a3 APPEND INBOX {${message(1).length}+}\r\n${message(1)}\r\n`);
    assert.match(await imap.line(), /^a3 BAD APPEND is not allowed now/);
    await stillWorks(imap, 'a4');
    assert.match((await imap.command(`LOGIN ${USER} ${PASSWORD}`, 'a5')).tagged, /^a5 OK /);
    imap.close();
  });

  test('RFC 3501 §6 the state is the one left by the commands before: LOGIN and APPEND pipelined in one write', async () => {
    const imap = await RawImap.open(port);
    imap.send(`p1 LOGIN ${USER} ${PASSWORD}\r\np2 APPEND literals {${message(2).length}+}\r\n${message(2)}\r\n`);
    assert.match((await imap.until('p1')).tagged, /^p1 OK /);
    assert.match((await imap.until('p2')).tagged, /^p2 OK \[APPENDUID \d+ 1\] /);
    imap.close();
  });

  test('RFC 7888 §4 before login: a literal within a few KB is read (LOGIN with a literal user name); 9000 bytes are refused', async () => {
    const imap = await RawImap.open(port);
    imap.send(`a1 LOGIN {${USER.length}}\r\n`);
    assert.equal(await imap.line(), '+ Ready for literal data');
    imap.send(`${USER} ${PASSWORD}\r\n`);
    assert.match((await imap.until('a1')).tagged, /^a1 OK /);
    imap.close();
    const other = await RawImap.open(port);
    other.send('b1 LOGIN {9000}\r\n');
    assert.match(await other.line(), /^b1 NO \[TOOBIG\] /, 'no continuation');
    await stillWorks(other, 'b2');
    other.close();
  });

  test('RFC 3502 / RFC 3501 §6.3.11 APPEND to a missing folder: NO [TRYCREATE] instead of the continuation; {n+} bytes skipped', async () => {
    const imap = await loggedIn();
    imap.send('a1 APPEND no-such-folder {300}\r\n');
    assert.match(await imap.line(), /^a1 NO \[TRYCREATE\] /, 'no continuation');
    await stillWorks(imap, 'a2');
    imap.send(`a3 APPEND no-such-folder {${message(3).length}+}\r\n${message(3)}\r\n`);
    assert.match((await imap.until('a3')).tagged, /^a3 NO \[TRYCREATE\] /);
    await stillWorks(imap, 'a4');
    imap.close();
  });

  test('RFC 7889 / RFC 9208 §5.1 a message over 50 MB or over the quota is refused when announced: NO [TOOBIG], NO [OVERQUOTA]', async () => {
    const imap = await loggedIn();
    imap.send(`a1 APPEND literals {${50 * 1024 * 1024 + 1}}\r\n`);
    assert.match(await imap.line(), /^a1 NO \[TOOBIG\] /);
    const before = await usedBytes();
    await setUsage((await quotaBytes()) - 100);
    try {
      imap.send('a2 APPEND literals {200}\r\n');
      assert.match(await imap.line(), /^a2 NO \[OVERQUOTA\] /, 'no continuation');
      await stillWorks(imap, 'a3');
    } finally {
      await setUsage(before);
    }
    imap.close();
  });

  test('RFC 3516 §4.4 a NUL byte in a plain {n} message is refused with BAD; in a literal8 it is kept', async () => {
    const imap = await loggedIn();
    const raw = Buffer.concat([Buffer.from('Subject: nul\r\n\r\nx'), Buffer.from([0]), Buffer.from('y\r\n')]);
    imap.send(Buffer.concat([Buffer.from(`a1 APPEND literals {${raw.length}+}\r\n`), raw, Buffer.from('\r\n')]));
    assert.match((await imap.until('a1')).tagged, /^a1 BAD .*NUL/);
    imap.send(Buffer.concat([Buffer.from(`a2 APPEND literals ~{${raw.length}+}\r\n`), raw, Buffer.from('\r\n')]));
    assert.match((await imap.until('a2')).tagged, /^a2 OK \[APPENDUID /);
    imap.close();
  });
});

describe('RFC 3502 MULTIAPPEND', () => {
  test('RFC 3502 §6.3.11 example: three messages in one APPEND, flags and dates of each; RFC 4315 APPENDUID with a UID set', async () => {
    const imap = await loggedIn();
    assert.match((await imap.command('CAPABILITY', 'c1')).lines[0] ?? '', / MULTIAPPEND .*CATENATE/);
    imap.send(`a1 APPEND multi (\\Seen) {${message(10).length}}\r\n`);
    assert.equal(await imap.line(), '+ Ready for literal data');
    imap.send(`${message(10)} (\\Flagged) " 7-Feb-1994 22:43:04 -0800" {${message(11).length}}\r\n`);
    assert.equal(await imap.line(), '+ Ready for literal data');
    imap.send(`${message(11)} {${message(12).length}+}\r\n${message(12)}\r\n`);
    const reply = await imap.until('a1');
    const select = await imap.command('SELECT multi', 's1');
    const validity = /UIDVALIDITY (\d+)/.exec(select.lines.join('\n'))?.[1];
    assert.equal(reply.tagged, `a1 OK [APPENDUID ${validity} 1:3] APPEND completed`);
    assert.ok(select.lines.includes('* 3 EXISTS'));
    const fetched = await imap.command('FETCH 1:3 (FLAGS INTERNALDATE)', 'f1');
    assert.equal(fetched.lines.length, 3);
    assert.match(fetched.lines[0] ?? '', /^\* 1 FETCH \(FLAGS \(\\Seen[ )]/);
    assert.match(fetched.lines[1] ?? '', /^\* 2 FETCH \(FLAGS \(\\Flagged[ )].* INTERNALDATE "0?8-Feb-1994 06:43:04 \+0000"\)$/);
    assert.doesNotMatch(fetched.lines[2] ?? '', /\\Seen|\\Flagged|1994/);
    assert.equal(await fetchBody(imap, 2), message(11));
    imap.close();
  });

  test('RFC 3502: all or none: a zero-length message, or a second message over the quota, cancels the first', async () => {
    const imap = await loggedIn();
    imap.send(`a1 APPEND atomic {${message(20).length}+}\r\n${message(20)} {0}\r\n`);
    assert.match((await imap.until('a1')).tagged, /^a1 NO \[CANNOT\] /);
    assert.equal(await countIn(imap, 'atomic'), 0);
    const before = await usedBytes();
    // Room for the first message, not for both.
    await setUsage((await quotaBytes()) - message(21).length - 10);
    try {
      imap.send(`a2 APPEND atomic {${message(21).length}+}\r\n${message(21)} {${message(22).length}}\r\n`);
      assert.match(await imap.line(), /^a2 NO \[OVERQUOTA\] /, 'refused at the second announcement, no continuation');
      assert.equal(await countIn(imap, 'atomic'), 0, 'the first message is not kept');
    } finally {
      await setUsage(before);
    }
    assert.equal(await usedBytes(), before);
    await stillWorks(imap, 'a3');
    imap.close();
  });
  test('RFC 3502 all or none at the commit too: the mailstore files no message of the batch when one is refused', async () => {
    const folder = await service.ctx.db
      .selectFrom('mailboxes')
      .select(['id', 'uid_next'])
      .where('account_id', '=', accountId)
      .where('name', '=', 'atomic')
      .executeTakeFirstOrThrow();
    const receive = (raw: string) => receiveMessage(service.ctx, Readable.from([Buffer.from(raw)]), { maxBytes: 1 << 20 });
    const first = await receive(message(30));
    const second = await receive(message(31, 'x'.repeat(5000)));
    const before = await usedBytes();
    await setUsage((await quotaBytes()) - first.blob.size - 100);
    try {
      const outcome = await deliverAllOrNone(service.ctx, [
        { message: first, delivery: { accountId, mailbox: { id: folder.id } } },
        { message: second, delivery: { accountId, mailbox: { id: folder.id } } },
      ]);
      assert.deepEqual(outcome, { ok: false, refusal: { ok: false, accountId, reason: 'over-quota' } });
    } finally {
      await setUsage(before);
    }
    const kept = await service.ctx.db.selectFrom('messages').select('id').where('mailbox_id', '=', folder.id).execute();
    assert.equal(kept.length, 0);
    const after = await service.ctx.db.selectFrom('mailboxes').select('uid_next').where('id', '=', folder.id).executeTakeFirstOrThrow();
    assert.equal(Number(after.uid_next), Number(folder.uid_next), 'no UID used');
    const outcome = await deliverAllOrNone(service.ctx, [
      { message: first, delivery: { accountId, mailbox: { id: folder.id } } },
      { message: second, delivery: { accountId, mailbox: { id: folder.id } } },
    ]);
    assert.ok(outcome.ok);
    assert.deepEqual(
      outcome.results.map((result) => result.uid),
      [Number(folder.uid_next), Number(folder.uid_next) + 1],
    );
  });
});

describe('RFC 4469 CATENATE', () => {
  test('RFC 4469 Appendix A example 1: the header and the text part by URL, a new attachment as TEXT; APPENDUID', async () => {
    const imap = await loggedIn();
    const select = await imap.command('SELECT catenate', 's1');
    const validity = Number(/UIDVALIDITY (\d+)/.exec(select.lines.join('\n'))?.[1]);
    const base = `/catenate;UIDVALIDITY=${validity}/;UID=1`;
    const boundary = '\r\n--------------030308070208000400050907\r\n';
    const attachment = 'Content-Type: text/plain\r\n\r\nThe zip was replaced.\r\n--------------030308070208000400050907--\r\n';
    imap.send(`a1 APPEND catenate (\\Seen \\Draft $MDNSent) CATENATE (URL "${base}/;section=HEADER" TEXT {${boundary.length}}\r\n`);
    assert.equal(await imap.line(), '+ Ready for literal data');
    imap.send(`${boundary} URL "${base}/;section=1.MIME" URL "${base}/;section=1" TEXT {${boundary.length + attachment.length}}\r\n`);
    assert.equal(await imap.line(), '+ Ready for literal data');
    imap.send(`${boundary}${attachment})\r\n`);
    const reply = await imap.until('a1');
    assert.equal(reply.tagged, `a1 OK [APPENDUID ${validity} 2] APPEND completed`);
    const header = DRAFT.slice(0, DRAFT.indexOf('\r\n\r\n') + 4);
    const mime = 'Content-Type: text/plain; charset=us-ascii; format=flowed\r\nContent-Transfer-Encoding: 7bit\r\n\r\n';
    const text = 'Our travel agent has sent the updated schedule.';
    assert.equal(await fetchBody(imap, 2), `${header}${boundary}${mime}${text}${boundary}${attachment}`);
    const structure = await imap.command('UID FETCH 2 BODYSTRUCTURE', 'b1');
    assert.match(structure.lines[0] ?? '', /\("TEXT" "PLAIN" .*\("TEXT" "PLAIN" .*"MIXED"/i, 'the new message is parsed like any other');
    imap.close();
  });

  test('RFC 5092 URLs relative to the selected mailbox, ;PARTIAL, and a whole message; MULTIAPPEND of two CATENATE messages', async () => {
    const imap = await loggedIn();
    await imap.command('SELECT catenate', 's1');
    imap.send(
      'a1 APPEND catenate CATENATE (URL ";UID=1/;SECTION=HEADER" TEXT {6+}\r\nhello\n) CATENATE (URL "/catenate/;UID=1" URL ";UID=1/;PARTIAL=0.4")\r\n',
    );
    const reply = await imap.until('a1');
    const uids = /APPENDUID \d+ (\d+):(\d+)/.exec(reply.tagged);
    assert.ok(uids, reply.tagged);
    const header = DRAFT.slice(0, DRAFT.indexOf('\r\n\r\n') + 4);
    assert.equal(await fetchBody(imap, Number(uids[1])), `${header}hello\n`);
    assert.equal(await fetchBody(imap, Number(uids[2])), `${DRAFT}From`);
    imap.close();
  });

  test('RFC 4469 §4.1 BADURL names the first bad URL: no such UID, a wrong UIDVALIDITY, no such part, an absolute URL; nothing kept', async () => {
    const imap = await loggedIn();
    const before = await countIn(imap, 'catenate');
    const bad = [
      '/catenate/;UID=999',
      '/catenate;UIDVALIDITY=1/;UID=1',
      '/catenate/;UID=1/;SECTION=7',
      '/no-such-folder/;UID=1',
      'imap://user@mail.provider.test/catenate/;UID=1',
      '/catenate/;UID=1/;URLAUTH=anonymous',
    ];
    for (const [i, url] of bad.entries()) {
      const tag = `b${i}`;
      imap.send(`${tag} APPEND catenate CATENATE (TEXT {5+}\r\nhello URL "/catenate/;UID=1" URL "${url}")\r\n`);
      const reply = await imap.until(tag);
      assert.equal(reply.tagged.slice(0, reply.tagged.indexOf(']') + 1), `${tag} NO [BADURL ${url}]`, url);
    }
    assert.equal(await countIn(imap, 'catenate'), before);
    await stillWorks(imap);
    imap.close();
  });

  test('RFC 4469 §4.2 TOOBIG: TEXT parts adding up to more than 50 MB are refused at the announcement', async () => {
    const imap = await loggedIn();
    imap.send(`a1 APPEND catenate CATENATE (TEXT {10+}\r\n0123456789 TEXT {${50 * 1024 * 1024 - 5}}\r\n`);
    assert.match(await imap.line(), /^a1 NO \[TOOBIG\] /, 'no continuation');
    await stillWorks(imap, 'a2');
    imap.close();
  });
});

test('RFC 3501 §6.3.11 Python imaplib appends a 3 MB message over IMAPS (spooled to a file) and reads the same bytes back', async () => {
  const script = path.join(service.dataDir, 'imaplib-append.py');
  await writeFile(
    script,
    [
      'import imaplib, ssl, sys',
      'ctx = ssl.create_default_context(cafile=sys.argv[2])',
      'ctx.check_hostname = False',
      "m = imaplib.IMAP4_SSL('127.0.0.1', int(sys.argv[1]), ssl_context=ctx)",
      'm.login(sys.argv[3], sys.argv[4])',
      "line = b'0123456789abcdefghijklmnopqrstuvwxyz' * 27 + b'\\r\\n'",
      "raw = b'From: py@append.test\\r\\nSubject: big from imaplib\\r\\n\\r\\n' + line * 3300",
      "typ, data = m.append('literals', '(\\\\Seen)', None, raw)",
      "assert typ == 'OK' and b'APPENDUID' in data[0], (typ, data)",
      'uid = data[0].split()[2].rstrip(b"]")',
      "m.select('literals')",
      "typ, data = m.uid('FETCH', uid, '(BODY.PEEK[])')",
      "assert typ == 'OK' and data[0][1] == raw, (typ, len(data[0][1]))",
      'm.logout()',
      "print('imaplib append ok', len(raw))",
    ].join('\n'),
  );
  const output = await runPython(script, [String(service.imapsPort), service.tlsCertFile, USER, PASSWORD]);
  assert.match(output, /imaplib append ok 3/);
});
