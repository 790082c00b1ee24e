import { describe, expect, it } from 'vitest';
import { loadConfig, loadReplayConfig } from '../../src/config.js';

const required = {
  KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:9092',
  CLOUDEVENTS_SOURCE: 'urn:nld:oin:01823288444:openklant',
  OPENKLANT_BASE_URL: 'https://openklant.example.nl/',
};

describe('loadConfig', () => {
  it('applies defaults', () => {
    expect(loadConfig(required)).toEqual({
      kafka: {
        brokers: ['127.0.0.1:9092'],
        clientId: 'openklant-zaak-cdc',
        groupId: 'openklant-zaak-cdc',
        sessionTimeoutMs: 30000,
        transactionTimeoutMs: 60000,
        replicationFactor: undefined,
      },
      topics: {
        input: 'openklant.public.klantinteracties_onderwerpobject',
        klantcontact: 'openklant.public.klantinteracties_klantcontact',
        output: 'openklant.zaak-cloudevents',
        changelog: 'openklant-zaak-cdc-link-state-changelog',
        deadLetter: 'openklant-zaak-cdc-dead-letter',
      },
      events: {
        source: 'urn:nld:oin:01823288444:openklant',
        openKlantBaseUrl: 'https://openklant.example.nl',
        snapshotEmitsEvents: false,
      },
      labels: { maxLength: 80, waitMs: 30000 },
      input: { format: 'json', schemaRegistryUrl: undefined },
      logLevel: 'info',
      metrics: { host: '127.0.0.1', port: 9464 },
    });
  });

  it('derives state topics from the group id', () => {
    const config = loadConfig({ ...required, KAFKA_GROUP_ID: 'gemeente-x' });
    expect(config.topics.changelog).toBe('gemeente-x-link-state-changelog');
    expect(config.topics.deadLetter).toBe('gemeente-x-dead-letter');
  });

  it('reads the Avro input settings', () => {
    const config = loadConfig({
      ...required,
      INPUT_FORMAT: 'avro',
      SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8080/apis/ccompat/v6/',
    });
    expect(config.input).toEqual({
      format: 'avro',
      schemaRegistryUrl: 'http://127.0.0.1:8080/apis/ccompat/v6',
    });
  });

  it('requires a registry URL with avro', () => {
    expect(() => loadConfig({ ...required, INPUT_FORMAT: 'avro' })).toThrow(
      'Environment variable SCHEMA_REGISTRY_URL is not set; expected the URL of the ' +
        'Confluent-compatible registry API, required with INPUT_FORMAT=avro.',
    );
  });

  it('rejects an unknown input format', () => {
    expect(() => loadConfig({ ...required, INPUT_FORMAT: 'protobuf' })).toThrow(
      'Environment variable INPUT_FORMAT is "protobuf"; expected one of json, avro.',
    );
  });

  it('rejects a registry URL that is not http', () => {
    expect(() =>
      loadConfig({ ...required, INPUT_FORMAT: 'avro', SCHEMA_REGISTRY_URL: 'registry:8080' }),
    ).toThrow('Environment variable SCHEMA_REGISTRY_URL is "registry:8080"; expected an absolute');
  });

  it.each([
    [
      'missing source',
      { CLOUDEVENTS_SOURCE: undefined },
      'Environment variable CLOUDEVENTS_SOURCE is not set; expected it to be set.',
    ],
    [
      'empty source',
      { CLOUDEVENTS_SOURCE: '' },
      'Environment variable CLOUDEVENTS_SOURCE is not set; expected it to be set.',
    ],
    [
      'source with spaces',
      { CLOUDEVENTS_SOURCE: 'open klant' },
      'Environment variable CLOUDEVENTS_SOURCE is "open klant"; expected a URI reference without whitespace.',
    ],
    [
      'relative base url',
      { OPENKLANT_BASE_URL: 'openklant.example.nl' },
      'Environment variable OPENKLANT_BASE_URL is "openklant.example.nl"; expected an absolute http(s) URL without query or fragment, e.g. https://openklant.example.nl.',
    ],
    [
      'base url with query',
      { OPENKLANT_BASE_URL: 'https://ok.example?x=1' },
      'Environment variable OPENKLANT_BASE_URL is "https://ok.example?x=1"; expected an absolute http(s) URL without query or fragment, e.g. https://openklant.example.nl.',
    ],
    [
      'broker without port',
      { KAFKA_BOOTSTRAP_SERVERS: 'kafka1' },
      'Environment variable KAFKA_BOOTSTRAP_SERVERS is "kafka1"; expected a comma-separated list of host:port.',
    ],
    [
      'topic with slash',
      { CLOUDEVENTS_TOPIC: 'zaak/events' },
      'Environment variable CLOUDEVENTS_TOPIC is "zaak/events"; expected a Kafka topic name: 1–249 of the characters a-z A-Z 0-9 . _ -.',
    ],
    [
      'unknown log level',
      { LOG_LEVEL: 'verbose' },
      'Environment variable LOG_LEVEL is "verbose"; expected one of fatal, error, warn, info, debug, trace.',
    ],
    [
      'session timeout not a number',
      { KAFKA_SESSION_TIMEOUT_MS: '30s' },
      'Environment variable KAFKA_SESSION_TIMEOUT_MS is "30s"; expected a whole number of milliseconds from 6000 to 1800000.',
    ],
    [
      'negative session timeout',
      { KAFKA_SESSION_TIMEOUT_MS: '-5' },
      'Environment variable KAFKA_SESSION_TIMEOUT_MS is "-5"; expected a whole number of milliseconds from 6000 to 1800000.',
    ],
    [
      'session timeout below the broker minimum',
      { KAFKA_SESSION_TIMEOUT_MS: '100' },
      'Environment variable KAFKA_SESSION_TIMEOUT_MS is "100"; expected a whole number of milliseconds from 6000 to 1800000.',
    ],
    [
      'session timeout in hexadecimal',
      { KAFKA_SESSION_TIMEOUT_MS: '0x2710' },
      'Environment variable KAFKA_SESSION_TIMEOUT_MS is "0x2710"; expected a whole number of milliseconds from 6000 to 1800000.',
    ],
    [
      'transaction timeout above the broker maximum',
      { KAFKA_TRANSACTION_TIMEOUT_MS: '900001' },
      'Environment variable KAFKA_TRANSACTION_TIMEOUT_MS is "900001"; expected a whole number of milliseconds from 1000 to 900000.',
    ],
    [
      'metrics port out of range',
      { METRICS_PORT: '70000' },
      'Environment variable METRICS_PORT is "70000"; expected a port number from 0 to 65535.',
    ],
    [
      'snapshot setting not a boolean',
      { SNAPSHOT_EMITS_EVENTS: 'yes' },
      'Environment variable SNAPSHOT_EMITS_EVENTS is "yes"; expected one of true, false.',
    ],
    [
      'zero replication factor',
      { KAFKA_TOPIC_REPLICATION_FACTOR: '0' },
      'Environment variable KAFKA_TOPIC_REPLICATION_FACTOR is "0"; expected a whole number from 1.',
    ],
  ])('rejects %s', (_name, change, message) => {
    expect(() => loadConfig({ ...required, ...change })).toThrow(message);
  });

  it('names every invalid variable', () => {
    const change = { OPENKLANT_BASE_URL: 'ftp://ok.example', METRICS_PORT: 'x' };
    expect(() => loadConfig({ ...required, ...change })).toThrow(
      'Environment variable OPENKLANT_BASE_URL is "ftp://ok.example"; expected an absolute ' +
        'http(s) URL without query or fragment, e.g. https://openklant.example.nl.\n' +
        'Environment variable METRICS_PORT is "x"; expected a port number from 0 to 65535.',
    );
  });
});

