/**
 * IMAP conformance fixes found by an outside tester (issue 6): each test is a client's conversation and
 * names the RFC section it holds the server to.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setupMailAccount } from './helpers/client.ts';
import { RawImap } from './helpers/imap.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'imapconf.test';
const USER = `user@${DOMAIN}`;
const PASSWORD = 'user-password-1';
let service: TestService;
let port: number;

function message(n: number, headers: string[] = [], body = `Body of message ${n}`): string {
  return [`From: sender${n}@example.test`, `To: ${USER}`, `Subject: Message ${n}`, `Message-ID: <c${n}@example.test>`, ...headers, '', body, ''].join('\r\n');
}

async function loggedIn(): Promise<RawImap> {
  const imap = await RawImap.open(port);
  assert.match((await imap.command(`LOGIN ${USER} ${PASSWORD}`)).tagged, /^a\d+ OK /);
  return imap;
}

async function ok(imap: RawImap, command: string): Promise<string[]> {
  const reply = await imap.command(command);
  assert.match(reply.tagged, /^a\d+ OK /, `${command} -> ${reply.tagged}`);
  return reply.lines;
}

/** APPEND with a non-synchronizing literal (RFC 7888 LITERAL+); the untagged lines before the OK. */
async function append(imap: RawImap, folder: string, raw: string | Buffer, flags = ''): Promise<string[]> {
  const tag = `ap${Math.random().toString(36).slice(2, 8)}`;
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
  imap.send(Buffer.concat([Buffer.from(`${tag} APPEND ${folder} ${flags ? `(${flags}) ` : ''}{${bytes.length}+}\r\n`), bytes, Buffer.from('\r\n')]));
  const reply = await imap.until(tag);
  assert.match(reply.tagged, / OK \[APPENDUID \d+ \d+\]/);
  return reply.lines;
}

/** Index of the first line matching `pattern` (fails when none does). */
function indexOf(lines: string[], pattern: RegExp): number {
  const index = lines.findIndex((line) => pattern.test(line));
  assert.ok(index >= 0, `no line matches ${pattern} in ${JSON.stringify(lines)}`);
  return index;
}

const SYSTEM = '\\Answered \\Flagged \\Deleted \\Seen \\Draft';

before(async () => {
  service = await startTestService({
    overrides: { roles: ['web', 'imap'], ports: { http: 0, imap: 0, imaps: 0 }, mailAccess: { allowPlaintextOnLoopback: true } },
  });
  port = service.imapPort as number;
  await setupMailAccount(service, 'ImapConf', { address: USER, password: PASSWORD }, { standard: 2 });
});
after(() => service.close());

describe('RFC 3501 §6.4.4 SENTBEFORE, SENTON, SENTSINCE: the Date field as written, time and zone ignored', () => {
  test('a message dated "Sun, 25 Mar 2007 00:00 +0200" is SENTON 25-Mar-2007, not 24-Mar-2007 (its UTC date)', async () => {
    const imap = await loggedIn();
    await ok(imap, 'CREATE Dates');
    await append(imap, 'Dates', message(1, ['Date: Sun, 25 Mar 2007 00:00 +0200']));
    await append(imap, 'Dates', message(2, ['Date: Sat, 24 Mar 2007 23:30:00 -0500'])); // the 25th in UTC
    await append(imap, 'Dates', message(3)); // no Date field: never matches a SENT key
    await ok(imap, 'SELECT Dates');
    const search = async (criteria: string) => (await ok(imap, `SEARCH ${criteria}`)).find((l) => l.startsWith('* SEARCH'));
    assert.equal(await search('SENTON 24-Mar-2007'), '* SEARCH 2');
    assert.equal(await search('SENTON 25-Mar-2007'), '* SEARCH 1');
    assert.equal(await search('SENTBEFORE 25-Mar-2007'), '* SEARCH 2');
    assert.equal(await search('SENTSINCE 25-Mar-2007'), '* SEARCH 1');
    assert.equal(await search('SENTSINCE 24-Mar-2007 SENTBEFORE 26-Mar-2007'), '* SEARCH 1 2');
    assert.equal(await search('NOT SENTON 25-Mar-2007'), '* SEARCH 2 3');
    imap.close();
  });
});

