/**
 * Full-text SEARCH from the mailstore's text index (RFC 3501 §6.4.4 TEXT, BODY, SUBJECT, FROM, TO, CC,
 * BCC: substring, case-insensitive): messages arrive over SMTP (MX) and IMAP APPEND, and raw IMAP
 * conversations search them. The expected answers are computed from each message's decoded text with
 * a plain `includes`, so the index must give exactly the substring semantics: non-ASCII text, words
 * split by punctuation, strings of one and two characters.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { JOBS, runJob } from '../src/jobs/index.ts';
import { setupMailAccount } from './helpers/client.ts';
import { RawImap } from './helpers/imap.ts';
import { RawSmtp } from './helpers/mail.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'search.test';
const USER = `reader@${DOMAIN}`;
const PASSWORD = 'reader-password-1';
let service: TestService;
let imapPort: number;

/** A message and the decoded text of its body as a reader sees it (what BODY must search). */
interface Sample {
  via: 'smtp' | 'append';
  raw: string;
  body: string;
}

const SAMPLES: Sample[] = [
  {
    via: 'smtp',
    raw: [
      'From: =?utf-8?q?=C3=89mile_Zola?= <emile@example.test>',
      `To: ${USER}`,
      'Cc: Carol Stone <carol@example.test>',
      'Subject: =?utf-8?q?R=C3=A9union_budg=C3=A9taire?=',
      'Date: Mon, 07 Dec 2026 09:00:00 +0000',
      'Message-ID: <s1@example.test>',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      "Rendez-vous à l'Hôtel de Ville; ÉTÉ chaud. Straße 12, ok?",
      '',
    ].join('\r\n'),
    body: "Rendez-vous à l'Hôtel de Ville; ÉTÉ chaud. Straße 12, ok?",
  },
  {
    via: 'smtp',
    raw: [
      'From: Bruno <bruno@partner.example>',
      `To: ${USER}`,
      'Subject: Menu du jour',
      'Date: Mon, 07 Dec 2026 09:05:00 +0000',
      'Message-ID: <s2@example.test>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="alt"',
      '',
      '--alt',
      'Content-Type: text/plain; charset=iso-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Caf=E9 cr=E8me; write to re-e-mail.example (x=3D1) and a very long line that=',
      ' continues',
      '--alt',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('<html><head><style>p{color:red}</style></head><body><p>Un <b>bon</b>jour &amp; merci</p></body></html>').toString('base64'),
      '--alt--',
      '',
    ].join('\r\n'),
    body: 'Café crème; write to re-e-mail.example (x=1) and a very long line that continues\nUn bonjour & merci',
  },
  {
    via: 'append',
    raw: [
      'From: Dana <dana@example.test>',
      `To: ${USER}`,
      'Bcc: secret-keeper@example.test',
      'Subject: Quotes',
      'Date: Mon, 07 Dec 2026 09:10:00 +0000',
      'Message-ID: <s3@example.test>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="mix"',
      '',
      '--mix',
      'Content-Type: text/plain; charset=windows-1252',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from([...Buffer.from('A na'), 0xef, ...Buffer.from('ve '), 0x93, ...Buffer.from('quote'), 0x94, ...Buffer.from(' costs 5'), 0x80]).toString(
        'base64',
      ),
      '--mix',
      'Content-Type: application/octet-stream; name="data.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('attachmentword inside a binary file').toString('base64'),
      '--mix--',
      '',
    ].join('\r\n'),
    body: 'A naïve “quote” costs 5€',
  },
  {
    via: 'append',
    raw: ['From: Eve <eve@example.test>', `To: ${USER}`, 'Subject: ab', 'Date: Mon, 07 Dec 2026 09:15:00 +0000', '', 'Hi, I am 1 OK.', ''].join('\r\n'),
    body: 'Hi, I am 1 OK.',
  },
];

async function loggedIn(): Promise<RawImap> {
  const imap = await RawImap.open(imapPort);
  assert.match((await imap.command(`LOGIN ${USER} ${PASSWORD}`)).tagged, /^a\d+ OK /);
  return imap;
}

