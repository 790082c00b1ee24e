import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OpenKlantDatabase, zaakColumns } from '../support/database.js';
import { expectedEvent, eventsAbout, eventsByZaak } from '../support/expected.js';
import { testKafka, startGroupAtEnd, TopicReader, waitUntilProcessed } from '../support/kafka.js';
import {
  newProcessorSettings,
  ProcessorProcess,
  type ProcessorSettings,
} from '../support/processor-process.js';

const stack = inject('stack');
const kafka = testKafka(stack);
let admin: Admin;
let database: OpenKlantDatabase;
let settings: ProcessorSettings;
let processor: ProcessorProcess;
let input: TopicReader;
let output: TopicReader;
let klantcontactId: number;
let label: string;

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  database = new OpenKlantDatabase(stack);
  const klantcontact = await database.insertKlantcontact('Vraag over parkeervergunning', 'KC-1');
  klantcontactId = klantcontact.id;
  label = klantcontact.label;
  settings = newProcessorSettings(stack, 'link-events');
  await startGroupAtEnd(admin, settings.groupId, settings.inputTopic);
  processor = ProcessorProcess.start(stack, settings);
  await processor.waitForLog((line) => line.msg === 'processor started');
  input = await TopicReader.start(kafka, settings.inputTopic, 'end');
  output = await TopicReader.start(kafka, settings.outputTopic);
});

afterAll(async () => {
  await processor?.stop();
  await input?.stop();
  await output?.stop();
  await database?.close();
  await admin?.disconnect();
});

/** Waits until the processor has handled the rows' changes, then returns the events about them. */
async function publishedAbout(rows: { id: number; uuid: string; changes: number }[]) {
  await waitUntilProcessed(admin, input, settings.groupId, rows);
  const records = await output.readToEnd(admin);
  return eventsAbout(
    records,
    rows.map((row) => row.uuid),
  );
}