describe('RFC 3501 §7.2.6 FLAGS: a keyword is announced before any FETCH shows it', () => {
  const flagsLine = (keywords: string) => `* FLAGS (${SYSTEM}${keywords})`;
  const permanentLine = (keywords: string) =>
    new RegExp(`^\\* OK \\[PERMANENTFLAGS \\(${(SYSTEM + keywords).replaceAll('\\', '\\\\').replaceAll('$', '\\$')} \\\\\\*\\)\\]`);

  test('STORE of a new keyword: FLAGS and PERMANENTFLAGS first, then the FETCH; SELECT lists the keywords in use', async () => {
    const imap = await loggedIn();
    await ok(imap, 'CREATE Keywords');
    await append(imap, 'Keywords', message(1));
    await append(imap, 'Keywords', message(2), '$Known');
    const select = await ok(imap, 'SELECT Keywords');
    assert.ok(select.includes(flagsLine(' $Known')), select.join('\n'));
    assert.match(select[indexOf(select, /PERMANENTFLAGS/)] as string, permanentLine(' $Known'));
    const store = await ok(imap, 'STORE 1 +FLAGS ($Label1)');
    const flags = indexOf(store, /^\* FLAGS /);
    assert.equal(store[flags], flagsLine(' $Known $Label1'));
    assert.match(store[flags + 1] as string, permanentLine(' $Known $Label1'));
    assert.ok(indexOf(store, /^\* 1 FETCH \(FLAGS \(\$Label1 \\Recent\)\)/) > flags + 1, store.join('\n'));
    // A keyword already announced is not announced again; nor is a system flag.
    const again = await ok(imap, 'STORE 2 +FLAGS ($Label1 \\Seen)');
    assert.ok(!again.some((l) => l.startsWith('* FLAGS')), again.join('\n'));
    // .SILENT sends no FETCH, but the client still learns the keyword before it could FETCH it.
    const silent = await ok(imap, 'STORE 2 +FLAGS.SILENT ($Quiet)');
    assert.deepEqual(silent.slice(0, 1), [flagsLine(' $Known $Label1 $Quiet')]);
    imap.close();
  });

  test('another session learns a keyword set by STORE, APPEND or COPY at NOOP: FLAGS before the FETCH or EXISTS', async () => {
    const writer = await loggedIn();
    const reader = await loggedIn();
    await ok(writer, 'CREATE Shared');
    await ok(writer, 'CREATE Source');
    await append(writer, 'Shared', message(1));
    await append(writer, 'Source', message(2), '$FromCopy');
    const select = await ok(reader, 'SELECT Shared');
    assert.ok(select.includes(flagsLine('')), select.join('\n'));

    await ok(writer, 'SELECT Shared');
    await ok(writer, 'STORE 1 +FLAGS.SILENT ($Stored)');
    let noop = await ok(reader, 'NOOP');
    assert.ok(indexOf(noop, /^\* FLAGS /) < indexOf(noop, /^\* 1 FETCH \(UID 1 FLAGS \(\$Stored( \\Recent)?\)\)/), noop.join('\n'));
    assert.equal(noop[indexOf(noop, /^\* FLAGS /)], flagsLine(' $Stored'));
    assert.match(noop[indexOf(noop, /^\* FLAGS /) + 1] as string, permanentLine(' $Stored'));

    await append(writer, 'Shared', message(3), '$Appended');
    noop = await ok(reader, 'NOOP');
    assert.ok(indexOf(noop, /^\* FLAGS /) < indexOf(noop, /^\* 2 EXISTS/), noop.join('\n'));
    assert.equal(noop[indexOf(noop, /^\* FLAGS /)], flagsLine(' $Stored $Appended'));

    await ok(writer, 'SELECT Source');
    await ok(writer, 'COPY 1 Shared');
    noop = await ok(reader, 'NOOP');
    assert.ok(indexOf(noop, /^\* FLAGS /) < indexOf(noop, /^\* 3 EXISTS/), noop.join('\n'));
    assert.equal(noop[indexOf(noop, /^\* FLAGS /)], flagsLine(' $Stored $Appended $FromCopy'));
    const fetch = await ok(reader, 'FETCH 3 FLAGS');
    assert.match(fetch.join('\n'), /\* 3 FETCH \(FLAGS \(\$FromCopy \\Recent\)\)/);

    // The session's own APPEND into its selected folder: FLAGS before the EXISTS it is told of.
    const own = await append(reader, 'Shared', message(4), '$Own');
    assert.ok(indexOf(own, /^\* FLAGS /) < indexOf(own, /^\* 4 EXISTS/), own.join('\n'));

    // RFC 2177 IDLE: the change feed wakes the session, which still says FLAGS before the FETCH.
    await ok(writer, 'SELECT Shared');
    reader.send('idle1 IDLE\r\n');
    assert.match(await reader.line(), /^\+ /);
    await ok(writer, 'STORE 2 +FLAGS.SILENT ($Idle)');
    assert.equal(await reader.line(), flagsLine(' $Stored $Appended $FromCopy $Own $Idle'));
    assert.match(await reader.line(), permanentLine(' $Stored $Appended $FromCopy $Own $Idle'));
    assert.match(await reader.line(), /^\* 2 FETCH \(UID 2 FLAGS \(\$Appended \$Idle( \\Recent)?\)\)$/);
    reader.send('DONE\r\n');
    assert.match((await reader.until('idle1')).tagged, /^idle1 OK /);
    writer.close();
    reader.close();
  });

  test('RFC 3501 §9 flag-keyword = atom: NIL is a keyword (STORE, SEARCH KEYWORD, APPEND)', async () => {
    const imap = await loggedIn();
    await ok(imap, 'CREATE Nil');
    await append(imap, 'Nil', message(1));
    await append(imap, 'Nil', message(2), 'NIL');
    await ok(imap, 'SELECT Nil');
    const store = await ok(imap, 'STORE 1 +FLAGS NIL');
    assert.match(store.join('\n'), /\* 1 FETCH \(FLAGS \(NIL \\Recent\)\)/);
    assert.deepEqual(
      (await ok(imap, 'SEARCH KEYWORD NIL')).filter((l) => l.startsWith('* SEARCH')),
      ['* SEARCH 1 2'],
    );
    assert.match((await ok(imap, 'STORE 1 -FLAGS (NIL)')).join('\n'), /\* 1 FETCH \(FLAGS \(\\Recent\)\)/);
    imap.close();
  });
});

