import type { DeadLetterError } from '../errors.js';

/** An input record as the consumer hands it over. */
export interface InputMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  offset: string;
  timestamp: string;
}

export interface DeadLetterMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | string | (Buffer | string)[]>;
}

/** Names of the headers a dead letter carries besides the input record's own headers. */
export const deadLetterHeaders = {
  errorCode: 'deadletter.error.code',
  errorMessage: 'deadletter.error.message',
  topic: 'deadletter.source.topic',
  partition: 'deadletter.source.partition',
  offset: 'deadletter.source.offset',
  timestamp: 'deadletter.source.timestamp',
} as const;

/**
 * Builds the dead letter for an input record: the original key, value and headers, and headers
 * that name the error and where the record came from, so that it can be fixed and fed back.
 */
export function deadLetterMessage(
  message: InputMessage,
  error: DeadLetterError,
  origin: { topic: string; partition: number },
): DeadLetterMessage {
  const headers: DeadLetterMessage['headers'] = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    // kafkajs cannot write a header whose value is null, so such a header keeps an empty value.
    if (value === null) {
      headers[name] = Buffer.alloc(0);
    } else if (value !== undefined) {
      headers[name] = value;
    }
  }
  headers[deadLetterHeaders.errorCode] = error.code;
  headers[deadLetterHeaders.errorMessage] = error.message;
  headers[deadLetterHeaders.topic] = origin.topic;
  headers[deadLetterHeaders.partition] = String(origin.partition);
  headers[deadLetterHeaders.offset] = message.offset;
  headers[deadLetterHeaders.timestamp] = message.timestamp;
  return { key: message.key, value: message.value, headers };
}
