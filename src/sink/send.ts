import kafkajs, { type Producer, type TopicMessages } from 'kafkajs';
import type { Config } from '../config.js';
import type { BatchResult } from '../processor/batch.js';

const { CompressionTypes } = kafkajs;

/**
 * Sends a batch's CloudEvents, changelog records and dead letters in one produce call and waits
 * until all in-sync replicas acknowledge them (acks=-1). The producer is idempotent, so a
 * retried produce request does not write a record twice.
 */
export async function sendBatchResult(
  producer: Producer,
  topics: Config['topics'],
  result: BatchResult,
): Promise<void> {
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
  if (topicMessages.length === 0) {
    return;
  }
  await producer.sendBatch({ topicMessages, acks: -1, compression: CompressionTypes.None });
}
