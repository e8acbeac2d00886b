/**
 * The change feed: the mailstore announces new messages, flag changes and expunges; IMAP IDLE, POP3
 * and the webmail listen. Listeners are told in-process at once; through the shared state (the other
 * workers of this machine, or every node over Redis) the same change reaches the other processes, whose
 * listeners are told as if it were theirs. A change says only "look again": the store is what listeners read.
 */
import type { SharedState } from '../coordination/index.ts';

export interface MailChange {
  /** `resync`: changes of any folder may have been missed (the feed between nodes was down): look again. */
  type: 'new' | 'flags' | 'expunge' | 'mailboxes' | 'resync';
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

/** The channel of the shared state the changes travel on. */
const CHANNEL = 'mail-changes';

export class MailChanges {
  private readonly listeners = new Map<string, Set<ChangeListener>>();
  private shared: SharedState | undefined;

  /** From now on, changes also go to the other processes sharing `shared` (and theirs come here). */
  async shareThrough(shared: SharedState): Promise<void> {
    await shared.subscribe(CHANNEL, {
      message: (text) => {
        const change = parseChange(text);
        if (change) this.receive(change);
      },
      lost: () => this.resyncAll(),
    });
    this.shared = shared;
  }

  close(): void {
    this.shared = undefined;
  }

  /** A change made in this process: told here, and sent to the other processes. */
  publish(change: MailChange): void {
    this.receive(change);
    this.shared?.publish(CHANNEL, JSON.stringify(change));
  }

  /** Tells every listener to read the store again: the transport may have lost changes (it reconnected). */
  resyncAll(): void {
    for (const [accountId] of this.listeners) this.receive({ type: 'resync', accountId, mailboxId: '' });
  }

  /** A change to tell this node's listeners (made here, or on another node). */
  receive(change: MailChange): void {
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

const TYPES: ReadonlySet<string> = new Set(['new', 'flags', 'expunge', 'mailboxes', 'resync']);

function parseChange(text: string): MailChange | undefined {
  try {
    const value = JSON.parse(text) as MailChange;
    return TYPES.has(value?.type) && typeof value.accountId === 'string' && typeof value.mailboxId === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
