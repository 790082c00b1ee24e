import { describe, expect, it } from 'vitest';
import { decodeDebeziumJson } from '../../src/decode/debezium-json.js';
import { DeadLetterError } from '../../src/errors.js';
import { fixture, loadFixtures, type FixtureFile } from '../support/fixtures.js';

const files: FixtureFile[] = ['with-schemas.json', 'without-schemas.json'];

interface RawEnvelope {
  op: string;
  after: Record<string, unknown> | null;
  source: { lsn: number; sequence: string; txId: number; ts_ms: number; snapshot: string };
}

function envelopeOf(value: string): RawEnvelope {
  const parsed = JSON.parse(value);
  return 'payload' in parsed ? parsed.payload : parsed;
}

function decode(key: string | null, value: string | null) {
  return decodeDebeziumJson(
    key === null ? null : Buffer.from(key),
    value === null ? null : Buffer.from(value),
  );
}

function decodeError(key: string | null, value: string | null): DeadLetterError {
  try {
    decode(key, value);
  } catch (error) {
    expect(error).toBeInstanceOf(DeadLetterError);
    return error as DeadLetterError;
  }
  throw new Error('decoding did not fail');
}

describe.each(files)('decodeDebeziumJson on %s', (file) => {
  it.each([
    ['snapshot read of a linked row', 'r', true],
    ['create linked', 'c', false],
    ['update register', 'u', false],
    ['update zaak', 'u', false],
    ['update objecttype', 'u', false],
    ['create with object id that is not a uuid', 'c', false],
  ])('decodes %s', (name, op, snapshot) => {
    const record = fixture(file, name);
    const envelope = envelopeOf(record.value!);
    const after = envelope.after!;

    expect(decode(record.key, record.value)).toEqual({
      kind: 'change',
      key: String(after.id),
      op,
      before: null,
      after: {
        id: String(after.id),
        uuid: after.uuid,
        klantcontactId: String(after.klantcontact_id),
        objectId: after.onderwerpobjectidentificator_object_id,
        codeObjecttype: after.onderwerpobjectidentificator_code_objecttype,
        codeRegister: after.onderwerpobjectidentificator_code_register,
        codeSoortObjectId: after.onderwerpobjectidentificator_code_soort_object_id,
      },
      position: {
        lsn: String(envelope.source.lsn),
        sequence: JSON.parse(envelope.source.sequence),
        txId: String(envelope.source.txId),
        tsMs: envelope.source.ts_ms,
        snapshot,
      },
    });
  });

  it('decodes a delete whose before holds only the key', () => {
    const record = fixture(file, 'delete');
    const decoded = decode(record.key, record.value);

    expect(decoded).toMatchObject({ kind: 'change', op: 'd', after: null });
    // Debezium fills the NOT NULL columns it does not have with empty values.
    expect(decoded.kind === 'change' && decoded.before).toEqual({
      id: decoded.key,
      uuid: '',
      klantcontactId: null,
      objectId: '',
      codeObjecttype: '',
      codeRegister: '',
      codeSoortObjectId: '',
    });
  });

  it('decodes a tombstone', () => {
    const record = fixture(file, 'tombstone');
    const id = JSON.stringify(JSON.parse(record.key)).match(/"id":(\d+)/)![1];
    expect(decode(record.key, record.value)).toEqual({ kind: 'tombstone', key: id });
  });
});

