/**
 * SORT and THREAD on a big folder (issue: IMAP extensions for large folders). Starts the service as the
 * tests do (engine from FACTEUR_TEST_ENGINE), fills one Inbox with N messages as rows (one shared blob;
 * sort and thread keys varied per message as delivery would have computed them: 20,000 subjects, dates
 * over a year, threads of 1 to 8 messages with References), then times over raw IMAP:
 *   SELECT, SORT (DATE), SORT (SUBJECT), SORT (REVERSE ARRIVAL) of UNSEEN, THREAD=REFERENCES, THREAD=ORDEREDSUBJECT;
 * and the lazy fill of keys for messages stored before migration 011 (--legacy N rows without keys).
 *
 *   FACTEUR_TEST_ENGINE=sqlite node --import tsx bench/imap/sort.ts [--messages 100000] [--legacy 20000]
 */
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { ensureDefaultMailboxes, foldCasemap, mailboxByRole, persistContent, receiveMessage } from '../../src/mailstore/index.ts';
import { newId } from '../../src/shared/ids.ts';
import type { MessagesTable } from '../../src/store/index.ts';
import { operatorClient } from '../../test/helpers/client.ts';
import { setupMailCustomer } from '../../test/helpers/filter.ts';
import { RawImap } from '../../test/helpers/imap.ts';
import { engine, startTestService } from '../../test/helpers/service.ts';
import { prng } from './messages.ts';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '100000' }, legacy: { type: 'string', default: '20000' } } });
const N = Number(values.messages);
const LEGACY = Number(values.legacy);

