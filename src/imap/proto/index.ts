/**
 * The syntax layer of Facteur's IMAP server: pure, no I/O (STYLE.md: three layers per protocol).
 *
 * Input: `ImapReceiver` frames bytes into commands (`Command` of `Value`s), resumable on any byte
 * boundary; push socket data, pull events with `next()` until null. The argument parsers turn a
 * command's `args` into typed values and throw `ProtocolSyntaxError` (reply `BAD`, or `NO` with its
 * `code`, e.g. BADCHARSET) on bad input.
 *
 * Output: build responses from `Item`s and encode them to chunks (`Buffer`s and the caller's own
 * streamed-literal objects), or to whole status lines.
 */

export {
  type AppendArgs,
  type AppendMessage,
  type AppendPart,
  type ListArgs,
  type ParseOptions,
  parseAppendArgs,
  parseFlag,
  parseFlagList,
  parseListArgs,
  parseMailboxArg,
  parseSelectArgs,
  parseStatusArgs,
  parseStatusItems,
  parseStoreArgs,
  type QresyncParams,
  type SelectArgs,
  STATUS_ITEMS,
  type StatusArgs,
  type StatusItem,
  type StoreArgs,
  SYSTEM_FLAGS,
} from './args.ts';
export { formatDateTime, parseDateTime, parseSearchDate } from './datetime.ts';
// Responses (RFC 3501 §7)
export {
  astr,
  type Chunk,
  type EncodeOptions,
  encodeContinuation,
  encodeItems,
  encodeTagged,
  encodeUntagged,
  encodeUntaggedStatus,
  type Item,
  type JoinedItem,
  joined,
  type LiteralItem,
  literal,
  MAX_QUOTED_BYTES,
  NUL_REPLACEMENT,
  type ResponseCode,
  replaceNul,
  type SizedSource,
  type Status,
  type StreamItem,
  type StringItem,
  str,
  streamed,
} from './encode.ts';

// Errors
export { BadCharsetError, isProtocolSyntaxError, ProtocolSyntaxError, SEARCH_CHARSETS } from './errors.ts';
export {
  type FetchArgs,
  type FetchItem,
  formatSection,
  parseFetchArgs,
  parseFetchAttribute,
  type Section,
  type SectionText,
  SIMPLE_FETCH_ATTRIBUTES,
  type SimpleFetchAttribute,
} from './fetch.ts';
export {
  decodeMailboxName,
  decodeModifiedUtf7,
  encodeMailboxName,
  encodeModifiedUtf7,
  InvalidMailboxNameError,
  isInbox,
  MAILBOX_DELIMITER,
  MAX_MAILBOX_NAME_BYTES,
  matchesPattern,
  normalizeInbox,
} from './mailbox.ts';
// Argument parsing
export { ArgReader, MAX_MODSEQ, parseModseq, parseNumber, valueToAstring } from './reader.ts';
// Receiver (RFC 3501 §2.2, §4.3; RFC 7888 LITERAL+/LITERAL-; RFC 3516 literal8)
export {
  DEFAULT_MAX_COMMAND_BYTES,
  DEFAULT_MAX_LITERAL_BYTES,
  ImapReceiver,
  LITERAL_CONTINUATION_TEXT,
  LITERAL_MINUS_MAX_BYTES,
  type LiteralAnnouncement,
  type LiteralMode,
  MAX_COMMAND_TEXT_BYTES,
  MAX_LINE_BYTES,
  type ReceiverError,
  type ReceiverErrorKind,
  type ReceiverEvent,
  type ReceiverOptions,
} from './receiver.ts';
export { MAX_SEARCH_DEPTH, parsePartialRange, parseSearchArgs, type SearchArgs, type SearchKey, type SearchReturnOption } from './search.ts';
export {
  contains,
  expandSequenceSet,
  formatSequenceSet,
  isWithin,
  MAX_SEQUENCE_NUMBER,
  parseSequenceSet,
  type SequenceBound,
  type SequenceRange,
  type SequenceSet,
} from './sequence.ts';
export {
  parseSortArgs,
  parseSortReturn,
  parseThreadArgs,
  SORT_KEYS,
  type SortArgs,
  type SortCriterion,
  type SortKey,
  type SortReturn,
  THREAD_ALGORITHMS,
  type ThreadAlgorithm,
  type ThreadArgs,
} from './sort.ts';
export { MAX_LIST_DEPTH, MAX_NUMBER } from './tokenizer.ts';
export { type MessagePartUrl, parseImapUrl } from './url.ts';
export {
  type AtomValue,
  type Command,
  describeValue,
  type ListValue,
  type NilValue,
  type Partial,
  type StreamedValue,
  type StringValue,
  type Value,
} from './values.ts';
