/**
 * Records Debezium change records from a running stack into test/fixtures/debezium-json/, so that
 * the unit tests decode what the real connector writes. Run it with the stack up:
 *
 *   node --import tsx scripts/record-fixtures.ts [converters] [flattened] [other-shapes]
 *
 * Without arguments it records every group. It finds the stack as the tests do: from
 * KAFKA_BOOTSTRAP_SERVERS, KAFKA_CONNECT_URL and PG* when they are set, else from .stack/env.
 * Each group registers temporary connectors, writes a scenario of SQL changes, and stores each
 * connector's records about the scenario:
 *
 * - converters: onderwerpobject changes through the JsonConverter with and without schemas;
 * - flattened: the same changes flattened by ExtractNewRecordState in five configurations;
 * - other-shapes: changes of a bigint-keyed and of a TOASTed copy of the onderwerpobject table,
 *   a TRUNCATE, logical decoding messages, a heartbeat and transaction metadata, as written
 *   without and with ExtractNewRecordState;
 * - klantcontact: klantcontact changes through both converter forms and flattened.
 *
 * NOTE: pg_logical_emit_message reaches every connector of the database, so the stack's own
 * connector and other test connectors also write the two messages to their `.message` topics.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'lossless-json';
import {
  deleteConnector,
  extractNewRecordState,
  registerConnector,
  snapshotOnly,
} from '../test/support/connect.js';
import { OpenKlantDatabase, zaakColumns } from '../test/support/database.js';
import type { RecordedRecord } from '../test/support/fixtures.js';
import { testKafka, TopicReader, waitFor, type ConsumedRecord } from '../test/support/kafka.js';
import { parseEnvFile, settingsFromVariables } from '../test/support/stack-settings.js';

type Group = 'converters' | 'flattened' | 'other-shapes' | 'klantcontact';
const allGroups: Group[] = ['converters', 'flattened', 'other-shapes', 'klantcontact'];

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !allGroups.includes(name as Group));
if (unknown.length > 0) {
  throw new Error(`Unknown fixture group ${unknown.join(', ')}; expected ${allGroups.join(', ')}.`);
}
const groups = requested.length === 0 ? allGroups : (requested as Group[]);

const root = resolve(import.meta.dirname, '..');
const fixtureDirectory = resolve(root, 'test/fixtures/debezium-json');
const stack = process.env.KAFKA_BOOTSTRAP_SERVERS
  ? settingsFromVariables(process.env, 'environment')
  : settingsFromVariables(parseEnvFile(resolve(root, '.stack/env')), 'deploy-local');
const kafka = testKafka(stack);
const admin = kafka.admin();
const database = new OpenKlantDatabase(stack);
const suffix = randomUUID().slice(0, 8);

/** The metadata fields that give the processor everything it reads from a flattened row. */
const allAddFields = 'op,lsn,txId,sequence,source.ts_ms';

/** The records a connector writes for a delete: an envelope and a tombstone, or a transform's. */
type DeleteShape = 'envelope' | 'rewrite' | 'tombstone';

interface Variant {
  file: string;
  schemas: 'true' | 'false';
  deletes: DeleteShape;
  settings: Record<string, string>;
}

