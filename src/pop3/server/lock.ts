/**
 * The exclusive maildrop lock of RFC 1939 §8: while a session is in the TRANSACTION state, no other
 * session of the same account may open the maildrop (it gets `-ERR [IN-USE]`, RFC 2449 §8.1.2).
 * In-process for one node; this interface is the seam for a Redis lock (SET NX with a lease renewed by
 * the session) when POP3 runs on several nodes.
 */
export interface MaildropLocks {
  /** The release function, or undefined when another session holds the maildrop. */
  acquire(accountId: string, sessionId: string): (() => void) | undefined;
}

export class MemoryMaildropLocks implements MaildropLocks {
  private readonly holders = new Map<string, string>();

  acquire(accountId: string, sessionId: string): (() => void) | undefined {
    if (this.holders.has(accountId)) return undefined;
    this.holders.set(accountId, sessionId);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (this.holders.get(accountId) === sessionId) this.holders.delete(accountId);
    };
  }
}
