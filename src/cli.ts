#!/usr/bin/env node
import { Command } from 'commander';
import { loadConfig } from './config.js';
import { addDeadLetterCommand } from './dead-letter/command.js';
import { ConfigError } from './errors.js';
import { createLogger } from './logger.js';
import { Metrics } from './metrics.js';
import { Processor } from './processor/service.js';

const environmentHelp = `
Environment variables:
  KAFKA_BOOTSTRAP_SERVERS   required; comma-separated host:port list
  CLOUDEVENTS_SOURCE        required; the events' "source", e.g. urn:nld:oin:01823288444:openklant
  OPENKLANT_BASE_URL        required; base URL of Open Klant as Open Zaak reaches it,
                            e.g. https://openklant.example.nl (linkTo appends
                            /klantinteracties/api/v1/onderwerpobjecten/{uuid})
  KAFKA_GROUP_ID            consumer group id (default openklant-zaak-cdc)
  KAFKA_CLIENT_ID           client id (default openklant-zaak-cdc)
  KAFKA_SESSION_TIMEOUT_MS  consumer session timeout in milliseconds (default 30000)
  KAFKA_TRANSACTION_TIMEOUT_MS
                            transaction timeout in milliseconds (default 60000)
  KAFKA_TOPIC_REPLICATION_FACTOR
                            replication factor of topics the processor creates
                            (default: the smaller of 3 and the number of brokers)
  ONDERWERPOBJECT_TOPIC     Debezium topic of klantinteracties_onderwerpobject
                            (default openklant.public.klantinteracties_onderwerpobject)
  KLANTCONTACT_TOPIC        Debezium topic of klantinteracties_klantcontact, read for labels
                            (default openklant.public.klantinteracties_klantcontact)
  CLOUDEVENTS_TOPIC         output topic (default openklant.zaak-cloudevents)
  STATE_CHANGELOG_TOPIC     compacted state topic (default {KAFKA_GROUP_ID}-link-state-changelog)
  DEAD_LETTER_TOPIC         dead-letter topic (default {KAFKA_GROUP_ID}-dead-letter)
  LABEL_MAX_LENGTH          longest label in characters; longer ones are shortened (default 80)
  LABEL_WAIT_MS             how long a batch waits for a klantcontact it needs, in
                            milliseconds, before it publishes an empty label (default 30000)
  INPUT_FORMAT              encoding of the Debezium records: json (Kafka Connect's
                            JsonConverter) or avro (Confluent wire format) (default json)
  SCHEMA_REGISTRY_URL       required with INPUT_FORMAT=avro; the schema registry's
                            Confluent-compatible API, e.g. http://registry:8080/apis/ccompat/v6
  SNAPSHOT_EMITS_EVENTS     true to emit gekoppeld for linked rows the connector's snapshot
                            reads; false (default) only seeds the state from them
  LOG_LEVEL                 fatal, error, warn, info, debug or trace (default info)
  METRICS_HOST, METRICS_PORT
                            address of GET /metrics (default 127.0.0.1:9464; port 0 turns it off)
`;

const program = new Command()
  .name('openklant-cdc')
  .description(
    'Turns Debezium change records of Open Klant onderwerpobjecten into ' +
      'zaak-gekoppeld and zaak-ontkoppeld CloudEvents on Kafka.',
  );

program
  .command('run')
  .description('Run the processor until SIGTERM or SIGINT.')
  .addHelpText('after', environmentHelp)
  .action(runProcessor);

async function runProcessor(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nRun "openklant-cdc run --help" for all settings.\n`);
      process.exit(2);
    }
    throw error;
  }

  const logger = createLogger(config.logLevel);
  const processor = new Processor(config, logger, new Metrics());
  processor.onFatal = () => {
    processor.stop().finally(() => process.exit(1));
  };
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal received, exiting without a clean shutdown');
      process.exit(130);
    }
    logger.info({ signal }, 'signal received, shutting down');
    processor.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    await processor.start();
  } catch (error) {
    logger.fatal({ err: error }, 'processor failed to start');
    await processor.stop().catch(() => undefined);
    process.exit(1);
  }
}

addDeadLetterCommand(program);

await program.parseAsync(process.argv);
