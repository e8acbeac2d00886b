/**
 * APPEND streams its literal to a spool on disk, as SMTP's DATA does, instead of holding it (engine
 * issue, RFC 3501 §6.3.11). The server runs as its own `facteur serve` process; its RSS is read from
 * outside.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ImapProcess, MB, openRaw, sampleRss, startImapProcess, waitFor, writeMessage } from './helpers/imap-process.ts';

const USER = 'flood@literals.test';
const PASSWORD = 'flood-password-1';
const LITERAL_BYTES = 40 * MB;
let server: ImapProcess;

before(async () => {
  server = await startImapProcess(USER, PASSWORD);
});
after(() => server?.close());

test('RFC 3501 §6.3.11 20 concurrent 40 MB APPENDs are streamed to disk: the server grows by less than 100 MB, every message is stored', async (t) => {
  const pid = server.child.pid as number;
  const clients = await Promise.all(Array.from({ length: 20 }, () => openRaw(server.port)));
  for (const [i, client] of clients.entries()) {
    client.socket.write(`l${i} LOGIN ${USER} ${PASSWORD}\r\n`);
    await waitFor(client, new RegExp(`l${i} OK `));
  }
  const sampler = sampleRss(pid);
  await Promise.all(
    clients.map(async (client, i) => {
      client.socket.write(`a${i} APPEND INBOX {${LITERAL_BYTES}}\r\n`);
      await waitFor(client, /\r\n\+ /);
      await writeMessage(client.socket, LITERAL_BYTES);
      client.socket.write('\r\n');
      await waitFor(client, new RegExp(`a${i} (OK|NO|BAD) `));
      assert.match(client.output(), new RegExp(`a${i} OK \\[APPENDUID \\d+ \\d+\\] `));
      client.socket.end('z LOGOUT\r\n');
    }),
  );
  const { baseline, peak } = await sampler.stop();
  const growth = peak - baseline;
  t.diagnostic(`RSS before ${Math.round(baseline / MB)} MB, peak ${Math.round(peak / MB)} MB (+${Math.round(growth / MB)} MB) for 20 x 40 MB APPENDs`);
  const stored = await server.service.ctx.db.selectFrom('messages').select('size').execute();
  assert.equal(stored.filter((m) => Number(m.size) === LITERAL_BYTES).length, 20);
  assert.ok(growth < 100 * MB, `RSS grew by ${Math.round(growth / MB)} MB`);
});
