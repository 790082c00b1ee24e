import { streamPositionOf, type StreamPosition } from '../state/stream-position.js';
import { decodeOp, decodePosition } from './fields.js';
import { integerText, isObject, parseJson, typeOf, unwrapSchema } from './json.js';

/** What the label needs of one Debezium change record of `klantinteracties_klantcontact`. */
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
  const keyPayload = key === null ? null : unwrapSchema(parseJson(key, 'key'));
  const id = isObject(keyPayload) ? integerText(keyPayload.id) : null;
  if (id === null) {
    throw new Error('Klantcontact record key has no integer "id".');
  }

  const envelope =
    value === null || value.length === 0 ? null : unwrapSchema(parseJson(value, 'value'));
  if (envelope === null) {
    return { kind: 'tombstone', id };
  }
  if (!isObject(envelope) || !isObject(envelope.source)) {
    throw new Error(
      `Klantcontact record value is ${typeOf(envelope)}, expected a Debezium envelope.`,
    );
  }

  const op = decodeOp(envelope.op, 'Klantcontact envelope op');
  const { source } = envelope;
  const position = streamPositionOf(
    decodePosition(
      {
        lsn: source.lsn,
        sequence: source.sequence,
        txId: source.txId,
        tsMs: source.ts_ms,
        snapshot: source.snapshot,
      },
      { tsMs: 'source.ts_ms', sequence: 'source.sequence' },
    ),
  );
  if (op === 'd') {
    return { kind: 'delete', id, position };
  }

  const after = envelope.after;
  if (!isObject(after) || typeof after.onderwerp !== 'string') {
    throw new Error(`Klantcontact envelope with op "${op}" has no "after" row with an onderwerp.`);
  }
  const nummer = typeof after.nummer === 'string' ? after.nummer : null;
  return { kind: 'upsert', id, onderwerp: after.onderwerp, nummer, position };
}
