/**
 * IMAP URLs of a message or a part of it (RFC 5092), as APPEND's CATENATE takes them (RFC 4469 §3):
 * relative to the session, so on this server and in the user's own mailboxes, e.g.
 * `/Drafts;UIDVALIDITY=385759045/;UID=20/;SECTION=1.MIME`, or `;UID=20/;SECTION=1` in the selected
 * mailbox. Absolute URLs (`imap://...`), URLAUTH and message lists are outside CATENATE (BADURL).
 */
import { Buffer } from 'node:buffer';
import { ProtocolSyntaxError } from './errors.ts';
import { parseFetchAttribute, type Section } from './fetch.ts';
import { CommandTokenizer, MAX_NUMBER } from './tokenizer.ts';
import type { Partial } from './values.ts';

export interface MessagePartUrl {
  /** The mailbox name (percent-decoded UTF-8); null: the selected mailbox. */
  mailbox: string | null;
  uidValidity?: number;
  uid: number;
  /** As in FETCH BODY[section]; absent: the whole message. */
  section?: Section;
  /** `;PARTIAL=start[.length]` (RFC 5092 §3.3). */
  partial?: Partial;
}

/** RFC 5092 §11 `imessagepart` after the leading "/", or `imsg-or-part` starting with `;UID=`. */
const MESSAGE_PART =
  /^(?:\/(?<mailbox>[^;?#]+?)(?:;UIDVALIDITY=(?<validity>[1-9]\d{0,9}))?\/)?;UID=(?<uid>[1-9]\d{0,9})(?:\/;SECTION=(?<section>[^/;?#]+))?(?:\/;PARTIAL=(?<start>\d{1,10})(?:\.(?<length>[1-9]\d{0,9}))?)?$/i;

export function parseImapUrl(url: string): MessagePartUrl {
  if (/^[a-z][a-z0-9+.-]*:|^\/\//i.test(url)) throw new ProtocolSyntaxError('only URLs relative to this session are accepted (RFC 4469 §3)');
  const match = MESSAGE_PART.exec(url);
  if (!match?.groups) throw new ProtocolSyntaxError('not the IMAP URL of a message or a part of it');
  const { mailbox, validity, uid, section, start, length } = match.groups;
  const parsed: MessagePartUrl = { mailbox: mailbox === undefined ? null : percentDecode(mailbox), uid: bounded(uid!) };
  if (validity !== undefined) parsed.uidValidity = bounded(validity);
  if (section !== undefined) parsed.section = parseSection(percentDecode(section));
  if (start !== undefined) {
    parsed.partial = { start: bounded(start) };
    if (length !== undefined) parsed.partial.length = bounded(length);
  }
  return parsed;
}

function bounded(digits: string): number {
  const value = Number(digits);
  if (value > MAX_NUMBER) throw new ProtocolSyntaxError('number over 4294967295 in URL');
  return value;
}

function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new ProtocolSyntaxError('bad percent-encoding in URL');
  }
}

/** RFC 5092 `enc-section` is FETCH's section-spec: parsed by the same code, as `BODY[<section>]`. */
function parseSection(text: string): Section {
  const result = new CommandTokenizer().feedLine(Buffer.from(`u FETCH BODY[${text}]`, 'utf8'));
  if (result.kind !== 'done' || result.command.args.length !== 1) throw new ProtocolSyntaxError('bad section in URL');
  const item = parseFetchAttribute(result.command.args[0]!);
  if (item.kind !== 'section') throw new ProtocolSyntaxError('bad section in URL');
  return item.section;
}
