import kafkajs, { type Kafka, type Producer, type TopicMessages, type Transaction } from 'kafkajs';
import type { Logger } from '../logger.js';
import { sendChunks } from './send.js';

const { CompressionTypes, Partitioners } = kafkajs;

export interface TransactionSettings {
  groupId: string;
  inputTopic: string;
  deadLetterTopic: string;
  transactionTimeoutMs: number;
}

/**
 * One transactional producer per assigned input partition, with the transactional id
 * `{groupId}-{inputTopic}-{partition}`. kafkajs sends no consumer group metadata with
 * TxnOffsetCommit (KIP-447), so the broker cannot fence by group generation; fencing comes from
 * the transactional id instead. The instance that takes over a partition initialises a producer
 * with that id, which bumps its epoch and aborts any transaction the previous owner left open, and
 * from then on every request of the previous owner's producer fails with INVALID_PRODUCER_EPOCH.
 *
 * A producer's transactions go through these states. A failure in any of them discards the
 * producer, because kafkajs can stay in ABORTING or COMMITTING after a failed request:
 *
 *   (none) --fence: InitProducerId--> READY --begin--> TRANSACTING
 *   TRANSACTING --send, sendOffsets, EndTxn(commit)--> READY
 *   TRANSACTING --error--> abort, discard --> (none)
 */
export class PartitionTransactions {
  private readonly producers = new Map<number, Producer>();

  constructor(
    private readonly kafka: Kafka,
    private readonly settings: TransactionSettings,
    private readonly logger: Logger,
  ) {}

  /**
   * Initialises the partition's producer, which fences any earlier owner and completes its open
   * transaction. Must finish before the partition's state is restored from the changelog, so that
   * the restore reads every transaction that earlier owner could still commit.
   */
  async fence(partition: number): Promise<Producer> {
    await this.release(partition);
    const transactionalId = this.transactionalId(partition);
    const producer = this.kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      transactionTimeout: this.settings.transactionTimeoutMs,
      // The Java client's murmur2 partitioner, so that Java and kafkajs producers put a zaak's
      // events in the same partition. Naming it also silences kafkajs's warning about its default.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    try {
      // kafkajs sends InitProducerId with the transactional id only when the first transaction
      // begins; an empty transaction makes that happen now. Its abort sends nothing.
      const transaction = await producer.transaction();
      await transaction.abort();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    this.producers.set(partition, producer);
    this.logger.debug({ partition, transactionalId }, 'transactional producer initialised');
    return producer;
  }

  /**
   * Sends the messages and commits the input offset in one transaction. On failure the
   * transaction is aborted, the producer discarded, and the error thrown again.
   */
  async commit(
    partition: number,
    topicMessages: TopicMessages[],
    nextOffset: string,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    const producer = this.producers.get(partition) ?? (await this.fence(partition));
    const transaction = await producer.transaction();
    try {
      for (const chunk of sendChunks(topicMessages)) {
        // A dead letter copies a record of any size, so dead letters are compressed to fit.
        const compression =
          chunk.topic === this.settings.deadLetterTopic
            ? CompressionTypes.GZIP
            : CompressionTypes.None;
        await transaction.sendBatch({ topicMessages: [chunk], acks: -1, compression });
      }
      // Keeps the membership alive through a long send; a rebalance aborts the transaction.
      await heartbeat();
      await transaction.sendOffsets({
        consumerGroupId: this.settings.groupId,
        topics: [
          { topic: this.settings.inputTopic, partitions: [{ partition, offset: nextOffset }] },
        ],
      });
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch((abortError: unknown) => {
        this.logger.warn(
          { err: abortError, partition, transactionalId: this.transactionalId(partition) },
          'aborting the failed transaction failed too; the next owner aborts it when it fences',
        );
      });
      await this.release(partition);
      throw error;
    }
  }

  /** Disconnects the partition's producer, when the partition is revoked or its state dropped. */
  async release(partition: number): Promise<void> {
    const producer = this.producers.get(partition);
    this.producers.delete(partition);
    await producer?.disconnect().catch((error: unknown) => {
      this.logger.warn({ err: error, partition }, 'disconnecting transactional producer failed');
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.producers.keys()].map((partition) => this.release(partition)));
  }

  private transactionalId(partition: number): string {
    return `${this.settings.groupId}-${this.settings.inputTopic}-${partition}`;
  }
}

const concurrentTransactionsRetries = 10;

/**
 * Sends a transaction's offsets, retrying CONCURRENT_TRANSACTIONS. The broker returns it for
 * AddOffsetsToTxn while the producer's previous transaction is still completing, which a
 * transaction that holds only offsets can reach right after the previous commit. The Java client
 * retries it; kafkajs 2.2.4 retries it for AddPartitionsToTxn but not for AddOffsetsToTxn.
 */
export async function sendOffsetsWhenReady(
  transaction: Transaction,
  offsets: Parameters<Transaction['sendOffsets']>[0],
): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await transaction.sendOffsets(offsets);
      return;
    } catch (error) {
      const concurrent = (error as { type?: string }).type === 'CONCURRENT_TRANSACTIONS';
      if (!concurrent || attempt >= concurrentTransactionsRetries) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(20 * 2 ** attempt, 1_000)));
    }
  }
}
