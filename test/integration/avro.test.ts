import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  avroConverter,
  RawTopicReader,
  registrySkipReason,
  registryUrlsOf,
  WireFormat,
  type RawRecord,
} from '../support/avro.js';
import { deleteConnector, registerConnector } from '../support/connect.js';
import { OpenKlantDatabase, zaakColumns } from '../support/database.js';
import { eventsAbout, eventsByZaak, linkMoveUnlinkEvents } from '../support/expected.js';
import { testKafka, TopicReader, waitFor } from '../support/kafka.js';
import {
  newProcessorSettings,
  ProcessorProcess,
  type ProcessorSettings,
} from '../support/processor-process.js';

const stack = inject('stack');
const registryUrls = registryUrlsOf(stack);
const skipReason = registrySkipReason;

const kafka = testKafka(stack);
const suffix = randomUUID().slice(0, 8);
const connectorName = `test-avro-${suffix}`;
const topicPrefix = `testavro${suffix}`;
const onderwerpobjectTopic = `${topicPrefix}.public.klantinteracties_onderwerpobject`;
const klantcontactTopic = `${topicPrefix}.public.klantinteracties_klantcontact`;
let admin: Admin;
let database: OpenKlantDatabase;
let rawInput: RawTopicReader;
let wire: WireFormat;
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

/** Waits until the connector has written `count` changes of the row, then returns them. */
async function changesOfRow(id: number, count: number): Promise<RawRecord[]> {
  return waitFor(`${count} Avro records of row ${id}`, async () => {
    const changes: RawRecord[] = [];
    for (const record of rawInput.records) {
      const key = record.key === null ? null : await wire.decode(record.key);
      if (String(key?.id) === String(id) && record.value !== null) {
        changes.push(record);
      }
    }
    return changes.length >= count ? changes : undefined;
  });
}

/** Returns the column names of the row schema that a record's value was written with. */
async function columnsOfSchema(record: RawRecord): Promise<string[]> {
  const schema = (await wire.schema(WireFormat.schemaIdOf(record.value!))) as {
    fields: { name: string; type: unknown }[];
  };
  const before = schema.fields.find((field) => field.name === 'before')!;
  const row = (before.type as unknown[]).find(
    (type): type is { fields: { name: string }[] } => typeof type === 'object' && type !== null,
  )!;
  return row.fields.map((field) => field.name);
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
  wire = new WireFormat(registryUrls.confluent);
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
        linkMoveUnlinkEvents(settings, { uuid: row.uuid, oldZaak, newZaak, label: label }),
      );
    });

    it('decodes changes across an added and a dropped column', async () => {
      // Debezium writes numeric as VariableScaleDecimal, numeric(10, 2) as an Avro decimal and
      // timestamp as MicroTimestamp, so the records also carry those logical types.
      const variableDecimal = `test_avro_kept_${suffix}`;
      const fixedDecimal = `test_avro_amount_${suffix}`;
      const droppedTimestamp = `test_avro_dropped_${suffix}`;
      const klantcontact = await database.insertKlantcontact('Schema-evolutie', null);
      const oldZaak = randomUUID();
      const newZaak = randomUUID();
      await database.pool.query(
        `ALTER TABLE klantinteracties_onderwerpobject ADD COLUMN ${variableDecimal} numeric,
           ADD COLUMN ${fixedDecimal} numeric(10, 2), ADD COLUMN ${droppedTimestamp} timestamp`,
      );
      try {
        const row = await database.insertOnderwerpobject(zaakColumns(klantcontact.id, oldZaak));
        await database.pool.query(
          `UPDATE klantinteracties_onderwerpobject
             SET ${variableDecimal} = 12.345, ${fixedDecimal} = 99.95, ${droppedTimestamp} = '2026-12-04 10:15:30.123456'
           WHERE id = $1`,
          [row.id],
        );
        await database.pool.query(
          `ALTER TABLE klantinteracties_onderwerpobject DROP COLUMN ${droppedTimestamp}`,
        );
        await database.updateOnderwerpobject(row.id, { objectId: newZaak });
        await database.deleteOnderwerpobject(row.id);

        const events = await eventsOfRow(row.uuid, 4);

        const label = klantcontact.label;
        expect(eventsByZaak(events)).toEqual(
          linkMoveUnlinkEvents(settings, { uuid: row.uuid, oldZaak, newZaak, label: label }),
        );
        const [created, , moved] = await changesOfRow(row.id, 4);
        expect(await columnsOfSchema(created!)).toEqual(
          expect.arrayContaining([variableDecimal, fixedDecimal, droppedTimestamp]),
        );
        const writerSchema = JSON.stringify(
          await wire.schema(WireFormat.schemaIdOf(created!.value!)),
        );
        expect(writerSchema).toContain('"connect.name":"io.debezium.data.VariableScaleDecimal"');
        expect(writerSchema).toContain('"logicalType":"decimal"');
        expect(writerSchema).toContain('"connect.name":"io.debezium.time.MicroTimestamp"');
        const afterDrop = await columnsOfSchema(moved!);
        expect(afterDrop).toContain(variableDecimal);
        expect(afterDrop).not.toContain(droppedTimestamp);
      } finally {
        await database.pool.query(
          `ALTER TABLE klantinteracties_onderwerpobject DROP COLUMN IF EXISTS ${variableDecimal},
             DROP COLUMN IF EXISTS ${fixedDecimal}, DROP COLUMN IF EXISTS ${droppedTimestamp}`,
        );
      }
    });
  },
);
