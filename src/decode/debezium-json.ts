import { DeadLetterError, excerpt } from '../errors.js';
import type { ChangeOp, DecodedRecord, OnderwerpobjectRow, RowChange } from './change.js';
import { decodeColumns, decodeOp, decodePosition, rejectUnavailableValues } from './fields.js';
import { decodeFlattenedRow } from './flattened.js';
import { integerText, isObject, parseJson, typeOf, unwrapSchema } from './json.js';

/**
 * Decodes a record written by Kafka Connect's JsonConverter, with or without `schemas.enable`.
 * With schemas enabled a key or value is `{"schema": …, "payload": …}`; without, it is the
 * payload itself. The value is either Debezium's change event envelope or a row flattened by
 * Debezium's ExtractNewRecordState transform (see `decodeFlattenedRow`). A null value is a
 * tombstone, and so is a value that is JSON `null`: ExtractNewRecordState's tombstones reach the
 * JsonConverter with a schema, which then writes `null` or `{"schema": …, "payload": null}`.
 */
export function decodeDebeziumJson(key: Buffer | null, value: Buffer | null): DecodedRecord {
  const document =
    value === null || value.length === 0 ? null : unwrapSchema(parseJson(value, 'value'));
  return decodeDebeziumDocument(() => decodeKey(key), document);
}

/**
 * Decodes a change record whose value is already parsed into plain values, with integers as
 * numbers or bigints: JSON `null` for a tombstone, else an envelope or a flattened row.
 * `decodeKey` returns the key's row id; it runs after the checks that need no key.
 */
export function decodeDebeziumDocument(decodeKey: () => string, document: unknown): DecodedRecord {
  if (document === null) {
    return { kind: 'tombstone', key: decodeKey() };
  }
  if (!isObject(document)) {
    throw new DeadLetterError(
      'INVALID_ENVELOPE',
      `Record value is ${typeOf(document)}, expected a Debezium change event: an envelope with ` +
        '"op", or a row flattened by ExtractNewRecordState.',
    );
  }

  rejectConnectorMetadata(document);
  if (!isEnvelope(document)) {
    return matchingKey(decodeFlattenedRow(decodeKey(), document));
  }
  // Debezium writes a truncate without a key and a logical decoding message with its prefix as
  // the key, so the op is checked before the key.
  const op = decodeEnvelopeOp(document.op);
  return matchingKey(decodeEnvelope(decodeKey(), op, document));
}

/**
 * Rejects a change whose key names another row than its value. The state is kept per key, so such
 * a record would open a link that the row's own delete could not close.
 */
function matchingKey(change: RowChange): RowChange {
  const row = change.after ?? change.before;
  if (row !== null && row.id !== change.key) {
    throw new DeadLetterError(
      'INVALID_KEY',
      `Record key has id ${change.key} but its row has id ${row.id}. Debezium keys each change ` +
        "by the row's primary key; check that no transform rewrites the record keys.",
    );
  }
  return change;
}

function decodeKey(key: Buffer | null): string {
  if (key === null || key.length === 0) {
    throw missingKeyError();
  }
  return decodeKeyPayload(unwrapSchema(parseJson(key, 'key')));
}

export function missingKeyError(): DeadLetterError {
  return new DeadLetterError(
    'INVALID_KEY',
    'Record has no key. Debezium keys every row change by its primary key; check that the ' +
      'table has a primary key and that no transform drops the key.',
  );
}

/** Returns the row id of a parsed record key, which must be an object with an integer `id`. */
export function decodeKeyPayload(payload: unknown): string {
  const id = isObject(payload) ? integerText(payload.id) : null;
  if (id !== null) {
    // An id given as text, such as "0106", names the same row as the number 106.
    return BigInt(id).toString();
  }
  throw new DeadLetterError(
    'INVALID_KEY',
    `Record key ${excerpt(payload)} has no integer "id". The onderwerpobject table's primary ` +
      'key is the integer column id.',
  );
}

/**
 * Rejects the records that a Debezium connector writes besides change events. They reach the
 * input topic only when a setting or a transform routes their topic there.
 */
function rejectConnectorMetadata(document: Record<string, unknown>): void {
  const fields = Object.keys(document);
  if (fields.length === 1 && fields[0] === 'ts_ms') {
    throw new DeadLetterError(
      'NOT_A_CHANGE_EVENT',
      'Record value is a Debezium heartbeat, not a change event. The connector writes ' +
        'heartbeats to the topic __debezium-heartbeat.{topic.prefix}; check that ' +
        "ONDERWERPOBJECT_TOPIC names the table's topic and that no transform routes heartbeats " +
        'to it.',
    );
  }
  if (
    (document.status === 'BEGIN' || document.status === 'END') &&
    'event_count' in document &&
    'data_collections' in document
  ) {
    throw new DeadLetterError(
      'NOT_A_CHANGE_EVENT',
      `Record value is Debezium transaction metadata (${document.status} of transaction ` +
        `${excerpt(document.id, 40)}), not a change event. With provide.transaction.metadata=true ` +
        'the connector writes it to the topic {topic.prefix}.transaction; check that ' +
        "ONDERWERPOBJECT_TOPIC names the table's topic and that no transform routes that topic " +
        'to it.',
    );
  }
}

/** Tells an envelope from a flattened row, whose table has none of the envelope's fields. */
function isEnvelope(document: Record<string, unknown>): boolean {
  return ['op', 'before', 'after', 'source'].some((field) => field in document);
}

function decodeEnvelopeOp(op: unknown): ChangeOp {
  if (op === undefined || op === null) {
    throw new DeadLetterError('INVALID_ENVELOPE', 'Envelope has no "op" field.');
  }
  return decodeOp(op, 'Envelope op');
}

function decodeEnvelope(key: string, op: ChangeOp, envelope: Record<string, unknown>): RowChange {
  const before = decodeRow(envelope.before, 'before');
  const after = decodeRow(envelope.after, 'after');
  if (op !== 'd' && after === null) {
    throw new DeadLetterError('INVALID_ENVELOPE', `Envelope with op "${op}" has no "after" row.`);
  }
  if (after !== null) {
    rejectUnavailableValues(after, '"after"');
  }

  const source = envelope.source;
  if (!isObject(source)) {
    throw new DeadLetterError('INVALID_ENVELOPE', 'Envelope has no "source" block.');
  }
  const position = decodePosition(
    {
      lsn: source.lsn,
      sequence: source.sequence,
      txId: source.txId,
      tsMs: source.ts_ms,
      snapshot: source.snapshot,
    },
    { tsMs: 'source.ts_ms', sequence: 'source.sequence' },
  );
  return { kind: 'change', key, op, before, after, position };
}

function decodeRow(row: unknown, field: 'before' | 'after'): OnderwerpobjectRow | null {
  if (row === null || row === undefined) {
    return null;
  }
  if (!isObject(row)) {
    throw new DeadLetterError(
      'INVALID_ROW',
      `Envelope field "${field}" is ${typeOf(row)}, expected an object or null.`,
    );
  }
  return decodeColumns(row, `"${field}"`);
}
