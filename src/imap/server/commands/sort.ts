/**
 * SORT and UID SORT (RFC 5256 §3) with every sort key, DISPLAYFROM and DISPLAYTO (RFC 5957 §4), and the
 * extended SORT's RETURN options (RFC 5267 §3 ESORT: MIN MAX COUNT ALL; §4.4 PARTIAL). The search is
 * SEARCH's own (findMatches); the keys are columns the mailstore computed at delivery (subject and
 * addresses already folded with i;unicode-casemap), read for the folder in one query: no message is
 * parsed here.
 */
import { ensureMessageKeys, type MessageColumn, octetOrderKey, readMessageColumns } from '../../../mailstore/index.ts';
import { parseSortArgs, type SortCriterion, type SortKey, type SortReturn } from '../../proto/index.ts';
import { bad, type CommandContext, defineCommand, ok, SELECTED } from '../command.ts';
import type { SelectedMailbox } from '../selected.ts';
import { quoted } from '../text.ts';
import { findMatches, type SearchMatch } from './search.ts';

/** The stored column of each string key (RFC 5256 §3, RFC 5957 §4). */
const STRING_COLUMNS = {
  CC: 'sort_cc',
  FROM: 'sort_from',
  SUBJECT: 'sort_subject',
  TO: 'sort_to',
  DISPLAYFROM: 'sort_display_from',
  DISPLAYTO: 'sort_display_to',
} as const satisfies Partial<Record<SortKey, MessageColumn>>;

const COLUMNS: Record<SortKey, MessageColumn[]> = {
  ARRIVAL: ['internal_date'],
  DATE: ['sent_date', 'internal_date'],
  SIZE: ['size'],
  CC: [STRING_COLUMNS.CC],
  FROM: [STRING_COLUMNS.FROM],
  SUBJECT: [STRING_COLUMNS.SUBJECT],
  TO: [STRING_COLUMNS.TO],
  DISPLAYFROM: [STRING_COLUMNS.DISPLAYFROM],
  DISPLAYTO: [STRING_COLUMNS.DISPLAYTO],
};

type Row = { uid: number } & Partial<Record<MessageColumn, unknown>>;

/** One sort value per criterion: numbers for dates and sizes, folded strings (in octet order, see octetOrderKey) for the rest. */
function sortValue(key: SortKey, row: Row | undefined): number | string {
  if (key === 'ARRIVAL') return Number(row?.internal_date ?? 0);
  // RFC 5256 §2.2: without a usable Date field, the internal date stands in.
  if (key === 'DATE') return Number(row?.sent_date ?? row?.internal_date ?? 0);
  if (key === 'SIZE') return Number(row?.size ?? 0);
  return octetOrderKey(String(row?.[STRING_COLUMNS[key]] ?? ''));
}

interface Sortable {
  match: SearchMatch;
  values: Array<number | string>;
}

/** RFC 5256 §3: criteria in order, REVERSE per criterion, then mailbox order (never reversed). */
function compareBy(criteria: readonly SortCriterion[]) {
  return (a: Sortable, b: Sortable): number => {
    for (let i = 0; i < criteria.length; i++) {
      const x = a.values[i] as number | string;
      const y = b.values[i] as number | string;
      // RFC 5051 via octetOrderKey: native comparison of the rewritten keys is the octet order of their UTF-8.
      const c = typeof x === 'number' ? x - (y as number) : x < y ? -1 : x > y ? 1 : 0;
      if (c !== 0) return (criteria[i] as SortCriterion).reverse ? -c : c;
    }
    return a.match.seq - b.match.seq;
  };
}

/** The stored rows of the matched messages (ascending UIDs), read in one range query. */
async function rowsOf(ctx: CommandContext, selected: SelectedMailbox, matched: readonly SearchMatch[], columns: MessageColumn[]): Promise<Map<number, Row>> {
  const rows = new Map<number, Row>();
  if (matched.length === 0 || columns.length === 0) return rows;
  const first = (matched[0] as SearchMatch).uid;
  const last = (matched.at(-1) as SearchMatch).uid;
  for (const row of await readMessageColumns(ctx.app.db, selected.id, first, last, columns)) rows.set(Number(row.uid), row as Row);
  return rows;
}

/** The matched messages of the session's view in the order `criteria` ask. */
export async function sortMatches(
  ctx: CommandContext,
  selected: SelectedMailbox,
  matched: SearchMatch[],
  criteria: readonly SortCriterion[],
): Promise<SearchMatch[]> {
  const columns = [...new Set(criteria.flatMap((c) => COLUMNS[c.key]))];
  const rows = await rowsOf(ctx, selected, matched, columns);
  const items: Sortable[] = matched.map((match) => {
    const row = rows.get(match.uid);
    return { match, values: criteria.map((c) => sortValue(c.key, row)) };
  });
  items.sort(compareBy(criteria));
  return items.map((item) => item.match);
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
