/**
 * IMAP before login (engine issue): a literal larger than a few kilobytes is refused before it is
 * read (RFC 7888 §4, RFC 3501 §7.5), so unauthenticated clients cannot make the server hold data. The
 * server runs as its own `facteur serve` process; its RSS is read from outside.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ImapProcess, MB, openRaw, sampleRss, startImapProcess, startProbe, writeMessage } from './helpers/imap-process.ts';

const LITERAL_BYTES = 40 * MB;
let server: ImapProcess;

before(async () => {
  server = await startImapProcess('flood@literals.test', 'flood-password-1');
});
after(() => server?.close());

test('RFC 7888 §4 / RFC 3501 §7.5 30 unauthenticated connections announcing a 40 MB {n+} literal: the server grows by less than 50 MB and answers others throughout', async (t) => {
  const pid = server.child.pid as number;
  const probe = await startProbe(server);
  const sampler = sampleRss(pid);
  const flooders = await Promise.all(Array.from({ length: 30 }, () => openRaw(server.port)));
  await Promise.all(
    flooders.map(async (flooder, i) => {
      // Half push an APPEND (not valid before login), half a LOGIN whose user name is the literal.
      const announce = i % 2 === 0 ? `f${i} APPEND INBOX {${LITERAL_BYTES}+}\r\n` : `f${i} LOGIN {${LITERAL_BYTES}+}\r\n`;
      flooder.socket.write(announce);
      await writeMessage(flooder.socket, LITERAL_BYTES);
      flooder.socket.end(' x\r\n');
      await flooder.closed;
    }),
  );
  const { baseline, peak } = await sampler.stop();
  const delays = await probe.stop();
  const growth = peak - baseline;
  t.diagnostic(
    `RSS before ${Math.round(baseline / MB)} MB, peak ${Math.round(peak / MB)} MB (+${Math.round(growth / MB)} MB); probe: ${delays.length} NOOPs, slowest ${Math.round(Math.max(...delays))} ms`,
  );
  for (const [i, flooder] of flooders.entries()) {
    assert.match(flooder.output(), new RegExp(`\\r\\nf${i} BAD \\[TOOBIG\\] [^\\r]*\\r\\n\\* BYE `), `connection ${i}: BAD [TOOBIG] then BYE`);
  }
  assert.ok(growth < 50 * MB, `RSS grew by ${Math.round(growth / MB)} MB`);
  assert.ok(delays.length >= 3, 'the logged-in client was answered during the flood');
  assert.ok(Math.max(...delays) < 5000, 'no answer took more than 5 s');
});
