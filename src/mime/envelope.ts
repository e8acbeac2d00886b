/** RFC 3501 §7.4.2 ENVELOPE from a message's header fields: values as written, the first field of each name. */
import { parseAddressList } from './addresses.ts';
import { firstField, type HeaderField } from './header-block.ts';
import type { CharBudget } from './limits.ts';
import type { Address, Envelope } from './types.ts';

function clipAddresses(addresses: Address[], budget: CharBudget): Address[] {
  const clip = (value: string | null) => (value === null ? null : budget.clip(value, 1024));
  return addresses.map((address) => {
    const clipped: Address = { name: clip(address.name), mailbox: clip(address.mailbox), host: clip(address.host) };
    if (address.route !== undefined) clipped.route = clip(address.route) ?? '';
    return clipped;
  });
}

/** An address field: null (NIL) when absent or when it holds no address. */
function readAddresses(fields: readonly HeaderField[], name: string, budget: CharBudget): Address[] | null {
  const value = firstField(fields, name);
  if (value === undefined) return null;
  const addresses = parseAddressList(value);
  return addresses.length > 0 ? clipAddresses(addresses, budget) : null;
}

function readString(fields: readonly HeaderField[], name: string, budget: CharBudget): string | null {
  const value = firstField(fields, name);
  return value === undefined ? null : budget.clip(value);
}

export function buildEnvelope(fields: readonly HeaderField[], budget: CharBudget): Envelope {
  const from = readAddresses(fields, 'from', budget);
  return {
    date: readString(fields, 'date', budget),
    subject: readString(fields, 'subject', budget),
    from,
    // RFC 3501 §7.4.2: "If the Sender or Reply-To lines are absent in the [RFC-2822] header, or are present
    // but empty, the server sets the corresponding member of the envelope to be the same value as the from member".
    sender: readAddresses(fields, 'sender', budget) ?? from,
    replyTo: readAddresses(fields, 'reply-to', budget) ?? from,
    to: readAddresses(fields, 'to', budget),
    cc: readAddresses(fields, 'cc', budget),
    bcc: readAddresses(fields, 'bcc', budget),
    inReplyTo: readString(fields, 'in-reply-to', budget),
    messageId: readString(fields, 'message-id', budget),
  };
}

/** An envelope of NILs, for an encapsulated message that has no header at all. */
export function emptyEnvelope(): Envelope {
  return { date: null, subject: null, from: null, sender: null, replyTo: null, to: null, cc: null, bcc: null, inReplyTo: null, messageId: null };
}
