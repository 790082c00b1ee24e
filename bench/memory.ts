import { decodeKlantcontactJson } from '../src/decode/klantcontact-json.js';
import { KlantcontactVersions } from '../src/label/versions.js';
import { processBatch } from '../src/processor/batch.js';
import { emptyPartitionState } from '../src/state/partition-state.js';
import {
  benchmarkSettings,
  inputMessages,
  klantcontactRecord,
  onderwerpobjectRecords,
} from './inputs.js';
import type { Measurement } from './measurement.js';

const rows = 100_000;
const chunk = 1_000;

// A label string of its own per row, 54 characters long.
const settings = benchmarkSettings(
  (link) =>
    `Vraag over de aanvraag omgevingsvergunning ${link.onderwerpobjectUuid.slice(0, 2)} - (KC-1)`,
);

/** Returns the heap in use after a full garbage collection. */
function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) {
    throw new Error('The memory benchmark needs node --expose-gc; run it with npm run bench.');
  }
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * Measures the heap that the state keeps per linked row and the klantcontact table keeps per
 * klantcontact, over 100,000 of each. The state is built by processing link records, so it
 * contains what the processor keeps in production.
 */
export function memoryBenchmarks(): Measurement[] {
  const state = emptyPartitionState();
  const before = heapUsed();
  for (let first = 1; first <= rows; first += chunk) {
    const links = onderwerpobjectRecords('with-schemas.json', chunk, 40, first).slice(0, chunk);
    const result = processBatch(inputMessages(links), state, settings);
    for (const [key, value] of result.updates) {
      if (value !== null) {
        state.rows.set(key, value);
      }
    }
  }
  const stateBytes = heapUsed() - before;
  if (state.rows.size !== rows) {
    throw new Error(`The state has ${state.rows.size} rows, expected ${rows}.`);
  }

  const versions = new KlantcontactVersions(80);
  const beforeTable = heapUsed();
  for (let id = 1; id <= rows; id += 1) {
    const record = klantcontactRecord('klantcontact-with-schemas.json', id);
    versions.apply(
      id % 3,
      decodeKlantcontactJson(Buffer.from(record.key), Buffer.from(record.value!)),
    );
  }
  const tableBytes = heapUsed() - beforeTable;
  if (versions.label(String(rows), null) === null) {
    throw new Error('The klantcontact table lacks the last klantcontact.');
  }

  return [
    {
      name: 'state per linked row',
      value: Math.round(stateBytes / rows),
      unit: 'bytes',
      bound: 'max',
      target: 700,
    },
    {
      name: 'klantcontact table per klantcontact',
      value: Math.round(tableBytes / rows),
      unit: 'bytes',
      bound: 'max',
      target: 400,
    },
  ];
}
