import { randomUUID } from 'node:crypto';
import type avro from 'avsc';
import type { Admin, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTopicsWithLeaders } from '../../src/topics.js';
import {
  avroConverter,
  RawTopicReader,
  registrySkipReason,
  registryUrlsOf,
  WireFormat,
  type RawRecord,
} from '../support/avro.js';
import { deleteConnector, registerConnector } from '../support/connect.js';
import { OpenKlantDatabase, zaakColumns, type InsertedRow } from '../support/database.js';
import { eventsAbout, eventsByZaak, expectedEvent } from '../support/expected.js';
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
  await createTopicsWithLeaders(admin, [
    { topic: settings.inputTopic, numPartitions: 3, replicationFactor: 1 },
  ]);
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

describe('dead-letter topic with JSON input', () => {
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

  it('dead-letters an oversized burst', async () => {
    // 3,000 small bad records, then one of 1,000,000 bytes: together their dead letters exceed
    // the broker's default limit of 1,048,588 bytes for one record batch.
    const burst = Array.from({ length: 3_000 }, (_, index) => ({
      partition: 1,
      key: '{"id":1}',
      value: `not json ${index}`,
    }));
    const large = { partition: 1, key: '{"id":2}', value: `{"after":"${'x'.repeat(999_980)}` };
    await producer.send({ topic: settings.inputTopic, messages: burst });
    await producer.send({ topic: settings.inputTopic, messages: [large] });

    await waitFor(
      'the group to commit past the burst',
      async () => {
        const [committed] = await admin.fetchOffsets({
          groupId: settings.groupId,
          topics: [settings.inputTopic],
        });
        const offset = committed!.partitions.find((entry) => entry.partition === 1)?.offset;
        return offset === '3001' ? true : undefined;
      },
      120_000,
    );
    const deadLetters = await TopicReader.start(kafka, `${settings.groupId}-dead-letter`);
    const letters = (await deadLetters.readToEnd(admin)).filter(
      (letter) => letter.headers['deadletter.source.partition'] === '1',
    );
    await deadLetters.stop();

    expect(letters.map((letter) => letter.headers['deadletter.source.offset'])).toEqual(
      Array.from({ length: 3_001 }, (_, offset) => String(offset)),
    );
    expect(letters.map((letter) => letter.value)).toEqual([
      ...burst.map((record) => record.value),
      large.value,
    ]);
  });
});

const registryUrls = registryUrlsOf(stack);
const skipReason = registrySkipReason;

/** Returns a copy of a Debezium value schema in which the row's `klantcontact_id` is a string. */
function withStringKlantcontactId(schema: avro.Schema): avro.Schema {
  const copy = structuredClone(schema) as unknown;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (typeof node !== 'object' || node === null) {
      return;
    }
    const record = node as { fields?: { name: string; type: unknown; default?: unknown }[] };
    for (const field of record.fields ?? []) {
      if (field.name === 'klantcontact_id') {
        field.type = ['null', 'string'];
        field.default = null;
      } else {
        visit(field.type);
      }
    }
  };
  visit(copy);
  return copy as avro.Schema;
}

