import { randomUUID } from 'node:crypto';
import kafkajs, {
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type Kafka,
  type Producer,
  type TopicMessages,
} from 'kafkajs';
import type { ReplayConfig } from '../config.js';
import { kafkajsLevel, kafkajsLogCreator, type Logger } from '../logger.js';
import { matchesCodes, readLetter, type ReplayableLetter } from './letters.js';
import { planPartition, type PartitionPlan, type ReplayRange } from './range.js';
import { ReplaySummary } from './summary.js';
import { sendOffsetsWhenReady } from '../sink/transactions.js';

const { Kafka: KafkaClient, Partitioners } = kafkajs;

/**
 * Upper bound of the key, value and header bytes of the records in one produce request. A
 * fetched chunk holds up to kafkajs's maxBytesPerPartition (1 MiB), or one larger record batch.
 * Pieces of this size stay below Kafka's default message.max.bytes (1 MiB), the limit of a
 * record batch, which a target topic can also set lower.
 */
const maxSendBytes = 512 * 1024;

export interface ReplayOptions extends ReplayRange {
  /** Error codes to re-send. An empty set re-sends every code. */
  codes: ReadonlySet<string>;
  /** Print what would be re-sent and produce and commit nothing. */
  dryRun: boolean;
  /** Stops the run after the chunk in progress. */
  signal?: AbortSignal;
}

export type ReplayResult =
  | { outcome: 'done' | 'interrupted'; summary: ReplaySummary }
  | { outcome: 'failed'; summary: ReplaySummary; error: unknown };

/** An error that stops the replay. Its message names what failed and what to do next. */
export class ReplayError extends Error {
  override readonly name = 'ReplayError';
}

/** Returns the consumer group whose offsets record how far replays have read the topic. */
export function replayGroupId(config: ReplayConfig): string {
  return `${config.kafka.groupId}-dead-letter-replay`;
}

/**
 * Re-sends the dead letters of the dead-letter topic to the topic and partition they came from,
 * up to the end offsets the topic had when the run started. Each fetched chunk's records and the
 * replay group's offset past the chunk are committed in one Kafka transaction, so a run that
 * fails or is stopped re-sends no letter twice when it is run again. `print` receives one line per
 * re-sent letter. The result contains the counts also when the run failed.
 */
export async function replayDeadLetters(
  config: ReplayConfig,
  options: ReplayOptions,
  logger: Logger,
  print: (line: string) => void,
): Promise<ReplayResult> {
  const kafka = new KafkaClient({
    clientId: config.kafka.clientId,
    brokers: config.kafka.brokers,
    logLevel: kafkajsLevel(config.logLevel),
    logCreator: kafkajsLogCreator(logger),
  });
  const run = new ReplayRun(kafka, config, options, logger, print);
  try {
    const outcome = await run.execute();
    return { outcome, summary: run.summary };
  } catch (error) {
    return { outcome: 'failed', summary: run.summary, error };
  } finally {
    await run.close();
  }
}

/** A partition's plan and read position. */
interface Progress {
  plan: PartitionPlan;
  /** The next offset to read. */
  position: bigint;
}