/** APPEND with a non-synchronizing literal (RFC 7888), counted in bytes. */
async function append(imap: RawImap, folder: string, raw: string): Promise<void> {
  const bytes = Buffer.from(raw, 'utf8');
  imap.send(Buffer.concat([Buffer.from(`ap APPEND ${folder} {${bytes.length}+}\r\n`), bytes, Buffer.from('\r\n')]));
  assert.match((await imap.until('ap')).tagged, /^ap OK /);
}

async function sendSmtp(raw: string): Promise<void> {
  const smtp = await RawSmtp.open(service.mxPort as number);
  await smtp.command('EHLO client.example');
  assert.match(await smtp.command('MAIL FROM:<sender@example.test> BODY=8BITMIME'), /^250 /);
  assert.match(await smtp.command(`RCPT TO:<${USER}>`), /^250 /);
  assert.match(await smtp.command('DATA'), /^354 /);
  smtp.send(Buffer.from(`${raw.replace(/^\./gm, '..')}\r\n.\r\n`, 'utf8'));
  assert.match(await smtp.reply(), /^250 /);
  await smtp.command('QUIT');
  smtp.close();
}

/** `SEARCH <criteria>` sent as UTF-8 (a literal, so any character passes) and its numbers. */
async function search(imap: RawImap, criteria: string, value?: string): Promise<number[]> {
  let reply: Awaited<ReturnType<RawImap['command']>>;
  if (value === undefined) reply = await imap.command(`UID SEARCH ${criteria}`);
  else {
    const bytes = Buffer.from(value, 'utf8');
    imap.send(Buffer.concat([Buffer.from(`s1 UID SEARCH CHARSET UTF-8 ${criteria} {${bytes.length}+}\r\n`), bytes, Buffer.from('\r\n')]));
    reply = await imap.until('s1');
  }
  assert.match(reply.tagged, / OK /, `${criteria} ${value ?? ''}: ${reply.tagged}`);
  const line = reply.lines.find((l) => l.startsWith('* SEARCH'));
  assert.ok(line, 'a SEARCH response');
  return line.slice('* SEARCH'.length).trim().split(' ').filter(Boolean).map(Number);
}

/** UIDs of the samples, in delivery order (UID n is SAMPLES[n - 1]). */
let uids: number[] = [];

before(async () => {
  service = await startTestService({
    overrides: { roles: ['web', 'imap', 'mx'], ports: { http: 0, imap: 0, imaps: 0, mx: 0 }, mailAccess: { allowPlaintextOnLoopback: true } },
  });
  imapPort = service.imapPort as number;
  await setupMailAccount(service, 'Search', { address: USER, password: PASSWORD });
  const imap = await loggedIn();
  for (const sample of SAMPLES) {
    if (sample.via === 'smtp') await sendSmtp(sample.raw);
    else await append(imap, 'INBOX', sample.raw);
  }
  await imap.command('SELECT INBOX');
  uids = await search(imap, 'ALL');
  assert.equal(uids.length, SAMPLES.length, 'every sample is in the INBOX');
  imap.close();
});
after(() => service.close());

/** The samples' UIDs whose `text` contains `needle`, ignoring case: RFC 3501's definition, computed plainly. */
function expected(needle: string, textOf: (sample: Sample) => string): number[] {
  return SAMPLES.flatMap((sample, i) => (textOf(sample).toLowerCase().includes(needle.toLowerCase()) ? [uids[i] as number] : []));
}

