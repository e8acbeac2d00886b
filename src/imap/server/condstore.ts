/**
 * RFC 7162 §3.1: the first CONDSTORE enabling command of a session (ENABLE CONDSTORE or QRESYNC, FETCH
 * with CHANGEDSINCE or MODSEQ, SEARCH MODSEQ, STORE UNCHANGEDSINCE, STATUS HIGHESTMODSEQ) turns MODSEQ on
 * in FETCH responses; run with a folder selected, it "MUST cause the server to return HIGHESTMODSEQ" for
 * it, which a client that selected before CONDSTORE has not seen yet. Sent first, as in §3.1.3's example 4.
 */
import type { CommandContext } from './command.ts';

export async function enableCondstore(ctx: CommandContext): Promise<void> {
  if (ctx.session.condstore) return;
  ctx.session.condstore = true;
  const selected = ctx.session.selected;
  if (selected) await ctx.untagged(`OK [HIGHESTMODSEQ ${selected.highestModseq}] Highest`);
}
