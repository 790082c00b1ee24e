import kafkajs, { type Admin, type ITopicConfig } from 'kafkajs';
import type { Config } from './config.js';
import { StateError } from './errors.js';
import type { Logger } from './logger.js';

const { ConfigResourceTypes } = kafkajs;

/**
 * Checks the input and klantcontact topics and creates the output, changelog and dead-letter
 * topics when missing. Returns the input topic's partition count. The changelog must have exactly
 * that many partitions, because a row's state lives in the changelog partition of the row's input
 * partition.
 */
export async function ensureTopics(admin: Admin, config: Config, logger: Logger): Promise<number> {
  const partitions = await partitionCount(admin, config.topics.input);
  if (partitions === undefined) {
    throw new StateError(
      `Input topic "${config.topics.input}" does not exist. Register the Debezium connector ` +
        'and let it create the topic, or set ONDERWERPOBJECT_TOPIC to the topic it writes.',
    );
  }

  if ((await partitionCount(admin, config.topics.klantcontact)) === undefined) {
    throw new StateError(
      `Klantcontact topic "${config.topics.klantcontact}" does not exist. Include ` +
        "public.klantinteracties_klantcontact in the connector's table.include.list, or set " +
        'KLANTCONTACT_TOPIC to the topic it writes; labels are read from it.',
    );
  }

  const replicationFactor = config.kafka.replicationFactor ?? (await defaultReplication(admin));
  const existing = new Set(await admin.listTopics());
  const wanted = [
    {
      topic: config.topics.changelog,
      numPartitions: partitions,
      replicationFactor,
      configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
    },
    { topic: config.topics.output, numPartitions: partitions, replicationFactor },
    { topic: config.topics.deadLetter, numPartitions: partitions, replicationFactor },
  ];
  // Asking only for missing topics keeps kafkajs from logging the broker's TOPIC_ALREADY_EXISTS
  // error code as an error.
  const missing = wanted.filter((topic) => !existing.has(topic.topic));
  if (missing.length > 0) {
    await createTopicsWithLeaders(admin, missing);
    logger.info(
      { topics: missing.map((topic) => topic.topic), partitions, replicationFactor },
      'created missing topics',
    );
  }

  const changelogPartitions = await partitionCount(admin, config.topics.changelog);
  if (changelogPartitions !== partitions) {
    throw new StateError(
      `Changelog topic "${config.topics.changelog}" has ${changelogPartitions} partitions but ` +
        `input topic "${config.topics.input}" has ${partitions}. They must match; create a ` +
        'new changelog topic with as many partitions and set STATE_CHANGELOG_TOPIC to it.',
    );
  }
  await warnUnlessCompacted(admin, config.topics.changelog, logger);
  return partitions;
}

/**
 * Creates topics and waits until every partition has a leader. kafkajs's `waitForLeaders` retries
 * only LEADER_NOT_AVAILABLE, but a KRaft broker can return UNKNOWN_TOPIC_OR_PARTITION for a moment
 * after it created a topic, and that error failed the whole call.
 */
export async function createTopicsWithLeaders(
  admin: Admin,
  topics: ITopicConfig[],
  timeoutMs = 30_000,
): Promise<void> {
  // kafkajs waits for leaders by default; this function does the waiting instead.
  await admin.createTopics({ topics, waitForLeaders: false });
  const names = topics.map((topic) => topic.topic);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await haveLeaders(admin, names)) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for leaders of the new topics ` +
          `${names.join(', ')}. Check the broker logs for failed topic creation.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Tells whether every partition of the topics has a leader; false on a retriable metadata error. */
async function haveLeaders(admin: Admin, names: string[]): Promise<boolean> {
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: names });
    return (
      topics.length === names.length &&
      topics.every(
        (topic) =>
          topic.partitions.length > 0 &&
          topic.partitions.every((partition) => partition.leader >= 0),
      )
    );
  } catch (error) {
    // kafkajs marks UNKNOWN_TOPIC_OR_PARTITION and LEADER_NOT_AVAILABLE retriable, also when it
    // wraps them after its own retries.
    const { retriable, originalError } = error as {
      retriable?: unknown;
      originalError?: { retriable?: unknown };
    };
    if (retriable === true || originalError?.retriable === true) {
      return false;
    }
    throw error;
  }
}

async function partitionCount(admin: Admin, topic: string): Promise<number | undefined> {
  const topics = await admin.listTopics();
  if (!topics.includes(topic)) {
    return undefined;
  }
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  return metadata.topics[0]?.partitions.length;
}

async function defaultReplication(admin: Admin): Promise<number> {
  const cluster = await admin.describeCluster();
  return Math.min(3, cluster.brokers.length);
}

async function warnUnlessCompacted(admin: Admin, topic: string, logger: Logger): Promise<void> {
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }],
  });
  const policy = described.resources[0]?.configEntries[0]?.configValue ?? '';
  if (!policy.split(',').includes('compact')) {
    logger.warn(
      { topic, cleanupPolicy: policy },
      'changelog topic is not compacted, so its size grows without bound; set cleanup.policy=compact',
    );
  }
}
