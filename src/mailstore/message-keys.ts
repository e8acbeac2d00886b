/**
 * What SORT, THREAD and the account's conversations need of a message, computed once when it is stored
 * (from the metadata extracted on the write path) and kept as columns of `messages` (migration 011):
 * a SORT of 100,000 messages then reads a few short columns instead of parsing any message.
 */
import { type Address, decodeEncodedWords, type MessageMetadata } from '../mime/index.ts';
import { extractBaseSubject } from './base-subject.ts';
import { foldCasemap } from './collation.ts';
import { ownMessageId, threadReferences } from './message-ids.ts';

/** Characters kept of a folded sort key: enough to order any real subject or name. */
const MAX_KEY_CHARS = 500;

export interface MessageKeys {
  /** RFC 5256 §2.1 base subject, folded with i;unicode-casemap (SORT SUBJECT, THREAD). */
  sort_subject: string;
  /** 1 when the extraction removed a reply or forward marker (RFC 5256 §3 REFERENCES step 5). */
  subject_is_reply: number;
  /** RFC 5256 §3: addr-mailbox of the first From / To / Cc address, folded; '' when absent. */
  sort_from: string;
  sort_to: string;
  sort_cc: string;
  /** RFC 5957 §3: the display name of the first From / To address, else mailbox@host, folded. */
  sort_display_from: string;
  sort_display_to: string;
  /** The message's own normalized Message-ID (RFC 5256 §3), null without a valid one. */
  thread_message_id: string | null;
  /** JSON array of the normalized ids it refers to (References, else In-Reply-To), oldest first. */
  thread_references: string;
}

function firstAddress(list: Address[] | null): Address | undefined {
  // Group markers (RFC 3501 §7.4.2) have no host; the first real address is the first with one.
  return list?.find((address) => address.host !== null);
}

/** RFC 5957 §3: the sort value of an address. */
function displayValue(address: Address | undefined): string {
  if (!address) return '';
  const name = address.name === null ? '' : decodeEncodedWords(address.name).trim();
  if (name !== '') return name;
  if (address.mailbox !== null && address.host !== null) return `${address.mailbox}@${address.host}`;
  return address.mailbox ?? '';
}

function key(text: string): string {
  return foldCasemap(text).slice(0, MAX_KEY_CHARS);
}

function firstField(metadata: MessageMetadata, name: string): string | undefined {
  return metadata.headerFields[name]?.[0];
}

export function messageKeysOf(metadata: MessageMetadata): MessageKeys {
  const { envelope, summary } = metadata;
  const subject = extractBaseSubject(summary.subject);
  const from = firstAddress(envelope.from);
  const to = firstAddress(envelope.to);
  return {
    sort_subject: key(subject.base),
    subject_is_reply: subject.replyOrForward ? 1 : 0,
    sort_from: key(from?.mailbox ?? ''),
    sort_to: key(to?.mailbox ?? ''),
    sort_cc: key(firstAddress(envelope.cc)?.mailbox ?? ''),
    sort_display_from: key(displayValue(from)),
    sort_display_to: key(displayValue(to)),
    thread_message_id: ownMessageId(firstField(metadata, 'message-id') ?? envelope.messageId),
    thread_references: JSON.stringify(threadReferences(firstField(metadata, 'references'), firstField(metadata, 'in-reply-to') ?? envelope.inReplyTo)),
  };
}
