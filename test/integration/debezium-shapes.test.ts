import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTopicsWithLeaders } from '../../src/topics.js';
import { deleteConnector, extractNewRecordState, registerConnector } from '../support/connect.js';
import { OpenKlantDatabase } from '../support/database.js';
import { eventsAbout, eventsByZaak, expectedEvent } from '../support/expected.js';
import { testKafka, TopicReader, waitFor, type ConsumedRecord } from '../support/kafka.js';
import {
  newProcessorSettings,
  ProcessorProcess,
  type ProcessorSettings,
} from '../support/processor-process.js';

/*
 * Runs the processor on shapes that a plain onderwerpobject scenario does not produce: keys beyond
 * 2^53, object ids in upper case with spaces or not a UUID, and a TRUNCATE. It also covers logical
 * decoding messages, heartbeats, transaction metadata and the placeholder for an unchanged TOASTed
 * value.
 *
 * Two connectors capture three copies of Open Klant's tables with bigint keys. A RegexRouter
 * routes every topic of a connector except the klantcontact one to a single input topic, as a
 * misrouted deployment would, so heartbeats, transaction metadata and logical messages reach the
 * processor. One connector writes envelopes with schemas. The other flattens them with
 * ExtractNewRecordState and writes them without schemas.
 */

const stack = inject('stack');
const kafka = testKafka(stack);
const suffix = randomUUID().slice(0, 8);
const tables = {
  klantcontact: `shapes_klantcontact_${suffix}`,
  bigint: `shapes_bigint_${suffix}`,
  toasted: `shapes_toasted_${suffix}`,
};
const messagePrefix = `shapes-${suffix}`;

// 2^53 + 1, + 3, + 5 and + 7: JSON.parse would read each as a neighbouring even number.
const klantcontactId = '9007199254740993';
const linkedId = '9007199254740995';
const notAUuidId = '9007199254740997';
const truncatedId = '9007199254740999';
const toastedId = '1';

interface Variant {
  name: string;
  schemas: 'true' | 'false';
  transforms: Record<string, string>;
  transformNames: string[];
}

interface RunningVariant extends Variant {
  connector: string;
  slot: string;
  inputTopic: string;
  klantcontactTopic: string;
  metricsPort: number;
  settings: ProcessorSettings;
  processor: ProcessorProcess;
  input: TopicReader;
}

const variants: Variant[] = [
  { name: 'envelope', schemas: 'true', transforms: {}, transformNames: [] },
  {
    name: 'flattened',
    schemas: 'false',
    transforms: extractNewRecordState({
      deleteHandling: 'rewrite',
      addFields: 'op,lsn,txId,sequence,source.ts_ms',
    }),
    transformNames: ['unwrap'],
  },
];

let admin: Admin;
let database: OpenKlantDatabase;
const running = new Map<string, RunningVariant>();
const rows = new Map<string, { uuid: string }>();
const zaken = { moved: randomUUID(), movedTo: randomUUID(), truncated: randomUUID() };
const toastedZaak = randomUUID();
const label = 'Parkeervergunning met grote sleutel - (KC-9007)';

