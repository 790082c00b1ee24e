import { describe, expect, it } from 'vitest';
import type { RowChange } from '../../src/decode/change.js';
import { transition, type LinkState } from '../../src/transition/transition.js';
import { decodeRecorded, payloadOf, rejectionOf, rowOf } from '../support/decoding.js';
import { fixture, recordedFixture, type FixtureFile } from '../support/fixtures.js';

// The recorder inserts these ids into a bigint copy of the onderwerpobject table.
const bigId = '9007199254740993';
const secondBigId = '9007199254740995';
const bigKlantcontactId = '9007199254740995';

const files: FixtureFile[] = ['other-shapes.json', 'other-shapes-flattened.json'];

function streamedPosition(source: Record<string, unknown>) {
  return {
    lsn: String(source.lsn),
    sequence: JSON.parse(source.sequence as string),
    txId: String(source.txId),
    tsMs: source.ts_ms,
    snapshot: false,
  };
}

function envelopeChange(name: string): RowChange {
  const decoded = decodeRecorded(fixture('other-shapes.json', name));
  if (decoded.kind !== 'change') {
    throw new Error(`Fixture "${name}" decodes to a ${decoded.kind}, expected a change.`);
  }
  return decoded;
}

describe('bigint keys', () => {
  it('lose digits with JSON.parse', () => {
    const record = fixture('other-shapes.json', 'create in bigint table');
    expect(String(payloadOf(record.key).id)).toBe('9007199254740992');
  });

  it.each([
    ['create in bigint table', 'c'],
    ['update in bigint table', 'u'],
  ])('keep every digit in %s', (name, op) => {
    const envelope = payloadOf(fixture('other-shapes.json', name).value!);
    expect(envelopeChange(name)).toEqual({
      kind: 'change',
      key: bigId,
      op,
      before: null,
      after: { ...rowOf(envelope.after), id: bigId, klantcontactId: bigKlantcontactId },
      position: streamedPosition(envelope.source),
    });
  });

  it('keep every digit in a delete', () => {
    const envelope = payloadOf(fixture('other-shapes.json', 'delete in bigint table').value!);
    expect(envelopeChange('delete in bigint table')).toEqual({
      kind: 'change',
      key: bigId,
      op: 'd',
      before: { ...rowOf(envelope.before), id: bigId },
      after: null,
      position: streamedPosition(envelope.source),
    });
  });

  it('keep every digit in a tombstone', () => {
    expect(decodeRecorded(fixture('other-shapes.json', 'tombstone in bigint table'))).toEqual({
      kind: 'tombstone',
      key: bigId,
    });
  });

  it('tell two keys apart that JSON.parse rounds apart', () => {
    const name = 'create of a second row in bigint table';
    const envelope = payloadOf(fixture('other-shapes.json', name).value!);
    expect(envelopeChange(name)).toEqual({
      kind: 'change',
      key: secondBigId,
      op: 'c',
      before: null,
      after: { ...rowOf(envelope.after), id: secondBigId, klantcontactId: null },
      position: streamedPosition(envelope.source),
    });
  });

  it.each([
    'create in bigint table',
    'update in bigint table',
    'delete in bigint table',
    'create of a second row in bigint table',
  ])('keep every digit in flattened %s', (name) => {
    expect(decodeRecorded(fixture('other-shapes-flattened.json', name))).toEqual(
      envelopeChange(name),
    );
  });
});