describe.skipIf(registryUrls === undefined)(
  `dead-letter topic with Avro input${registryUrls === undefined ? ` (${skipReason})` : ''}`,
  () => {
    const suffix = randomUUID().slice(0, 8);
    const connectorName = `test-dead-letter-avro-${suffix}`;
    const slot = `test_dead_letter_avro_${suffix}`;
    const topicPrefix = `testdeadletteravro${suffix}`;
    const oldZaak = randomUUID();
    const newZaak = randomUUID();
    let database: OpenKlantDatabase;
    let wire: WireFormat;
    let avroSettings: ProcessorSettings;
    let avroProcessor: ProcessorProcess;
    let label: string;
    let row: InsertedRow;
    let created: RawRecord;
    let moved: RawRecord;

    beforeAll(async () => {
      database = new OpenKlantDatabase(stack);
      wire = new WireFormat(registryUrls!.confluent);
      await registerConnector(stack, connectorName, {
        'topic.prefix': topicPrefix,
        'slot.name': slot,
        'publication.name': slot,
        'table.include.list':
          'public.klantinteracties_onderwerpobject,public.klantinteracties_klantcontact',
        'snapshot.mode': 'no_data',
        ...avroConverter('key', registryUrls!.apicurio),
        ...avroConverter('value', registryUrls!.apicurio),
      });
      await database.waitForReplicationSlot(slot);

      const klantcontact = await database.insertKlantcontact('Kapotte lantaarnpaal', 'KC-7301');
      label = klantcontact.label;
      row = await database.insertOnderwerpobject(zaakColumns(klantcontact.id, oldZaak));
      await database.updateOnderwerpobject(row.id, { objectId: newZaak });

      const onderwerpobjectTopic = `${topicPrefix}.public.klantinteracties_onderwerpobject`;
      await waitFor('the connector to create its topic', async () =>
        (await admin.listTopics()).includes(onderwerpobjectTopic) ? true : undefined,
      );
      const connectorOutput = await RawTopicReader.start(kafka, onderwerpobjectTopic);
      const changes = await waitFor('the Avro records of the row', async () => {
        const ofRow: RawRecord[] = [];
        for (const record of connectorOutput.records) {
          const key = record.key === null ? null : await wire.decode(record.key);
          if (String(key?.id) === String(row.id) && record.value !== null) {
            ofRow.push(record);
          }
        }
        return ofRow.length >= 2 ? ofRow : undefined;
      });
      await connectorOutput.stop();
      [created, moved] = changes as [RawRecord, RawRecord];

      avroSettings = newProcessorSettings(stack, 'dead-letter-avro');
      avroSettings.inputTopic = `${avroSettings.groupId}.input`;
      avroSettings.extra = {
        INPUT_FORMAT: 'avro',
        SCHEMA_REGISTRY_URL: registryUrls!.confluent,
        KLANTCONTACT_TOPIC: `${topicPrefix}.public.klantinteracties_klantcontact`,
      };
      await createTopicsWithLeaders(admin, [
        { topic: avroSettings.inputTopic, numPartitions: 3, replicationFactor: 1 },
      ]);
      avroProcessor = ProcessorProcess.start(stack, avroSettings);
      await avroProcessor.waitForLog((line) => line.msg === 'processor started');
    }, 300_000);

    afterAll(async () => {
      await avroProcessor?.stop();
      await deleteConnector(stack, connectorName);
      // Debezium drops the slot when the connector stops, but not the publication it created.
      await database?.pool.query(`DROP PUBLICATION IF EXISTS ${slot}`);
      await database?.close();
    });

    it('dead-letters five kinds of bad record', async () => {
      const value = created.value!;
      const decoded = await wire.decode(value);
      const schemaId = WireFormat.schemaIdOf(value);
      const wrongTypeId = await wire.register(
        `${avroSettings.groupId}-wrong-type-value`,
        withStringKlantcontactId(await wire.schema(schemaId)),
      );
      const after = decoded.after as Record<string, unknown>;
      const badRecords = [
        {
          name: 'malformed JSON',
          code: 'INVALID_AVRO',
          value: Buffer.from('{"before":null,"after":'),
        },
        {
          name: 'truncated Avro',
          code: 'INVALID_AVRO',
          value: value.subarray(0, value.length - 10),
        },
        {
          name: 'unknown schema id',
          // The magic byte, then a schema id that the registry never gave out.
          code: 'UNKNOWN_SCHEMA',
          value: Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0xfe]), value.subarray(5)]),
        },
        {
          name: 'unknown op',
          code: 'INVALID_ENVELOPE',
          value: await wire.encode(schemaId, { ...decoded, op: 'z' }),
        },
        {
          name: 'value of the wrong type',
          code: 'INVALID_ROW',
          value: await wire.encode(wrongTypeId, {
            ...decoded,
            after: { ...after, klantcontact_id: 'KC-7301' },
          }),
        },
      ];
      const deadLetters = await RawTopicReader.start(kafka, `${avroSettings.groupId}-dead-letter`);
      const output = await TopicReader.start(kafka, avroSettings.outputTopic);

      await producer.send({
        topic: avroSettings.inputTopic,
        messages: [
          { partition: 0, key: created.key, value: created.value },
          ...badRecords.map((record) => ({
            partition: 0,
            key: created.key,
            value: record.value,
            headers: { 'test-record': record.name },
          })),
          { partition: 0, key: moved.key, value: moved.value },
        ],
      });
      await waitFor(
        'the dead letters',
        () => (deadLetters.records.length >= badRecords.length ? true : undefined),
        90_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}. Processor output:\n${avroProcessor.output()}`);
      });
      const events = await waitFor(
        'the events of the valid records',
        () => {
          const found = eventsAbout(output.records, [row.uuid]);
          return found.length >= 3 ? found : undefined;
        },
        90_000,
      );
      await deadLetters.stop();
      await output.stop();

      expect(deadLetters.records).toEqual(
        badRecords.map((record, index) => ({
          partition: expect.any(Number),
          offset: expect.any(String),
          key: created.key,
          value: record.value,
          headers: {
            'test-record': record.name,
            'deadletter.error.code': record.code,
            'deadletter.error.message': expect.any(String),
            'deadletter.source.topic': avroSettings.inputTopic,
            'deadletter.source.partition': '0',
            'deadletter.source.offset': String(index + 1),
            'deadletter.source.timestamp': expect.stringMatching(/^\d+$/),
          },
        })),
      );
      expect(eventsByZaak(events)).toEqual(
        new Map([
          [
            oldZaak,
            [
              expectedEvent(avroSettings, 'zaak-gekoppeld', oldZaak, row.uuid, label),
              expectedEvent(avroSettings, 'zaak-ontkoppeld', oldZaak, row.uuid, label),
            ],
          ],
          [newZaak, [expectedEvent(avroSettings, 'zaak-gekoppeld', newZaak, row.uuid, label)]],
        ]),
      );
      const warnings = avroProcessor.logs.filter(
        (line) => line.msg === 'record sent to dead-letter topic',
      );
      expect(warnings.map((line) => [line.code, line.offset, line.partition])).toEqual(
        badRecords.map((record, index) => [record.code, String(index + 1), 0]),
      );
    });
  },
);
