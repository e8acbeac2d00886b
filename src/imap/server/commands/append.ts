/**
 * APPEND (RFC 3501 §6.3.11) with MULTIAPPEND (RFC 3502: several messages, all or none), CATENATE
 * (RFC 4469: a message made of TEXT literals and URLs of messages or parts already stored) and
 * UIDPLUS's APPENDUID with a UID set (RFC 4315 §3).
 *
 * Each literal is decided on as it is announced, before it is read (`decideAppendLiteral`): a missing
 * folder gets NO [TRYCREATE], a message over 50 MB NO [TOOBIG] and one over the quota NO [OVERQUOTA]
 * instead of the continuation. Accepted messages are streamed to spools on disk, never held whole;
 * once the command is complete each goes through the mailstore's one write path, and all are filed
 * in one commit before the tagged OK.
 */
import type { Readable } from 'node:stream';
import { deliverAllOrNone, findMailbox, type IncomingMessage, quotaOf, readContent, readMessages, receiveMessage } from '../../../mailstore/index.ts';
import type { MessageMetadata } from '../../../mime/index.ts';
import { text } from '../../../shared/errors.ts';
import {
  type AppendMessage,
  formatSequenceSet,
  type LiteralAnnouncement,
  type MessagePartUrl,
  ProtocolSyntaxError,
  parseAppendArgs,
  parseImapUrl,
  parseMailboxArg,
  type Value,
} from '../../proto/index.ts';
import { AUTHENTICATED, bad, type CommandContext, type CommandResult, defineCommand, type LiteralContext, type LiteralDecision, no, ok } from '../command.ts';
import { MAX_APPEND_BYTES, MAX_OTHER_LITERAL_BYTES } from '../limits.ts';
import { filterHeader, sectionRange } from '../sections.ts';
import type { Session } from '../session.ts';
import { uidRanges } from '../updates.ts';

/** Opens the bytes of one part of a message to append, from the start. */
type PartSource = () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export const append = defineCommand({
  name: 'APPEND',
  states: AUTHENTICATED,
  literal: decideAppendLiteral,
  async run(ctx) {
    const args = parseAppendArgs(ctx.args, { utf8Accept: ctx.session.utf8 });
    const account = accountOf(ctx.session);
    const mailbox = await findMailbox(ctx.app.db, account.id, args.mailbox);
    if (!mailbox) return noSuchFolder(ctx.session);
    for (const message of args.messages) {
      const refusal = checkTextParts(ctx, message);
      if (refusal) return refusal;
    }
    // URLs are resolved before anything is stored: a bad one fails the command with BADURL (RFC 4469 §4.1).
    const sources: Array<PartSource[]> = [];
    for (const message of args.messages) {
      const parts: PartSource[] = [];
      for (const part of message.parts) {
        if (part.kind === 'url') {
          const content = await resolveUrl(ctx, part.url);
          if (!content)
            return no(
              ctx.session.say(text('The URL names no message or part of yours', 'L’URL ne désigne aucun message ni partie à vous')),
              `BADURL ${part.url}`,
            );
          parts.push(content);
        } else if (part.literal.type === 'string') {
          const bytes = part.literal.value;
          parts.push(() => [bytes]);
        } else {
          const spooled = ctx.spooled(part.literal.index);
          parts.push(() => spooled.read());
        }
      }
      sources.push(parts);
    }
    const received: IncomingMessage[] = [];
    for (const parts of sources) {
      const message = await receiveMessage(ctx.app, concatenate(parts), { maxBytes: MAX_APPEND_BYTES });
      // RFC 3502: a zero-length message cancels the APPEND (a CATENATE of empty parts too).
      if (message.blob.size === 0) return emptyMessage(ctx.session);
      received.push(message);
    }
    const outcome = await deliverAllOrNone(
      ctx.app,
      received.map((message, i) => {
        const { flags, internalDate } = args.messages[i] as AppendMessage;
        return { message, delivery: { accountId: account.id, mailbox: { id: mailbox.id }, flags, internalDate } };
      }),
    );
    if (!outcome.ok) {
      if (outcome.refusal.reason === 'over-quota') return overQuota(ctx.session);
      return noSuchFolder(ctx.session);
    }
    const uids = formatSequenceSet(uidRanges(outcome.results.map((result) => result.uid)));
    return ok('APPEND completed', `APPENDUID ${Number(mailbox.uid_validity)} ${uids}`);
  },
});

/**
 * RFC 3501 §7.5, RFC 3502, RFC 4469: what to do with a literal of APPEND, before it is read. The
 * mailbox name may be a literal (small, kept); a message or a CATENATE TEXT part is streamed when the
 * folder exists and the message fits the size limit and the quota; a CATENATE URL may be a small literal.
 */
async function decideAppendLiteral(ctx: LiteralContext, announcement: LiteralAnnouncement): Promise<LiteralDecision> {
  const { args, size } = announcement;
  const role = literalRole(announcement);
  if (role === 'mailbox' || role === 'url') {
    if (size > MAX_OTHER_LITERAL_BYTES) return no(`Literal over ${MAX_OTHER_LITERAL_BYTES} bytes`, 'TOOBIG');
    return 'keep';
  }
  if (role === 'unexpected') return bad('Unexpected literal in APPEND');
  if (role === 'message' && size === 0) return emptyMessage(ctx.session);
  const account = accountOf(ctx.session);
  const mailbox = await findMailbox(ctx.app.db, account.id, parseMailboxArg(args[0] as Value, { utf8Accept: ctx.session.utf8 }));
  if (!mailbox) return noSuchFolder(ctx.session);
  const messageBytes = role === 'text' ? streamedBytes(announcement.openList ?? []) + size : size;
  if (messageBytes > MAX_APPEND_BYTES) {
    return no(ctx.session.say(text(`The message exceeds ${MAX_APPEND_BYTES} bytes`, `Le message dépasse ${MAX_APPEND_BYTES} octets`)), 'TOOBIG');
  }
  const quota = await quotaOf(ctx.app.db, account.id);
  const pending = streamedBytes(args) + streamedBytes(announcement.openList ?? []) + size;
  if (quota && quota.usedBytes + pending > quota.limitBytes) return overQuota(ctx.session);
  return 'stream';
}

