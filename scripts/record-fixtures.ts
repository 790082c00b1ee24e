/**
 * Records Debezium change records from the local stack into test/fixtures/, so that the unit
 * tests decode what the real connector writes. Run with the stack up (deploy/local/stack up):
 *
 *   node --import tsx scripts/record-fixtures.ts
 *
 * It registers two temporary connectors, with and without JsonConverter schemas, writes one
 * scenario of SQL changes, and stores each connector's records about the scenario's rows.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { deleteConnector, registerConnector } from '../test/support/connect.js';
import { OpenKlantDatabase, zaakColumns } from '../test/support/database.js';
import { rowIdOf, testKafka, TopicReader, waitFor } from '../test/support/kafka.js';
import { parseEnvFile, settingsFromVariables } from '../test/support/stack-settings.js';

const root = resolve(import.meta.dirname, '..');
const stack = settingsFromVariables(parseEnvFile(resolve(root, '.stack/env')), 'deploy-local');
const kafka = testKafka(stack);
const database = new OpenKlantDatabase(stack);
const suffix = randomUUID().slice(0, 8);

const variants = [
  { file: 'with-schemas.json', schemas: 'true' },
  { file: 'without-schemas.json', schemas: 'false' },
];

const klantcontact = await database.insertKlantcontact('Vraag over afvalpas', 'KC-2041');
const snapshotRow = await database.insertOnderwerpobject(
  zaakColumns(klantcontact.id, randomUUID()),
);

const readers: TopicReader[] = [];
for (const [index, variant] of variants.entries()) {
  const prefix = `fixture${index}${suffix}`;
  await registerConnector(stack, `fixture-${index}-${suffix}`, {
    'topic.prefix': prefix,
    'slot.name': `fixture_${index}_${suffix}`,
    'publication.name': `fixture_${index}_${suffix}`,
    'table.include.list': 'public.klantinteracties_onderwerpobject',
    'key.converter.schemas.enable': variant.schemas,
    'value.converter.schemas.enable': variant.schemas,
  });
  const admin = kafka.admin();
  await admin.connect();
  const topic = `${prefix}.public.klantinteracties_onderwerpobject`;
  await waitFor(`topic ${topic}`, async () =>
    (await admin.listTopics()).includes(topic) ? true : undefined,
  );
  await admin.disconnect();
  const reader = await TopicReader.start(kafka, topic);
  await waitFor('the snapshot read', () =>
    reader.records.some((record) => rowIdOf(record.key) === snapshotRow.id) ? true : undefined,
  );
  readers.push(reader);
}

const zaak = randomUUID();
const linked = await database.insertOnderwerpobject(zaakColumns(klantcontact.id, zaak));
await database.updateOnderwerpobject(linked.id, { register: 'open-zaak-archief' });
await database.updateOnderwerpobject(linked.id, { objectId: randomUUID() });
await database.updateOnderwerpobject(linked.id, { objecttype: 'klant' });
await database.deleteOnderwerpobject(linked.id);
const notAUuid = await database.insertOnderwerpobject(
  zaakColumns(klantcontact.id, ' ZAAK-2024-17 '),
);
await database.deleteOnderwerpobject(snapshotRow.id);

const names = new Map<number, string[]>([
  [
    snapshotRow.id,
    ['snapshot read of a linked row', 'delete after snapshot', 'tombstone after snapshot'],
  ],
  [
    linked.id,
    ['create linked', 'update register', 'update zaak', 'update objecttype', 'delete', 'tombstone'],
  ],
  [notAUuid.id, ['create with object id that is not a uuid']],
]);
const expectedCount = [...names.values()].reduce((sum, list) => sum + list.length, 0);
mkdirSync(resolve(root, 'test/fixtures/debezium-json'), { recursive: true });

for (const [index, reader] of readers.entries()) {
  const ids = new Set<number>([snapshotRow.id, linked.id, notAUuid.id]);
  const records = await waitFor('all scenario records', () => {
    const about = reader.records.filter((record) => ids.has(rowIdOf(record.key) ?? -1));
    about.sort((a, b) => Number(BigInt(a.offset) - BigInt(b.offset)));
    return about.length >= expectedCount ? about : undefined;
  });
  const seen = new Map<number, number>();
  const fixtures = records.map((record) => {
    const id = rowIdOf(record.key)!;
    const position = seen.get(id) ?? 0;
    seen.set(id, position + 1);
    return { name: names.get(id)![position], key: record.key, value: record.value };
  });
  const file = resolve(root, 'test/fixtures/debezium-json', variants[index]!.file);
  writeFileSync(file, `${JSON.stringify(fixtures, null, 2)}\n`);
  process.stderr.write(`wrote ${fixtures.length} records to ${file}\n`);
  await reader.stop();
  await deleteConnector(stack, `fixture-${index}-${suffix}`);
}
await database.close();
