import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OpenKlantDatabase, zaakColumns } from '../support/database.js';
import { expectedEvent } from '../support/expected.js';
import { testKafka, startGroupAtEnd, TopicReader, waitUntilProcessed } from '../support/kafka.js';
import {
  newProcessorSettings,
  ProcessorProcess,
  type ProcessorSettings,
} from '../support/processor-process.js';

const run = promisify(execFile);
const stack = inject('stack');
const kafka = testKafka(stack);
let admin: Admin;
let database: OpenKlantDatabase;
let settings: ProcessorSettings;
let processor: ProcessorProcess;
let input: TopicReader;

interface KcatRecord {
  partition: number;
  key: string;
  headers: string[];
  payload: string;
}

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  database = new OpenKlantDatabase(stack);
  settings = newProcessorSettings(stack, 'kcat');
  await startGroupAtEnd(admin, settings.groupId, settings.inputTopic);
  processor = ProcessorProcess.start(stack, settings);
  await processor.waitForLog((line) => line.msg === 'processor started');
  input = await TopicReader.start(kafka, settings.inputTopic, 'end');
});

afterAll(async () => {
  await processor?.stop();
  await input?.stop();
  await database?.close();
  await admin?.disconnect();
});

/** Reads a whole topic with Debian's kcat, a librdkafka client independent of kafkajs. */
async function readWithKcat(topic: string): Promise<KcatRecord[]> {
  const { stdout } = await run(
    'kcat',
    ['-b', stack.kafkaBootstrapServers, '-C', '-t', topic, '-e', '-J', '-q'],
    { maxBuffer: 64 * 1024 * 1024 },
  ).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') {
      throw new Error('kcat is not installed; install Debian\'s "kcat" package.');
    }
    throw error;
  });
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as KcatRecord);
}

describe('output read with kcat', () => {
  it('holds the structured events with key and content type', async () => {
    const klantcontact = await database.insertKlantcontact(
      'Aanvraag gehandicaptenparkeerkaart',
      'KC-9',
    );
    const zaak = randomUUID();
    const row = await database.insertOnderwerpobject(zaakColumns(klantcontact.id, zaak));
    await database.deleteOnderwerpobject(row.id);
    await waitUntilProcessed(admin, input, settings.groupId, [{ id: row.id, changes: 2 }]);

    const records = (await readWithKcat(settings.outputTopic)).filter((r) => r.key === zaak);

    expect(
      records.map((record) => ({
        key: record.key,
        headers: { [record.headers[0]!]: record.headers[1] },
        event: JSON.parse(record.payload),
      })),
    ).toEqual([
      expectedEvent(settings, 'zaak-gekoppeld', zaak, row.uuid, klantcontact.label),
      expectedEvent(settings, 'zaak-ontkoppeld', zaak, row.uuid, klantcontact.label),
    ]);
    expect(records[0]!.headers).toHaveLength(2);
  });
});
