import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { OpenKlantDatabase, zaakColumns } from '../support/database.js';
import { expectedEvent, eventsAbout } from '../support/expected.js';
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
let input: TopicReader;
let klantcontactId: number;
let label: string;
const started: ProcessorProcess[] = [];
const readers: TopicReader[] = [];

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  database = new OpenKlantDatabase(stack);
  const klantcontact = await database.insertKlantcontact('Melding openbare ruimte', null);
  klantcontactId = klantcontact.id;
  label = klantcontact.label;
  input = await TopicReader.start(kafka, stack.onderwerpobjectTopic, 'end');
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((processor) => processor.stop('SIGKILL')));
  await Promise.all(readers.splice(0).map((reader) => reader.stop()));
});

afterAll(async () => {
  await input?.stop();
  await database?.close();
  await admin?.disconnect();
});

function start(settings: ProcessorSettings): ProcessorProcess {
  const processor = ProcessorProcess.start(stack, settings);
  started.push(processor);
  return processor;
}

async function readOutput(settings: ProcessorSettings): Promise<TopicReader> {
  const reader = await TopicReader.start(kafka, settings.outputTopic);
  readers.push(reader);
  return reader;
}

describe('state across processes', () => {
  it('a restarted processor unlinks with the original data', async () => {
    const settings = newProcessorSettings(stack, 'restart');
    await startGroupAtEnd(admin, settings.groupId, settings.inputTopic);
    const zaak = randomUUID();
    const row = await database.insertOnderwerpobject(zaakColumns(klantcontactId, zaak));

    const first = start(settings);
    await waitUntilProcessed(admin, input, settings.groupId, [{ id: row.id, changes: 1 }]);
    expect(await first.stop('SIGTERM')).toBe(0);
    await first.waitForLog((line) => line.msg === 'processor stopped');

    await database.deleteOnderwerpobject(row.id);
    const second = start(settings);
    await waitUntilProcessed(admin, input, settings.groupId, [{ id: row.id, changes: 2 }]);
    const output = await readOutput(settings);

    expect(eventsAbout(await output.readToEnd(admin), [row.uuid])).toEqual([
      expectedEvent(settings, 'zaak-gekoppeld', zaak, row.uuid, label),
      expectedEvent(settings, 'zaak-ontkoppeld', zaak, row.uuid, label),
    ]);
    const restored = await second.waitForLog(
      (line) => line.msg === 'restored partition state from changelog',
    );
    expect(restored.keys).toBeGreaterThan(0);
  });

  it('a second instance takes over the partitions of a killed one', async () => {
    const settings = newProcessorSettings(stack, 'takeover');
    await startGroupAtEnd(admin, settings.groupId, settings.inputTopic);
    const first = start(settings);
    await first.waitForLog((line) => line.msg === 'processor started');
    const second = start(settings);
    await second.waitForLog(
      (line) =>
        line.msg === 'partition assignment changed' && (line.assigned as number[]).length > 0,
    );
    await first.waitForLog(
      (line) =>
        line.msg === 'partition assignment changed' && (line.revoked as number[]).length > 0,
    );

    const zaken = Array.from({ length: 8 }, () => randomUUID());
    const rows = [];
    for (const zaak of zaken) {
      rows.push(await database.insertOnderwerpobject(zaakColumns(klantcontactId, zaak)));
    }
    await waitUntilProcessed(
      admin,
      input,
      settings.groupId,
      rows.map((row) => ({ id: row.id, changes: 1 })),
    );

    await second.stop('SIGKILL');
    for (const row of rows) {
      await database.deleteOnderwerpobject(row.id);
    }
    await waitUntilProcessed(
      admin,
      input,
      settings.groupId,
      rows.map((row) => ({ id: row.id, changes: 2 })),
    );
    const output = await readOutput(settings);
    const records = await output.readToEnd(admin);

    for (const [index, row] of rows.entries()) {
      expect(eventsAbout(records, [row.uuid])).toEqual([
        expectedEvent(settings, 'zaak-gekoppeld', zaken[index]!, row.uuid, label),
        expectedEvent(settings, 'zaak-ontkoppeld', zaken[index]!, row.uuid, label),
      ]);
    }
    const takeover = first.logs.filter(
      (line) => line.msg === 'partition assignment changed' && (line.added as number[]).length > 0,
    );
    expect(takeover.length).toBeGreaterThanOrEqual(2);
  });
});