describe('records that are not row changes', () => {
  const logicalMessage =
    'Envelope op "m" (logical decoding message) is not processed. Debezium writes the ' +
    'messages of pg_logical_emit_message to the topic {topic.prefix}.message; check that no ' +
    'transform routes that topic to the input topic.';
  const heartbeat =
    'Record value is a Debezium heartbeat, not a change event. The connector writes heartbeats ' +
    'to the topic __debezium-heartbeat.{topic.prefix}; check that ONDERWERPOBJECT_TOPIC names ' +
    "the table's topic and that no transform routes heartbeats to it.";

  it('include a truncate without a key', () => {
    const record = recordedFixture('other-shapes.json', 'truncate');
    expect(record.key).toBeNull();
    expect(rejectionOf(record)).toEqual({
      code: 'UNSUPPORTED_OPERATION',
      message:
        'Envelope op "t" (truncate) is not processed. Keep the connector\'s default ' +
        'skipped.operations=t, or unlink the rows by deleting them.',
    });
  });

  it.each(
    files.flatMap((file) => [
      [file, 'transactional logical message', 'UNSUPPORTED_OPERATION', logicalMessage],
      [file, 'non-transactional logical message', 'UNSUPPORTED_OPERATION', logicalMessage],
      [file, 'heartbeat', 'NOT_A_CHANGE_EVENT', heartbeat],
    ]),
  )('in %s include the %s', (file, name, code, message) => {
    expect(rejectionOf(fixture(file as FixtureFile, name))).toEqual({ code, message });
  });

  it.each(
    files.flatMap((file) => [
      [file, 'transaction begin', 'BEGIN'],
      [file, 'transaction end', 'END'],
    ]),
  )('in %s include the %s', (file, name, status) => {
    const record = fixture(file as FixtureFile, name);
    const metadata = payloadOf(record.value!);
    expect(metadata.status).toBe(status);
    expect(rejectionOf(record)).toEqual({
      code: 'NOT_A_CHANGE_EVENT',
      message:
        `Record value is Debezium transaction metadata (${status} of transaction ` +
        `${metadata.id}), not a change event. With provide.transaction.metadata=true the ` +
        'connector writes it to the topic {topic.prefix}.transaction; check that ' +
        "ONDERWERPOBJECT_TOPIC names the table's topic and that no transform routes that topic " +
        'to it.',
    });
  });
});

describe('unchanged TOASTed values', () => {
  const placeholder = '__debezium_unavailable_value';

  it.each<[FixtureFile, string]>([
    ['other-shapes.json', '"after"'],
    ['other-shapes-flattened.json', 'the flattened row'],
  ])('in %s reject a row that needs the object id', (file, where) => {
    const record = fixture(file, 'update with unchanged toasted object id');
    const row = payloadOf(record.value!);
    expect((row.after ?? row).onderwerpobjectidentificator_object_id).toBe(placeholder);
    expect(rejectionOf(record)).toEqual({
      code: 'UNAVAILABLE_VALUE',
      message:
        `Column "onderwerpobjectidentificator_object_id" in ${where} holds Debezium's ` +
        `placeholder ${placeholder}: PostgreSQL did not send the unchanged TOASTed value, and ` +
        'the link rule needs it. Run ALTER TABLE klantinteracties_onderwerpobject REPLICA ' +
        'IDENTITY FULL, after which Debezium takes unchanged values from the old row.',
    });
  });

  it('decode a row that stops referring to a zaak', () => {
    const name = 'update that unlinks, with unchanged toasted object id';
    const envelope = payloadOf(fixture('other-shapes.json', name).value!);
    expect(envelope.after.onderwerpobjectidentificator_object_id).toBe(placeholder);
    expect(envelopeChange(name)).toEqual({
      kind: 'change',
      key: '1',
      op: 'u',
      before: null,
      after: rowOf(envelope.after),
      position: streamedPosition(envelope.source),
    });
    expect(decodeRecorded(fixture('other-shapes-flattened.json', name))).toEqual(
      envelopeChange(name),
    );
  });

  it('unlink a row that stops referring to a zaak', () => {
    const change = envelopeChange('update that unlinks, with unchanged toasted object id');
    const zaak = '5fe61480-45a0-40f0-a8c1-bb285e6958e9';
    const previous: LinkState = {
      zaak,
      data: {
        zaak: `urn:uuid:${zaak}`,
        linkTo: `http://open-klant.local/klantinteracties/api/v1/onderwerpobjecten/${change.after!.uuid}`,
        label: '',
        linkObjectType: 'Onderwerpobject',
      },
    };
    expect(
      transition(previous, change, () => {
        throw new Error('A row that links to nothing needs no link data.');
      }),
    ).toEqual({
      next: null,
      events: [{ type: 'zaak-ontkoppeld', zaak, data: previous.data }],
      problem: null,
    });
  });

  it('arrive whole under REPLICA IDENTITY FULL', () => {
    const name = 'update with unchanged toasted object id under replica identity full';
    const envelope = payloadOf(fixture('other-shapes.json', name).value!);
    const objectId = envelope.after.onderwerpobjectidentificator_object_id;
    expect(objectId).toMatch(/^[0-9a-f-]{36} {3000}$/);
    expect(envelopeChange(name)).toEqual({
      kind: 'change',
      key: '1',
      op: 'u',
      before: rowOf(envelope.before),
      after: rowOf(envelope.after),
      position: streamedPosition(envelope.source),
    });
    expect(decodeRecorded(fixture('other-shapes-flattened.json', name))).toEqual({
      ...envelopeChange(name),
      before: null,
    });
  });
});