const onderwerpobjectVariants: Record<'converters' | 'flattened', Variant[]> = {
  converters: [
    { file: 'with-schemas.json', schemas: 'true', deletes: 'envelope', settings: {} },
    { file: 'without-schemas.json', schemas: 'false', deletes: 'envelope', settings: {} },
  ],
  flattened: [
    {
      file: 'flattened-rewrite.json',
      schemas: 'true',
      deletes: 'rewrite',
      settings: extractNewRecordState({ deleteHandling: 'rewrite', addFields: allAddFields }),
    },
    {
      file: 'flattened-commit-time-only.json',
      schemas: 'false',
      deletes: 'rewrite',
      settings: extractNewRecordState({ deleteHandling: 'rewrite', addFields: 'source.ts_ms' }),
    },
    {
      file: 'flattened-source-fields.json',
      schemas: 'false',
      deletes: 'rewrite',
      settings: extractNewRecordState({
        deleteHandling: 'rewrite',
        addFields: 'source.lsn,source.txId,source.sequence,source.ts_ms,source.snapshot',
      }),
    },
    {
      file: 'flattened-defaults.json',
      schemas: 'false',
      deletes: 'tombstone',
      settings: extractNewRecordState({}),
    },
    {
      file: 'flattened-defaults-with-schemas.json',
      schemas: 'true',
      deletes: 'tombstone',
      settings: extractNewRecordState({}),
    },
  ],
};

const startedConnectors: string[] = [];
const createdTables: string[] = [];

await admin.connect();
try {
  if (groups.includes('converters')) {
    await recordOnderwerpobject('converters', onderwerpobjectVariants.converters);
  }
  if (groups.includes('flattened')) {
    await recordOnderwerpobject('flattened', onderwerpobjectVariants.flattened);
  }
  if (groups.includes('other-shapes')) {
    await recordOtherShapes();
  }
  if (groups.includes('klantcontact')) {
    await recordKlantcontact();
  }
} finally {
  for (const name of startedConnectors) {
    await deleteConnector(stack, name);
    await database.pool.query(`DROP PUBLICATION IF EXISTS ${slotName(name)}`);
  }
  for (const table of createdTables) {
    await database.pool.query(`DROP TABLE IF EXISTS ${table}`);
  }
  await database.close();
  await admin.disconnect();
}

/**
 * Records the onderwerpobject scenario: a snapshot read, then a row that links, moves and unlinks.
 *
 * For the converters group the scenario's first change is the first transaction that each
 * connector streams, so its `source.sequence` has no last commit LSN, as after a connector start
 * without offsets. For the flattened group a warm-up change comes first, so that every change of
 * the scenario has the same source position in each file and the tests can compare the files.
 */
async function recordOnderwerpobject(
  group: 'converters' | 'flattened',
  variants: Variant[],
): Promise<void> {
  const klantcontact = await database.insertKlantcontact('Vraag over afvalpas', 'KC-2041');
  const snapshotRow = await database.insertOnderwerpobject(
    zaakColumns(klantcontact.id, randomUUID()),
  );

  const readers: TopicReader[] = [];
  for (const [index, variant] of variants.entries()) {
    const prefix = await startConnector(`fixture-${group}-${index}-${suffix}`, {
      'table.include.list': 'public.klantinteracties_onderwerpobject',
      'key.converter.schemas.enable': variant.schemas,
      'value.converter.schemas.enable': variant.schemas,
      ...snapshotOnly([snapshotRow.id]),
      ...variant.settings,
    });
    const reader = await readTopic(`${prefix}.public.klantinteracties_onderwerpobject`);
    await waitFor('the snapshot read', () =>
      reader.records.some((record) => keyIdOf(record.key) === String(snapshotRow.id))
        ? true
        : undefined,
    );
    readers.push(reader);
  }

  if (group === 'flattened') {
    const warmUp = await database.insertOnderwerpobject(zaakColumns(klantcontact.id, randomUUID()));
    for (const reader of readers) {
      await waitFor('the warm-up change', () =>
        reader.records.some((record) => keyIdOf(record.key) === String(warmUp.id))
          ? true
          : undefined,
      );
    }
  }

  const linked = await database.insertOnderwerpobject(zaakColumns(klantcontact.id, randomUUID()));
  await database.updateOnderwerpobject(linked.id, { register: 'open-zaak-archief' });
  await database.updateOnderwerpobject(linked.id, { objectId: randomUUID() });
  await database.updateOnderwerpobject(linked.id, { objecttype: 'klant' });
  await database.deleteOnderwerpobject(linked.id);
  const notAUuid = await database.insertOnderwerpobject(
    zaakColumns(klantcontact.id, ' ZAAK-2024-17 '),
  );
  await database.deleteOnderwerpobject(snapshotRow.id);

  for (const [index, variant] of variants.entries()) {
    const names = new Map<string | null, string[]>([
      [
        String(snapshotRow.id),
        ['snapshot read of a linked row', ...deleteNames(variant.deletes, ' after snapshot')],
      ],
      [
        String(linked.id),
        [
          'create linked',
          'update register',
          'update zaak',
          'update objecttype',
          ...deleteNames(variant.deletes, ''),
        ],
      ],
      [String(notAUuid.id), ['create with object id that is not a uuid']],
    ]);
    const reader = readers[index]!;
    writeFixtures(variant.file, await recordByKey(reader, names));
    await reader.stop();
  }
}

