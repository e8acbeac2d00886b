/**
 * Streaming MIME parse for the mailstore: envelope, body structure with byte offsets of every part, header
 * fields for search and a decoded summary, extracted once when a message is written (issue 3) and served
 * by IMAP FETCH without reading the message again (issue 4).
 */

export { formatAddresses, MISSING_DOMAIN, MISSING_MAILBOX, parseAddressList } from './addresses.ts';
export { extractMetadata, MetadataParser } from './extract.ts';
export { decodeHeaderBytes, type HeaderField, parseHeaderBlock } from './header-block.ts';
export { loadMailparser } from './mailparser.ts';
export { decodeEncodedWords, paramValue } from './params.ts';
export { listParts, parsePartNumber, partByNumber } from './parts.ts';
export { extractSearchText, foldForSearch, MAX_SEARCH_BODY_CHARS, MAX_SEARCH_HEADER_CHARS, type ReadRange, type SearchText } from './search-text.ts';
export { parseDateField, writtenDateOf } from './summary.ts';
export { Base64Decoder, QuotedPrintableDecoder, type TransferDecoder, transferDecoder } from './transfer-decoding.ts';
export type {
  Address,
  BasicStructure,
  BodyStructure,
  Disposition,
  Envelope,
  MessageMetadata,
  MessageStructure,
  MessageSummary,
  MultipartStructure,
  Param,
  PartBase,
  PartOffsets,
  SinglePartFields,
  TextStructure,
} from './types.ts';