describe('decodeDebeziumJson on bad records', () => {
  const valid = fixture('without-schemas.json', 'create linked');
  const envelope = JSON.parse(valid.value!);
  const withEnvelope = (change: Record<string, unknown>) =>
    JSON.stringify({ ...envelope, ...change });

  it.each([
    [
      'value that is not JSON',
      valid.key,
      '{"op":"c",',
      'INVALID_JSON',
      'Record value is not valid JSON',
    ],
    ['key that is not JSON', 'id=7', valid.value, 'INVALID_JSON', 'Record key is not valid JSON'],
    ['missing key', null, valid.value, 'INVALID_KEY', 'Record has no key.'],
    [
      'key without id',
      '{"uuid":"x"}',
      valid.value,
      'INVALID_KEY',
      'Record key {"uuid":"x"} has no integer "id".',
    ],
    [
      'key with a fractional id',
      '{"id":1.5}',
      valid.value,
      'INVALID_KEY',
      'Record key {"id":1.5} has no integer "id".',
    ],
    [
      'key with an integer beyond 2^53 but no id',
      '{"uuid":12345678901234567890}',
      valid.value,
      'INVALID_KEY',
      'Record key {"uuid":12345678901234567890} has no integer "id".',
    ],
    [
      'value that is an array',
      valid.key,
      '[1,2]',
      'INVALID_ENVELOPE',
      'Record value is an array, expected a Debezium change event',
    ],
    [
      'missing op',
      valid.key,
      withEnvelope({ op: undefined }),
      'INVALID_ENVELOPE',
      'Envelope has no "op" field.',
    ],
    [
      'unknown op',
      valid.key,
      withEnvelope({ op: 'x' }),
      'INVALID_ENVELOPE',
      'Envelope op "x" is unknown',
    ],
    [
      'truncate',
      valid.key,
      withEnvelope({ op: 't', after: null }),
      'UNSUPPORTED_OPERATION',
      'Envelope op "t" (truncate) is not processed.',
    ],
    [
      'create without after',
      valid.key,
      withEnvelope({ after: null }),
      'INVALID_ENVELOPE',
      'Envelope with op "c" has no "after" row.',
    ],
    [
      'after that is a string',
      valid.key,
      withEnvelope({ after: 'row' }),
      'INVALID_ROW',
      'Envelope field "after" is the string row',
    ],
    [
      'object id that is a number',
      valid.key,
      withEnvelope({ after: { ...envelope.after, onderwerpobjectidentificator_object_id: 1.5 } }),
      'INVALID_ROW',
      'Column "onderwerpobjectidentificator_object_id" in "after" is the number 1.5',
    ],
    [
      'object id that is an integer',
      valid.key,
      withEnvelope({ after: { ...envelope.after, onderwerpobjectidentificator_object_id: 42 } }),
      'INVALID_ROW',
      'Column "onderwerpobjectidentificator_object_id" in "after" is the number 42, expected a string or null.',
    ],
    [
      'klantcontact id that is not an integer',
      valid.key,
      withEnvelope({ after: { ...envelope.after, klantcontact_id: 'KC-7301' } }),
      'INVALID_ROW',
      'Column "klantcontact_id" in "after" is the string KC-7301, expected an integer or null.',
    ],
    [
      'missing source',
      valid.key,
      withEnvelope({ source: undefined }),
      'INVALID_ENVELOPE',
      'Envelope has no "source" block.',
    ],
    [
      'sequence that is not JSON',
      valid.key,
      withEnvelope({ source: { ...envelope.source, sequence: '[1' } }),
      'INVALID_ENVELOPE',
      'Field "source.sequence" is [1, expected a JSON array of two LSNs.',
    ],
    [
      'op that is an integer beyond 2^64',
      valid.key,
      valid.value!.replace('"op":"c"', '"op":99999999999999999999'),
      'INVALID_ENVELOPE',
      'Envelope op the bigint 99999999999999999999 is unknown',
    ],
    [
      'op nested 4,500 arrays deep',
      valid.key,
      valid.value!.replace('"op":"c"', `"op":${'['.repeat(4_500)}${']'.repeat(4_500)}`),
      'INVALID_ENVELOPE',
      'Envelope op an array is unknown',
    ],
    [
      'commit time beyond the range of a date',
      valid.key,
      withEnvelope({ source: { ...envelope.source, ts_ms: 9e15 } }),
      'INVALID_ENVELOPE',
      'Field "source.ts_ms" is the number 9000000000000000, expected the commit time',
    ],
    [
      'sequence with an LSN beyond 2^64',
      valid.key,
      withEnvelope({
        source: { ...envelope.source, sequence: '["99999999999999999999999999","1"]' },
      }),
      'INVALID_ENVELOPE',
      'Field "source.sequence" contains 99999999999999999999999999, beyond 2^64 - 1',
    ],
    [
      'key that names another row',
      '{"id":105}',
      valid.value!,
      'INVALID_KEY',
      `Record key has id 105 but its row has id ${envelope.after.id}.`,
    ],
  ])('rejects %s', (_name, key, value, code, message) => {
    const error = decodeError(key, value);
    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
  });
});

describe('keys with the id as text', () => {
  const valid = fixture('without-schemas.json', 'create linked');
  const id = JSON.parse(valid.key).id as number;

  it.each([
    ['plain digits', `{"id":"${id}"}`],
    ['leading zeros', `{"id":"000${id}"}`],
  ])('read %s as the row id', (_name, key) => {
    expect(decode(key, valid.value)).toMatchObject({ kind: 'change', key: String(id) });
  });
});

describe('recorded fixtures', () => {
  it('hold the same changes in both converter forms', () => {
    const withSchemas = loadFixtures('with-schemas.json').filter(
      (r) => !r.name.startsWith('snapshot'),
    );
    const without = loadFixtures('without-schemas.json').filter(
      (r) => !r.name.startsWith('snapshot'),
    );
    for (const record of withSchemas) {
      const twin = without.find((candidate) => candidate.name === record.name)!;
      expect(decode(record.key, record.value)).toEqual(decode(twin.key, twin.value));
    }
  });
});