describe('RFC 3501 §5.1 mailbox names: one no folder can have does not exist (NO [NONEXISTENT], never BAD)', () => {
  test('SELECT of invalid modified UTF-7 or unusual atom characters: NO [NONEXISTENT], and the previous folder is closed', async () => {
    const imap = await loggedIn();
    for (const name of ['&Jjo', '&', '&AGE-', '"&2D3-"', '""', 'a//b', ']', 'a]b', '\\foo', '%', 'a*b', '~user', '#news', '"a\\\\b"']) {
      const reply = await imap.command(`SELECT ${name}`);
      assert.match(reply.tagged, /^a\d+ NO \[NONEXISTENT\] /, `SELECT ${name}`);
    }
    await ok(imap, 'SELECT INBOX');
    const reply = await imap.command('EXAMINE &Jjo');
    assert.match(reply.tagged, /^a\d+ NO \[NONEXISTENT\] /);
    assert.deepEqual(reply.lines, ['* OK [CLOSED] Previous folder closed'], 'RFC 3501 §6.3.1: a failed SELECT leaves no folder selected');
    assert.match((await imap.command('FETCH 1 FLAGS')).tagged, /^a\d+ BAD /, 'no folder selected any more');
    assert.match((await imap.command('STATUS &Jjo (MESSAGES)')).tagged, /^a\d+ NO \[NONEXISTENT\] /);
    imap.close();
  });

  test('LIST with such a pattern or reference: OK with no match; CREATE of invalid modified UTF-7: NO [CANNOT] with the reason', async () => {
    const imap = await loggedIn();
    for (const command of ['LIST "" &Jjo', 'LIST "" "&AGE-"', 'LIST &Jjo *', 'LIST "" ]', 'LIST "" (&Jjo &2D3-)', 'LSUB "" &Jjo']) {
      const reply = await imap.command(command);
      assert.match(reply.tagged, /^a\d+ OK /, command);
      assert.deepEqual(reply.lines, [], command);
    }
    // A valid pattern beside an invalid one still lists what it matches.
    assert.deepEqual((await ok(imap, 'LIST "" (&Jjo INBOX)')).length, 1);
    const create = await imap.command('CREATE &Jjo');
    assert.match(create.tagged, /^a\d+ NO \[CANNOT\] Invalid folder name: unterminated "&"/);
    assert.match((await imap.command('RENAME Dates &AGE-')).tagged, /^a\d+ NO \[CANNOT\] Invalid folder name: /);
    imap.close();
  });
});

