/**
 * The change feed: the mailstore announces new messages, flag changes and expunges; IMAP IDLE, POP3
 * and the webmail listen. In-process on one node; a Redis or LISTEN/NOTIFY transport will carry the
 * same events between nodes.
 */

export interface MailChange {
  type: 'new' | 'flags' | 'expunge' | 'mailboxes';
  accountId: string;
  mailboxId: string;
  uid?: number;
  modseq?: number;
}

/**
 * Who listens: an object with a method rather than a closure, so that a listener held for hours (a
 * selected folder of each of 10,000 IDLE sessions) costs no function and no context of its own.
 */
export interface ChangeListener {
  mailChanged(change: MailChange): void;
}

export class MailChanges {
  private readonly listeners = new Map<string, Set<ChangeListener>>();

  publish(change: MailChange): void {
    const listeners = this.listeners.get(change.accountId);
    if (!listeners) return;
    // A copy: a listener may stop listening (or another start) while it is told.
    for (const listener of [...listeners]) listener.mailChanged(change);
  }

  /** Listens to one account's changes until `unlisten`; listening twice is listening once. */
  listen(accountId: string, listener: ChangeListener): void {
    let set = this.listeners.get(accountId);
    if (!set) {
      set = new Set();
      this.listeners.set(accountId, set);
    }
    set.add(listener);
  }

  unlisten(accountId: string, listener: ChangeListener): void {
    const set = this.listeners.get(accountId);
    if (!set?.delete(listener)) return;
    if (set.size === 0) this.listeners.delete(accountId);
  }
}
