import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import { decodeKlantcontactJson, type KlantcontactChange } from '../decode/klantcontact-json.js';
import { SchemaRegistryError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { StreamPosition } from '../state/stream-position.js';
import { KlantcontactVersions, type LabelRequirement } from './versions.js';

export type { LabelRequirement } from './versions.js';

/** Decodes one klantcontact record, synchronously (JSON) or asynchronously (Avro). */
export type KlantcontactDecoder = (
  key: Buffer | null,
  value: Buffer | null,
) => KlantcontactChange | Promise<KlantcontactChange>;

/**
 * The klantcontact table, held whole by every instance, with only the columns the label needs.
 * It reads the klantcontact change topic from its start in a consumer group of its own and keeps
 * reading.
 */
export class KlantcontactTable {
  private readonly versions: KlantcontactVersions;
  private readonly nextOffsets = new Map<number, bigint>();
  private readonly waiters = new Set<() => void>();
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private invalidRecords = 0;

  /**
   * `decode` turns a record's key and value into a change; by default it reads Kafka Connect
   * JSON. A SchemaRegistryError from it fails the fetched batch, which kafkajs reads again; any
   * other error skips the record.
   */
  constructor(
    kafka: Kafka,
    private readonly topic: string,
    groupIdPrefix: string,
    maxLength: number,
    private readonly logger: Logger,
    private readonly decode: KlantcontactDecoder = decodeKlantcontactJson,
  ) {
    this.versions = new KlantcontactVersions(maxLength);
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
          await this.applyRecord(batch.partition, message.offset, message.key, message.value);
        }
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.admin.disconnect();
  }

  /**
   * Waits until the table can give the label of each requirement: it has a version of the klantcontact from
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
      const missing = requirements.filter(
        (requirement) => !this.versions.answers(requirement, this.nextOffsets, ends),
      );
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

  private async applyRecord(
    partition: number,
    offset: string,
    key: Buffer | null,
    value: Buffer | null,
  ): Promise<void> {
    let change: KlantcontactChange;
    try {
      change = await this.decode(key, value);
    } catch (error) {
      if (error instanceof SchemaRegistryError) {
        // NOTE: kafkajs fetches the whole batch again, so the records before this one are applied
        // twice. Their duplicate versions give the same labels but take slots of the versions
        // kept per klantcontact.
        this.logger.error(
          { err: error, topic: this.topic, partition, offset },
          'decoding a klantcontact record failed; its batch is read again',
        );
        throw error;
      }
      this.invalidRecords += 1;
      this.logger.warn(
        { err: error, topic: this.topic, partition, offset, invalidRecords: this.invalidRecords },
        'skipped a klantcontact record that is not a klantcontact change; labels of its klantcontact may be missing',
      );
      return;
    }
    this.versions.apply(partition, change);
  }

  /** Returns the label of the klantcontact as of the change, or null when the table lacks it. */
  label(klantcontactId: string, position: StreamPosition | null): string | null {
    return this.versions.label(klantcontactId, position);
  }

  private wake(): void {
    for (const waiter of this.waiters) {
      waiter();
    }
    this.waiters.clear();
  }
}