/** Returns a free loopback port for the processor's metrics endpoint. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') {
    throw new Error('The loopback listener has no port.');
  }
  return address.port;
}

async function createTables(): Promise<void> {
  await database.pool.query(
    `CREATE TABLE ${tables.klantcontact} (LIKE klantinteracties_klantcontact INCLUDING ALL)`,
  );
  await database.pool.query(`ALTER TABLE ${tables.klantcontact} ALTER COLUMN id TYPE bigint`);
  for (const table of [tables.bigint, tables.toasted]) {
    await database.pool.query(
      `CREATE TABLE ${table} (LIKE klantinteracties_onderwerpobject INCLUDING ALL)`,
    );
    await database.pool.query(
      `ALTER TABLE ${table} ALTER COLUMN id TYPE bigint,
         ALTER COLUMN klantcontact_id TYPE bigint, ALTER COLUMN was_klantcontact_id TYPE bigint`,
    );
  }
  // PostgreSQL stores a long value of a column with STORAGE EXTERNAL out of line, uncompressed.
  await database.pool.query(
    `ALTER TABLE ${tables.toasted}
       ALTER COLUMN onderwerpobjectidentificator_object_id TYPE text,
       ALTER COLUMN onderwerpobjectidentificator_object_id SET STORAGE EXTERNAL`,
  );
}

async function startVariant(variant: Variant): Promise<RunningVariant> {
  const connector = `test-shapes-${variant.name}-${suffix}`;
  const slot = connector.replaceAll('-', '_');
  const prefix = connector.replaceAll('-', '');
  const klantcontactTopic = `${prefix}.public.${tables.klantcontact}`;
  const inputTopic = `${prefix}.input`;
  await createTopicsWithLeaders(admin, [
    { topic: inputTopic, numPartitions: 3, replicationFactor: 1 },
    { topic: klantcontactTopic, numPartitions: 3, replicationFactor: 1 },
  ]);

  const metricsPort = await freePort();
  const settings: ProcessorSettings = {
    ...newProcessorSettings(stack, `shapes-${variant.name}`),
    inputTopic,
    extra: {
      KLANTCONTACT_TOPIC: klantcontactTopic,
      METRICS_PORT: String(metricsPort),
      LABEL_WAIT_MS: '10000',
    },
  };
  const processor = ProcessorProcess.start(stack, settings);
  await processor.waitForLog((line) => line.msg === 'processor started');

  await registerConnector(stack, connector, {
    'topic.prefix': prefix,
    'slot.name': slot,
    'publication.name': slot,
    'table.include.list': Object.values(tables)
      .map((table) => `public.${table}`)
      .join(','),
    'snapshot.mode': 'no_data',
    'key.converter.schemas.enable': variant.schemas,
    'value.converter.schemas.enable': variant.schemas,
    'skipped.operations': 'none',
    'heartbeat.interval.ms': '1000',
    'provide.transaction.metadata': 'true',
    ...variant.transforms,
    transforms: [...variant.transformNames, 'route'].join(','),
    'transforms.route.type': 'org.apache.kafka.connect.transforms.RegexRouter',
    'transforms.route.regex': `^(?!${prefix}\\.public\\.${tables.klantcontact}$).*$`,
    'transforms.route.replacement': inputTopic,
  });
  await database.waitForReplicationSlot(slot);

  const input = await TopicReader.start(kafka, inputTopic);
  return {
    ...variant,
    connector,
    slot,
    inputTopic,
    klantcontactTopic,
    metricsPort,
    settings,
    processor,
    input,
  };
}

async function insertRow(table: string, id: string, objectId: string): Promise<void> {
  const uuid = randomUUID();
  await database.pool.query(
    `INSERT INTO ${table}
       (id, uuid, klantcontact_id, onderwerpobjectidentificator_object_id,
        onderwerpobjectidentificator_code_objecttype, onderwerpobjectidentificator_code_register,
        onderwerpobjectidentificator_code_soort_object_id)
     VALUES ($1, $2, $3, $4, 'zaak', 'open-zaak', 'uuid')`,
    [id, uuid, klantcontactId, objectId],
  );
  rows.set(`${table}:${id}`, { uuid });
}

function rowUuid(table: string, id: string): string {
  return rows.get(`${table}:${id}`)!.uuid;
}

/** Writes the scenario's SQL changes, each in a transaction of its own. */
async function writeScenario(): Promise<void> {
  await database.pool.query(
    `INSERT INTO ${tables.klantcontact}
       (id, uuid, nummer, kanaal, onderwerp, inhoud, indicatie_contact_gelukt, taal, vertrouwelijk,
        plaatsgevonden_op)
     VALUES ($1, $2, 'KC-9007', 'telefoon', 'Parkeervergunning met grote sleutel', 'Vraag', true,
        'nld', false,
        now())`,
    [klantcontactId, randomUUID()],
  );

  await insertRow(tables.bigint, linkedId, `  ${zaken.moved.toUpperCase()} `);
  await database.pool.query(
    `UPDATE ${tables.bigint} SET onderwerpobjectidentificator_object_id = $2 WHERE id = $1`,
    [linkedId, zaken.movedTo],
  );
  await database.pool.query(`DELETE FROM ${tables.bigint} WHERE id = $1`, [linkedId]);
  await insertRow(tables.bigint, notAUuidId, ' ZAAK-2024-17 ');
  await insertRow(tables.bigint, truncatedId, zaken.truncated);
  await database.pool.query(`TRUNCATE ${tables.bigint}`);

  await database.pool.query(`SELECT pg_logical_emit_message(true, $1, 'zaak gekoppeld')`, [
    messagePrefix,
  ]);
  await database.pool.query(`SELECT pg_logical_emit_message(false, $1, 'zaak ontkoppeld')`, [
    messagePrefix,
  ]);

  // 3,036 characters: the object id is stored out of line, and trimming leaves the UUID.
  await insertRow(tables.toasted, toastedId, `${toastedZaak}${' '.repeat(3000)}`);
  const updateToasted = (column: string, value: string) =>
    database.pool.query(`UPDATE ${tables.toasted} SET ${column} = $1 WHERE id = $2`, [
      value,
      toastedId,
    ]);
  await updateToasted('onderwerpobjectidentificator_code_register', 'open-zaak-archief');
  await updateToasted('onderwerpobjectidentificator_code_objecttype', 'klant');
  await database.pool.query(`ALTER TABLE ${tables.toasted} REPLICA IDENTITY FULL`);
  await updateToasted('onderwerpobjectidentificator_code_objecttype', 'zaak');
}

