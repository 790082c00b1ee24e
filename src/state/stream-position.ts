import type { SourcePosition } from '../decode/change.js';

/**
 * A change's place in the order in which Debezium's PostgreSQL connector streams changes, from
 * `source.sequence`: the LSN of the last transaction committed before the change's own
 * transaction, then the change's LSN. Debezium streams whole transactions in commit order, so the
 * pair grows with every change, while a change's LSN alone does not: transactions that run at the
 * same time interleave their LSNs.
 */
export interface StreamPosition {
  /** Null for the first transaction the connector streams after it started without offsets. */
  lastCommitLsn: string | null;
  changeLsn: string;
}

/** Returns the stream position of a streamed change, or null for a snapshot read or no sequence. */
export function streamPositionOf(position: SourcePosition): StreamPosition | null {
  if (position.snapshot || position.sequence === null) {
    return null;
  }
  const [lastCommitLsn, changeLsn] = position.sequence;
  if (changeLsn === null) {
    return null;
  }
  return { lastCommitLsn, changeLsn };
}

/**
 * Tells whether a change was processed before: its stream position is at or before the last
 * position processed. A change without a last commit LSN is never taken for a re-send, because
 * its place among earlier transactions is unknown; processing it twice is safer than dropping it.
 */
export function isResent(change: StreamPosition | null, processed: StreamPosition | null): boolean {
  if (change === null || processed === null || change.lastCommitLsn === null) {
    return false;
  }
  return compareStreamPositions(change, processed) <= 0;
}

/** Orders two stream positions: negative when `a` comes first, 0 when equal. */
export function compareStreamPositions(a: StreamPosition, b: StreamPosition): number {
  const commit = BigInt(a.lastCommitLsn ?? '0') - BigInt(b.lastCommitLsn ?? '0');
  if (commit !== 0n) {
    return commit < 0n ? -1 : 1;
  }
  const change = BigInt(a.changeLsn) - BigInt(b.changeLsn);
  if (change === 0n) {
    return 0;
  }
  return change < 0n ? -1 : 1;
}