/** Returns the names of the records a delete leaves, in the order the connector writes them. */
function deleteNames(shape: DeleteShape, suffixText: string): string[] {
  switch (shape) {
    case 'envelope':
      return [`delete${suffixText}`, `tombstone${suffixText}`];
    case 'rewrite':
      return [`delete${suffixText}`];
    case 'tombstone':
      return [`tombstone${suffixText}`];
  }
}

/**
 * Records the shapes that the onderwerpobject scenario does not produce. The two tables are
 * copies of onderwerpobject. One has bigint keys, as Django's BigAutoField would make them. In the
 * other the object id is a `text` column stored out of line without compression (STORAGE
 * EXTERNAL), so that PostgreSQL TOASTs a long value. Truncating onderwerpobject itself would
 * remove the rows of every other test, so the TRUNCATE runs on the bigint copy.
 */
async function recordOtherShapes(): Promise<void> {
  const bigintTable = `fixture_bigint_${suffix}`;
  const toastedTable = `fixture_toasted_${suffix}`;
  await database.pool.query(
    `CREATE TABLE ${bigintTable} (LIKE klantinteracties_onderwerpobject INCLUDING ALL)`,
  );
  createdTables.push(bigintTable);
  await database.pool.query(
    `ALTER TABLE ${bigintTable} ALTER COLUMN id TYPE bigint,
       ALTER COLUMN klantcontact_id TYPE bigint, ALTER COLUMN was_klantcontact_id TYPE bigint`,
  );
  await database.pool.query(
    `CREATE TABLE ${toastedTable} (LIKE klantinteracties_onderwerpobject INCLUDING ALL)`,
  );
  createdTables.push(toastedTable);
  await database.pool.query(
    `ALTER TABLE ${toastedTable}
       ALTER COLUMN onderwerpobjectidentificator_object_id TYPE text,
       ALTER COLUMN onderwerpobjectidentificator_object_id SET STORAGE EXTERNAL`,
  );

  const variants: Variant[] = [
    { file: 'other-shapes.json', schemas: 'true', deletes: 'envelope', settings: {} },
    {
      file: 'other-shapes-flattened.json',
      schemas: 'false',
      deletes: 'rewrite',
      settings: extractNewRecordState({ deleteHandling: 'rewrite', addFields: allAddFields }),
    },
  ];
  const prefixes: string[] = [];
  for (const [index, variant] of variants.entries()) {
    prefixes.push(
      await startConnector(`fixture-shapes-${index}-${suffix}`, {
        'table.include.list': `public.${bigintTable},public.${toastedTable}`,
        'key.converter.schemas.enable': variant.schemas,
        'value.converter.schemas.enable': variant.schemas,
        'skipped.operations': 'none',
        'heartbeat.interval.ms': '1000',
        'provide.transaction.metadata': 'true',
        ...variant.settings,
      }),
    );
  }

  // 2^53 + 1 and 2^53 + 3: JSON.parse reads them as 2^53 and 2^53 + 4.
  const bigId = '9007199254740993';
  const secondBigId = '9007199254740995';
  await insertCopy(bigintTable, bigId, secondBigId, randomUUID());
  await database.pool.query(
    `UPDATE ${bigintTable} SET onderwerpobjectidentificator_object_id = $2 WHERE id = $1`,
    [bigId, randomUUID()],
  );
  await database.pool.query(`DELETE FROM ${bigintTable} WHERE id = $1`, [bigId]);
  await insertCopy(bigintTable, secondBigId, null, randomUUID());
  await database.pool.query(`TRUNCATE ${bigintTable}`);

  const messagePrefix = `fixture-${suffix}`;
  await database.pool.query(`SELECT pg_logical_emit_message(true, $1, 'zaak gekoppeld')`, [
    messagePrefix,
  ]);
  await database.pool.query(`SELECT pg_logical_emit_message(false, $1, 'zaak ontkoppeld')`, [
    messagePrefix,
  ]);

  // 3,036 bytes in a column with STORAGE EXTERNAL: PostgreSQL stores the value out of line.
  await insertCopy(toastedTable, '1', '5', `${randomUUID()}${' '.repeat(3000)}`);
  const updateToasted = (column: string, value: string) =>
    database.pool.query(`UPDATE ${toastedTable} SET ${column} = $1 WHERE id = 1`, [value]);
  await updateToasted('onderwerpobjectidentificator_code_register', 'open-zaak-archief');
  await updateToasted('onderwerpobjectidentificator_code_objecttype', 'klant');
  await database.pool.query(`ALTER TABLE ${toastedTable} REPLICA IDENTITY FULL`);
  await updateToasted('onderwerpobjectidentificator_code_objecttype', 'zaak');

  for (const [index, variant] of variants.entries()) {
    const prefix = prefixes[index]!;
    const flattened = variant.deletes === 'rewrite';
    const fixtures: RecordedRecord[] = [];

    const bigint = await readTopic(`${prefix}.public.${bigintTable}`);
    // ExtractNewRecordState drops truncate records, so only the envelope variant has one.
    const bigintNames = new Map<string | null, string[]>([
      [
        bigId,
        [
          'create in bigint table',
          'update in bigint table',
          ...deleteNames(variant.deletes, ' in bigint table'),
        ],
      ],
      [secondBigId, ['create of a second row in bigint table']],
      ...(flattened ? [] : [[null, ['truncate']] as [null, string[]]]),
    ]);
    fixtures.push(...(await recordByKey(bigint, bigintNames)));
    await bigint.stop();

    const toasted = await readTopic(`${prefix}.public.${toastedTable}`);
    const toastedNames = new Map<string | null, string[]>([
      [
        '1',
        [
          'create in toasted table',
          'update with unchanged toasted object id',
          'update that unlinks, with unchanged toasted object id',
          'update with unchanged toasted object id under replica identity full',
        ],
      ],
    ]);
    fixtures.push(...(await recordByKey(toasted, toastedNames)));
    await toasted.stop();

    const messages = await readTopic(`${prefix}.message`);
    fixtures.push(
      ...(await recordWhen(messages, 'the two logical decoding messages', (records) => {
        const ours = records.filter((record) => record.key?.includes(messagePrefix));
        if (ours.length < 2) {
          return undefined;
        }
        return [
          named(messages.topic, 'transactional logical message', ours[0]!),
          named(messages.topic, 'non-transactional logical message', ours[1]!),
        ];
      })),
    );
    await messages.stop();

    const heartbeats = await readTopic(`__debezium-heartbeat.${prefix}`);
    fixtures.push(
      ...(await recordWhen(heartbeats, 'a heartbeat', ([first]) =>
        first === undefined ? undefined : [named(heartbeats.topic, 'heartbeat', first)],
      )),
    );
    await heartbeats.stop();

    const created = fixtures.find((fixture) => fixture.name === 'create in bigint table')!;
    const txId = txIdOf(created.value!);
    const transactions = await readTopic(`${prefix}.transaction`);
    fixtures.push(
      ...(await recordWhen(transactions, `the metadata of transaction ${txId}`, (records) => {
        const ours = records.filter((record) => keyIdOf(record.key)?.startsWith(`${txId}:`));
        const begin = ours.find((record) => record.value?.includes('"BEGIN"'));
        const end = ours.find((record) => record.value?.includes('"END"'));
        if (begin === undefined || end === undefined) {
          return undefined;
        }
        return [
          named(transactions.topic, 'transaction begin', begin),
          named(transactions.topic, 'transaction end', end),
        ];
      })),
    );
    await transactions.stop();

    writeFixtures(variant.file, fixtures);
  }
}

