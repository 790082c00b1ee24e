import { v5 as uuidV5 } from 'uuid';
import type { BatchSettings } from '../src/processor/batch.js';
import type { InputMessage } from '../src/processor/dead-letter.js';
import { fixture, type FixtureFile } from '../test/support/fixtures.js';

/** Namespace of the row and zaak UUIDs that the benchmarks generate, so runs repeat exactly. */
const namespace = '5c1f3b0e-8d2a-4f6e-9b7c-2a4d6e8f0a1c';

/** The Debezium records that a row's life leaves: link, move to another zaak, delete, tombstone. */
const lifeOfARow = ['create linked', 'update zaak', 'delete', 'tombstone'] as const;

export interface GeneratedRecord {
  key: string;
  value: string | null;
}

/**
 * Generates the records of `rows` onderwerpobject rows from records that the connector wrote on the
 * real stack: each row links to a zaak, moves to another and is deleted. Ids, UUIDs and source
 * positions are rewritten, so that every change has its own row, zaak and growing stream position.
 * Rows are interleaved, so one batch contains changes of many rows.
 */
export function onderwerpobjectRecords(
  file: FixtureFile,
  rows: number,
  klantcontactId: number,
  firstRowId = 1,
): GeneratedRecord[] {
  const templates = lifeOfARow.map((name) => fixture(file, name));
  const records: GeneratedRecord[] = [];
  let lsn = 100_000_000;
  for (const [step, template] of templates.entries()) {
    for (let row = firstRowId; row < firstRowId + rows; row += 1) {
      const key = JSON.parse(template.key) as Record<string, unknown>;
      payloadOf(key).id = row;
      if (template.value === null) {
        records.push({ key: JSON.stringify(key), value: null });
        continue;
      }
      const value = JSON.parse(template.value) as Record<string, unknown>;
      const envelope = payloadOf(value);
      const rowState = (envelope.after ?? envelope.before) as Record<string, unknown>;
      rowState.id = row;
      if (envelope.after !== null) {
        rowState.uuid = uuidV5(`row-${row}`, namespace);
        rowState.klantcontact_id = klantcontactId;
        rowState.onderwerpobjectidentificator_object_id = uuidV5(`zaak-${row}-${step}`, namespace);
      }
      const source = envelope.source as Record<string, unknown>;
      const previous = lsn;
      lsn += 512;
      source.sequence = JSON.stringify([String(previous), String(lsn)]);
      source.lsn = lsn;
      source.txId = lsn / 512;
      records.push({ key: JSON.stringify(key), value: JSON.stringify(value) });
    }
  }
  return records;
}

/** Generates the create record of one klantcontact with the given id. */
export function klantcontactRecord(file: FixtureFile, id: number): GeneratedRecord {
  const template = fixture(file, 'create');
  const key = JSON.parse(template.key) as Record<string, unknown>;
  payloadOf(key).id = id;
  const value = JSON.parse(template.value!) as Record<string, unknown>;
  const envelope = payloadOf(value);
  (envelope.after as Record<string, unknown>).id = id;
  const source = envelope.source as Record<string, unknown>;
  source.sequence = JSON.stringify([null, '1000']);
  source.lsn = 1000;
  return { key: JSON.stringify(key), value: JSON.stringify(value) };
}

/** Turns generated records into consumer messages at consecutive offsets. */
export function inputMessages(records: GeneratedRecord[]): InputMessage[] {
  return records.map((record, index) => ({
    key: Buffer.from(record.key),
    value: record.value === null ? null : Buffer.from(record.value),
    headers: {},
    offset: String(index),
    timestamp: '1796399176000',
  }));
}

/** Returns the part of a JsonConverter document that contains the data, with or without schemas. */
function payloadOf(document: Record<string, unknown>): Record<string, unknown> {
  return ('schema' in document && 'payload' in document ? document.payload : document) as Record<
    string,
    unknown
  >;
}

/** Returns the settings of a benchmark batch, with labels from `label`. */
export function benchmarkSettings(label: BatchSettings['label']): BatchSettings {
  return {
    topic: 'openklant.public.klantinteracties_onderwerpobject',
    partition: 0,
    source: 'urn:nld:oin:01823288444:openklant',
    openKlantBaseUrl: 'https://open-klant.example.nl',
    label,
  };
}