/** Returns the JSON document of a record value, without the JsonConverter's schema. */
function documentOf(record: ConsumedRecord): Record<string, unknown> | null {
  if (record.value === null) {
    return null;
  }
  const parsed = JSON.parse(record.value) as Record<string, unknown>;
  return 'schema' in parsed && 'payload' in parsed
    ? (parsed.payload as Record<string, unknown>)
    : parsed;
}

/** Returns the `id` of a record key as exact decimal text. */
function keyIdOf(record: ConsumedRecord): string | undefined {
  return /"id":(\d+)/.exec(record.key ?? '')?.[1];
}

/**
 * Returns the dead-letter code that the README's behaviour table gives a record, or undefined for
 * a record that the processor handles.
 */
function expectedCode(record: ConsumedRecord): string | undefined {
  const document = documentOf(record);
  if (document === null) {
    return undefined;
  }
  if (document.status === 'BEGIN' || document.status === 'END') {
    return 'NOT_A_CHANGE_EVENT';
  }
  if (record.key?.includes('"serverName"')) {
    return 'NOT_A_CHANGE_EVENT';
  }
  if (document.op === 't' || document.op === 'm') {
    return 'UNSUPPORTED_OPERATION';
  }
  const row = (document.after ?? document) as Record<string, unknown>;
  if (
    row.onderwerpobjectidentificator_object_id === '__debezium_unavailable_value' &&
    row.onderwerpobjectidentificator_code_objecttype === 'zaak'
  ) {
    return 'UNAVAILABLE_VALUE';
  }
  return undefined;
}

/** The input records up to the end offsets of each partition, which the processor committed. */
interface ProcessedInput {
  records: ConsumedRecord[];
  ends: Map<number, bigint>;
}

/**
 * Waits until the connector has written the last change of the scenario, then until the
 * processor has committed past every record the input topic contains at that moment. Heartbeats
 * keep arriving after that, so the records and end offsets of that moment are returned.
 */
