import kafkajs from 'kafkajs';
import { stringify } from 'lossless-json';

/**
 * The processor's errors. The class names the recovery:
 *
 * - `ConfigError`: the process cannot start; fix the named setting.
 * - `DeadLetterError`: one input record cannot be processed; it goes to the dead-letter topic
 *   and processing continues with the next record.
 * - `StateError`: the restored state or a topic layout is inconsistent; the partition cannot
 *   be processed until an operator acts.
 * - `TransactionFailedError`: a batch's transaction was aborted or fenced; the partition's state
 *   and producer are dropped and kafkajs retries the fetch, which restores the partition first,
 *   or rejoins the group when the instance lost the partition.
 */

/** Position of an input record, carried by every error about that record. */
export interface RecordPosition {
  topic: string;
  partition: number;
  offset: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

/** Error codes of records that go to the dead-letter topic. */
export type DeadLetterCode =
  | 'INVALID_JSON'
  | 'INVALID_ENVELOPE'
  | 'INVALID_KEY'
  | 'INVALID_ROW'
  | 'UNSUPPORTED_OPERATION'
  | 'UNAVAILABLE_VALUE'
  | 'NOT_A_CHANGE_EVENT'
  | 'INVALID_AVRO'
  | 'UNKNOWN_SCHEMA';

export class DeadLetterError extends Error {
  override readonly name = 'DeadLetterError';

  constructor(
    readonly code: DeadLetterCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A schema registry request that failed for a reason other than an unknown schema id, such as a
 * refused connection or a 5xx status. It is no fault of the record, so the batch fails and is
 * read again instead of going to the dead-letter topic.
 */
export class SchemaRegistryError extends Error {
  override readonly name = 'SchemaRegistryError';
}

export class StateError extends Error {
  override readonly name = 'StateError';
}

/**
 * Shortens a value for an error message so a large record does not flood the log. Bigints, which
 * the decoder makes of integers beyond 2^53, are written as JSON numbers.
 */
export function excerpt(value: unknown, maxLength = 120): string {
  const text = typeof value === 'string' ? value : stringify(value);
  if (text === undefined) {
    return String(value);
  }
  return text.length > maxLength ? `${text.slice(0, maxLength)}…` : text;
}

/**
 * A batch transaction that failed, retriable for kafkajs. kafkajs marks a fenced producer's error
 * (INVALID_PRODUCER_EPOCH) as not retriable, which would crash the consumer for good. Retrying is
 * safe once the processor dropped the partition's state and producer.
 */
export class TransactionFailedError extends kafkajs.KafkaJSError {
  override readonly name = 'TransactionFailedError';

  constructor(
    readonly position: RecordPosition,
    cause: Error,
  ) {
    super(
      `Transaction for ${position.topic}[${position.partition}] from offset ${position.offset} ` +
        `failed (${cause.message}); the partition is restored from its changelog and read again.`,
      // kafkajs accepts `cause` at run time; its type declarations omit it.
      { retriable: true, cause } as ConstructorParameters<typeof kafkajs.KafkaJSError>[1],
    );
  }
}
