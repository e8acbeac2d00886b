/**
 * The protocol-neutral mail model: mailboxes, messages with IMAP semantics (UIDVALIDITY, UIDs, flags,
 * MODSEQ), quota use, the one write path and the change feed. Never imports a protocol.
 */

export { type BaseSubject, extractBaseSubject } from './base-subject.ts';
export { INLINE_BLOB_BYTES, persistContent, putContent, RESERVATION_MS, readContent, releaseContents, reserveContent } from './blobs.ts';
export { type ChangeListener, type MailChange, MailChanges } from './changes.ts';
export { compareFolded, foldCasemap, octetOrderKey } from './collation.ts';
export { GroupCommitter } from './committer.ts';
export {
  type Delivery,
  type DeliveryResult,
  deliverAllOrNone,
  deliverMessage,
  type Filed,
  fileMessageIn,
  type IncomingMessage,
  messageFiled,
  messageTooBig,
  type PlannedFiling,
  planFiling,
  type Refused,
  receiveMessage,
} from './deliver.ts';
export {
  checkMailboxName,
  claimRecent,
  createMailbox,
  deleteMailbox,
  findMailbox,
  HIERARCHY_DELIMITER,
  isInbox,
  listLostSubscriptions,
  MAX_MAILBOX_DEPTH,
  MAX_MAILBOX_NAME_CHARS,
  type MailboxStatus,
  mailboxStatus,
  normalizeMailboxName,
  renameMailbox,
  setSubscribed,
} from './folders.ts';
export { collectGarbage, type GcResult, ORPHAN_GRACE_MS } from './gc.ts';
export { headerBlockOf, MAX_HEADER_BLOCK_BYTES, readHeaderBlocks } from './headers.ts';
export { type Judgement, judgementOfFlags, judgementOfMove, recordJudgementsIn } from './judgements.ts';
export { DEFAULT_MAILBOXES, ensureDefaultMailboxes, listMailboxes, mailboxByRole, type SpecialUse } from './mailboxes.ts';
export { MAX_REFERENCES, ownMessageId, parseMessageIds, threadReferences } from './message-ids.ts';
export { type MessageKeys, messageKeysOf } from './message-keys.ts';
export {
  type CopyResult,
  changesSince,
  copyMessages,
  type ExpungeHistory,
  expungedSince,
  expungeMessages,
  type FlagUpdate,
  type FlagUpdateResult,
  hasFlagSql,
  type IndexEntry,
  loadMailboxColumns,
  loadMailboxIndex,
  type MailboxChanges,
  type MailboxColumns,
  type MessageColumn,
  type MessageColumnValues,
  parseFlags,
  quotaOf,
  readExpungeHistory,
  readMessageColumns,
  readMessageColumnsOf,
  readMessages,
  type StoredMessage,
  sameFlags,
  updateFlags,
} from './messages.ts';
export {
  dropUnusedTexts,
  indexMissingTexts,
  searchMessageText,
  searchTextOf,
  storeSearchText,
  type TextMatch,
  type TextSearchKey,
  type TextSearchScope,
} from './search-text.ts';
export { SPOOL_MEMORY_BYTES, Spool } from './spool.ts';
export { assignThread, ensureMessageKeys, fillMessageKeys } from './threads.ts';