describe('RFC 3501 §6.4.4 SEARCH from the text index', () => {
  test('RFC 3501 §6.4.4 BODY equals substring semantics on decoded text: 1-, 2-, 3- and 6-character substrings, any case', async () => {
    const imap = await loggedIn();
    await imap.command('SELECT INBOX');
    const needles = new Set<string>();
    for (const sample of SAMPLES) {
      const chars = [...sample.body];
      for (let i = 0; i < chars.length; i += 7) {
        for (const length of [1, 2, 3, 6]) if (i + length <= chars.length) needles.add(chars.slice(i, i + length).join(''));
      }
    }
    for (const needle of [...needles]) if ([...needle].length >= 3) needles.add(needle.toUpperCase());
    for (const needle of ['-e-mail', 'E-MAIL.EX', 'bonjour', '& merci', 'x=1', 'that continues', 'straße 12', 'HÔTEL', 'été', 'quote”', '5€', 'zzz', 'q', ''])
      needles.add(needle);
    let asked = 0;
    for (const needle of needles) {
      if (needle.includes('\n')) continue; // the line between two parts is the index's own
      assert.deepEqual(
        await search(imap, 'BODY', needle),
        expected(needle, (s) => s.body),
        `BODY ${JSON.stringify(needle)}`,
      );
      asked++;
    }
    assert.ok(asked > 80, `${asked} needles`);
    imap.close();
  });

  test('RFC 3501 §6.4.4 BODY finds no text inside a binary attachment, nor in the HTML markup', async () => {
    const imap = await loggedIn();
    await imap.command('SELECT INBOX');
    assert.deepEqual(await search(imap, 'BODY', 'attachmentword'), []);
    assert.deepEqual(await search(imap, 'BODY', 'color:red'), []);
    assert.deepEqual(await search(imap, 'BODY', '<b>'), []);
    imap.close();
  });

  test('RFC 3501 §6.4.4 SUBJECT, FROM, TO, CC, BCC match decoded fields (RFC 2047), case-insensitively', async () => {
    const imap = await loggedIn();
    await imap.command('SELECT INBOX');
    const [u1, u2, u3, u4] = uids as [number, number, number, number];
    assert.deepEqual(await search(imap, 'SUBJECT', 'RÉUNION BUDG'), [u1]);
    assert.deepEqual(await search(imap, 'SUBJECT', 'ab'), [u4]);
    assert.deepEqual(await search(imap, 'SUBJECT', 'u'), [u1, u2, u3], 'one character');
    assert.deepEqual(await search(imap, 'FROM', 'émile'), [u1]);
    assert.deepEqual(await search(imap, 'FROM', 'PARTNER.EXAMPLE'), [u2]);
    assert.deepEqual(await search(imap, 'FROM', 'example.test'), [u1, u3, u4]);
    assert.deepEqual(await search(imap, 'TO', `READER@${DOMAIN.toUpperCase()}`), uids);
    assert.deepEqual(await search(imap, 'CC', 'stone'), [u1]);
    assert.deepEqual(await search(imap, 'BCC', 'keeper@'), [u3]);
    assert.deepEqual(await search(imap, 'HEADER SUBJECT', 'menu'), [u2], 'HEADER of an indexed field');
    assert.deepEqual(await search(imap, 'SUBJECT ""'), uids, 'an empty string: the field exists');
    imap.close();
  });

  test('RFC 3501 §6.4.4 TEXT looks into the header and the body; keys combine with NOT, OR and flags', async () => {
    const imap = await loggedIn();
    await imap.command('SELECT INBOX');
    const [u1, u2, u3, u4] = uids as [number, number, number, number];
    assert.deepEqual(await search(imap, 'TEXT', 'secret-keeper'), [u3], 'Bcc is part of the header');
    assert.deepEqual(await search(imap, 'TEXT', 'hôtel de'), [u1], 'body');
    assert.deepEqual(await search(imap, 'TEXT', 'réunion'), [u1], 'decoded Subject');
    assert.deepEqual(await search(imap, 'TEXT', 'menu du jour'), [u2]);
    assert.deepEqual(await search(imap, 'TEXT', 'Ô'), [u1], 'one character');
    assert.deepEqual(await search(imap, 'NOT BODY', 'hôtel'), [u2, u3, u4]);
    assert.deepEqual(await search(imap, 'OR BODY bonjour SUBJECT quotes'), [u2, u3]);
    assert.deepEqual(await search(imap, 'UNSEEN BODY', 'naïve'), [u3]);
    imap.close();
  });
});