async function processedInput(variant: RunningVariant): Promise<ProcessedInput> {
  await waitFor(
    `the ${variant.name} connector to write the last change`,
    () =>
      variant.input.records.filter(
        (record) => keyIdOf(record) === toastedId && record.value !== null,
      ).length >= 4
        ? true
        : undefined,
    90_000,
  );
  const ends = await admin.fetchTopicOffsets(variant.inputTopic);
  await waitFor(
    `group ${variant.settings.groupId} to commit past the scenario`,
    async () => {
      const [committed] = await admin.fetchOffsets({
        groupId: variant.settings.groupId,
        topics: [variant.inputTopic],
      });
      return ends.every(({ partition, high }) => {
        const offset = committed!.partitions.find((entry) => entry.partition === partition);
        return BigInt(high) === 0n || BigInt(offset?.offset ?? '-1') >= BigInt(high);
      })
        ? true
        : undefined;
    },
    90_000,
  );
  const highs = new Map(ends.map(({ partition, high }) => [partition, BigInt(high)]));
  const records = await variant.input.readToEnd(admin);
  return {
    records: records.filter((record) => BigInt(record.offset) < highs.get(record.partition)!),
    ends: highs,
  };
}

async function metricsOf(variant: RunningVariant): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${variant.metricsPort}/metrics`);
  return response.text();
}

function counterValue(metrics: string, name: string, labels: string): number {
  const line = metrics.split('\n').find((candidate) => candidate.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  database = new OpenKlantDatabase(stack);
  await createTables();
  for (const variant of variants) {
    running.set(variant.name, await startVariant(variant));
  }
  await writeScenario();
}, 300_000);

afterAll(async () => {
  for (const variant of running.values()) {
    await variant.processor.stop();
    await variant.input.stop();
    await deleteConnector(stack, variant.connector);
    await database.pool.query(`DROP PUBLICATION IF EXISTS ${variant.slot}`);
  }
  for (const table of Object.values(tables)) {
    await database?.pool.query(`DROP TABLE IF EXISTS ${table}`);
  }
  await database?.close();
  await admin?.disconnect();
});

describe.each(variants.map((variant) => variant.name))('Debezium shapes as %s records', (name) => {
  it('publish events of bigint, untrimmed and TOASTed rows', async () => {
    const variant = running.get(name)!;
    await processedInput(variant);
    const output = await TopicReader.start(kafka, variant.settings.outputTopic);
    const records = await output.readToEnd(admin);
    await output.stop();
    const linked = rowUuid(tables.bigint, linkedId);
    const truncated = rowUuid(tables.bigint, truncatedId);
    const toasted = rowUuid(tables.toasted, toastedId);
    const event = (type: 'zaak-gekoppeld' | 'zaak-ontkoppeld', zaak: string, row: string) =>
      expectedEvent(variant.settings, type, zaak, row, label);

    const events = eventsAbout(records, [
      linked,
      rowUuid(tables.bigint, notAUuidId),
      truncated,
      toasted,
    ]);

    // TRUNCATE unlinks nothing: its record goes to the dead-letter topic, or the flattening
    // transform drops it.
    expect(eventsByZaak(events)).toEqual(
      new Map([
        [
          zaken.moved,
          [
            event('zaak-gekoppeld', zaken.moved, linked),
            event('zaak-ontkoppeld', zaken.moved, linked),
          ],
        ],
        [
          zaken.movedTo,
          [
            event('zaak-gekoppeld', zaken.movedTo, linked),
            event('zaak-ontkoppeld', zaken.movedTo, linked),
          ],
        ],
        [zaken.truncated, [event('zaak-gekoppeld', zaken.truncated, truncated)]],
        [
          toastedZaak,
          [
            event('zaak-gekoppeld', toastedZaak, toasted),
            event('zaak-ontkoppeld', toastedZaak, toasted),
            event('zaak-gekoppeld', toastedZaak, toasted),
          ],
        ],
      ]),
    );
    expect(new Set(events.map(({ event: { id } }) => id)).size).toBe(events.length);
  });

  it('log a non-UUID object id with its row key', async () => {
    const variant = running.get(name)!;
    await processedInput(variant);

    const warnings = variant.processor.logs.filter(
      (line) => line.msg === 'row names a zaak but does not link to it',
    );

    expect(warnings).toEqual([
      expect.objectContaining({
        topic: variant.inputTopic,
        rowKey: notAUuidId,
        reason: 'OBJECT_ID_NOT_A_UUID',
      }),
    ]);
  });

  it('dead-letter records that are no row changes', async () => {
    const variant = running.get(name)!;
    const { records: input, ends } = await processedInput(variant);
    const deadLetters = await TopicReader.start(kafka, `${variant.settings.groupId}-dead-letter`);
    const letters = (await deadLetters.readToEnd(admin)).filter(
      ({ headers }) =>
        BigInt(headers['deadletter.source.offset']!) <
        ends.get(Number(headers['deadletter.source.partition']))!,
    );
    await deadLetters.stop();
    const expected = input
      .map((record) => ({ record, code: expectedCode(record) }))
      .filter(({ code }) => code !== undefined);

    const codes = expected.map(({ code }) => code);
    const messages = expected.filter(({ record }) => documentOf(record)?.op === 'm');
    expect(codes).toContain('NOT_A_CHANGE_EVENT');
    expect(codes.filter((code) => code === 'UNAVAILABLE_VALUE')).toHaveLength(1);
    expect(messages.map(({ record }) => record.key)).toEqual([
      expect.stringContaining(messagePrefix),
      expect.stringContaining(messagePrefix),
    ]);
    const truncates = expected.filter(({ record }) => documentOf(record)?.op === 't');
    expect(truncates).toHaveLength(variant.name === 'envelope' ? 1 : 0);
    const bySource = (a: ConsumedRecord, b: ConsumedRecord) =>
      Number(a.headers['deadletter.source.partition']) -
        Number(b.headers['deadletter.source.partition']) ||
      Number(
        BigInt(a.headers['deadletter.source.offset']!) -
          BigInt(b.headers['deadletter.source.offset']!),
      );
    expect([...letters].sort(bySource)).toEqual(
      expected
        .sort(
          (a, b) =>
            a.record.partition - b.record.partition ||
            Number(BigInt(a.record.offset) - BigInt(b.record.offset)),
        )
        .map(({ record, code }) => ({
          partition: expect.any(Number),
          offset: expect.any(String),
          key: record.key,
          value: record.value,
          headers: {
            ...record.headers,
            'deadletter.error.code': code,
            'deadletter.error.message':
              code === 'UNAVAILABLE_VALUE'
                ? expect.stringContaining('REPLICA IDENTITY FULL')
                : expect.any(String),
            'deadletter.source.topic': variant.inputTopic,
            'deadletter.source.partition': String(record.partition),
            'deadletter.source.offset': record.offset,
            'deadletter.source.timestamp': expect.stringMatching(/^\d+$/),
          },
        })),
    );
  });

  it('count tombstones and dead letters', async () => {
    const variant = running.get(name)!;
    const { records: input } = await processedInput(variant);

    const metrics = await metricsOf(variant);

    const tombstones = input.filter((record) => record.value === null).length;
    expect(tombstones).toBe(variant.name === 'envelope' ? 1 : 0);
    expect(
      counterValue(metrics, 'openklant_cdc_records_processed_total', 'outcome="tombstone"'),
    ).toBe(tombstones);
    for (const code of ['UNSUPPORTED_OPERATION', 'UNAVAILABLE_VALUE']) {
      expect(counterValue(metrics, 'openklant_cdc_dead_letters_total', `code="${code}"`)).toBe(
        input.filter((record) => expectedCode(record) === code).length,
      );
    }
  });
});
