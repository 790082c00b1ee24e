import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  deleteConnector,
  registerConnector,
  snapshotOnly,
  streamWarmUpChange,
} from '../support/connect.js';
import { OpenKlantDatabase, zaakColumns, type InsertedRow } from '../support/database.js';
import {
  eventsAbout,
  eventsByZaak,
  expectedEvent,
  linkMoveUnlinkEvents,
} from '../support/expected.js';
import { rowIdOf, testKafka, TopicReader, waitFor, waitUntilProcessed } from '../support/kafka.js';
import {
  newProcessorSettings,
  ProcessorProcess,
  type ProcessorSettings,
} from '../support/processor-process.js';

const stack = inject('stack');
const kafka = testKafka(stack);
const suffix = randomUUID().slice(0, 8);
const connectorName = `test-plain-json-${suffix}`;
const topicPrefix = `testplain${suffix}`;
let admin: Admin;
let database: OpenKlantDatabase;
let input: TopicReader;
let settings: ProcessorSettings;
let processor: ProcessorProcess;
let klantcontactId: number;
let label: string;
let snapshotRow: InsertedRow;
const snapshotZaak = randomUUID();

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  database = new OpenKlantDatabase(stack);
  const klantcontact = await database.insertKlantcontact('Bezwaar WOZ-beschikking', 'KC-77');
  klantcontactId = klantcontact.id;
  label = klantcontact.label;
  snapshotRow = await database.insertOnderwerpobject(zaakColumns(klantcontactId, snapshotZaak));

  await registerConnector(stack, connectorName, {
    'topic.prefix': topicPrefix,
    'slot.name': `test_plain_${suffix}`,
    'publication.name': `test_plain_${suffix}`,
    'table.include.list': 'public.klantinteracties_onderwerpobject',
    'key.converter.schemas.enable': 'false',
    'value.converter.schemas.enable': 'false',
    ...snapshotOnly([snapshotRow.id]),
  });
  const topic = `${topicPrefix}.public.klantinteracties_onderwerpobject`;
  await waitFor('the connector to create its topic', async () =>
    (await admin.listTopics()).includes(topic) ? true : undefined,
  );
  input = await TopicReader.start(kafka, topic);
  // Rows written after the snapshot reached this row are streamed as changes.
  await waitFor('the snapshot to read the row written before the connector', () =>
    input.records.some((record) => rowIdOf(record.key) === snapshotRow.id) ? true : undefined,
  );
  await streamWarmUpChange(database, input, klantcontactId);

  settings = { ...newProcessorSettings(stack, 'plain-json'), inputTopic: topic };
  processor = ProcessorProcess.start(stack, settings);
  await processor.waitForLog((line) => line.msg === 'processor started');
}, 300_000);

afterAll(async () => {
  await processor?.stop();
  await input?.stop();
  await deleteConnector(stack, connectorName);
  await database?.close();
  await admin?.disconnect();
});

describe('JsonConverter without schemas', () => {
  it('records carry no schema wrapper', () => {
    const record = input.records.find((candidate) => candidate.value !== null)!;
    expect(JSON.parse(record.key!)).toEqual({ id: expect.any(Number) });
    expect(Object.keys(JSON.parse(record.value!))).toEqual(
      expect.arrayContaining(['before', 'after', 'source', 'op']),
    );
  });

  it('links, moves and unlinks a row', async () => {
    const oldZaak = randomUUID();
    const newZaak = randomUUID();
    const row = await database.insertOnderwerpobject(zaakColumns(klantcontactId, oldZaak));
    await database.updateOnderwerpobject(row.id, { objectId: newZaak });
    await database.deleteOnderwerpobject(row.id);

    await waitUntilProcessed(admin, input, settings.groupId, [{ id: row.id, changes: 3 }]);
    const output = await TopicReader.start(kafka, settings.outputTopic);
    const records = await output.readToEnd(admin);
    await output.stop();

    const events = eventsAbout(records, [row.uuid]);
    expect(events).toHaveLength(4);
    expect(eventsByZaak(events)).toEqual(
      linkMoveUnlinkEvents(settings, { uuid: row.uuid, oldZaak, newZaak, label: label }),
    );
  });

  it('seeds state from the snapshot without events, then unlinks', async () => {
    await database.deleteOnderwerpobject(snapshotRow.id);

    await waitUntilProcessed(admin, input, settings.groupId, [{ id: snapshotRow.id, changes: 2 }]);
    const output = await TopicReader.start(kafka, settings.outputTopic);
    const records = await output.readToEnd(admin);
    await output.stop();

    const snapshotRead = input.records.find((record) => rowIdOf(record.key) === snapshotRow.id)!;
    expect(JSON.parse(snapshotRead.value!).op).toBe('r');
    expect(eventsAbout(records, [snapshotRow.uuid])).toEqual([
      expectedEvent(settings, 'zaak-ontkoppeld', snapshotZaak, snapshotRow.uuid, label),
    ]);
  });

  it('emits gekoppeld for snapshot reads when asked to', async () => {
    const eager = {
      ...newProcessorSettings(stack, 'snapshot-events'),
      inputTopic: settings.inputTopic,
      extra: { SNAPSHOT_EMITS_EVENTS: 'true' },
    };
    const second = ProcessorProcess.start(stack, eager);
    try {
      await waitUntilProcessed(admin, input, eager.groupId, [{ id: snapshotRow.id, changes: 2 }]);
      const output = await TopicReader.start(kafka, eager.outputTopic);
      const records = await output.readToEnd(admin);
      await output.stop();

      expect(eventsAbout(records, [snapshotRow.uuid])).toEqual([
        expectedEvent(eager, 'zaak-gekoppeld', snapshotZaak, snapshotRow.uuid, label),
        expectedEvent(eager, 'zaak-ontkoppeld', snapshotZaak, snapshotRow.uuid, label),
      ]);
    } finally {
      await second.stop();
    }
  });
});