describe('the index follows the messages', () => {
  test('RFC 3501 §6.4.3 an expunged message no longer matches; a copy of it in another folder still does', async () => {
    const imap = await loggedIn();
    assert.match((await imap.command('CREATE Keep')).tagged, / OK /);
    await append(imap, 'INBOX', 'Subject: doomed\r\n\r\nquokka-unique-1 and wombat-unique-2\r\n');
    await append(imap, 'INBOX', 'Subject: kept\r\n\r\nthe platypus-unique-3 stays\r\n');
    await imap.command('SELECT INBOX');
    const [doomed] = await search(imap, 'BODY', 'quokka-unique-1');
    const [kept] = await search(imap, 'BODY', 'platypus-unique-3');
    assert.ok(doomed && kept);
    assert.match((await imap.command(`UID COPY ${kept} Keep`)).tagged, / OK /);
    assert.match((await imap.command(`UID STORE ${doomed},${kept} +FLAGS (\\Deleted)`)).tagged, / OK /);
    assert.match((await imap.command('EXPUNGE')).tagged, / OK /);
    assert.deepEqual(await search(imap, 'BODY', 'quokka-unique-1'), []);
    assert.deepEqual(await search(imap, 'TEXT', 'wombat'), []);
    assert.deepEqual(await search(imap, 'BODY', 'platypus-unique-3'), []);
    const left = await service.ctx.db.selectFrom('message_texts').select('body').where('body', 'like', '%quokka-unique-1%').execute();
    assert.equal(left.length, 0, 'the text of a content no message uses is removed with its last message');
    await imap.command('SELECT Keep');
    assert.equal((await search(imap, 'BODY', 'PLATYPUS-unique')).length, 1, 'the copy is still found');
    imap.close();
  });

  test('searching reads no message: BODY and TEXT answer with the message contents gone from the store', async () => {
    const imap = await loggedIn();
    assert.match((await imap.command('CREATE Gone')).tagged, / OK /);
    await append(imap, 'Gone', 'Subject: ephemeral\r\n\r\nthe narwhal-unique-4 swims\r\n');
    const [row] = await service.ctx.db
      .selectFrom('messages')
      .innerJoin('mailboxes', 'mailboxes.id', 'messages.mailbox_id')
      .select('messages.blob_id')
      .where('mailboxes.name', '=', 'Gone')
      .execute();
    assert.ok(row);
    // The content was small, so it is kept in the database: removing it leaves nothing a search could parse.
    const removed = await service.ctx.db.deleteFrom('blob_contents').where('id', '=', row.blob_id).executeTakeFirst();
    assert.equal(Number(removed.numDeletedRows), 1);
    await imap.command('SELECT Gone');
    assert.deepEqual(await search(imap, 'BODY', 'NARWHAL-unique'), [1]);
    assert.deepEqual(await search(imap, 'TEXT', 'ephemeral'), [1]);
    assert.deepEqual(await search(imap, 'BODY', 'nw'), [], 'two characters, no trigram: the stored text, not the message');
    assert.deepEqual(await search(imap, 'BODY', 'wh'), [1]);
    imap.close();
  });

  test('messages stored before the index existed are indexed by the search.index job (backfill)', async () => {
    const imap = await loggedIn();
    await imap.command('SELECT INBOX');
    const [u1] = uids as [number];
    assert.deepEqual(await search(imap, 'BODY', 'hôtel de ville'), [u1]);
    // As before migration 012: messages without text rows.
    await sql`delete from message_texts`.execute(service.ctx.db);
    assert.deepEqual(await search(imap, 'BODY', 'hôtel de ville'), [], 'not indexed, not found (and not parsed)');
    const job = JOBS.find((j) => j.name === 'search.index');
    assert.ok(job);
    const run = await runJob(service.ctx, job);
    assert.ok(run.ran && Number(run.result) >= SAMPLES.length, `indexed ${String(run.result)}`);
    assert.deepEqual(await search(imap, 'BODY', 'hôtel de ville'), [u1]);
    assert.deepEqual(
      await search(imap, 'BODY', 'é'),
      expected('é', (s) => s.body),
    );
    assert.deepEqual(await search(imap, 'SUBJECT', 'réunion'), [u1]);
    assert.equal(Number((await runJob(service.ctx, job)).result), 0, 'nothing left to index');
    imap.close();
  });
});