/**
 * Records the klantcontact changes the label reads: a create, a change of onderwerp, a nummer
 * set to null, and a delete, in both converter forms and flattened by ExtractNewRecordState with
 * all metadata fields and with the transform's defaults.
 */
async function recordKlantcontact(): Promise<void> {
  const variants: Variant[] = [
    { file: 'klantcontact-with-schemas.json', schemas: 'true', deletes: 'envelope', settings: {} },
    {
      file: 'klantcontact-without-schemas.json',
      schemas: 'false',
      deletes: 'envelope',
      settings: {},
    },
    {
      file: 'klantcontact-flattened.json',
      schemas: 'false',
      deletes: 'rewrite',
      settings: extractNewRecordState({ deleteHandling: 'rewrite', addFields: allAddFields }),
    },
    {
      file: 'klantcontact-flattened-defaults.json',
      schemas: 'false',
      deletes: 'tombstone',
      settings: extractNewRecordState({}),
    },
  ];
  const topics: [Variant, string][] = [];
  for (const [index, variant] of variants.entries()) {
    const prefix = await startConnector(`fixture-klantcontact-${index}-${suffix}`, {
      'table.include.list': 'public.klantinteracties_klantcontact',
      'snapshot.mode': 'no_data',
      'key.converter.schemas.enable': variant.schemas,
      'value.converter.schemas.enable': variant.schemas,
      ...variant.settings,
    });
    topics.push([variant, `${prefix}.public.klantinteracties_klantcontact`]);
  }

  const klantcontact = await database.insertKlantcontact('Vraag over de afvalpas', 'KC-2041');
  await database.pool.query(
    `UPDATE klantinteracties_klantcontact SET onderwerp = 'Vraag over de nieuwe afvalpas'
     WHERE id = $1`,
    [klantcontact.id],
  );
  await database.pool.query(
    'UPDATE klantinteracties_klantcontact SET nummer = NULL WHERE id = $1',
    [klantcontact.id],
  );
  await database.pool.query('DELETE FROM klantinteracties_klantcontact WHERE id = $1', [
    klantcontact.id,
  ]);

  // Without a data snapshot a connector creates its topic with the first change, so the topics
  // are read after the changes.
  for (const [variant, topic] of topics) {
    const names = new Map<string | null, string[]>([
      [
        String(klantcontact.id),
        [
          'create',
          'update onderwerp',
          'update nummer to null',
          ...deleteNames(variant.deletes, ''),
        ],
      ],
    ]);
    const reader = await readTopic(topic);
    writeFixtures(variant.file, await recordByKey(reader, names));
    await reader.stop();
  }
}

