import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { InputMessage } from '../../src/processor/dead-letter.js';

/** A Debezium record recorded from the real stack by scripts/record-fixtures.ts. */
export interface RecordedRecord {
  name: string;
  key: string;
  value: string | null;
}

export type FixtureFile = 'with-schemas.json' | 'without-schemas.json';

export function loadFixtures(file: FixtureFile): RecordedRecord[] {
  const path = resolve(import.meta.dirname, '../fixtures/debezium-json', file);
  return JSON.parse(readFileSync(path, 'utf8')) as RecordedRecord[];
}

export function fixture(file: FixtureFile, name: string): RecordedRecord {
  const found = loadFixtures(file).find((record) => record.name === name);
  if (found === undefined) {
    throw new Error(`No fixture named "${name}" in ${file}; run scripts/record-fixtures.ts.`);
  }
  return found;
}

/** Turns recorded records into consumer messages at consecutive offsets. */
export function asMessages(records: Pick<RecordedRecord, 'key' | 'value'>[]): InputMessage[] {
  return records.map((record, index) => ({
    key: Buffer.from(record.key),
    value: record.value === null ? null : Buffer.from(record.value),
    headers: {},
    offset: String(100 + index),
    timestamp: '1796399176000',
  }));
}
