import type { Server } from 'node:http';
import kafkajs, { type Consumer, type EachBatchPayload, type Kafka } from 'kafkajs';
import type { Config } from '../config.js';
import { DebeziumAvroDecoder } from '../decode/debezium-avro.js';
import { TransactionFailedError } from '../errors.js';
import { kafkajsLevel, kafkajsLogCreator, type Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { KlantcontactTable } from '../label/klantcontacten.js';
import { labelRequirements } from '../label/requirements.js';
import { topicMessagesOf } from '../sink/send.js';
import { PartitionTransactions } from '../sink/transactions.js';
import type { PartitionState } from '../state/partition-state.js';
import { streamPositionOf } from '../state/stream-position.js';
import { restorePartitions } from '../state/restore.js';
import { ensureTopics } from '../topics.js';
import { processBatch, type BatchResult } from './batch.js';
import { decodeAvroMessages, decodeJsonMessages, type DecodeOutcome } from './decode.js';
import { PartitionStates } from './partitions.js';

const { Kafka: KafkaClient } = kafkajs;

/**
 * The long-running processor: one consumer in the group, one transactional producer per assigned
 * partition, and the state of the assigned partitions. Each batch's events, changelog records,
 * dead letters and input offset are committed in one Kafka transaction. The in-memory state takes
 * the batch's updates only after the commit.
 */
export class Processor {
  private readonly kafka: Kafka;
  private readonly consumer: Consumer;
  private readonly transactions: PartitionTransactions;
  private readonly klantcontacten: KlantcontactTable;
  private readonly states: PartitionStates;
  /** Set when INPUT_FORMAT is avro; null for Kafka Connect JSON. */
  private readonly avroDecoder: DebeziumAvroDecoder | null;
  private metricsServer: Server | undefined;
  private stopping: Promise<void> | undefined;

  /** Called when the consumer crashed and kafkajs will not restart it. */
  onFatal: (error: Error) => void = () => undefined;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.kafka = new KafkaClient({
      clientId: config.kafka.clientId,
      brokers: config.kafka.brokers,
      logLevel: kafkajsLevel(config.logLevel),
      logCreator: kafkajsLogCreator(logger),
    });
    this.consumer = this.kafka.consumer({
      groupId: config.kafka.groupId,
      sessionTimeout: config.kafka.sessionTimeoutMs,
      heartbeatInterval: Math.max(1_000, Math.floor(config.kafka.sessionTimeoutMs / 10)),
      allowAutoTopicCreation: false,
    });
    this.transactions = new PartitionTransactions(
      this.kafka,
      {
        groupId: config.kafka.groupId,
        inputTopic: config.topics.input,
        deadLetterTopic: config.topics.deadLetter,
        transactionTimeoutMs: config.kafka.transactionTimeoutMs,
      },
      logger.child({ component: 'transactions' }),
    );
    const { format, schemaRegistryUrl } = config.input;
    this.avroDecoder =
      format === 'avro' && schemaRegistryUrl !== undefined
        ? DebeziumAvroDecoder.forRegistryUrl(schemaRegistryUrl)
        : null;
    const avroDecoder = this.avroDecoder;
    this.klantcontacten = new KlantcontactTable(
      this.kafka,
      config.topics.klantcontact,
      config.kafka.groupId,
      config.labels.maxLength,
      logger.child({ component: 'klantcontacten', topic: config.topics.klantcontact }),
      avroDecoder === null ? undefined : (key, value) => avroDecoder.decodeKlantcontact(key, value),
    );
    this.states = new PartitionStates(
      (partitions) => this.restore(partitions),
      logger.child({ component: 'state' }),
    );
  }

  async start(): Promise<void> {
    const { topics } = this.config;
    this.logger.info(
      {
        groupId: this.config.kafka.groupId,
        topics,
        brokers: this.config.kafka.brokers,
        inputFormat: this.config.input.format,
        schemaRegistryUrl: this.config.input.schemaRegistryUrl,
      },
      'starting processor',
    );
    if (this.config.metrics.port !== 0) {
      this.metricsServer = await this.metrics.listen(
        this.config.metrics.host,
        this.config.metrics.port,
      );
    }

    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, this.config, this.logger);
    } finally {
      await admin.disconnect();
    }

    await this.klantcontacten.start();
    await this.consumer.connect();
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      const assigned = payload.memberAssignment[topics.input] ?? [];
      const { added, revoked } = this.states.assign(assigned);
      for (const partition of revoked) {
        void this.transactions.release(partition);
      }
      this.logger.info(
        { groupId: payload.groupId, memberId: payload.memberId, assigned, added, revoked },
        'partition assignment changed',
      );
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      this.logger.error(
        { err: payload.error, groupId: payload.groupId, restart: payload.restart },
        'consumer crashed',
      );
      if (!payload.restart) {
        this.onFatal(payload.error);
      }
    });

    await this.consumer.subscribe({ topics: [topics.input], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.processPartitionBatch(payload),
    });
    this.logger.info({ groupId: this.config.kafka.groupId }, 'processor started');
  }

  /** Finishes the batch in progress, leaves the group and closes the connections. */
  stop(): Promise<void> {
    this.stopping ??= this.disconnect();
    return this.stopping;
  }

  private async disconnect(): Promise<void> {
    this.logger.info({ groupId: this.config.kafka.groupId }, 'stopping processor');
    await this.consumer.disconnect();
    await this.transactions.close();
    await this.klantcontacten.stop();
    await new Promise<void>((resolve) => {
      if (this.metricsServer === undefined) {
        resolve();
        return;
      }
      this.metricsServer.close(() => resolve());
    });
    this.logger.info({ groupId: this.config.kafka.groupId }, 'processor stopped');
  }

  private async processPartitionBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale, resolveOffset } = payload;
    const { topic, partition } = batch;
    const started = process.hrtime.bigint();

    // A heartbeat first: an instance that was paused past its session timeout learns here that
    // it lost its partitions, before it fences the new owner's producer.
    await heartbeat();
    const state = await waitWithHeartbeat(this.states.get(partition), heartbeat);
    if (!isRunning() || isStale() || batch.isEmpty()) {
      return;
    }

    const decoded = await this.decodeBatch(batch.messages, { topic, partition }, heartbeat);
    const requirements = labelRequirements(decoded);
    if (requirements.length > 0) {
      const missing = await this.klantcontacten.waitFor(
        requirements,
        this.config.labels.waitMs,
        heartbeat,
      );
      if (missing.length > 0) {
        this.logger.warn(
          { topic, partition, klantcontactIds: missing, waitedMs: this.config.labels.waitMs },
          'klantcontacten not found in time; their new links get an empty label',
        );
      }
    }
    const result = processBatch(
      batch.messages,
      state,
      {
        topic,
        partition,
        source: this.config.events.source,
        openKlantBaseUrl: this.config.events.openKlantBaseUrl,
        snapshotEmitsEvents: this.config.events.snapshotEmitsEvents,
        label: (link, position) =>
          this.klantcontacten.label(link.klantcontactId, streamPositionOf(position)),
      },
      decoded,
    );
    try {
      const topicMessages = topicMessagesOf(this.config.topics, result);
      await this.transactions.commit(partition, topicMessages, result.nextOffset, heartbeat);
    } catch (error) {
      // Whether the transaction committed is unknown when the commit request itself failed, so
      // the state is restored from the committed changelog before the records are read again.
      this.states.invalidate(partition);
      this.logger.error(
        {
          err: error,
          topic,
          partition,
          offset: batch.firstOffset(),
          nextOffset: result.nextOffset,
        },
        'transaction of the batch failed; the partition is restored and its records read again',
      );
      if (isGroupMembershipError(error)) {
        // kafkajs rejoins the group on these errors, but only when it receives them unwrapped.
        throw error;
      }
      const position = { topic, partition, offset: batch.firstOffset() ?? result.nextOffset };
      throw new TransactionFailedError(position, error as Error);
    }

    // kafkajs fetches from the last resolved offset, not the committed one.
    resolveOffset(batch.lastOffset());
    applyUpdates(state, result);
    this.record(result, batch.messages.length, { topic, partition });
    this.metrics.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    await heartbeat();
  }

  /**
   * Decodes the batch's records in the configured format. A schema registry that fails (other
   * than for an unknown schema id) fails the batch before its transaction begins, so kafkajs
   * reads the records again.
   */
  private async decodeBatch(
    messages: EachBatchPayload['batch']['messages'],
    where: { topic: string; partition: number },
    heartbeat: () => Promise<void>,
  ): Promise<DecodeOutcome[]> {
    if (this.avroDecoder === null) {
      return decodeJsonMessages(messages);
    }
    try {
      return await waitWithHeartbeat(decodeAvroMessages(messages, this.avroDecoder), heartbeat);
    } catch (error) {
      this.logger.error(
        { ...where, err: error, offset: messages[0]?.offset },
        'decoding the batch failed; its records are read again',
      );
      throw error;
    }
  }

  private record(
    result: BatchResult,
    records: number,
    where: { topic: string; partition: number },
  ): void {
    for (const rejected of result.deadLetters) {
      this.metrics.deadLetters.inc({ code: rejected.code });
      this.logger.warn(
        {
          ...where,
          offset: rejected.offset,
          code: rejected.code,
          // The reason can quote the record, which may hold personal data, so it goes only into
          // the dead letter's deadletter.error.message header.
          deadLetterTopic: this.config.topics.deadLetter,
        },
        'record sent to dead-letter topic',
      );
    }
    for (const rejected of result.rejectedLinks) {
      this.logger.warn(
        { ...where, offset: rejected.offset, rowKey: rejected.rowKey, reason: rejected.reason },
        'row names a zaak but does not link to it',
      );
    }
    this.metrics.missingLabels.inc(result.missingLabels.length);
    if (result.resent > 0) {
      this.logger.info(
        { ...where, resent: result.resent, position: result.position },
        'skipped changes at or before the stored stream position',
      );
    }
    for (const [type, count] of Object.entries(result.eventCounts)) {
      this.metrics.eventsPublished.inc({ type }, count);
    }
    this.metrics.recordsProcessed.inc({ outcome: 'dead-letter' }, result.deadLetters.length);
    this.metrics.recordsProcessed.inc({ outcome: 'tombstone' }, result.tombstones);
    this.metrics.recordsProcessed.inc({ outcome: 'resent' }, result.resent);
    this.metrics.recordsProcessed.inc(
      { outcome: 'processed' },
      records - result.deadLetters.length - result.tombstones - result.resent,
    );
  }

  private async restore(partitions: number[]): Promise<Map<number, PartitionState>> {
    const started = process.hrtime.bigint();
    await Promise.all(partitions.map((partition) => this.transactions.fence(partition)));
    const states = await restorePartitions(
      this.kafka,
      this.config.topics.changelog,
      partitions,
      this.config.kafka.groupId,
      this.logger.child({ component: 'restore' }),
    );
    this.metrics.restoreSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return states;
  }
}

const groupMembershipErrors = new Set([
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'NOT_COORDINATOR_FOR_GROUP',
  'UNKNOWN_MEMBER_ID',
]);

function isGroupMembershipError(error: unknown): boolean {
  const type = (error as { type?: unknown } | null)?.type;
  return typeof type === 'string' && groupMembershipErrors.has(type);
}

function applyUpdates(state: PartitionState, result: BatchResult): void {
  for (const [key, value] of result.updates) {
    if (value === null) {
      state.rows.delete(key);
    } else {
      state.rows.set(key, value);
    }
  }
  state.position = result.position;
}

/** Waits for a promise while heartbeating, so a long restore does not cost the assignment. */
async function waitWithHeartbeat<T>(
  promise: Promise<T>,
  heartbeat: () => Promise<void>,
): Promise<T> {
  let settled = false;
  const result = promise.finally(() => {
    settled = true;
  });
  while (!settled) {
    await Promise.race([result, new Promise((resolve) => setTimeout(resolve, 1_000))]);
    if (!settled) {
      await heartbeat();
    }
  }
  return result;
}
