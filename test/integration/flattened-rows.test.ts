import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  deleteConnector,
  extractNewRecordState,
  registerConnector,
  snapshotOnly,
  streamWarmUpChange,
} from '../support/connect.js';
import { OpenKlantDatabase, zaakColumns, type InsertedRow } from '../support/database.js';
import { expectedEvent, eventsAbout, eventsByZaak, type EventType } from '../support/expected.js';
import {
  rowIdOf,
  testKafka,
  TopicReader,
  waitFor,
  waitUntilProcessed,
  type ConsumedRecord,
} from '../support/kafka.js';
import {
  newProcessorSettings,
  ProcessorProcess,
  type ProcessorSettings,
} from '../support/processor-process.js';

const stack = inject('stack');
const kafka = testKafka(stack);
const suffix = randomUUID().slice(0, 8);
const connectorName = `test-flattened-${suffix}`;
const slot = `test_flattened_${suffix}`;
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
  const klantcontact = await database.insertKlantcontact('Melding openbare ruimte', 'KC-314');
  klantcontactId = klantcontact.id;
  label = klantcontact.label;
  snapshotRow = await database.insertOnderwerpobject(zaakColumns(klantcontactId, snapshotZaak));

  const topicPrefix = `testflat${suffix}`;
  await registerConnector(stack, connectorName, {
    'topic.prefix': topicPrefix,
    'slot.name': slot,
    'publication.name': slot,
    'table.include.list': 'public.klantinteracties_onderwerpobject',
    'key.converter.schemas.enable': 'false',
    'value.converter.schemas.enable': 'false',
    ...snapshotOnly([snapshotRow.id]),
    ...extractNewRecordState({
      deleteHandling: 'rewrite',
      addFields: 'op,lsn,txId,sequence,source.ts_ms',
    }),
  });
  const topic = `${topicPrefix}.public.klantinteracties_onderwerpobject`;
  await waitFor('the connector to create its topic', async () =>
    (await admin.listTopics()).includes(topic) ? true : undefined,
  );
  input = await TopicReader.start(kafka, topic);
  await waitFor('the snapshot to read the row written before the connector', () =>
    input.records.some((record) => rowIdOf(record.key) === snapshotRow.id) ? true : undefined,
  );
  await streamWarmUpChange(database, input, klantcontactId);

  settings = { ...newProcessorSettings(stack, 'flattened'), inputTopic: topic };
  processor = ProcessorProcess.start(stack, settings);
  await processor.waitForLog((line) => line.msg === 'processor started');
}, 300_000);

afterAll(async () => {
  await processor?.stop();
  await input?.stop();
  await deleteConnector(stack, connectorName);
  await database?.pool.query(`DROP PUBLICATION IF EXISTS ${slot}`);
  await database?.close();
  await admin?.disconnect();
});

/** Returns the flattened rows that the connector wrote for a row, in order. */
function flattenedRows(id: number): Record<string, unknown>[] {
  return input.records
    .filter((record: ConsumedRecord) => rowIdOf(record.key) === id && record.value !== null)
    .map((record) => JSON.parse(record.value!) as Record<string, unknown>);
}

/** Returns the expected event, whose `time` is the commit time of the change that caused it. */
function eventAt(change: Record<string, unknown>, type: EventType, zaak: string, rowUuid: string) {
  const expected = expectedEvent(settings, type, zaak, rowUuid, label);
  const time = new Date(change.__source_ts_ms as number).toISOString().replace(/\.\d+Z$/, 'Z');
  return { ...expected, event: { ...expected.event, time } };
}

async function publishedAbout(rows: { id: number; uuid: string; changes: number }[]) {
  await waitUntilProcessed(admin, input, settings.groupId, rows);
  const output = await TopicReader.start(kafka, settings.outputTopic);
  const records = await output.readToEnd(admin);
  await output.stop();
  return eventsAbout(
    records,
    rows.map((row) => row.uuid),
  );
}

describe('rows flattened by ExtractNewRecordState', () => {
  it('carry no envelope', () => {
    const [read] = flattenedRows(snapshotRow.id);
    expect(read).toEqual({
      id: snapshotRow.id,
      uuid: snapshotRow.uuid,
      klantcontact_id: klantcontactId,
      was_klantcontact_id: null,
      onderwerpobjectidentificator_object_id: snapshotZaak,
      onderwerpobjectidentificator_code_objecttype: 'zaak',
      onderwerpobjectidentificator_code_register: 'open-zaak',
      onderwerpobjectidentificator_code_soort_object_id: 'uuid',
      __deleted: 'false',
      __op: 'r',
      __lsn: expect.any(Number),
      __txId: expect.any(Number),
      __sequence: expect.stringMatching(/^\[(null|"\d+"),"\d+"\]$/),
      __source_ts_ms: expect.any(Number),
    });
  });

  it('link, move and unlink a row', async () => {
    const oldZaak = randomUUID();
    const newZaak = randomUUID();
    const row = await database.insertOnderwerpobject(zaakColumns(klantcontactId, oldZaak));
    await database.updateOnderwerpobject(row.id, { objectId: newZaak });
    await database.deleteOnderwerpobject(row.id);

    const events = await publishedAbout([{ ...row, changes: 3 }]);

    const [created, moved, deleted] = flattenedRows(row.id);
    expect(deleted).toMatchObject({ __op: 'd', __deleted: 'true' });
    expect(eventsByZaak(events)).toEqual(
      new Map([
        [
          oldZaak,
          [
            eventAt(created!, 'zaak-gekoppeld', oldZaak, row.uuid),
            eventAt(moved!, 'zaak-ontkoppeld', oldZaak, row.uuid),
          ],
        ],
        [
          newZaak,
          [
            eventAt(moved!, 'zaak-gekoppeld', newZaak, row.uuid),
            eventAt(deleted!, 'zaak-ontkoppeld', newZaak, row.uuid),
          ],
        ],
      ]),
    );
    expect(events).toHaveLength(4);
  });

  it('seed the state from the snapshot without events, then unlink', async () => {
    await database.deleteOnderwerpobject(snapshotRow.id);

    const events = await publishedAbout([{ ...snapshotRow, changes: 2 }]);

    const [, deleted] = flattenedRows(snapshotRow.id);
    expect(events).toEqual([eventAt(deleted!, 'zaak-ontkoppeld', snapshotZaak, snapshotRow.uuid)]);
  });
});