describe('loadReplayConfig', () => {
  it('needs no event settings', () => {
    const config = loadReplayConfig({
      KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:9092',
      KAFKA_GROUP_ID: 'gemeente-x',
    });
    expect(config).toEqual({
      kafka: {
        brokers: ['127.0.0.1:9092'],
        clientId: 'openklant-zaak-cdc',
        groupId: 'gemeente-x',
        sessionTimeoutMs: 30000,
        transactionTimeoutMs: 60000,
        replicationFactor: undefined,
      },
      topics: {
        input: 'openklant.public.klantinteracties_onderwerpobject',
        klantcontact: 'openklant.public.klantinteracties_klantcontact',
        output: 'openklant.zaak-cloudevents',
        changelog: 'gemeente-x-link-state-changelog',
        deadLetter: 'gemeente-x-dead-letter',
      },
      logLevel: 'info',
    });
  });

  it.each([
    [
      'missing bootstrap servers',
      { KAFKA_BOOTSTRAP_SERVERS: undefined },
      'Environment variable KAFKA_BOOTSTRAP_SERVERS is not set; expected it to be set.',
    ],
    [
      'invalid dead-letter topic',
      { DEAD_LETTER_TOPIC: 'dead letters' },
      'Environment variable DEAD_LETTER_TOPIC is "dead letters"; expected a Kafka topic name: 1–249 of the characters a-z A-Z 0-9 . _ -.',
    ],
    [
      'invalid source when set',
      { CLOUDEVENTS_SOURCE: 'open klant' },
      'Environment variable CLOUDEVENTS_SOURCE is "open klant"; expected a URI reference without whitespace.',
    ],
    [
      'invalid base url when set',
      { OPENKLANT_BASE_URL: 'openklant.example.nl' },
      'Environment variable OPENKLANT_BASE_URL is "openklant.example.nl"; expected an absolute http(s) URL without query or fragment, e.g. https://openklant.example.nl.',
    ],
  ])('rejects %s', (_name, change, message) => {
    expect(() => loadReplayConfig({ ...required, ...change })).toThrow(message);
  });
});
