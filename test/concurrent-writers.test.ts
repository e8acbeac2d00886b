/**
 * A `facteur` CLI writing to the same data while the service runs (issue: "writes that never collide"):
 * on SQLite every write transaction takes the write lock when it begins (BEGIN IMMEDIATE) and waits for
 * it within the busy timeout, so neither the CLI nor the service ever fails with "database is locked"
 * (once seen as NO [SERVERBUG] on an IMAP CREATE). The CLI loops adding and removing sender rules while
 * a real SMTP client delivers through the MX and an IMAP client creates folders and appends to them.
 * The same test runs on PostgreSQL, where it must hold as well.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import nodemailer from 'nodemailer';
import { cliEnv, runFacteur } from './helpers/cli.ts';
import { setupMailAccount } from './helpers/client.ts';
import { RawImap } from './helpers/imap.ts';
import { startTestService, type TestService } from './helpers/service.ts';

const DOMAIN = 'busy.test';
const USER = `user@${DOMAIN}`;
const PASSWORD = 'user-password-1';
/** CLI rounds, each a rule added then removed: two processes, each with writes of its own at start (a CLI starts slowly: few rounds). */
const CLI_ROUNDS = 1;

let service: TestService;

before(async () => {
  service = await startTestService({
    overrides: {
      roles: ['web', 'mx', 'imap'],
      ports: { http: 0, mx: 0, imap: 0, imaps: 0 },
      mailAccess: { allowPlaintextOnLoopback: true },
    },
  });
  await setupMailAccount(service, 'Busy', { address: USER, password: PASSWORD });
});
after(() => service.close());

interface Tally {
  ok: number;
  errors: string[];
}

/** Adds and removes a sender rule, round after round, as an operator's script would. */
async function cliLoop(name: string, tally: Tally): Promise<void> {
  const env = cliEnv(service);
  for (let i = 0; i < CLI_ROUNDS; i++) {
    const added = await runFacteur(env, ['senders', 'allow', `${name}${i}@loop.test`, '--account', USER, '--json']);
    if (added.code !== 0) {
      tally.errors.push(`senders allow: ${added.stderr.trim()}`);
      continue;
    }
    tally.ok++;
    const removed = await runFacteur(env, ['senders', 'remove', (JSON.parse(added.stdout) as { id: string }).id]);
    if (removed.code !== 0) tally.errors.push(`senders remove: ${removed.stderr.trim()}`);
    else tally.ok++;
  }
}

/** Delivers through the MX with a real SMTP client until told to stop. */
async function smtpLoop(stop: { done: boolean }, tally: Tally): Promise<void> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: service.mxPort,
    secure: false,
    tls: { ca: service.tlsCert, servername: 'localhost' },
    requireTLS: true,
  });
  for (let i = 0; !stop.done; i++) {
    try {
      await transport.sendMail({ from: 'sender@elsewhere.test', to: USER, subject: `Load ${i}`, text: `Message ${i} during CLI writes` });
      tally.ok++;
    } catch (error) {
      tally.errors.push(`SMTP: ${(error as Error).message}`);
    }
  }
  transport.close();
}

/** RFC 3501 §6.3.3 CREATE and §6.3.11 APPEND, folder after folder, until told to stop. */
async function imapLoop(stop: { done: boolean }, tally: Tally): Promise<void> {
  const imap = await RawImap.open(service.imapPort as number);
  assert.match((await imap.command(`LOGIN ${USER} ${PASSWORD}`)).tagged, / OK /);
  const message = 'From: me@busy.test\r\nSubject: appended\r\n\r\nhello\r\n';
  for (let i = 0; !stop.done; i++) {
    for (const command of [`CREATE "Load ${i}"`, `APPEND "Load ${i}" {${message.length}+}\r\n${message}`]) {
      const { tagged } = await imap.command(command);
      if (/^\S+ OK /.test(tagged)) tally.ok++;
      else tally.errors.push(`IMAP ${command.split(' ')[0]}: ${tagged}`);
    }
  }
  await imap.command('LOGOUT');
  imap.close();
}

test('a CLI writing in a loop during SMTP and IMAP load: 0 "database is locked", 0 errors on either side', { timeout: 300_000 }, async (t) => {
  const cli: Tally = { ok: 0, errors: [] };
  const smtp: Tally = { ok: 0, errors: [] };
  const imap: Tally = { ok: 0, errors: [] };
  const stop = { done: false };
  const load = Promise.all([smtpLoop(stop, smtp), imapLoop(stop, imap)]);
  try {
    await Promise.all([cliLoop('first', cli), cliLoop('second', cli)]);
  } finally {
    stop.done = true;
    await load;
  }
  t.diagnostic(`CLI writes ${cli.ok}, SMTP deliveries ${smtp.ok}, IMAP CREATE/APPEND ${imap.ok}`);
  assert.deepEqual([...cli.errors, ...smtp.errors, ...imap.errors], []);
  assert.equal(cli.ok, 4 * CLI_ROUNDS);
  assert.ok(smtp.ok > 0 && imap.ok > 0, 'the service was under load meanwhile');
});