const service = await startTestService({
  overrides: { roles: ['web', 'imap'], ports: { http: 0, imap: 0, imaps: 0 }, mailAccess: { allowPlaintextOnLoopback: true } },
});
try {
  const operator = await operatorClient(service);
  const customer = await setupMailCustomer(service, operator, 'Bench sort', 'sort.bench.test', ['big', 'legacy']);
  const ctx = service.ctx;
  const raw = 'From: a@b.test\r\nTo: big@sort.bench.test\r\nSubject: shared\r\nMessage-ID: <shared@b.test>\r\n\r\nBody.\r\n';
  const shared = await receiveMessage(ctx, Readable.from([Buffer.from(raw)]), { maxBytes: 1 << 20 });
  await ctx.db.transaction().execute((trx) => persistContent(ctx, trx, shared.blob));
  const metadata = JSON.stringify(shared.metadata);

  async function fill(local: string, count: number, withKeys: boolean): Promise<number> {
    const account = customer.accounts.find((a) => a.address.startsWith(`${local}@`));
    if (!account) throw new Error('no account');
    const row = await ctx.db.selectFrom('accounts').selectAll().where('id', '=', account.id).executeTakeFirstOrThrow();
    await ensureDefaultMailboxes(ctx.db, row, Date.now());
    const inbox = await mailboxByRole(ctx.db, account.id, 'inbox');
    if (!inbox) throw new Error('no inbox');
    const rand = prng(42);
    const t0 = performance.now();
    let threadStart = 1;
    let threadLength = 1;
    let threadId = newId('thr');
    for (let start = 1; start <= count; start += 1000) {
      const rows: MessagesTable[] = [];
      for (let uid = start; uid < Math.min(start + 1000, count + 1); uid++) {
        if (uid - threadStart >= threadLength) {
          threadStart = uid;
          threadLength = 1 + Math.floor(rand() * 8);
          threadId = newId('thr');
        }
        const subjectNo = Math.floor(rand() * 20_000);
        const refs = Array.from({ length: uid - threadStart }, (_, i) => `<m${threadStart + i}@b.test>`);
        rows.push({
          customer_id: account.customerId,
          id: newId('msg'),
          account_id: account.id,
          mailbox_id: inbox.id,
          uid,
          modseq: uid + 1,
          blob_id: shared.blob.id,
          size: 2000 + Math.floor(rand() * 50_000),
          internal_date: Date.UTC(2026, 0, 1) + uid * 300_000,
          flags: rand() < 0.1 ? '[]' : '["\\\\Seen"]',
          subject: `Subject ${subjectNo}`,
          from_address: `sender${subjectNo % 500}@b.test`,
          message_id: `<m${uid}@b.test>`,
          sent_date: Date.UTC(2026, 0, 1) + Math.floor(rand() * 365 * 86_400_000),
          metadata,
          created_at: Date.now(),
          thread_id: withKeys ? threadId : null,
          sort_subject: withKeys ? foldCasemap(`subject ${uid === threadStart ? subjectNo : threadStart}`) : null,
          subject_is_reply: withKeys ? (uid === threadStart ? 0 : 1) : null,
          sort_from: withKeys ? foldCasemap(`sender${subjectNo % 500}`) : null,
          sort_to: withKeys ? 'BIG' : null,
          sort_cc: withKeys ? '' : null,
          sort_display_from: withKeys ? foldCasemap(`Sender ${subjectNo % 500}`) : null,
          sort_display_to: withKeys ? 'BIG' : null,
          thread_message_id: withKeys ? `<m${uid}@b.test>` : null,
          thread_references: withKeys ? JSON.stringify(refs) : null,
        });
      }
      await ctx.db.transaction().execute(async (trx) => {
        for (let i = 0; i < rows.length; i += 500)
          await trx
            .insertInto('messages')
            .values(rows.slice(i, i + 500))
            .execute();
      });
    }
    await ctx.db
      .updateTable('mailboxes')
      .set({ uid_next: count + 1, highest_modseq: count + 1 })
      .where('id', '=', inbox.id)
      .execute();
    return performance.now() - t0;
  }

  let tagNo = 0;
  /** A command and its reply lines, waiting as long as it takes (the helper's `command` gives up after 10 s without a line). */
  async function timed(imap: RawImap, command: string): Promise<{ ms: number; reply: string }> {
    const tag = `s${++tagNo}`;
    const t = performance.now();
    imap.send(`${tag} ${command}\r\n`);
    let reply = '';
    for (;;) {
      const line = await imap.line(600_000);
      if (line.startsWith('* SORT') || line.startsWith('* THREAD') || line.startsWith('* ESEARCH')) reply = `${line.length} bytes`;
      if (line.startsWith(`${tag} `)) {
        if (!/ OK /.test(line)) throw new Error(`${command}: ${line}`);
        return { ms: performance.now() - t, reply };
      }
    }
  }

  const seedMs = await fill('big', N, true);
  console.log(`engine ${engine}: ${N} messages inserted as rows in ${(seedMs / 1000).toFixed(1)} s`);
  const imap = await RawImap.open(service.imapPort as number);
  const big = customer.accounts.find((a) => a.address.startsWith('big@'));
  await timed(imap, `LOGIN ${big?.address} ${big?.password}`);
  const select = await timed(imap, 'SELECT INBOX');
  console.log(`SELECT ${select.ms.toFixed(0)} ms`);
  for (const command of [
    'SORT (DATE) UTF-8 ALL',
    'SORT (DATE) UTF-8 ALL',
    'UID SORT (REVERSE DATE) UTF-8 ALL',
    'SORT (SUBJECT) UTF-8 ALL',
    'SORT (DISPLAYFROM DATE) UTF-8 ALL',
    'UID SORT RETURN (PARTIAL 1:50) (REVERSE ARRIVAL) UTF-8 UNSEEN',
    'THREAD REFERENCES UTF-8 ALL',
    'THREAD REFERENCES UTF-8 ALL',
    'THREAD ORDEREDSUBJECT UTF-8 ALL',
  ]) {
    const r = await timed(imap, command);
    console.log(`${command}: ${r.ms.toFixed(0)} ms (${r.reply})`);
  }
  imap.close();

  if (LEGACY > 0) {
    await fill('legacy', LEGACY, false);
    const old = await RawImap.open(service.imapPort as number);
    const legacy = customer.accounts.find((a) => a.address.startsWith('legacy@'));
    await timed(old, `LOGIN ${legacy?.address} ${legacy?.password}`);
    await timed(old, 'SELECT INBOX');
    const first = await timed(old, 'SORT (DATE) UTF-8 ALL');
    console.log(`first SORT after migration 011 on ${LEGACY} messages without keys (lazy fill included): ${(first.ms / 1000).toFixed(1)} s`);
    const again = await timed(old, 'SORT (DATE) UTF-8 ALL');
    console.log(`then SORT (DATE): ${again.ms.toFixed(0)} ms`);
    old.close();
  }
} finally {
  await service.close();
}
