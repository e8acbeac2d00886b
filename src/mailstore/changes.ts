/**
 * The change feed: the mailstore announces new messages, flag changes and expunges; IMAP IDLE, POP3
 * and the webmail listen. In-process on one node; a Redis or LISTEN/NOTIFY transport will carry the
 * same events between nodes.
 */
import { EventEmitter } from 'node:events';

export interface MailChange {
  type: 'new' | 'flags' | 'expunge' | 'mailboxes';
  accountId: string;
  mailboxId: string;
  uid?: number;
  modseq?: number;
}

export class MailChanges {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  publish(change: MailChange): void {
    this.emitter.emit(change.accountId, change);
  }

  /** Listens to one account's changes; returns the function that stops listening. */
  subscribe(accountId: string, listener: (change: MailChange) => void): () => void {
    this.emitter.on(accountId, listener);
    return () => this.emitter.off(accountId, listener);
  }
}
