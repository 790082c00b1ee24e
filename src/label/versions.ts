import type { KlantcontactChange } from '../decode/klantcontact-json.js';
import type { StreamPosition } from '../state/stream-position.js';
import { formatLabel } from './format.js';

/** A klantcontact that a link's label needs, and the change of the link. */
export interface LabelRequirement {
  klantcontactId: string;
  position: StreamPosition | null;
}

interface Version {
  /** Null once the klantcontact was deleted. */
  onderwerp: string | null;
  nummer: string | null;
  /** The last commit LSN before the version's transaction; -1 for a snapshot read. */
  commit: bigint;
}

interface Entry {
  partition: number;
  /** Oldest first; at most `maxVersions`. */
  versions: Version[];
}

/**
 * Keeps the versions per klantcontact that a replay of recent changes may still ask for. A replay
 * of older changes gets the oldest version kept.
 */
const maxVersions = 8;

/**
 * The klantcontact versions read so far, with the last transaction read in each partition. A label
 * reflects the klantcontact as committed at or before the onderwerpobject change: the latest
 * version whose transaction did not commit after the change's transaction.
 */
export class KlantcontactVersions {
  private readonly entries = new Map<string, Entry>();
  private readonly partitionCommits = new Map<number, bigint>();

  constructor(private readonly maxLength: number) {}

  apply(partition: number, change: KlantcontactChange): void {
    if (change.kind === 'tombstone') {
      return;
    }
    const commit = change.position === null ? -1n : commitOf(change.position);
    this.partitionCommits.set(
      partition,
      maxOf(this.partitionCommits.get(partition) ?? -1n, commit),
    );
    const entry = this.entries.get(change.id) ?? { partition, versions: [] };
    entry.partition = partition;
    entry.versions.push(
      change.kind === 'delete'
        ? { onderwerp: null, nummer: null, commit }
        : { onderwerp: change.onderwerp, nummer: change.nummer, commit },
    );
    if (entry.versions.length > maxVersions) {
      entry.versions.shift();
    }
    this.entries.set(change.id, entry);
  }

  /**
   * Tells whether the versions can give the label a requirement needs: there is a version from a transaction at
   * or before the change's, and the klantcontact's partition was read past that transaction or to
   * `ends` (the next offset to read per partition, compared with `readTo`).
   */
  answers(
    requirement: LabelRequirement,
    readTo: ReadonlyMap<number, bigint>,
    ends: ReadonlyMap<number, bigint>,
  ): boolean {
    const entry = this.entries.get(requirement.klantcontactId);
    if (entry === undefined) {
      return false;
    }
    if (requirement.position === null) {
      return true;
    }
    const commit = commitOf(requirement.position);
    if (!entry.versions.some((version) => version.commit <= commit)) {
      return false;
    }
    const readPast = (this.partitionCommits.get(entry.partition) ?? -1n) > commit;
    const readToEnd = (readTo.get(entry.partition) ?? 0n) >= (ends.get(entry.partition) ?? 0n);
    return readPast || readToEnd;
  }

  /** Returns the label of the klantcontact as of the change, or null when it is unknown. */
  label(klantcontactId: string, position: StreamPosition | null): string | null {
    const versions = this.entries.get(klantcontactId)?.versions ?? [];
    let version: Version | undefined;
    if (position === null) {
      version = versions[versions.length - 1];
    } else {
      const commit = commitOf(position);
      const committed = versions.filter((candidate) => candidate.commit <= commit);
      version = committed[committed.length - 1] ?? versions[0];
    }
    if (version === undefined || version.onderwerp === null) {
      return null;
    }
    return formatLabel(version.onderwerp, version.nummer, this.maxLength);
  }
}

function commitOf(position: StreamPosition): bigint {
  return BigInt(position.lastCommitLsn ?? '0');
}

function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
