/**
 * SORT and UID SORT (RFC 5256 §3) with every sort key, DISPLAYFROM and DISPLAYTO (RFC 5957 §4), and the
 * extended SORT's RETURN options (RFC 5267 §3 ESORT: MIN MAX COUNT ALL; §4.4 PARTIAL). The search is
 * SEARCH's own (findMatches); the keys are columns the mailstore computed at delivery (subject and
 * addresses already folded with i;unicode-casemap), read once per folder and kept (sort-keys.ts): no
 * message is parsed here.
 */
import { ensureMessageKeys } from '../../../mailstore/index.ts';
import { parseSortArgs, type SortCriterion, type SortReturn } from '../../proto/index.ts';
import { bad, type CommandContext, defineCommand, ok, SELECTED } from '../command.ts';
import { findMatches, type SearchMatch } from '../searching.ts';
import type { SelectedMailbox } from '../selected.ts';
import { type SortValue, sortValues } from '../sort-keys.ts';
import { quoted } from '../text.ts';

/** The matched messages of the session's view in the order `criteria` ask (RFC 5256 §3: then mailbox order, never reversed). */
export async function sortMatches(
  ctx: CommandContext,
  selected: SelectedMailbox,
  matched: SearchMatch[],
  criteria: readonly SortCriterion[],
): Promise<SearchMatch[]> {
  if (matched.length < 2) return matched;
  const uids = matched.map((m) => m.uid);
  // Column-wise values and a sort of positions: no object per message.
  const columns: SortValue[][] = [];
  for (const criterion of criteria) {
    const values = await sortValues(ctx, selected, criterion.key, uids);
    const fallback = typeof values.values().next().value === 'number' ? 0 : '';
    columns.push(uids.map((uid) => values.get(uid) ?? fallback));
  }
  const signs = criteria.map((c) => (c.reverse ? -1 : 1));
  const order = matched.map((_, i) => i);
  order.sort((a, b) => {
    for (let k = 0; k < columns.length; k++) {
      const column = columns[k] as SortValue[];
      const x = column[a] as SortValue;
      const y = column[b] as SortValue;
      if (x !== y) return (x < y ? -1 : 1) * (signs[k] as number);
    }
    return a - b;
  });
  return order.map((i) => matched[i] as SearchMatch);
}

export const sort = defineCommand({
  name: 'SORT',
  states: SELECTED,
  // RFC 5256 §3: no EXPUNGE while SORT runs (allowed during UID SORT, held too for simplicity).
  holdsExpunges: true,
  async run(ctx) {
    const args = parseSortArgs(ctx.args);
    const selected = ctx.session.selected;
    const account = ctx.session.account;
    if (!selected || !account) return bad('No folder selected');
    await ensureMessageKeys(ctx.app, account.id);
    const matched = await findMatches(ctx, selected, args.key);
    const sorted = await sortMatches(ctx, selected, matched, args.criteria);
    const numbers = sorted.map((m) => (ctx.command.uid ? m.uid : m.seq));
    if (args.return === null) await ctx.untagged(`SORT${numbers.map((n) => ` ${n}`).join('')}`);
    else await ctx.untagged(esort(ctx, args.return, numbers));
    return ok('SORT completed');
  },
});

/**
 * A sequence-set that keeps the given order (RFC 5267 §3.2): only ascending runs become ranges
 * (`23765,23764,23763` stays as it is).
 */
export function formatOrderedSet(numbers: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < numbers.length) {
    let j = i;
    while (j + 1 < numbers.length && (numbers[j + 1] as number) === (numbers[j] as number) + 1) j++;
    parts.push(j > i ? `${numbers[i]}:${numbers[j]}` : String(numbers[i]));
    i = j + 1;
  }
  return parts.join(',');
}

/** RFC 5267 §3.1: `ESEARCH (TAG "a") UID MIN 5 MAX 2 COUNT 3 ALL 5,1:2`, MIN and MAX in the sorted order. */
function esort(ctx: CommandContext, options: SortReturn, numbers: number[]): string {
  const parts = [`ESEARCH (TAG ${quoted(ctx.command.tag)})`];
  if (ctx.command.uid) parts.push('UID');
  if (numbers.length > 0) {
    if (options.min) parts.push(`MIN ${numbers[0]}`);
    if (options.max) parts.push(`MAX ${numbers.at(-1)}`);
    if (options.all) parts.push(`ALL ${formatOrderedSet(numbers)}`);
  }
  if (options.count) parts.push(`COUNT ${numbers.length}`);
  if (options.partial) {
    // RFC 5267 §4.4: the range asked, then the results in it (NIL when none).
    const [low, high] = options.partial;
    const part = numbers.slice(low - 1, high);
    parts.push(`PARTIAL (${low}:${high} ${part.length > 0 ? formatOrderedSet(part) : 'NIL'})`);
  }
  return parts.join(' ');
}