async function insertCopy(
  table: string,
  id: string,
  klantcontactId: string | null,
  objectId: string,
): Promise<void> {
  await database.pool.query(
    `INSERT INTO ${table}
       (id, uuid, klantcontact_id, onderwerpobjectidentificator_object_id,
        onderwerpobjectidentificator_code_objecttype, onderwerpobjectidentificator_code_register,
        onderwerpobjectidentificator_code_soort_object_id)
     VALUES ($1, $2, $3, $4, 'zaak', 'open-zaak', 'uuid')`,
    [id, randomUUID(), klantcontactId, objectId],
  );
}

/**
 * Registers a temporary connector and waits for its replication slot, after which the connector
 * captures every change. Returns its topic prefix.
 */
async function startConnector(name: string, settings: Record<string, string>): Promise<string> {
  const prefix = name.replaceAll('-', '');
  const slot = slotName(name);
  await registerConnector(stack, name, {
    'topic.prefix': prefix,
    'slot.name': slot,
    'publication.name': slot,
    ...settings,
  });
  startedConnectors.push(name);
  await database.waitForReplicationSlot(slot);
  return prefix;
}

function slotName(connector: string): string {
  return connector.replaceAll('-', '_');
}

/** Starts reading a topic from its start once the connector has created it. */
async function readTopic(topic: string): Promise<TopicReader> {
  await waitFor(`topic ${topic}`, async () =>
    (await admin.listTopics()).includes(topic) ? true : undefined,
  );
  return TopicReader.start(kafka, topic);
}

