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
