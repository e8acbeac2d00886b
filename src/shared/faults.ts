/**
 * Fault injection for tests: named points on the write paths where a test makes the work fail, to
 * prove what a failure there leaves behind (nothing: the effects of one message commit together).
 * Production never sets `ctx.faults`: a point costs one property read.
 */
export type FaultPoint =
  /** A copy filed in a mailbox, inside the message's transaction. */
  | 'delivery.filed'
  /** Outbound queue rows written, inside the message's transaction. */
  | 'outbound.queued'
  /** A copy held in quarantine, inside the message's transaction. */
  | 'quarantine.held';

export interface FaultInjector {
  /** Called when the work reaches `point`; throwing fails the work there. */
  reached(point: FaultPoint): void;
}