/**
 * Names the records of the given keys by their order: the n-th record of a key gets the key's
 * n-th name. A null key stands for records without a key. Fails when the topic contains more
 * records of those keys than names, so a changed connector behaviour cannot go unnoticed.
 */
async function recordByKey(
  reader: TopicReader,
  names: Map<string | null, string[]>,
): Promise<RecordedRecord[]> {
  const expected = [...names.values()].reduce((sum, list) => sum + list.length, 0);
  const about = (records: ConsumedRecord[]) =>
    records.filter((record) => names.has(keyIdOf(record.key)));
  await waitFor(`${expected} records on ${reader.topic}`, () =>
    about(reader.records).length >= expected ? true : undefined,
  );
  const records = about(await reader.readToEnd(admin));
  if (records.length !== expected) {
    throw new Error(`Expected ${expected} records on ${reader.topic}, found ${records.length}.`);
  }

  records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  const byName = new Map<string, RecordedRecord>();
  const seen = new Map<string | null, number>();
  for (const record of records) {
    const id = keyIdOf(record.key);
    const position = seen.get(id) ?? 0;
    seen.set(id, position + 1);
    const name = names.get(id)![position]!;
    byName.set(name, named(reader.topic, name, record));
  }
  return [...names.values()].flat().map((name) => byName.get(name)!);
}

async function recordWhen(
  reader: TopicReader,
  description: string,
  choose: (records: ConsumedRecord[]) => RecordedRecord[] | undefined,
): Promise<RecordedRecord[]> {
  return waitFor(description, () => choose(reader.records));
}

function named(topic: string, name: string, record: ConsumedRecord): RecordedRecord {
  return { name, topic, key: record.key, value: record.value };
}

/** Returns the `id` of a record key as exact decimal text, or null for a record without key. */
function keyIdOf(key: string | null): string | null {
  if (key === null) {
    return null;
  }
  const parsed = parse(key, null, (text) => text) as {
    id?: unknown;
    payload?: { id?: unknown };
  };
  const id = parsed.payload?.id ?? parsed.id;
  return id === undefined ? '' : String(id);
}

/** Returns the transaction id of a change record: `source.txId`, or a flattened `__txId`. */
function txIdOf(value: string): string {
  const parsed = JSON.parse(value) as Record<string, unknown>;
  const document = ('payload' in parsed ? parsed.payload : parsed) as {
    source?: { txId?: number };
    __txId?: number;
  };
  return String(document.source?.txId ?? document.__txId);
}

function writeFixtures(file: string, fixtures: RecordedRecord[]): void {
  mkdirSync(fixtureDirectory, { recursive: true });
  const path = resolve(fixtureDirectory, file);
  writeFileSync(path, `${JSON.stringify(fixtures, null, 2)}\n`);
  process.stderr.write(`wrote ${fixtures.length} records to ${path}\n`);
}
