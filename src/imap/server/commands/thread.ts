/**
 * THREAD and UID THREAD (RFC 5256 §3): ORDEREDSUBJECT and REFERENCES over SEARCH's matches (findMatches),
 * from the normalized ids, folded base subjects and dates the mailstore stored at delivery. The tree is
 * built per command, as RFC 5256 defines it on the searched messages; the account's stored
 * conversations (`thread_id`, mailstore/threads.ts) are JMAP's and are not what THREAD answers.
 */
import { ensureMessageKeys } from '../../../mailstore/index.ts';
import { parseThreadArgs } from '../../proto/index.ts';
import { bad, defineCommand, ok, SELECTED } from '../command.ts';
import { findMatches } from '../searching.ts';
import { threadRecords } from '../sort-keys.ts';
import { formatThreads, type ThreadMessage, threadByOrderedSubject, threadByReferences } from '../threading.ts';

export const thread = defineCommand({
  name: 'THREAD',
  states: SELECTED,
  // RFC 5256 §3: no EXPUNGE while THREAD runs.
  holdsExpunges: true,
  async run(ctx) {
    const args = parseThreadArgs(ctx.args);
    const selected = ctx.session.selected;
    const account = ctx.session.account;
    if (!selected || !account) return bad('No folder selected');
    await ensureMessageKeys(ctx.app, account.id);
    const matched = await findMatches(ctx, selected, args.key);
    const records = await threadRecords(
      ctx,
      selected,
      matched.map((m) => m.uid),
    );
    const messages: ThreadMessage[] = [];
    for (const match of matched) {
      const record = records.get(match.uid);
      messages.push({
        seq: match.seq,
        uid: match.uid,
        messageId: record?.messageId ?? null,
        references: record?.references ?? [],
        subject: record?.subject ?? '',
        isReply: record?.isReply ?? false,
        sentDate: record?.sentDate ?? 0,
      });
    }
    const roots = args.algorithm === 'REFERENCES' ? threadByReferences(messages) : threadByOrderedSubject(messages);
    const text = formatThreads(roots, ctx.command.uid ? (m) => m.uid : (m) => m.seq);
    await ctx.untagged(text === '' ? 'THREAD' : `THREAD ${text}`);
    return ok('THREAD completed');
  },
});
