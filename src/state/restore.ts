import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Logger } from '../logger.js';
import { decodeChangelogValue, decodePositionValue, positionKey } from './changelog.js';
import { emptyPartitionState, type PartitionState } from './partition-state.js';

const progressIntervalMs = 5_000;

/**
 * Reads changelog partitions from their start to the end offsets they had when the restore began,
 * and returns each partition's state. kafkajs has no manual partition assignment, so the restore
 * consumer joins a group of its own, which costs one group join (the broker's
 * group.initial.rebalance.delay.ms, 3 s by default) per restore.
 */
export async function restorePartitions(
  kafka: Kafka,
  topic: string,
  partitions: number[],
  groupIdPrefix: string,
  logger: Logger,
): Promise<Map<number, PartitionState>> {
  const states = new Map(partitions.map((p) => [p, emptyPartitionState()]));
  const admin = kafka.admin();
  await admin.connect();
  let endOffsets: Map<number, bigint>;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    endOffsets = new Map(
      offsets
        .filter((o) => partitions.includes(o.partition) && BigInt(o.high) > BigInt(o.low))
        .map((o) => [o.partition, BigInt(o.high)]),
    );
  } finally {
    await admin.disconnect();
  }
  if (endOffsets.size === 0) {
    return states;
  }

  const consumer = kafka.consumer({
    groupId: `${groupIdPrefix}-restore-${randomUUID()}`,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 500,
    // A corrupted changelog record must fail the restore, not restart the consumer forever.
    retry: { retries: 0, restartOnFailure: async () => false },
  });
  const pending = new Set(endOffsets.keys());
  let restored = 0;
  let lastProgressAt = Date.now();

  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const markDone = (partition: number, lastOffset: string) => {
        const end = endOffsets.get(partition);
        if (end !== undefined && pending.has(partition) && BigInt(lastOffset) + 1n >= end) {
          pending.delete(partition);
          consumer.pause([{ topic, partitions: [partition] }]);
          if (pending.size === 0) {
            resolve();
          }
        }
      };

      // END_BATCH_PROCESS also fires for batches that held only transaction markers, which
      // eachBatch never receives.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        markDone(payload.partition, payload.lastOffset);
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));

      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch, heartbeat }) => {
            const end = endOffsets.get(batch.partition);
            const state = states.get(batch.partition);
            if (end === undefined || state === undefined || !pending.has(batch.partition)) {
              consumer.pause([{ topic, partitions: [batch.partition] }]);
              return;
            }
            for (const message of batch.messages) {
              if (BigInt(message.offset) >= end) {
                break;
              }
              const where = { topic, partition: batch.partition, offset: message.offset };
              const key = message.key?.toString('utf8') ?? '';
              if (key === positionKey) {
                state.position = decodePositionValue(message.value, where);
              } else {
                const value = decodeChangelogValue(message.value, where);
                if (value === null) {
                  state.rows.delete(key);
                } else {
                  state.rows.set(key, value);
                }
              }
              restored += 1;
            }
            if (Date.now() - lastProgressAt >= progressIntervalMs) {
              lastProgressAt = Date.now();
              logger.info({ topic, restored, pending: [...pending] }, 'restore in progress');
            }
            await heartbeat();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return states;
}
