import { randomUUID } from 'node:crypto';
import kafkajs, { type Admin, type Consumer, type IHeaders, type Kafka } from 'kafkajs';
import type { StackSettings } from './stack-settings.js';

const { Kafka: KafkaClient, logLevel } = kafkajs;

export function testKafka(stack: StackSettings): Kafka {
  return new KafkaClient({
    clientId: 'integration-test',
    brokers: stack.kafkaBootstrapServers.split(','),
    logLevel: logLevel.NOTHING,
  });
}

export interface ConsumedRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/** Polls a condition until it holds, failing with the description after the timeout. */
export async function waitFor<T>(
  description: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${description}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Reads a whole topic from its start and keeps reading, in a consumer group of its own. */
export class TopicReader {
  readonly records: ConsumedRecord[] = [];
  private readonly consumer: Consumer;
  private readonly positions = new Map<number, bigint>();
  private readonly groupId = `test-reader-${randomUUID()}`;

  private constructor(
    kafka: Kafka,
    readonly topic: string,
  ) {
    this.consumer = kafka.consumer({
      groupId: this.groupId,
      maxWaitTimeInMs: 200,
      allowAutoTopicCreation: false,
    });
  }

  /**
   * Starts reading from the topic's start, or from its current end with `from: 'end'`. The end is
   * committed for the reader's group before it joins, so no record written after this returns is
   * missed.
   */
  static async start(
    kafka: Kafka,
    topic: string,
    from: 'start' | 'end' = 'start',
  ): Promise<TopicReader> {
    const reader = new TopicReader(kafka, topic);
    if (from === 'end') {
      const admin = kafka.admin();
      await admin.connect();
      try {
        await startGroupAtEnd(admin, reader.groupId, topic);
      } finally {
        await admin.disconnect();
      }
    }
    await reader.consumer.connect();
    await reader.consumer.subscribe({ topics: [topic], fromBeginning: true });
    reader.consumer.on(reader.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      reader.positions.set(payload.partition, BigInt(payload.lastOffset) + 1n);
    });
    await reader.consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        reader.records.push({
          partition,
          offset: message.offset,
          key: message.key?.toString('utf8') ?? null,
          value: message.value?.toString('utf8') ?? null,
          headers: headerStrings(message.headers),
        });
      },
    });
    return reader;
  }

  /**
   * Waits until the reader has consumed every committed record that the topic contains when this
   * is called. kafkajs's admin reads the last stable offset. A group's transactional offsets can
   * become visible a moment before the same transaction's markers reach the topic. The offsets are
   * therefore read again 100 ms after the reader caught up, until two reads agree.
   *
   * NOTE: the 100 ms assumes that the single broker of the test stack writes the markers of one
   * transaction within one request. A slower broker could need longer.
   */
  async readToEnd(admin: Admin): Promise<ConsumedRecord[]> {
    let target = await this.endOffsets(admin);
    for (;;) {
      await waitFor(`${this.topic} to be read to its end`, () =>
        [...target].every(
          ([partition, { high, low }]) =>
            high === low || (this.positions.get(partition) ?? 0n) >= high,
        )
          ? true
          : undefined,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      const again = await this.endOffsets(admin);
      if ([...again].every(([partition, { high }]) => target.get(partition)?.high === high)) {
        return this.records;
      }
      target = again;
    }
  }

  private async endOffsets(admin: Admin): Promise<Map<number, { high: bigint; low: bigint }>> {
    const offsets = await admin.fetchTopicOffsets(this.topic);
    return new Map(
      offsets.map(({ partition, high, low }) => [
        partition,
        { high: BigInt(high), low: BigInt(low) },
      ]),
    );
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

/** Returns the row id of a Debezium record key, with or without the JsonConverter schema. */
export function rowIdOf(key: string | null): number | undefined {
  if (key === null) {
    return undefined;
  }
  const parsed = JSON.parse(key) as { id?: number; payload?: { id?: number } };
  return parsed.payload?.id ?? parsed.id;
}

/**
 * Waits until Debezium has published `changes` or more changes (tombstones excluded) of each row,
 * then until the group has committed past the last of them. After that, the processor has
 * committed every event those changes cause.
 */
export async function waitUntilProcessed(
  admin: Admin,
  input: TopicReader,
  groupId: string,
  rows: { id: number; changes: number }[],
  timeoutMs = 60_000,
): Promise<void> {
  const lastOffsets = await waitFor(
    'Debezium to publish the changes',
    () => {
      const seen = new Map<number, { count: number; partition: number; offset: bigint }>();
      for (const record of input.records) {
        const id = record.value === null ? undefined : rowIdOf(record.key);
        if (id !== undefined) {
          const count = (seen.get(id)?.count ?? 0) + 1;
          seen.set(id, { count, partition: record.partition, offset: BigInt(record.offset) });
        }
      }
      const last = new Map<number, bigint>();
      for (const row of rows) {
        const entry = seen.get(row.id);
        if (entry === undefined || entry.count < row.changes) {
          return undefined;
        }
        last.set(entry.partition, maxOf(last.get(entry.partition) ?? 0n, entry.offset));
      }
      return last;
    },
    timeoutMs,
  );

  await waitFor(
    `group ${groupId} to commit past the changes`,
    async () => {
      const committed = await admin.fetchOffsets({ groupId, topics: [input.topic] });
      const offsets = new Map(
        committed[0]!.partitions.map(({ partition, offset }) => [partition, BigInt(offset)]),
      );
      for (const [partition, offset] of lastOffsets) {
        if ((offsets.get(partition) ?? -1n) <= offset) {
          return undefined;
        }
      }
      return true;
    },
    timeoutMs,
  );
}

function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) {
      result[name] = Array.isArray(value) ? value.map(String).join(',') : String(value);
    }
  }
  return result;
}

/**
 * Commits the input topic's end offsets for a new group, so that its processor skips the history
 * that earlier tests left on a long-lived stack. Must run before the group's first member joins.
 */
export async function startGroupAtEnd(admin: Admin, groupId: string, topic: string): Promise<void> {
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.setOffsets({
    groupId,
    topic,
    partitions: offsets.map(({ partition, high }) => ({ partition, offset: high })),
  });
}
