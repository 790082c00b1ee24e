import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { InputMessage } from '../../src/processor/dead-letter.js';

/** A Debezium record recorded from the real stack by scripts/record-fixtures.ts. */
export interface RecordedRecord {
  name: string;
  /** The topic the connector wrote the record to; absent in older recordings. */
  topic?: string;
  key: string | null;
  value: string | null;
}

export type FixtureFile =
  | 'with-schemas.json'
  | 'without-schemas.json'
  | 'flattened-rewrite.json'
  | 'flattened-commit-time-only.json'
  | 'flattened-source-fields.json'
  | 'flattened-defaults.json'
  | 'flattened-defaults-with-schemas.json'
  | 'other-shapes.json'
  | 'other-shapes-flattened.json'
  | 'klantcontact-with-schemas.json'
  | 'klantcontact-without-schemas.json'
  | 'klantcontact-flattened.json'
  | 'klantcontact-flattened-defaults.json';

export function loadFixtures(file: FixtureFile): RecordedRecord[] {
  const path = resolve(import.meta.dirname, '../fixtures/debezium-json', file);
  return JSON.parse(readFileSync(path, 'utf8')) as RecordedRecord[];
}

/** Returns a recorded record by name. The truncate record, for one, has no key. */
export function recordedFixture(file: FixtureFile, name: string): RecordedRecord {
  const found = loadFixtures(file).find((record) => record.name === name);
  if (found === undefined) {
    throw new Error(`No fixture named "${name}" in ${file}; run scripts/record-fixtures.ts.`);
  }
  return found;
}

/** Returns a recorded record that has a key, by name. */
export function fixture(file: FixtureFile, name: string): RecordedRecord & { key: string } {
  const found = recordedFixture(file, name);
  if (found.key === null) {
    throw new Error(`Fixture "${name}" in ${file} has no key; use recordedFixture.`);
  }
  return { ...found, key: found.key };
}

/** Turns recorded records into consumer messages at consecutive offsets. */
export function asMessages(records: Pick<RecordedRecord, 'key' | 'value'>[]): InputMessage[] {
  return records.map((record, index) => ({
    key: record.key === null ? null : Buffer.from(record.key),
    value: record.value === null ? null : Buffer.from(record.value),
    headers: {},
    offset: String(100 + index),
    timestamp: '1796399176000',
  }));
}