describe('RFC 3501 §7.4.2 ENVELOPE address structure: the source route (at-domain-list) is kept', () => {
  test('From: <@a.example,@b.example:user@c.example> gives ("name" "@a.example,@b.example" "user" "c.example")', async () => {
    const imap = await loggedIn();
    await ok(imap, 'CREATE Routes');
    const raw = [
      'From: Relayed <@a.example,@b.example:user@c.example>',
      'To: plain@d.example, <@relay.example:other@e.example>',
      'Subject: Routed',
      'Date: Thu, 26 Nov 2026 10:00:00 +0000',
      '',
      'Body',
      '',
    ].join('\r\n');
    await append(imap, 'Routes', raw);
    await ok(imap, 'SELECT Routes');
    const fetch = (await ok(imap, 'FETCH 1 ENVELOPE')).join('\n');
    assert.ok(fetch.includes('(("Relayed" "@a.example,@b.example" "user" "c.example"))'), fetch);
    assert.ok(fetch.includes('((NIL NIL "plain" "d.example") (NIL "@relay.example" "other" "e.example"))'), fetch);
    imap.close();
  });
});

describe('RFC 7162 CONDSTORE', () => {
  test('§3.1: the first CONDSTORE enabling command on a selected folder is answered with OK [HIGHESTMODSEQ n] first', async () => {
    const enablers = [
      'FETCH 1 (FLAGS) (CHANGEDSINCE 1)',
      'FETCH 1 (MODSEQ)',
      'SEARCH MODSEQ 1',
      'STORE 1 (UNCHANGEDSINCE 1000000) +FLAGS ($X)',
      'ENABLE CONDSTORE',
      'STATUS INBOX (HIGHESTMODSEQ)',
    ];
    const setup = await loggedIn();
    await ok(setup, 'CREATE Modseq');
    await append(setup, 'Modseq', message(1));
    setup.close();
    for (const command of enablers) {
      const imap = await loggedIn();
      const select = await ok(imap, 'SELECT Modseq');
      const highest = Number(/HIGHESTMODSEQ (\d+)/.exec(select.join('\n'))?.[1]);
      const reply = await ok(imap, command);
      // First, before the command's own responses (§3.1.3 example 4); ENABLE says ENABLED first.
      const first = command.startsWith('ENABLE') ? 1 : 0;
      assert.equal(reply[first], `* OK [HIGHESTMODSEQ ${highest}] Highest`, `${command}: ${reply.join('\n')}`);
      // Only the first: CONDSTORE is now on for the session.
      const again = await ok(imap, 'FETCH 1 (MODSEQ)');
      assert.ok(!again.some((l) => l.includes('HIGHESTMODSEQ')), again.join('\n'));
      imap.close();
    }
    // Not selected: nothing to report (SELECT will say it).
    const imap = await loggedIn();
    assert.deepEqual(await ok(imap, 'ENABLE CONDSTORE'), ['* ENABLED CONDSTORE']);
    imap.close();
  });

  test('§3.1.5 with RFC 4731 §3.2: SEARCH RETURN (MIN) / (MAX) MODSEQ gives the MODSEQ of that message', async () => {
    const imap = await loggedIn();
    await ok(imap, 'CREATE Esearch');
    for (let n = 1; n <= 3; n++) await append(imap, 'Esearch', message(n));
    await ok(imap, 'SELECT Esearch');
    await ok(imap, 'STORE 3 +FLAGS (\\Flagged)');
    await ok(imap, 'STORE 1 +FLAGS (\\Flagged)'); // message 1 now has the highest MODSEQ, message 3 the next
    const modseqs = new Map<number, number>();
    for (const line of await ok(imap, 'FETCH 1:3 (MODSEQ)')) {
      const m = /^\* (\d+) FETCH \(MODSEQ \((\d+)\)\)/.exec(line);
      if (m) modseqs.set(Number(m[1]), Number(m[2]));
    }
    const [m1, m3] = [modseqs.get(1) as number, modseqs.get(3) as number];
    assert.ok(m1 > m3);
    const esearch = async (options: string) => (await ok(imap, `SEARCH RETURN (${options}) FLAGGED MODSEQ 1`)).find((l) => l.startsWith('* ESEARCH'));
    assert.match((await esearch('MIN')) as string, new RegExp(` MIN 1 MODSEQ ${m1}$`));
    assert.match((await esearch('MAX')) as string, new RegExp(` MAX 3 MODSEQ ${m3}$`));
    assert.match((await esearch('MIN MAX')) as string, new RegExp(` MIN 1 MAX 3 MODSEQ ${Math.max(m1, m3)}$`));
    assert.match((await esearch('MAX COUNT')) as string, new RegExp(` MAX 3 COUNT 2 MODSEQ ${Math.max(m1, m3)}$`));
    // Message 3 alone: its own MODSEQ, not the highest of the folder.
    assert.match((await ok(imap, 'SEARCH RETURN (MAX) UID 3 MODSEQ 1')).find((l) => l.startsWith('* ESEARCH')) as string, new RegExp(` MAX 3 MODSEQ ${m3}$`));
    imap.close();
  });
});

