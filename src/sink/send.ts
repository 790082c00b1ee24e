import type { TopicMessages } from 'kafkajs';
import type { Config } from '../config.js';
import type { BatchResult } from '../processor/batch.js';

/** Groups a batch's CloudEvents, changelog records and dead letters by topic for one send. */
export function topicMessagesOf(topics: Config['topics'], result: BatchResult): TopicMessages[] {
  const topicMessages: TopicMessages[] = [];
  if (result.changelog.length > 0) {
    topicMessages.push({ topic: topics.changelog, messages: result.changelog });
  }
  if (result.events.length > 0) {
    topicMessages.push({ topic: topics.output, messages: result.events });
  }
  if (result.deadLetters.length > 0) {
    topicMessages.push({
      topic: topics.deadLetter,
      messages: result.deadLetters.map((rejected) => rejected.message),
    });
  }
  return topicMessages;
}

/**
 * The maximum estimated record bytes per send, below the broker's default `message.max.bytes` of
 * 1,048,588. kafkajs writes a send's messages for one partition as one record batch, and the
 * broker rejects a larger batch, so a large batch is sent in parts.
 */
export const maxSendBytes = 900_000;

/** Kafka's per-record overhead beyond key, value and headers, rounded up (an estimate). */
const recordOverheadBytes = 70;

/**
 * Splits the messages into sends of at most `maxBytes` estimated record bytes each, keeping their
 * order per topic. A message larger than `maxBytes` gets a send of its own.
 */
export function sendChunks(
  topicMessages: TopicMessages[],
  maxBytes = maxSendBytes,
): TopicMessages[] {
  const chunks: TopicMessages[] = [];
  for (const { topic, messages } of topicMessages) {
    let current: TopicMessages['messages'] = [];
    let size = 0;
    for (const message of messages) {
      const bytes = messageBytes(message);
      if (current.length > 0 && size + bytes > maxBytes) {
        chunks.push({ topic, messages: current });
        current = [];
        size = 0;
      }
      current.push(message);
      size += bytes;
    }
    if (current.length > 0) {
      chunks.push({ topic, messages: current });
    }
  }
  return chunks;
}

function messageBytes(message: TopicMessages['messages'][number]): number {
  let bytes = recordOverheadBytes + lengthOf(message.key) + lengthOf(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      bytes += Buffer.byteLength(name) + lengthOf(item);
    }
  }
  return bytes;
}

function lengthOf(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) {
    return 0;
  }
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}
