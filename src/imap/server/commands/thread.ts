/**
 * THREAD and UID THREAD (RFC 5256 §3): ORDEREDSUBJECT and REFERENCES over SEARCH's matches (findMatches),
 * from the normalized ids, folded base subjects and dates the mailstore stored at delivery. The tree is
 * built per command, as RFC 5256 defines it on the searched messages; the account's stored
 * conversations (`thread_id`, mailstore/threads.ts) are JMAP's and are not what THREAD answers.
 */
import { ensureMessageKeys, readMessageColumns } from '../../../mailstore/index.ts';
import { parseThreadArgs } from '../../proto/index.ts';
import { bad, defineCommand, ok, SELECTED } from '../command.ts';
import { formatThreads, type ThreadMessage, threadByOrderedSubject, threadByReferences } from '../threading.ts';
import { findMatches } from './search.ts';

function parseReferences(json: string | null): string[] {
  if (!json) return [];
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string') : [];
}

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
    const messages: ThreadMessage[] = [];
    if (matched.length > 0) {
      const byReferences = args.algorithm === 'REFERENCES';
      const columns = byReferences
        ? (['sort_subject', 'subject_is_reply', 'sent_date', 'internal_date', 'thread_message_id', 'thread_references'] as const)
        : (['sort_subject', 'sent_date', 'internal_date'] as const);
      const rows = await readMessageColumns(ctx.app.db, selected.id, matched[0]?.uid as number, matched.at(-1)?.uid as number, columns);
      let r = 0;
      for (const match of matched) {
        while (r < rows.length && Number(rows[r]?.uid) < match.uid) r++;
        const row = rows[r] as Partial<(typeof rows)[number]> | undefined;
        const found = row && Number(row.uid) === match.uid ? row : undefined;
        messages.push({
          seq: match.seq,
          uid: match.uid,
          messageId: found?.thread_message_id ?? null,
          references: byReferences ? parseReferences(found?.thread_references ?? null) : [],
          subject: found?.sort_subject ?? '',
          isReply: found?.subject_is_reply === 1,
          sentDate: Number(found?.sent_date ?? found?.internal_date ?? 0),
        });
      }
    }
    const roots = args.algorithm === 'REFERENCES' ? threadByReferences(messages) : threadByOrderedSubject(messages);
    const text = formatThreads(roots, ctx.command.uid ? (m) => m.uid : (m) => m.seq);
    await ctx.untagged(text === '' ? 'THREAD' : `THREAD ${text}`);
    return ok('THREAD completed');
  },
});