type LiteralRole = 'mailbox' | 'message' | 'text' | 'url' | 'unexpected';

/** Where a literal stands in `APPEND mailbox 1*([flags] [date] (literal / CATENATE (TEXT literal / URL astring ...)))`. */
function literalRole(announcement: LiteralAnnouncement): LiteralRole {
  const { args, openList, depth } = announcement;
  if (depth === 0) return args.length === 0 ? 'mailbox' : 'message';
  const opener = args.at(-1);
  const keyword = openList?.at(-1);
  if (depth !== 1 || opener?.type !== 'atom' || opener.value.toUpperCase() !== 'CATENATE' || keyword?.type !== 'atom') return 'unexpected';
  const name = keyword.value.toUpperCase();
  if (name === 'TEXT') return 'text';
  if (name === 'URL') return 'url';
  return 'unexpected';
}

/** Bytes of the literals already streamed among `values` (and their lists). */
function streamedBytes(values: readonly Value[]): number {
  let total = 0;
  for (const value of values) {
    if (value.type === 'streamed') total += value.size;
    else if (value.type === 'list') total += streamedBytes(value.items);
  }
  return total;
}

/** RFC 3516 §4.4: NUL only in a literal8; RFC 3502: an empty plain message cancels the APPEND. */
function checkTextParts(ctx: CommandContext, message: AppendMessage): CommandResult | undefined {
  for (const part of message.parts) {
    if (part.kind !== 'text') continue;
    if (!message.catenate && (part.literal.type === 'string' ? part.literal.value.length : part.literal.size) === 0) return emptyMessage(ctx.session);
    if (part.literal.type === 'streamed' && !part.literal.binary && ctx.spooled(part.literal.index).hasNul) {
      throw new ProtocolSyntaxError('NUL in a message sent as a plain literal (use ~{n})');
    }
  }
  return undefined;
}

async function* concatenate(parts: PartSource[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield* part();
}

/**
 * RFC 4469 §3: the bytes a URL names, as FETCH BODY[section]<partial> would give them, from a message
 * of the user's own mailboxes; undefined when it names nothing (BADURL). Relative to the selected
 * mailbox when it has none.
 */
async function resolveUrl(ctx: CommandContext, url: string): Promise<PartSource | undefined> {
  let parsed: MessagePartUrl;
  try {
    parsed = parseImapUrl(url);
  } catch {
    return undefined;
  }
  const account = accountOf(ctx.session);
  let mailbox: { id: string; uidValidity: number } | undefined;
  if (parsed.mailbox === null) {
    const selected = ctx.session.selected;
    mailbox = selected && { id: selected.id, uidValidity: selected.uidValidity };
  } else {
    const row = await findMailbox(ctx.app.db, account.id, parsed.mailbox);
    mailbox = row && { id: row.id, uidValidity: Number(row.uid_validity) };
  }
  if (!mailbox || (parsed.uidValidity !== undefined && parsed.uidValidity !== mailbox.uidValidity)) return undefined;
  const [row] = await readMessages(ctx.app.db, mailbox.id, [parsed.uid], { metadata: parsed.section !== undefined });
  if (!row) return undefined;
  const range = parsed.section ? sectionRange(JSON.parse(row.metadata ?? 'null') as MessageMetadata, parsed.section) : { start: 0, end: Number(row.size) };
  if (!range) return undefined;
  if (range.filter) {
    const { names, not } = range.filter;
    const header = filterHeader(await readAll(readContent(ctx.app, row.blob_id, range)), names, not);
    const cut = applyPartial({ start: 0, end: header.length }, parsed.partial);
    const bytes = header.subarray(cut.start, cut.end);
    return () => [bytes];
  }
  const cut = applyPartial(range, parsed.partial);
  return () => readContent(ctx.app, row.blob_id, cut) as AsyncIterable<Uint8Array>;
}

/** RFC 5092 §3.3 `;PARTIAL=start.length`, as FETCH's `<start.length>`. */
function applyPartial(range: { start: number; end: number }, partial: MessagePartUrl['partial']): { start: number; end: number } {
  if (!partial) return range;
  const start = Math.min(range.end, range.start + partial.start);
  const end = partial.length === undefined ? range.end : Math.min(range.end, start + partial.length);
  return { start, end };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts);
}

function accountOf(session: Session): NonNullable<Session['account']> {
  if (!session.account) throw new Error('authenticated command without an account');
  return session.account;
}

function noSuchFolder(session: Session): CommandResult {
  return no(session.say(text('No such folder', 'Ce dossier n’existe pas')), 'TRYCREATE');
}

function overQuota(session: Session): CommandResult {
  return no(session.say(text('The mailbox is full', 'La boîte aux lettres est pleine')), 'OVERQUOTA');
}

function emptyMessage(session: Session): CommandResult {
  return no(session.say(text('The message is empty: APPEND cancelled', 'Le message est vide : APPEND annulé')), 'CANNOT');
}