class ReplayRun {
  private readonly topic: string;
  private readonly groupId: string;
  readonly summary = new ReplaySummary();
  private readonly admin: Admin;
  private producer: Producer | undefined;
  private consumer: Consumer | undefined;
  private readonly progress = new Map<number, Progress>();
  private readonly targetPartitions = new Map<string, number>();
  /** Topics that the processor writes. A letter that names one of them as its source is invalid. */
  private readonly outputTopics: ReadonlySet<string>;
  private settle: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  private stopped = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly config: ReplayConfig,
    private readonly options: ReplayOptions,
    private readonly logger: Logger,
    private readonly print: (line: string) => void,
  ) {
    this.topic = config.topics.deadLetter;
    this.groupId = replayGroupId(config);
    this.outputTopics = new Set([
      config.topics.output,
      config.topics.changelog,
      config.topics.deadLetter,
    ]);
    this.admin = kafka.admin();
  }

  async execute(): Promise<'done' | 'interrupted'> {
    await this.admin.connect();
    const partitions = await this.deadLetterPartitions();
    if (!this.options.dryRun) {
      this.producer = await this.initProducer();
    }

    // In a real run, the plan reads the committed offsets after the producer fenced earlier
    // replays, so none of them commits after that. Letters that arrive after the plan read the
    // end offsets wait for the next run.
    await this.makePlans(partitions);
    this.logger.info(
      {
        deadLetterTopic: this.topic,
        groupId: this.groupId,
        dryRun: this.options.dryRun,
        codes: [...this.options.codes],
        partitions: [...this.progress.values()].map(({ plan }) => ({
          partition: plan.partition,
          start: plan.start.toString(),
          end: plan.end.toString(),
        })),
      },
      'starting dead-letter replay',
    );

    let interrupted = false;
    if (this.pending().length > 0) {
      interrupted = await this.consume(partitions);
    }
    if (!interrupted) {
      await this.commitPositions();
    }

    this.logger.info(
      {
        deadLetterTopic: this.topic,
        dryRun: this.options.dryRun,
        interrupted,
        ...this.summary.fields(),
      },
      'dead-letter replay finished',
    );
    return interrupted ? 'interrupted' : 'done';
  }

  /** Disconnects from Kafka, the consumer first, because it waits for the chunk in progress. */
  async close(): Promise<void> {
    this.stopped = true;
    for (const client of [this.consumer, this.producer, this.admin]) {
      await client?.disconnect().catch((error: unknown) => {
        this.logger.warn({ err: error }, 'disconnecting from Kafka failed');
      });
    }
  }

  /** Returns the partitions to read, after checking that the topic and partition exist. */
  private async deadLetterPartitions(): Promise<number[]> {
    const topics = await this.admin.listTopics();
    if (!topics.includes(this.topic)) {
      throw new ReplayError(
        `Dead-letter topic "${this.topic}" does not exist. The processor creates it when it ` +
          'starts; check DEAD_LETTER_TOPIC and KAFKA_GROUP_ID.',
      );
    }
    const metadata = await this.admin.fetchTopicMetadata({ topics: [this.topic] });
    const all = (metadata.topics[0]?.partitions ?? [])
      .map((p) => p.partitionId)
      .sort((a, b) => a - b);
    const only = this.options.partition;
    if (only === undefined) {
      return all;
    }
    if (!all.includes(only)) {
      throw new ReplayError(
        `Dead-letter topic "${this.topic}" has no partition ${only}; it has partitions 0 to ` +
          `${all.length - 1}.`,
      );
    }
    return [only];
  }

  /**
   * Creates the transactional producer and fences earlier producers with the same transactional
   * id. A replay that crashed or still runs loses its open transaction, and the broker rejects
   * its later transactions.
   */
  private async initProducer(): Promise<Producer> {
    const producer = this.kafka.producer({
      transactionalId: this.groupId,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      transactionTimeout: this.config.kafka.transactionTimeoutMs,
      // Every record names its partition, so the partitioner is never used; naming one silences
      // kafkajs's warning about its default.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    this.producer = producer;
    // kafkajs sends InitProducerId only when the first transaction begins, so an empty
    // transaction begins here. Its abort sends nothing.
    const transaction = await producer.transaction();
    await transaction.abort();
    return producer;
  }

  /** Plans every partition from the topic's offsets and the replay group's committed offsets. */
  private async makePlans(partitions: number[]): Promise<void> {
    const start = this.options.start;
    const [offsets, committed, atTimestamp] = await Promise.all([
      this.admin.fetchTopicOffsets(this.topic),
      this.admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] }),
      start.from === 'timestamp'
        ? this.admin.fetchTopicOffsetsByTimestamp(this.topic, start.timestamp)
        : [],
    ]);

    for (const partition of partitions) {
      const topicOffsets = offsets.find((o) => o.partition === partition);
      const committedOffset = committed[0]?.partitions.find(
        (p) => p.partition === partition,
      )?.offset;
      const timestampOffset = atTimestamp.find((o) => o.partition === partition)?.offset;
      const plan = planPartition(this.options, {
        partition,
        low: BigInt(topicOffsets?.low ?? '0'),
        high: BigInt(topicOffsets?.high ?? '0'),
        committed:
          committedOffset === undefined || BigInt(committedOffset) < 0n
            ? null
            : BigInt(committedOffset),
        ...(timestampOffset !== undefined && { atTimestamp: BigInt(timestampOffset) }),
      });
      if (plan.warning !== undefined) {
        this.logger.warn({ deadLetterTopic: this.topic, partition }, plan.warning);
      }
      this.progress.set(partition, { plan, position: plan.start });
    }
  }

  private pending(): Progress[] {
    return [...this.progress.values()].filter(({ position, plan }) => position < plan.end);
  }

  /**
   * Joins the replay group and reads until every partition reached its end offset. Returns true
   * when the signal stopped the run first.
   */
  private async consume(partitions: number[]): Promise<boolean> {
    const consumer = this.kafka.consumer({
      // A dry run reads in a group of its own and commits nothing, so it takes no partitions
      // from a running replay.
      groupId: this.options.dryRun ? `${this.groupId}-dry-run-${randomUUID()}` : this.groupId,
      sessionTimeout: this.config.kafka.sessionTimeoutMs,
      heartbeatInterval: Math.max(1_000, Math.floor(this.config.kafka.sessionTimeoutMs / 10)),
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 500,
      // An error ends the run, and the next run continues from the committed offsets.
      retry: { restartOnFailure: async () => false },
    });
    this.consumer = consumer;

    const finished = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // The rejection is awaited below. This handler keeps Node from reporting it as unhandled when
    // the consumer fails before that.
    finished.catch(() => undefined);
    let interrupted = false;
    const onAbort = () => {
      interrupted = true;
      this.logger.info({ deadLetterTopic: this.topic }, 'stopping after the chunk in progress');
      this.settle?.resolve();
    };
    this.options.signal?.addEventListener('abort', onAbort, { once: true });

    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      // Nothing is fetched until the join is checked and each partition sought to its position.
      consumer.pause([{ topic: this.topic }]);
      const assigned = payload.memberAssignment[this.topic] ?? [];
      try {
        this.onJoin(consumer, partitions, assigned);
      } catch (error) {
        this.fail(error);
      }
    });
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      // Batches of only transaction markers or aborted records never reach eachBatch.
      if (payload.batchSize === 0 && payload.firstOffset !== null) {
        this.advance(payload.partition, BigInt(payload.lastOffset) + 1n);
      }
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => this.fail(payload.error));

    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: (payload) => this.handleBatch(payload),
      });
      await finished;
    } finally {
      this.stopped = true;
      this.options.signal?.removeEventListener('abort', onAbort);
      // Waits for the chunk in progress, so that the summary counts it.
      this.consumer = undefined;
      await consumer.disconnect().catch((error: unknown) => {
        this.logger.warn({ err: error }, 'disconnecting the consumer failed');
      });
    }
    return interrupted;
  }

  /** Checks the assignment of a group join and seeks each partition to its read position. */
  private onJoin(consumer: Consumer, partitions: number[], assigned: number[]): void {
    const missing = partitions.filter((partition) => !assigned.includes(partition));
    if (!this.options.dryRun && missing.length > 0) {
      throw new ReplayError(
        `Consumer group "${this.groupId}" assigned this run partitions [${assigned.join(', ')}] ` +
          `of "${this.topic}" but not [${missing.join(', ')}], so another replay of this topic ` +
          'is running. Wait until it ends and run again.',
      );
    }
    const pending = this.pending();
    for (const { plan, position } of pending) {
      consumer.seek({ topic: this.topic, partition: plan.partition, offset: position.toString() });
    }
    consumer.resume([{ topic: this.topic, partitions: pending.map(({ plan }) => plan.partition) }]);
    this.logger.info(
      {
        deadLetterTopic: this.topic,
        groupId: this.groupId,
        positions: Object.fromEntries(
          pending.map((p) => [p.plan.partition, p.position.toString()]),
        ),
      },
      'reading the dead-letter topic',
    );
  }

  private async handleBatch({ batch, heartbeat, isRunning, isStale }: EachBatchPayload) {
    const progress = this.progress.get(batch.partition);
    if (this.stopped || !isRunning() || isStale() || progress === undefined) {
      return;
    }
    const { plan, position } = progress;
    const next = minOf(BigInt(batch.lastOffset()) + 1n, plan.end);
    if (position >= plan.end || next <= position) {
      return;
    }

    const chunk = new ReplaySummary();
    const letters: ReplayableLetter[] = [];
    for (const message of batch.messages) {
      const offset = BigInt(message.offset);
      if (offset < position || offset >= plan.end) {
        continue;
      }
      chunk.read += 1;
      const letter = readLetter(
        message,
        { topic: this.topic, partition: batch.partition },
        this.outputTopics,
      );
      if (!matchesCodes(letter.code, this.options.codes)) {
        chunk.filteredOut += 1;
      } else if (letter.kind === 'invalid') {
        chunk.invalid.push(letter);
      } else {
        letters.push(letter);
      }
    }

    try {
      await this.checkTargets(letters);
      if (!this.options.dryRun) {
        await this.send(letters, plan, next);
        await heartbeat();
      }
    } catch (error) {
      this.fail(isFenced(error) ? this.fencedError() : error);
      return;
    }

    for (const letter of letters) {
      chunk.addResent(letter);
      this.print(describeLetter(letter, this.options.dryRun));
    }
    for (const letter of chunk.invalid) {
      this.logger.error(
        { ...letter.position, code: letter.code, problem: letter.problem },
        'dead letter has no valid source headers and cannot be re-sent',
      );
    }
    this.merge(chunk);
    this.logger.info(
      {
        deadLetterTopic: this.topic,
        partition: batch.partition,
        fromOffset: position.toString(),
        nextOffset: next.toString(),
        resent: chunk.resent,
        dryRun: this.options.dryRun,
      },
      this.options.dryRun ? 'dead-letter chunk read' : 'dead-letter chunk re-sent',
    );
    this.advance(batch.partition, next);
  }

  /** Sends the letters and commits the replay group's offset in one transaction. */
  private async send(letters: ReplayableLetter[], plan: PartitionPlan, next: bigint) {
    // The replay group's offset never moves back, e.g. when --from-beginning reads letters again.
    const commitOffset = plan.committed === null || next > plan.committed;
    if (letters.length === 0 && !commitOffset) {
      return;
    }
    const transaction = await this.producer!.transaction();
    try {
      for (const piece of piecesOf(letters, maxSendBytes)) {
        await transaction.sendBatch({ topicMessages: topicMessagesOf(piece), acks: -1 });
      }
      if (commitOffset) {
        await sendOffsetsWhenReady(transaction, {
          consumerGroupId: this.groupId,
          topics: [
            { topic: this.topic, partitions: [{ partition: plan.partition, offset: `${next}` }] },
          ],
        });
      }
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch((abortError: unknown) => {
        this.logger.warn(
          { err: abortError, transactionalId: this.groupId },
          'aborting the failed transaction failed too; the next replay aborts it when it starts',
        );
      });
      throw error;
    }
    if (commitOffset) {
      plan.committed = next;
    }
  }

  /**
   * Commits the replay group's offset where no letter chunk did: past transaction markers at the
   * end of a partition, and at a start that --from-offset or --since moved past the committed
   * offset, which is how a letter is skipped.
   */
  private async commitPositions(): Promise<void> {
    if (this.options.dryRun) {
      return;
    }
    const behind = [...this.progress.values()].filter(
      ({ plan, position }) => plan.committed === null || position > plan.committed,
    );
    if (behind.length === 0) {
      return;
    }
    const transaction = await this.producer!.transaction();
    try {
      await sendOffsetsWhenReady(transaction, {
        consumerGroupId: this.groupId,
        topics: [
          {
            topic: this.topic,
            partitions: behind.map(({ plan, position }) => ({
              partition: plan.partition,
              offset: position.toString(),
            })),
          },
        ],
      });
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Checks that each target topic exists and has the letter's partition. A replay never creates
   * a topic, and a record sent to a missing partition would wait for it until the send times out.
   */
  private async checkTargets(letters: ReplayableLetter[]): Promise<void> {
    for (const { target, position } of letters) {
      let count = this.targetPartitions.get(target.topic);
      if (count === undefined) {
        const topics = await this.admin.listTopics();
        if (topics.includes(target.topic)) {
          const metadata = await this.admin.fetchTopicMetadata({ topics: [target.topic] });
          count = metadata.topics[0]?.partitions.length ?? 0;
          this.targetPartitions.set(target.topic, count);
        }
      }
      if (count === undefined || target.partition >= count) {
        const where = count === undefined ? 'does not exist' : `has ${count} partitions`;
        throw new ReplayError(
          `The dead letter at ${position.topic}:${position.partition}:${position.offset} came ` +
            `from partition ${target.partition} of topic "${target.topic}", which ${where}. ` +
            'Create the topic or partition, or skip the letter with --from-offset ' +
            `${BigInt(position.offset) + 1n} --partition ${position.partition}.`,
        );
      }
    }
  }

  /** Moves a partition's read position forward and ends the run when every partition is done. */
  private advance(partition: number, next: bigint): void {
    const progress = this.progress.get(partition);
    if (progress === undefined || this.stopped) {
      return;
    }
    progress.position = maxOf(progress.position, minOf(next, progress.plan.end));
    if (progress.position >= progress.plan.end) {
      this.consumer?.pause([{ topic: this.topic, partitions: [partition] }]);
    }
    if (this.pending().length === 0) {
      this.settle?.resolve();
    }
  }

  private merge(chunk: ReplaySummary): void {
    this.summary.read += chunk.read;
    this.summary.filteredOut += chunk.filteredOut;
    this.summary.invalid.push(...chunk.invalid);
    for (const [code, count] of chunk.byCode) {
      this.summary.byCode.set(code, (this.summary.byCode.get(code) ?? 0) + count);
    }
    for (const [topic, count] of chunk.byTarget) {
      this.summary.byTarget.set(topic, (this.summary.byTarget.get(topic) ?? 0) + count);
    }
    this.summary.resent += chunk.resent;
  }

  private fencedError(): ReplayError {
    return new ReplayError(
      `Another replay started with the transactional id "${this.groupId}" and fenced this one; ` +
        'the chunk in progress was not committed. Let the other run finish, or run again.',
    );
  }

  private fail(error: unknown): void {
    this.stopped = true;
    this.settle?.reject(error);
  }
}

/** Tells whether a producer request failed because a newer producer with its id started. */
function isFenced(error: unknown): boolean {
  const type = (error as { type?: unknown } | null)?.type;
  return type === 'INVALID_PRODUCER_EPOCH' || type === 'PRODUCER_FENCED';
}

/**
 * Splits letters, in order, into pieces whose records hold at most `maxBytes` of key, value and
 * headers. A letter larger than that gets a piece of its own.
 */
export function piecesOf(letters: ReplayableLetter[], maxBytes: number): ReplayableLetter[][] {
  const pieces: ReplayableLetter[][] = [];
  let piece: ReplayableLetter[] = [];
  let bytes = 0;
  for (const letter of letters) {
    const size = recordBytes(letter.record);
    if (piece.length > 0 && bytes + size > maxBytes) {
      pieces.push(piece);
      piece = [];
      bytes = 0;
    }
    piece.push(letter);
    bytes += size;
  }
  if (piece.length > 0) {
    pieces.push(piece);
  }
  return pieces;
}

function recordBytes(record: ReplayableLetter['record']): number {
  let bytes = (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const [name, value] of Object.entries(record.headers)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      bytes += Buffer.byteLength(name) + (item === undefined ? 0 : Buffer.byteLength(item));
    }
  }
  return bytes;
}

/** Groups the letters' records by target topic, each with its target partition. */
function topicMessagesOf(letters: ReplayableLetter[]): TopicMessages[] {
  const byTopic = new Map<string, TopicMessages>();
  for (const { target, record } of letters) {
    let entry = byTopic.get(target.topic);
    if (entry === undefined) {
      entry = { topic: target.topic, messages: [] };
      byTopic.set(target.topic, entry);
    }
    entry.messages.push({ ...record, partition: target.partition });
  }
  return [...byTopic.values()];
}

/** Formats a letter's position, target, code and reason as one line, never its record value. */
export function describeLetter(letter: ReplayableLetter, dryRun: boolean): string {
  const { topic, partition, offset } = letter.position;
  const verb = dryRun ? 'would re-send' : 're-sent';
  return (
    `${verb} ${topic}:${partition}:${offset} to ${letter.target.topic}[${letter.target.partition}] ` +
    `code=${letter.code || '(none)'} reason=${JSON.stringify(letter.reason)}`
  );
}

function minOf(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
