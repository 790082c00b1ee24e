import type { Admin, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fixture } from '../support/fixtures.js';
import { testKafka, TopicReader, waitFor } from '../support/kafka.js';
import {
  newProcessorSettings,
  ProcessorProcess,
  type ProcessorSettings,
} from '../support/processor-process.js';

const stack = inject('stack');
const kafka = testKafka(stack);
let admin: Admin;
let producer: Producer;
let settings: ProcessorSettings;
let processor: ProcessorProcess;

const created = fixture('without-schemas.json', 'create linked');
const moved = fixture('without-schemas.json', 'update zaak');
const createdEnvelope = JSON.parse(created.value!);

const badRecords = [
  {
    name: 'malformed JSON',
    code: 'INVALID_JSON',
    key: created.key,
    value: '{"before":null,"after":',
  },
  {
    name: 'unknown op',
    code: 'INVALID_ENVELOPE',
    key: created.key,
    value: JSON.stringify({ ...createdEnvelope, op: 'z' }),
  },
  {
    name: 'value of the wrong type',
    code: 'INVALID_ROW',
    key: created.key,
    value: JSON.stringify({
      ...createdEnvelope,
      after: { ...createdEnvelope.after, klantcontact_id: { id: 4 } },
    }),
  },
  { name: 'key without id', code: 'INVALID_KEY', key: '{"pk":1}', value: created.value! },
];

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  settings = newProcessorSettings(stack, 'dead-letter');
  settings.inputTopic = `${settings.groupId}.input`;
  // The recorded records name klantcontacten this stack may not have; their labels are not
  // what this test checks.
  settings.extra = { LABEL_WAIT_MS: '1000' };
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic: settings.inputTopic, numPartitions: 3, replicationFactor: 1 }],
  });
  producer = kafka.producer();
  await producer.connect();
  processor = ProcessorProcess.start(stack, settings);
  await processor.waitForLog((line) => line.msg === 'processor started');
});

afterAll(async () => {
  await processor?.stop();
  await producer?.disconnect();
  await admin?.disconnect();
});

describe('dead-letter topic', () => {
  it('takes bad records with their headers while valid ones are processed', async () => {
    await producer.send({
      topic: settings.inputTopic,
      messages: [
        { partition: 0, key: created.key, value: created.value },
        ...badRecords.map((record) => ({
          partition: 0,
          key: record.key,
          value: record.value,
          headers: { 'test-record': record.name },
        })),
        { partition: 0, key: moved.key, value: moved.value },
      ],
    });

    const deadLetters = await TopicReader.start(kafka, `${settings.groupId}-dead-letter`);
    const output = await TopicReader.start(kafka, settings.outputTopic);
    await waitFor('the dead letters', () =>
      deadLetters.records.length >= badRecords.length ? true : undefined,
    );
    await waitFor('the events of the valid records', () =>
      output.records.length >= 3 ? true : undefined,
    );
    await deadLetters.stop();
    await output.stop();

    const bySourceOffset = [...deadLetters.records].sort(
      (a, b) =>
        Number(a.headers['deadletter.source.offset']) -
        Number(b.headers['deadletter.source.offset']),
    );
    expect(bySourceOffset).toEqual(
      badRecords.map((record, index) => ({
        partition: expect.any(Number),
        offset: expect.any(String),
        key: record.key,
        value: record.value,
        headers: {
          'test-record': record.name,
          'deadletter.error.code': record.code,
          'deadletter.error.message': expect.any(String),
          'deadletter.source.topic': settings.inputTopic,
          'deadletter.source.partition': '0',
          'deadletter.source.offset': String(index + 1),
          'deadletter.source.timestamp': expect.stringMatching(/^\d+$/),
        },
      })),
    );
    const firstZaak = createdEnvelope.after.onderwerpobjectidentificator_object_id;
    const secondZaak = JSON.parse(moved.value!).after.onderwerpobjectidentificator_object_id;
    const typesOf = (zaak: string) =>
      output.records
        .filter((record) => record.key === zaak)
        .map((record) => JSON.parse(record.value!).type);
    expect(output.records).toHaveLength(3);
    expect(typesOf(firstZaak)).toEqual([
      'nl.overheid.zaken.zaak-gekoppeld',
      'nl.overheid.zaken.zaak-ontkoppeld',
    ]);
    expect(typesOf(secondZaak)).toEqual(['nl.overheid.zaken.zaak-gekoppeld']);
    const warnings = processor.logs.filter(
      (line) => line.msg === 'record sent to dead-letter topic',
    );
    expect(warnings.map((line) => [line.code, line.offset, line.partition])).toEqual(
      badRecords.map((record, index) => [record.code, String(index + 1), 0]),
    );
  });
});
