/**
 * SEARCH and UID SEARCH (RFC 3501 §6.4.4) with every key, CHARSET UTF-8, CONDSTORE's MODSEQ key and
 * response (RFC 7162 §3.1.5), ESEARCH's RETURN options (RFC 4731) and CONTEXT=SEARCH's (RFC 5267 §4:
 * CONTEXT, a hint, ignored; PARTIAL; UPDATE, which keeps the search as a context of the session that
 * reports the changes of its results, search-contexts.ts). The evaluation is searching.ts's.
 */
import { formatSequenceSet, parseSearchArgs, type SearchKey } from '../../proto/index.ts';
import { bad, type CommandContext, defineCommand, ok, SELECTED } from '../command.ts';
import { enableCondstore } from '../condstore.ts';
import { MAX_SEARCH_CONTEXTS, SearchContexts } from '../search-contexts.ts';
import { findTextHits, matchAll, type SearchMatch, type SearchScope, usesModseq, withSequenceNumbersAsUids } from '../searching.ts';
import { quoted } from '../text.ts';
import { uidRanges } from '../updates.ts';
import { selectedOf } from './selected-folder.ts';

export const search = defineCommand({
  name: 'SEARCH',
  states: SELECTED,
  holdsExpunges: true,
  async run(ctx) {
    const args = parseSearchArgs(ctx.args);
    const { selected, accountId } = selectedOf(ctx);
    const options = args.return;
    if (options?.includes('SAVE')) return bad('SEARCHRES (SAVE) is not supported');
    const update = options?.includes('UPDATE') === true;
    const tag = ctx.command.tag;
    // RFC 5267 §4.3: "An attempt to use UPDATE where a tag is already in use with a previous searching
    // command that itself used UPDATE SHALL result in the server rejecting the searching command with a BAD".
    if (update && ctx.session.searchContexts?.has(tag)) return bad(`Tag reuse: the search ${tag} with UPDATE is still in use`);
    const withModseq = usesModseq(args.key);
    if (withModseq) await enableCondstore(ctx);
    // RFC 5267 §4.3: sequence numbers are evaluated now, once; the context keeps the UIDs they name.
    const key: SearchKey = update ? withSequenceNumbersAsUids(args.key, selected) : args.key;
    const scope: SearchScope = { db: ctx.app.db, accountId, selected };
    const hits = await findTextHits(scope, key, new Map());
    const matched = await matchAll(scope, key, hits);
    const numbers = matched.map((m) => (ctx.command.uid ? m.uid : m.seq));
    if (options === null) {
      const modseq = withModseq && numbers.length > 0 ? ` (MODSEQ ${highestModseq(matched)})` : '';
      await ctx.untagged(`SEARCH${numbers.map((n) => ` ${n}`).join('')}${modseq}`);
      return ok('SEARCH completed');
    }
    await ctx.untagged(esearch(ctx, options, args.partial, numbers, withModseq ? esearchModseq(options, matched) : undefined));
    if (!update) return ok('SEARCH completed');
    ctx.session.searchContexts ??= new SearchContexts();
    const contexts = ctx.session.searchContexts;
    if (contexts.size >= MAX_SEARCH_CONTEXTS) {
      // RFC 5267 §4.3.1: an untagged NO [NOUPDATE "tag"]; the other return options were honoured.
      await ctx.untagged(`NO [NOUPDATE ${quoted(tag)}] Too many search contexts (at most ${MAX_SEARCH_CONTEXTS}); CANCELUPDATE one`);
      return ok('SEARCH completed, without updates');
    }
    contexts.add(
      tag,
      ctx.command.uid,
      key,
      matched.map((m) => m.uid),
      hits,
      selected,
    );
    return ok('SEARCH completed, updates will follow');
  },
});

function highestModseq(matched: readonly SearchMatch[]): number {
  let highest = 0;
  for (const m of matched) if (m.modseq > highest) highest = m.modseq;
  return highest;
}

/**
 * RFC 4731 §3.2 (with RFC 7162 §3.1.10): a single MIN or MAX gives the MODSEQ of that message, MIN and
 * MAX alone the higher of the two, anything else (ALL, COUNT, PARTIAL, `RETURN ()` which means ALL) the
 * highest.
 */
function esearchModseq(options: readonly string[], matched: readonly SearchMatch[]): number {
  const min = options.includes('MIN');
  const max = options.includes('MAX');
  const first = matched[0]?.modseq ?? 0;
  const last = matched.at(-1)?.modseq ?? 0;
  if (options.length === 0 || options.includes('ALL') || options.includes('COUNT') || options.includes('PARTIAL') || (!min && !max))
    return highestModseq(matched);
  if (min && max) return Math.max(first, last);
  return min ? first : last;
}

/**
 * RFC 4731 §3.1: `ESEARCH (TAG "a1") UID MIN 2 MAX 9 COUNT 3 ALL 2,5,9`, only what was asked; RFC 5267
 * §4.4 `PARTIAL (low:high set)`, the results at those positions in mailbox order, NIL when none.
 */
function esearch(
  ctx: CommandContext,
  options: readonly string[],
  partial: [number, number] | undefined,
  numbers: number[],
  modseq: number | undefined,
): string {
  const parts = [`ESEARCH (TAG ${quoted(ctx.command.tag)})`];
  if (ctx.command.uid) parts.push('UID');
  // Numbers come in sequence order, which is also UID order: the first is the smallest.
  if (numbers.length > 0) {
    if (options.includes('MIN')) parts.push(`MIN ${numbers[0]}`);
    if (options.includes('MAX')) parts.push(`MAX ${numbers.at(-1)}`);
    if (options.includes('ALL')) parts.push(`ALL ${formatSequenceSet(uidRanges(numbers))}`);
  }
  if (options.includes('COUNT')) parts.push(`COUNT ${numbers.length}`);
  if (partial) {
    const [low, high] = partial;
    const part = numbers.slice(low - 1, high);
    parts.push(`PARTIAL (${low}:${high} ${part.length > 0 ? formatSequenceSet(uidRanges(part)) : 'NIL'})`);
  }
  if (modseq !== undefined && numbers.length > 0) parts.push(`MODSEQ ${modseq}`);
  return parts.join(' ');
}
