import { streamPositionOf, type StreamPosition } from '../state/stream-position.js';
import { decodeOp, decodePosition, isSnapshot } from './fields.js';
import { flattenedOp, sourceField } from './flattened.js';
import { integerText, isObject, parseJson, typeOf, unwrapSchema } from './json.js';

/** The fields the label needs of one Debezium change record of `klantinteracties_klantcontact`. */
export type KlantcontactChange =
  | {
      kind: 'upsert';
      id: string;
      onderwerp: string;
      nummer: string | null;
      position: StreamPosition | null;
    }
  | { kind: 'delete'; id: string; position: StreamPosition | null }
  | { kind: 'tombstone'; id: string };

/**
 * Decodes a klantcontact record of Kafka Connect's JsonConverter, with or without schemas.
 * Throws an error naming the problem for a record that is not a klantcontact change.
 */
export function decodeKlantcontactJson(
  key: Buffer | null,
  value: Buffer | null,
): KlantcontactChange {
  const keyPayload = key === null ? undefined : unwrapSchema(parseJson(key, 'key'));
  const valuePayload =
    value === null || value.length === 0 ? null : unwrapSchema(parseJson(value, 'value'));
  return decodeKlantcontactPayloads(isObject(keyPayload) ? keyPayload : undefined, valuePayload);
}

/**
 * Decodes a klantcontact record whose key and value are already parsed into plain values, as the
 * JSON and Avro decoders produce them. A null value is a tombstone.
 */
export function decodeKlantcontactPayloads(
  keyPayload: Record<string, unknown> | undefined,
  valuePayload: unknown,
): KlantcontactChange {
  const id = keyPayload === undefined ? null : integerText(keyPayload.id);
  if (id === null) {
    throw new Error('Klantcontact record key has no integer "id".');
  }
  if (valuePayload === null) {
    return { kind: 'tombstone', id };
  }
  if (isObject(valuePayload) && !('source' in valuePayload) && 'id' in valuePayload) {
    return decodeFlattenedKlantcontact(id, valuePayload);
  }
  if (!isObject(valuePayload) || !isObject(valuePayload.source)) {
    throw new Error(
      `Klantcontact record value is ${typeOf(valuePayload)}, expected a Debezium envelope ` +
        'or a row flattened by ExtractNewRecordState.',
    );
  }

  const op = decodeOp(valuePayload.op, 'Klantcontact envelope op');
  const { source } = valuePayload;
  const position = streamPositionOf(
    decodePosition(
      {
        lsn: source.lsn,
        sequence: source.sequence,
        txId: source.txId,
        // Avro decoding gives longs as bigints.
        tsMs: typeof source.ts_ms === 'bigint' ? Number(source.ts_ms) : source.ts_ms,
        snapshot: source.snapshot,
      },
      { tsMs: 'source.ts_ms', sequence: 'source.sequence' },
    ),
  );
  if (op === 'd') {
    return { kind: 'delete', id, position };
  }

  const after = valuePayload.after;
  if (!isObject(after) || typeof after.onderwerp !== 'string') {
    throw new Error(`Klantcontact envelope with op "${op}" has no "after" row with an onderwerp.`);
  }
  const nummer = typeof after.nummer === 'string' ? after.nummer : null;
  return { kind: 'upsert', id, onderwerp: after.onderwerp, nummer, position };
}

/**
 * Decodes a klantcontact row that ExtractNewRecordState flattened, with the fields its `add.fields`
 * adds. The label needs only the stream position, so a row without `__source_ts_ms` is read too,
 * and a row without `__sequence` gets no position: the label then follows the latest version.
 */
function decodeFlattenedKlantcontact(
  id: string,
  document: Record<string, unknown>,
): KlantcontactChange {
  const snapshot = isSnapshot(sourceField(document, 'snapshot').value);
  const op = flattenedOp(document, snapshot);
  const sequence = sourceField(document, 'sequence');
  const position = streamPositionOf(
    decodePosition(
      {
        lsn: sourceField(document, 'lsn').value,
        sequence: sequence.value,
        txId: sourceField(document, 'txId').value,
        tsMs: 0,
        snapshot: op === 'r' || snapshot,
      },
      { tsMs: '__source_ts_ms', sequence: sequence.field },
    ),
  );
  if (op === 'd') {
    return { kind: 'delete', id, position };
  }
  if (typeof document.onderwerp !== 'string') {
    throw new Error(`Flattened klantcontact row with op "${op}" has no onderwerp.`);
  }
  const nummer = typeof document.nummer === 'string' ? document.nummer : null;
  return { kind: 'upsert', id, onderwerp: document.onderwerp, nummer, position };
}