describe('RFC 5258 LIST-EXTENDED', () => {
  test('§3.1: RECURSIVEMATCH without SUBSCRIBED is BAD, also with REMOTE or SPECIAL-USE', async () => {
    const imap = await loggedIn();
    for (const options of ['RECURSIVEMATCH', 'REMOTE RECURSIVEMATCH', 'SPECIAL-USE RECURSIVEMATCH']) {
      assert.match((await imap.command(`LIST (${options}) "" "*"`)).tagged, /^a\d+ BAD /, options);
    }
    await ok(imap, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "*"');
    imap.close();
  });

  test('§3 and RFC 3501 §6.3.6: a subscribed folder that was deleted is listed under (SUBSCRIBED) with \\NonExistent', async () => {
    const imap = await loggedIn();
    await ok(imap, 'CREATE Gone');
    await ok(imap, 'SUBSCRIBE Gone');
    await ok(imap, 'DELETE Gone');
    assert.deepEqual(await ok(imap, 'LIST (SUBSCRIBED) "" "Gone"'), ['* LIST (\\Subscribed \\NonExistent) "/" "Gone"']);
    assert.deepEqual(await ok(imap, 'LIST "" "Gone"'), [], 'a plain LIST lists what exists');
    assert.deepEqual(await ok(imap, 'LSUB "" "Gone"'), ['* LSUB (\\Noselect) "/" "Gone"'], 'RFC 3501 §6.3.9');
    // Created again, the folder is subscribed again (the subscription was never removed).
    await ok(imap, 'CREATE Gone');
    assert.deepEqual(await ok(imap, 'LIST (SUBSCRIBED) "" "Gone"'), ['* LIST (\\HasNoChildren \\Subscribed) "/" "Gone"']);
    await ok(imap, 'DELETE Gone');
    // UNSUBSCRIBE of the deleted name removes it.
    await ok(imap, 'UNSUBSCRIBE Gone');
    assert.deepEqual(await ok(imap, 'LIST (SUBSCRIBED) "" "Gone"'), []);
    assert.match((await imap.command('UNSUBSCRIBE Gone')).tagged, /^a\d+ NO \[NONEXISTENT\] /);
    await ok(imap, 'CREATE Gone');
    assert.deepEqual(await ok(imap, 'LIST (SUBSCRIBED) "" "Gone"'), [], 'not subscribed any more');
    // A folder renamed to a subscribed name that lost its folder takes the subscription.
    await ok(imap, 'SUBSCRIBE Gone');
    await ok(imap, 'DELETE Gone');
    await ok(imap, 'CREATE Other');
    await ok(imap, 'RENAME Other Gone');
    assert.deepEqual(await ok(imap, 'LIST (SUBSCRIBED) "" "Gone"'), ['* LIST (\\HasNoChildren \\Subscribed) "/" "Gone"']);
    imap.close();
  });
});

describe('RFC 3501 §9 CHAR8: no NUL in a plain literal', () => {
  test('BODY[1] of a part holding NUL sends 0x80 in its place, same size; BINARY[1] sends the NUL in a literal8 (RFC 3516 §4.3)', async () => {
    const raw = Buffer.concat([
      Buffer.from(
        [
          'From: sender@example.test',
          `To: ${USER}`,
          'Subject: NUL',
          'MIME-Version: 1.0',
          'Content-Type: multipart/mixed; boundary="b"',
          '',
          '--b',
          'Content-Type: application/octet-stream',
          'Content-Transfer-Encoding: binary',
          '',
          'a',
        ].join('\r\n'),
      ),
      Buffer.from([0, 0x62, 0]),
      Buffer.from('c\r\n--b--\r\n'),
    ]);
    const imap = await loggedIn();
    await ok(imap, 'CREATE Nul');
    await ok(imap, 'SELECT Nul');
    // RFC 3516 §4.4: NUL may come in only in a literal8.
    imap.send(Buffer.concat([Buffer.from(`nul1 APPEND Nul ~{${raw.length}}\r\n`)]));
    assert.match(await imap.line(), /^\+ /);
    imap.send(Buffer.concat([raw, Buffer.from('\r\n')]));
    assert.match((await imap.until('nul1')).tagged, /^nul1 OK /);
    const body = (await ok(imap, 'FETCH 1 BODY.PEEK[1]')).join('\n');
    assert.ok(body.includes('BODY[1] {5}\r\na\x80b\x80c'), JSON.stringify(body));
    const whole = (await ok(imap, 'FETCH 1 (RFC822.SIZE BODY.PEEK[])')).join('\n');
    assert.ok(!whole.includes('\x00'), 'no NUL in BODY[]');
    assert.match(whole, new RegExp(`RFC822.SIZE ${raw.length} BODY\\[\\] \\{${raw.length}\\}`));
    const binary = (await ok(imap, 'FETCH 1 BINARY.PEEK[1]')).join('\n');
    assert.ok(binary.includes('BINARY[1] ~{5}\r\na\x00b\x00c'), JSON.stringify(binary));
    imap.close();
  });
});
