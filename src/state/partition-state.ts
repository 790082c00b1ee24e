import type { LinkState } from '../transition/transition.js';
import type { StreamPosition } from './stream-position.js';

/** The state an instance keeps for one input partition. */
export interface PartitionState {
  /** Link state per row key, for rows that link to a zaak. */
  rows: Map<string, LinkState>;
  /** Stream position of the last change processed, which marks later copies as re-sent. */
  position: StreamPosition | null;
}

export function emptyPartitionState(): PartitionState {
  return { rows: new Map(), position: null };
}
