import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { avroConverter, RawTopicReader } from '../support/avro.js';
import { deleteConnector, registerConnector } from '../support/connect.js';
import { OpenKlantDatabase, zaakColumns } from '../support/database.js';
import { eventsAbout, eventsByZaak, expectedEvent } from '../support/expected.js';
import { testKafka, TopicReader, waitFor } from '../support/kafka.js';
import {
  newProcessorSettings,
  ProcessorProcess,
  type ProcessorSettings,
} from '../support/processor-process.js';

const stack = inject('stack');
const registryUrls =
  stack.schemaRegistryUrl !== undefined && stack.apicurioRegistryUrl !== undefined
    ? { confluent: stack.schemaRegistryUrl, apicurio: stack.apicurioRegistryUrl }
    : undefined;
const skipReason =
  'skipped: the stack has no SCHEMA_REGISTRY_URL and APICURIO_REGISTRY_URL ' +
  '(start it with STACK_REGISTRY=apicurio deploy/local/stack up)';

const kafka = testKafka(stack);
const suffix = randomUUID().slice(0, 8);
const connectorName = `test-avro-${suffix}`;
const topicPrefix = `testavro${suffix}`;
const onderwerpobjectTopic = `${topicPrefix}.public.klantinteracties_onderwerpobject`;
const klantcontactTopic = `${topicPrefix}.public.klantinteracties_klantcontact`;
let admin: Admin;
let database: OpenKlantDatabase;
let rawInput: RawTopicReader;
let output: TopicReader;
let settings: ProcessorSettings;
let processor: ProcessorProcess;

/** Waits until the output contains `count` events about the row, then returns them. */
async function eventsOfRow(rowUuid: string, count: number) {
  return waitFor(
    `${count} events about row ${rowUuid}`,
    () => {
      const events = eventsAbout(output.records, [rowUuid]);
      return events.length >= count ? events : undefined;
    },
    90_000,
  );
}

beforeAll(async () => {
  if (registryUrls === undefined) {
    return;
  }
  admin = kafka.admin();
  await admin.connect();
  database = new OpenKlantDatabase(stack);

  await registerConnector(stack, connectorName, {
    'topic.prefix': topicPrefix,
    'slot.name': `test_avro_${suffix}`,
    'publication.name': `test_avro_${suffix}`,
    'table.include.list':
      'public.klantinteracties_onderwerpobject,public.klantinteracties_klantcontact',
    'snapshot.mode': 'no_data',
    ...avroConverter('key', registryUrls.apicurio),
    ...avroConverter('value', registryUrls.apicurio),
  });
  // With no_data, Debezium creates a topic at the first change of its table.
  const klantcontact = await database.insertKlantcontact('Vraag over Avro', 'KC-4040');
  const seed = await database.insertOnderwerpobject(zaakColumns(klantcontact.id, randomUUID()));
  await database.deleteOnderwerpobject(seed.id);
  await waitFor('the connector to create its topics', async () => {
    const topics = await admin.listTopics();
    return topics.includes(onderwerpobjectTopic) && topics.includes(klantcontactTopic)
      ? true
      : undefined;
  });

  rawInput = await RawTopicReader.start(kafka, onderwerpobjectTopic);
  settings = {
    ...newProcessorSettings(stack, 'avro'),
    inputTopic: onderwerpobjectTopic,
    extra: {
      INPUT_FORMAT: 'avro',
      SCHEMA_REGISTRY_URL: registryUrls.confluent,
      KLANTCONTACT_TOPIC: klantcontactTopic,
    },
  };
  processor = ProcessorProcess.start(stack, settings);
  await processor.waitForLog((line) => line.msg === 'processor started');
  output = await TopicReader.start(kafka, settings.outputTopic);
}, 300_000);

afterAll(async () => {
  await processor?.stop();
  await output?.stop();
  await rawInput?.stop();
  if (registryUrls !== undefined) {
    await deleteConnector(stack, connectorName);
    // Debezium drops the slot when the connector stops, but not the publication it created.
    await database?.pool.query(`DROP PUBLICATION IF EXISTS test_avro_${suffix}`);
  }
  await database?.close();
  await admin?.disconnect();
});

describe.skipIf(registryUrls === undefined)(
  `Avro input${registryUrls === undefined ? ` (${skipReason})` : ''}`,
  () => {
    it('records use the Confluent wire format', async () => {
      await waitFor('an Avro record of the onderwerpobject topic', () =>
        rawInput.records.length > 0 ? true : undefined,
      );
      const { key, value } = rawInput.records.find((record) => record.value !== null)!;
      expect(key![0]).toBe(0);
      expect(value![0]).toBe(0);
      const schemaId = value!.readUInt32BE(1);
      const schema = await fetch(`${registryUrls!.confluent}/schemas/ids/${schemaId}`);
      expect(schema.status).toBe(200);
    });

    it('links, moves and unlinks a row with its label', async () => {
      const klantcontact = await database.insertKlantcontact('Parkeervergunning', 'KC-5150');
      const oldZaak = randomUUID();
      const newZaak = randomUUID();
      const row = await database.insertOnderwerpobject(zaakColumns(klantcontact.id, oldZaak));
      await database.updateOnderwerpobject(row.id, { objectId: newZaak });
      await database.deleteOnderwerpobject(row.id);

      const events = await eventsOfRow(row.uuid, 4);

      expect(events).toHaveLength(4);
      const label = klantcontact.label;
      expect(eventsByZaak(events)).toEqual(
        new Map([
          [
            oldZaak,
            [
              expectedEvent(settings, 'zaak-gekoppeld', oldZaak, row.uuid, label),
              expectedEvent(settings, 'zaak-ontkoppeld', oldZaak, row.uuid, label),
            ],
          ],
          [
            newZaak,
            [
              expectedEvent(settings, 'zaak-gekoppeld', newZaak, row.uuid, label),
              expectedEvent(settings, 'zaak-ontkoppeld', newZaak, row.uuid, label),
            ],
          ],
        ]),
      );
    });

    it('decodes changes after a column is added', async () => {
      const column = `test_avro_${suffix}`;
      const klantcontact = await database.insertKlantcontact('Schema-evolutie', null);
      const zaak = randomUUID();
      await database.pool.query(
        `ALTER TABLE klantinteracties_onderwerpobject ADD COLUMN ${column} text`,
      );
      try {
        const row = await database.insertOnderwerpobject(zaakColumns(klantcontact.id, zaak));
        await database.pool.query(
          `UPDATE klantinteracties_onderwerpobject SET ${column} = 'nieuw' WHERE id = $1`,
          [row.id],
        );
        await database.deleteOnderwerpobject(row.id);

        const events = await eventsOfRow(row.uuid, 2);

        expect(events).toEqual([
          expectedEvent(settings, 'zaak-gekoppeld', zaak, row.uuid, klantcontact.label),
          expectedEvent(settings, 'zaak-ontkoppeld', zaak, row.uuid, klantcontact.label),
        ]);
        const schemaIds = new Set(
          rawInput.records
            .filter((record) => record.value !== null)
            .map((record) => record.value!.readUInt32BE(1)),
        );
        expect(schemaIds.size).toBeGreaterThan(1);
      } finally {
        await database.pool.query(
          `ALTER TABLE klantinteracties_onderwerpobject DROP COLUMN IF EXISTS ${column}`,
        );
      }
    });
  },
);
