import { describe, expect, it } from 'vitest';
import type { RowChange } from '../../src/decode/change.js';
import { decodeRecorded, payloadOf, rejectionOf, rowOf } from '../support/decoding.js';
import { fixture, type FixtureFile } from '../support/fixtures.js';

// The recorder writes the flattened files in one run, after a warm-up change, so each streamed
// change has the same source position in every file. Snapshot reads differ: each connector takes
// its own snapshot.
const streamed: [name: string, op: string][] = [
  ['create linked', 'c'],
  ['update register', 'u'],
  ['update zaak', 'u'],
  ['update objecttype', 'u'],
  ['delete', 'd'],
  ['create with object id that is not a uuid', 'c'],
  ['delete after snapshot', 'd'],
];

/** Decodes a recorded row flattened with add.fields=op,lsn,txId,sequence,source.ts_ms. */
function rewriteChange(name: string): RowChange {
  const decoded = decodeRecorded(fixture('flattened-rewrite.json', name));
  if (decoded.kind !== 'change') {
    throw new Error(`Fixture "${name}" decodes to a ${decoded.kind}, expected a change.`);
  }
  return decoded;
}

describe('flattened rows with add.fields=op,lsn,txId,sequence,source.ts_ms', () => {
  it.each([...streamed, ['snapshot read of a linked row', 'r']])('decodes %s', (name, op) => {
    const row = payloadOf(fixture('flattened-rewrite.json', name).value!);
    expect(row.__deleted).toBe(op === 'd' ? 'true' : 'false');
    expect(rewriteChange(name)).toEqual({
      kind: 'change',
      key: String(row.id),
      op,
      before: op === 'd' ? rowOf(row) : null,
      after: op === 'd' ? null : rowOf(row),
      position: {
        lsn: String(row.__lsn),
        sequence: JSON.parse(row.__sequence),
        txId: String(row.__txId),
        tsMs: row.__source_ts_ms,
        snapshot: op === 'r',
      },
    });
  });

  it('decodes a delete whose row holds only the key', () => {
    expect(rewriteChange('delete').before).toEqual({
      id: rewriteChange('delete').key,
      uuid: '',
      klantcontactId: null,
      objectId: '',
      codeObjecttype: '',
      codeRegister: '',
      codeSoortObjectId: '',
    });
  });
});

describe('flattened rows with source fields and no op', () => {
  it.each(streamed)('decodes %s with a create as an update', (name, op) => {
    expect(decodeRecorded(fixture('flattened-source-fields.json', name))).toEqual({
      ...rewriteChange(name),
      op: op === 'c' ? 'u' : op,
    });
  });

  it('decodes a snapshot read by __source_snapshot', () => {
    const record = fixture('flattened-source-fields.json', 'snapshot read of a linked row');
    const row = payloadOf(record.value!);
    expect(row.__source_snapshot).toBe('last');
    expect(decodeRecorded(record)).toEqual({
      kind: 'change',
      key: String(row.id),
      op: 'r',
      before: null,
      after: rowOf(row),
      position: {
        lsn: String(row.__source_lsn),
        sequence: JSON.parse(row.__source_sequence),
        txId: String(row.__source_txId),
        tsMs: row.__source_ts_ms,
        snapshot: true,
      },
    });
  });
});

describe('flattened rows with only source.ts_ms', () => {
  it.each(streamed)('decodes %s without a source position', (name, op) => {
    const expected = rewriteChange(name);
    expect(decodeRecorded(fixture('flattened-commit-time-only.json', name))).toEqual({
      ...expected,
      op: op === 'c' ? 'u' : op,
      position: {
        lsn: null,
        sequence: null,
        txId: null,
        tsMs: expected.position.tsMs,
        snapshot: false,
      },
    });
  });

  it('decodes a snapshot read as an update', () => {
    const record = fixture('flattened-commit-time-only.json', 'snapshot read of a linked row');
    const row = payloadOf(record.value!);
    expect(decodeRecorded(record)).toEqual({
      kind: 'change',
      key: String(row.id),
      op: 'u',
      before: null,
      after: rowOf(row),
      position: {
        lsn: null,
        sequence: null,
        txId: null,
        tsMs: row.__source_ts_ms,
        snapshot: false,
      },
    });
  });
});

describe.each<[FixtureFile, unknown]>([
  ['flattened-defaults.json', null],
  ['flattened-defaults-with-schemas.json', { schema: expect.any(Object), payload: null }],
])('flattened rows with the transform defaults in %s', (file, tombstoneValue) => {
  it.each([
    'snapshot read of a linked row',
    'create linked',
    'update register',
    'update zaak',
    'update objecttype',
    'create with object id that is not a uuid',
  ])('rejects %s for its missing commit time', (name) => {
    expect(rejectionOf(fixture(file, name))).toEqual({
      code: 'INVALID_ENVELOPE',
      message:
        'Flattened row has no "__source_ts_ms" field, so the commit time for the events is ' +
        'unknown. Add source.ts_ms to the add.fields of the ExtractNewRecordState transform, ' +
        'for example transforms.unwrap.add.fields=op,lsn,txId,sequence,source.ts_ms.',
    });
  });

  it.each(['tombstone', 'tombstone after snapshot'])('decodes %s as a tombstone', (name) => {
    const record = fixture(file, name);
    expect(JSON.parse(record.value!)).toEqual(tombstoneValue);
    expect(decodeRecorded(record)).toEqual({
      kind: 'tombstone',
      key: String(payloadOf(record.key).id),
    });
  });
});

describe('flattened rows that are invalid', () => {
  const valid = fixture('flattened-rewrite.json', 'update zaak');
  const row = payloadOf(valid.value!);
  const withRow = (change: Record<string, unknown>) => JSON.stringify({ ...row, ...change });

  it.each([
    [
      '__op that contradicts __deleted',
      { __deleted: 'true' },
      'INVALID_ENVELOPE',
      'Flattened row has "__op" "u" but "__deleted" "true", which contradict each other.',
    ],
    [
      '__deleted that is not "true" or "false"',
      { __deleted: 'yes' },
      'INVALID_ENVELOPE',
      'Field "__deleted" is the string yes, expected "true" or "false".',
    ],
    [
      'unknown __op',
      { __op: 'x' },
      'INVALID_ENVELOPE',
      'Field "__op" "x" is unknown, expected one of "c", "u", "d", "r". Check that the ' +
        'input topic contains Debezium change events of the onderwerpobject table.',
    ],
    [
      'commit time that is a string',
      { __source_ts_ms: 'soon' },
      'INVALID_ENVELOPE',
      'Field "__source_ts_ms" is the string soon, expected the commit time in milliseconds ' +
        'since 1970 within the range of a date (at most 8.64e15).',
    ],
    [
      'sequence that is not JSON',
      { __sequence: '[1' },
      'INVALID_ENVELOPE',
      'Field "__sequence" is [1, expected a JSON array of two LSNs.',
    ],
    [
      'id that is a string',
      { id: '7' },
      'INVALID_ROW',
      'Column "id" in the flattened row is the string 7, expected an integer.',
    ],
    [
      'row without id',
      { id: undefined },
      'INVALID_ENVELOPE',
      'Record value has neither the fields of a Debezium change event envelope ("op", ' +
        '"before", "after", "source") nor the column "id" of an onderwerpobject row flattened ' +
        'by ExtractNewRecordState.',
    ],
  ])('rejects %s', (_name, change, code, message) => {
    expect(rejectionOf({ key: valid.key, value: withRow(change) })).toEqual({ code, message });
  });
});
