import type { Logger } from '../logger.js';
import { emptyPartitionState, type PartitionState } from '../state/partition-state.js';

/**
 * The lifecycle of an input partition in this instance:
 *
 *   UNASSIGNED --assigned--> RESTORING --changelog read to its end--> ACTIVE
 *   RESTORING, ACTIVE --revoked--> UNASSIGNED (state dropped)
 *   ACTIVE --batch failed after its output was sent--> UNASSIGNED, restored again on next batch
 *
 * kafkajs has no revoke callback, so assignment changes come from comparing the assignment of
 * each group join with the previous one.
 */
export type RestoreFunction = (partitions: number[]) => Promise<Map<number, PartitionState>>;

interface Entry {
  ready: Promise<PartitionState>;
}

export class PartitionStates {
  private readonly entries = new Map<number, Entry>();

  constructor(
    private readonly restore: RestoreFunction,
    private readonly logger: Logger,
  ) {}

  /** Applies the assignment of a group join: drops revoked partitions, restores new ones. */
  assign(assigned: number[]): { added: number[]; revoked: number[] } {
    const revoked = [...this.entries.keys()].filter((p) => !assigned.includes(p));
    for (const partition of revoked) {
      this.entries.delete(partition);
    }
    const added = assigned.filter((p) => !this.entries.has(p));
    this.startRestore(added);
    return { added, revoked };
  }

  /** Returns the partition's state once restored, restoring it first when it has none. */
  async get(partition: number): Promise<PartitionState> {
    let entry = this.entries.get(partition);
    if (entry === undefined) {
      this.startRestore([partition]);
      entry = this.entries.get(partition)!;
    }
    return entry.ready;
  }

  /** Forgets a partition's state, so that it is restored from the changelog before its next use. */
  invalidate(partition: number): void {
    this.entries.delete(partition);
  }

  assigned(): number[] {
    return [...this.entries.keys()].sort((a, b) => a - b);
  }

  private startRestore(partitions: number[]): void {
    if (partitions.length === 0) {
      return;
    }
    const started = Date.now();
    const restored = this.restore(partitions);
    for (const partition of partitions) {
      const entry: Entry = {
        ready: restored.then((states) => states.get(partition) ?? emptyPartitionState()),
      };
      // A failed restore is retried on the partition's next batch.
      entry.ready.catch(() => {
        if (this.entries.get(partition) === entry) {
          this.entries.delete(partition);
        }
      });
      this.entries.set(partition, entry);
    }
    restored.then(
      (states) => {
        const keys = [...states.values()].reduce((sum, state) => sum + state.rows.size, 0);
        this.logger.info(
          { partitions, keys, durationMs: Date.now() - started },
          'restored partition state from changelog',
        );
      },
      (error: unknown) => {
        this.logger.error({ err: error, partitions }, 'restoring partition state failed');
      },
    );
  }
}