describe('link events from SQL writes', () => {
  it('creating a linked row emits gekoppeld', async () => {
    const zaak = randomUUID();
    const row = await database.insertOnderwerpobject(zaakColumns(klantcontactId, zaak));

    const events = await publishedAbout([{ ...row, changes: 1 }]);

    expect(events).toEqual([expectedEvent(settings, 'zaak-gekoppeld', zaak, row.uuid, label)]);
  });

  it('creating a non-zaak row emits nothing', async () => {
    const row = await database.insertOnderwerpobject({
      ...zaakColumns(klantcontactId, randomUUID()),
      objecttype: 'klant',
    });

    expect(await publishedAbout([{ ...row, changes: 1 }])).toEqual([]);
  });

  it('creating a zaak row without klantcontact emits nothing', async () => {
    const row = await database.insertOnderwerpobject({
      ...zaakColumns(klantcontactId, randomUUID()),
      klantcontactId: null,
    });

    expect(await publishedAbout([{ ...row, changes: 1 }])).toEqual([]);
  });

  it('creating several linked rows emits one event per row', async () => {
    const zaken = [randomUUID(), randomUUID(), randomUUID()];
    const rows = [];
    for (const zaak of zaken) {
      rows.push(await database.insertOnderwerpobject(zaakColumns(klantcontactId, zaak)));
    }

    const events = await publishedAbout(rows.map((row) => ({ ...row, changes: 1 })));

    const expected = rows.map((row, index) =>
      expectedEvent(settings, 'zaak-gekoppeld', zaken[index]!, row.uuid, label),
    );
    expect(events).toHaveLength(3);
    expect(events).toEqual(expect.arrayContaining(expected));
  });

  it('deleting a linked row emits ontkoppeld with the original data', async () => {
    const zaak = randomUUID();
    const row = await database.insertOnderwerpobject(zaakColumns(klantcontactId, zaak));
    await database.deleteOnderwerpobject(row.id);

    const events = await publishedAbout([{ ...row, changes: 2 }]);

    expect(events).toEqual([
      expectedEvent(settings, 'zaak-gekoppeld', zaak, row.uuid, label),
      expectedEvent(settings, 'zaak-ontkoppeld', zaak, row.uuid, label),
    ]);
    expect(events[1]!.event.data).toEqual(events[0]!.event.data);
  });

  it.each([
    ['a non-zaak row', { objecttype: 'klant' }],
    ['a row without klantcontact', { klantcontactId: null }],
    ['a row whose soort object id is not uuid', { soortObjectId: 'zaaknummer' }],
  ])('deleting %s emits nothing', async (_name, change) => {
    const row = await database.insertOnderwerpobject({
      ...zaakColumns(klantcontactId, randomUUID()),
      ...change,
    });
    await database.deleteOnderwerpobject(row.id);

    expect(await publishedAbout([{ ...row, changes: 2 }])).toEqual([]);
  });

  it('updating a linked row to a non-zaak row emits ontkoppeld', async () => {
    const zaak = randomUUID();
    const row = await database.insertOnderwerpobject(zaakColumns(klantcontactId, zaak));
    await database.updateOnderwerpobject(row.id, { objecttype: 'klant' });

    expect(await publishedAbout([{ ...row, changes: 2 }])).toEqual([
      expectedEvent(settings, 'zaak-gekoppeld', zaak, row.uuid, label),
      expectedEvent(settings, 'zaak-ontkoppeld', zaak, row.uuid, label),
    ]);
  });

  it('updating without changing the identificator emits nothing', async () => {
    const zaak = randomUUID();
    const row = await database.insertOnderwerpobject(zaakColumns(klantcontactId, zaak));
    await database.updateOnderwerpobject(row.id, { register: 'open-zaak-2' });
    await database.updateOnderwerpobject(row.id, { objectId: zaak.toUpperCase() });

    expect(await publishedAbout([{ ...row, changes: 3 }])).toEqual([
      expectedEvent(settings, 'zaak-gekoppeld', zaak, row.uuid, label),
    ]);
  });

  it('changing the zaak emits ontkoppeld for the old one, then gekoppeld', async () => {
    const oldZaak = randomUUID();
    const newZaak = randomUUID();
    const row = await database.insertOnderwerpobject(zaakColumns(klantcontactId, oldZaak));
    await database.updateOnderwerpobject(row.id, { objectId: newZaak });

    const events = await publishedAbout([{ ...row, changes: 2 }]);

    expect(events).toHaveLength(3);
    expect(eventsByZaak(events)).toEqual(
      new Map([
        [
          oldZaak,
          [
            expectedEvent(settings, 'zaak-gekoppeld', oldZaak, row.uuid, label),
            expectedEvent(settings, 'zaak-ontkoppeld', oldZaak, row.uuid, label),
          ],
        ],
        [newZaak, [expectedEvent(settings, 'zaak-gekoppeld', newZaak, row.uuid, label)]],
      ]),
    );
  });

  it('keeps the events about one zaak in order under its key', async () => {
    const zaak = randomUUID();
    const first = await database.insertOnderwerpobject(zaakColumns(klantcontactId, zaak));
    await database.updateOnderwerpobject(first.id, { objectId: randomUUID() });
    await database.updateOnderwerpobject(first.id, { objectId: zaak });
    await database.deleteOnderwerpobject(first.id);

    const events = await publishedAbout([{ ...first, changes: 4 }]);
    const aboutZaak = events.filter((published) => published.key === zaak);
    const partitions = new Set(
      output.records.filter((record) => record.key === zaak).map((record) => record.partition),
    );

    expect(aboutZaak).toEqual([
      expectedEvent(settings, 'zaak-gekoppeld', zaak, first.uuid, label),
      expectedEvent(settings, 'zaak-ontkoppeld', zaak, first.uuid, label),
      expectedEvent(settings, 'zaak-gekoppeld', zaak, first.uuid, label),
      expectedEvent(settings, 'zaak-ontkoppeld', zaak, first.uuid, label),
    ]);
    expect(partitions.size).toBe(1);
    expect(new Set(aboutZaak.map((published) => published.event.id)).size).toBe(4);
  });

  it('an object id that is not a uuid links to nothing', async () => {
    const row = await database.insertOnderwerpobject(zaakColumns(klantcontactId, 'ZAAK-2024-0001'));

    expect(await publishedAbout([{ ...row, changes: 1 }])).toEqual([]);
    await processor.waitForLog(
      (line) =>
        line.msg === 'row names a zaak but does not link to it' && line.rowKey === String(row.id),
    );
  });
});
