/**
 * Records Debezium change records written through Apicurio's AvroConverter in the Confluent wire
 * format into test/fixtures/debezium-avro/records.json, with the registry's schema of every id
 * they use, so that the unit tests decode what the real converter writes. Run it with a Debezium
 * connector that writes Avro to the topic prefix AVRO_TOPIC_PREFIX and with SCHEMA_REGISTRY_URL
 * set to the registry's Confluent-compatible API:
 *
 *   AVRO_TOPIC_PREFIX=avroexp node --import tsx scripts/record-avro-fixtures.ts
 *
 * The scenario adds the nullable column avro_fixture_note to the onderwerpobject table and drops
 * it again, so that the recording contains records of three schema versions.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { OpenKlantDatabase, zaakColumns } from '../test/support/database.js';
import { testKafka } from '../test/support/kafka.js';
import { parseEnvFile, settingsFromVariables } from '../test/support/stack-settings.js';

const prefix = process.env.AVRO_TOPIC_PREFIX;
const registryUrl = process.env.SCHEMA_REGISTRY_URL;
if (prefix === undefined || registryUrl === undefined) {
  throw new Error('Set AVRO_TOPIC_PREFIX and SCHEMA_REGISTRY_URL; see the header of this script.');
}
const envFile = resolve(import.meta.dirname, '../.stack/env');
const stack = process.env.KAFKA_BOOTSTRAP_SERVERS
  ? settingsFromVariables(process.env, 'environment')
  : settingsFromVariables(parseEnvFile(envFile), 'deploy-local');
const database = new OpenKlantDatabase(stack);

const klantcontact = await database.insertKlantcontact('Avro-opname', '0042');
const row = await database.insertOnderwerpobject(
  zaakColumns(klantcontact.id, '5a1b0c2d-0000-4000-8000-00000000a5a0'),
);
await database.updateOnderwerpobject(row.id, { objectId: '5a1b0c2d-0000-4000-8000-00000000a5a1' });
try {
  await database.pool.query(
    'ALTER TABLE klantinteracties_onderwerpobject ADD COLUMN avro_fixture_note text NULL',
  );
  await database.pool.query(
    "UPDATE klantinteracties_onderwerpobject SET avro_fixture_note = 'added' WHERE id = $1",
    [row.id],
  );
} finally {
  await database.pool.query(
    'ALTER TABLE klantinteracties_onderwerpobject DROP COLUMN IF EXISTS avro_fixture_note',
  );
}
await database.updateOnderwerpobject(row.id, { objectId: '5a1b0c2d-0000-4000-8000-00000000a5a2' });
await database.deleteOnderwerpobject(row.id);
await database.close();

const names = {
  onderwerpobject: ['create', 'update', 'update-added-column', 'update-dropped-column', 'delete'],
  klantcontact: ['klantcontact-create'],
};
const expectedIds = { onderwerpobject: row.id, klantcontact: klantcontact.id };

interface RecordedAvroRecord {
  name: string;
  topic: string;
  /** Base64 of the record key's bytes. */
  key: string | null;
  /** Base64 of the record value's bytes; null for a tombstone. */
  value: string | null;
}

const kafka = testKafka(stack);
const recorded: RecordedAvroRecord[] = [];
for (const table of ['onderwerpobject', 'klantcontact'] as const) {
  const topic = `${prefix}.public.klantinteracties_${table}`;
  const wanted = table === 'onderwerpobject' ? names.onderwerpobject.length + 1 : 1;
  const records = await readRecordsOfRow(topic, expectedIds[table], wanted);
  records.forEach((record, index) => {
    const name = record.value === null ? 'tombstone' : (names[table][index] ?? `${table}-${index}`);
    recorded.push({
      name,
      topic,
      key: record.key?.toString('base64') ?? null,
      value: record.value?.toString('base64') ?? null,
    });
  });
}

const schemas: Record<string, unknown> = {};
for (const record of recorded) {
  for (const part of [record.key, record.value]) {
    if (part === null) continue;
    const bytes = Buffer.from(part, 'base64');
    const id = bytes.readUInt32BE(1);
    if (bytes[0] !== 0) {
      throw new Error(`Record ${record.name} starts with byte ${bytes[0]}, expected magic byte 0.`);
    }
    const response = await fetch(`${registryUrl}/schemas/ids/${id}`);
    if (!response.ok) {
      throw new Error(`GET ${registryUrl}/schemas/ids/${id} failed with ${response.status}.`);
    }
    schemas[String(id)] = await response.json();
  }
}

const folder = resolve(import.meta.dirname, '../test/fixtures/debezium-avro');
mkdirSync(folder, { recursive: true });
writeFileSync(
  resolve(folder, 'records.json'),
  `${JSON.stringify({ schemas, records: recorded }, null, 2)}\n`,
);
console.log(`Recorded ${recorded.length} records and ${Object.keys(schemas).length} schemas.`);

/**
 * Reads a topic from its start until it has seen `count` records whose key holds the row id.
 * The Avro key of an integer id is magic byte, 4-byte schema id and the zigzag varint of the id.
 */
async function readRecordsOfRow(
  topic: string,
  id: number,
  count: number,
): Promise<{ key: Buffer | null; value: Buffer | null }[]> {
  const keyTail = zigzagVarint(id);
  const found: { key: Buffer | null; value: Buffer | null }[] = [];
  const consumer = kafka.consumer({ groupId: `avro-fixtures-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolveRead, rejectRead) => {
    const timer = setTimeout(
      () => rejectRead(new Error(`Timed out reading ${count} records of id ${id} from ${topic}.`)),
      60_000,
    );
    void consumer.run({
      eachMessage: async ({ message }) => {
        if (message.key !== null && message.key.subarray(5).equals(keyTail)) {
          found.push({ key: message.key, value: message.value });
        }
        if (found.length >= count) {
          clearTimeout(timer);
          resolveRead();
        }
      },
    });
  });
  await consumer.disconnect();
  return found;
}

function zigzagVarint(value: number): Buffer {
  let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
  const bytes: number[] = [];
  while (zigzag >= 0x80) {
    bytes.push((zigzag & 0x7f) | 0x80);
    zigzag = Math.floor(zigzag / 128);
  }
  bytes.push(zigzag);
  return Buffer.from(bytes);
}
