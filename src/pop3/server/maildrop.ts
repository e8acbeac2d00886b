/**
 * A POP3 maildrop: the account's INBOX as it was at login (RFC 1939 §5: message numbers and sizes are
 * fixed for the session), the deletion marks of DELE/RSET, and the UPDATE state that applies them.
 * Reads and writes go through the mailstore only; contents through `readContent`.
 */
import type { Readable } from 'node:stream';
import type { AppContext } from '../../context.ts';
import { ensureDefaultMailboxes, expungeMessages, loadMailboxIndex, mailboxByRole, readContent, readMessages, updateFlags } from '../../mailstore/index.ts';

export interface MaildropMessage {
  /** The message-number of RFC 1939: 1-based, stable for the session. */
  number: number;
  uid: number;
  /** Octets as sent: the stored message is CRLF already; byte-stuffing is not counted (RFC 1939 §11). */
  size: number;
  blobId: string;
  /** RFC 1939 §7 UIDL: `<UIDVALIDITY>.<UID>` never repeats for this INBOX and does not change. */
  uniqueId: string;
  deleted: boolean;
  /** Retrieved whole with RETR in this session: marked \Seen at QUIT. */
  retrieved: boolean;
}

export interface UpdateResult {
  removed: number;
  left: number;
}

/** UIDs per readMessages call while taking the snapshot: keeps each result set small. */
const SNAPSHOT_BATCH = 1000;

export class Maildrop {
  private constructor(
    private readonly ctx: AppContext,
    readonly accountId: string,
    readonly mailboxId: string,
    readonly messages: MaildropMessage[],
  ) {}

  /** Opens the account's INBOX (creating the default folders of a new account). */
  static async open(ctx: AppContext, account: { id: string; customer_id: string }): Promise<Maildrop> {
    let inbox = await mailboxByRole(ctx.db, account.id, 'inbox');
    if (!inbox) {
      await ensureDefaultMailboxes(ctx.db, account, ctx.clock.now());
      inbox = await mailboxByRole(ctx.db, account.id, 'inbox');
    }
    if (!inbox) throw new Error(`account ${account.id} has no INBOX`);
    const uids = (await loadMailboxIndex(ctx.db, inbox.id)).map((entry) => entry.uid);
    const messages: MaildropMessage[] = [];
    for (let i = 0; i < uids.length; i += SNAPSHOT_BATCH) {
      for (const row of await readMessages(ctx.db, inbox.id, uids.slice(i, i + SNAPSHOT_BATCH), { metadata: false })) {
        const uid = Number(row.uid);
        messages.push({
          number: messages.length + 1,
          uid,
          size: Number(row.size),
          blobId: row.blob_id,
          uniqueId: `${inbox.uid_validity}.${uid}`,
          deleted: false,
          retrieved: false,
        });
      }
    }
    return new Maildrop(ctx, account.id, inbox.id, messages);
  }

  /** The message with this number, unless it does not exist or is marked deleted. */
  get(number: number): MaildropMessage | undefined {
    const message = this.messages[number - 1];
    return message && !message.deleted ? message : undefined;
  }

  /** STAT and the greeting after login: messages not marked deleted and their octets (RFC 1939 §5). */
  stat(): { count: number; octets: number } {
    let count = 0;
    let octets = 0;
    for (const message of this.messages) {
      if (message.deleted) continue;
      count++;
      octets += message.size;
    }
    return { count, octets };
  }

  /** RFC 1939 §5 RSET: unmarks every message. */
  reset(): void {
    for (const message of this.messages) message.deleted = false;
  }

  /** Whether the message is still stored (another session, e.g. IMAP, may have expunged it since login). */
  async stillStored(message: MaildropMessage): Promise<boolean> {
    return (await readMessages(this.ctx.db, this.mailboxId, [message.uid], { metadata: false })).length === 1;
  }

  content(message: MaildropMessage): Readable {
    return readContent(this.ctx, message.blobId);
  }

  /**
   * RFC 1939 §6 UPDATE: messages retrieved and kept get \Seen (so IMAP shows them read), then the marked
   * ones are removed, durably (the group committer acknowledges only once committed), before +OK.
   */
  async update(): Promise<UpdateResult> {
    const scope = { accountId: this.accountId, mailboxId: this.mailboxId };
    const seen = this.messages.filter((m) => m.retrieved && !m.deleted).map((m) => m.uid);
    if (seen.length > 0) await updateFlags(this.ctx, scope, seen, { mode: 'add', flags: ['\\Seen'] });
    const marked = this.messages.filter((m) => m.deleted).map((m) => m.uid);
    if (marked.length > 0) await expungeMessages(this.ctx, scope, marked, { flagged: false });
    return { removed: marked.length, left: this.messages.length - marked.length };
  }
}
