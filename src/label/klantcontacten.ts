import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import { decodeKlantcontactJson, type KlantcontactChange } from '../decode/klantcontact-json.js';
import type { Logger } from '../logger.js';
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
 * The klantcontact table, held whole by every instance, with only the columns the label needs.
 * It reads the klantcontact change topic from its start in a consumer group of its own and keeps
 * reading. A label reflects the klantcontact as committed at or before the onderwerpobject
 * change: the latest version whose transaction did not commit after the change's transaction.
 */
export class KlantcontactTable {
  private readonly entries = new Map<string, Entry>();
  private readonly nextOffsets = new Map<number, bigint>();
  private readonly partitionCommits = new Map<number, bigint>();
  private readonly waiters = new Set<() => void>();
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private invalidRecords = 0;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    groupIdPrefix: string,
    private readonly maxLength: number,
    private readonly logger: Logger,
  ) {
    this.consumer = kafka.consumer({
      groupId: `${groupIdPrefix}-klantcontacten-${randomUUID()}`,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 500,
    });
    this.admin = kafka.admin();
  }

  async start(): Promise<void> {
    await this.admin.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      this.nextOffsets.set(payload.partition, BigInt(payload.lastOffset) + 1n);
      this.wake();
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          this.applyRecord(batch.partition, message.offset, message.key, message.value);
        }
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.admin.disconnect();
  }

  /**
   * Waits until the table can answer each requirement: it has a version of the klantcontact from
   * a transaction at or before the change's, and it has read the klantcontact's partition past
   * that transaction or to the end it had when the wait began. Returns the klantcontact ids it
   * still lacks when `timeoutMs` runs out.
   */
  async waitFor(
    requirements: LabelRequirement[],
    timeoutMs: number,
    heartbeat: () => Promise<void>,
  ): Promise<string[]> {
    const ends = new Map(
      (await this.admin.fetchTopicOffsets(this.topic)).map((o) => [o.partition, BigInt(o.high)]),
    );
    const deadline = Date.now() + timeoutMs;
    let lastHeartbeat = Date.now();
    for (;;) {
      const missing = requirements.filter((requirement) => !this.answers(requirement, ends));
      if (missing.length === 0 || Date.now() >= deadline) {
        return [...new Set(missing.map((requirement) => requirement.klantcontactId))];
      }
      await new Promise<void>((resolve) => {
        this.waiters.add(resolve);
        setTimeout(resolve, 250);
      });
      if (Date.now() - lastHeartbeat >= 1_000) {
        lastHeartbeat = Date.now();
        await heartbeat();
      }
    }
  }

  /** Returns the label of the klantcontact as of the change, or null when the table lacks it. */
  label(klantcontactId: string, position: StreamPosition | null): string | null {
    const version = this.versionAt(klantcontactId, position);
    if (version === undefined || version.onderwerp === null) {
      return null;
    }
    return formatLabel(version.onderwerp, version.nummer, this.maxLength);
  }

  private answers(requirement: LabelRequirement, ends: Map<number, bigint>): boolean {
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
    const readToEnd =
      (this.nextOffsets.get(entry.partition) ?? 0n) >= (ends.get(entry.partition) ?? 0n);
    return readPast || readToEnd;
  }

  private versionAt(klantcontactId: string, position: StreamPosition | null): Version | undefined {
    const versions = this.entries.get(klantcontactId)?.versions ?? [];
    if (position === null) {
      return versions[versions.length - 1];
    }
    const commit = commitOf(position);
    const committed = versions.filter((version) => version.commit <= commit);
    return committed[committed.length - 1] ?? versions[0];
  }

  private applyRecord(
    partition: number,
    offset: string,
    key: Buffer | null,
    value: Buffer | null,
  ): void {
    let change: KlantcontactChange;
    try {
      change = decodeKlantcontactJson(key, value);
    } catch (error) {
      this.invalidRecords += 1;
      this.logger.warn(
        { err: error, topic: this.topic, partition, offset, invalidRecords: this.invalidRecords },
        'skipped a klantcontact record that is not a klantcontact change; labels of its klantcontact may be missing',
      );
      return;
    }
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

  private wake(): void {
    for (const waiter of this.waiters) {
      waiter();
    }
    this.waiters.clear();
  }
}

function commitOf(position: StreamPosition): bigint {
  return BigInt(position.lastCommitLsn ?? '0');
}

function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
