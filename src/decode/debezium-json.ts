import { DeadLetterError, excerpt } from '../errors.js';
import type { ChangeOp, DecodedRecord, OnderwerpobjectRow, SourcePosition } from './change.js';

/**
 * Decodes records written by Kafka Connect's JsonConverter, with or without `schemas.enable`.
 * With schemas enabled a key or value is `{"schema": …, "payload": …}`; without, it is the
 * payload itself.
 */
export function decodeDebeziumJson(key: Buffer | null, value: Buffer | null): DecodedRecord {
  const rowKey = decodeKey(key);
  if (value === null || value.length === 0) {
    return { kind: 'tombstone', key: rowKey };
  }

  const envelope = unwrapSchema(parseJson(value, 'value'));
  if (!isObject(envelope)) {
    throw new DeadLetterError(
      'INVALID_ENVELOPE',
      `Record value is ${typeOf(envelope)}, expected a Debezium envelope object with "op". ` +
        'Check that the connector uses the JsonConverter without a flattening transform.',
    );
  }

  const op = decodeOp(envelope.op);
  const before = decodeRow(envelope.before, 'before');
  const after = decodeRow(envelope.after, 'after');
  if (op !== 'd' && after === null) {
    throw new DeadLetterError('INVALID_ENVELOPE', `Envelope with op "${op}" has no "after" row.`);
  }

  return { kind: 'change', key: rowKey, op, before, after, position: decodePosition(envelope) };
}

function decodeKey(key: Buffer | null): string {
  if (key === null || key.length === 0) {
    throw new DeadLetterError(
      'INVALID_KEY',
      'Record has no key. Debezium keys every row change by its primary key; check that the ' +
        'table has a primary key and that no transform drops the key.',
    );
  }

  const payload = unwrapSchema(parseJson(key, 'key'));
  const id = isObject(payload) ? payload.id : undefined;
  if (typeof id === 'number' && Number.isSafeInteger(id)) {
    return String(id);
  }
  if (typeof id === 'string' && /^-?\d+$/.test(id)) {
    return id;
  }
  throw new DeadLetterError(
    'INVALID_KEY',
    `Record key ${excerpt(payload)} has no integer "id". The onderwerpobject table's primary ` +
      'key is the integer column id.',
  );
}

function decodeOp(op: unknown): ChangeOp {
  if (op === 'c' || op === 'u' || op === 'd' || op === 'r') {
    return op;
  }
  if (op === 't' || op === 'm') {
    throw new DeadLetterError(
      'UNSUPPORTED_OPERATION',
      `Envelope op "${op}" (${op === 't' ? 'truncate' : 'logical message'}) is not processed. ` +
        "Keep the connector's default skipped.operations=t, or unlink the rows by deleting them.",
    );
  }
  if (op === undefined || op === null) {
    throw new DeadLetterError('INVALID_ENVELOPE', 'Envelope has no "op" field.');
  }
  throw new DeadLetterError(
    'INVALID_ENVELOPE',
    `Envelope op ${excerpt(JSON.stringify(op))} is unknown, expected one of "c", "u", "d", "r".`,
  );
}

const rowColumns = {
  uuid: 'uuid',
  klantcontactId: 'klantcontact_id',
  objectId: 'onderwerpobjectidentificator_object_id',
  codeObjecttype: 'onderwerpobjectidentificator_code_objecttype',
  codeRegister: 'onderwerpobjectidentificator_code_register',
  codeSoortObjectId: 'onderwerpobjectidentificator_code_soort_object_id',
} as const;

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

  const id = row.id;
  if (!(typeof id === 'number' && Number.isSafeInteger(id))) {
    throw new DeadLetterError(
      'INVALID_ROW',
      `Column "id" in "${field}" is ${typeOf(id)}, expected an integer.`,
    );
  }

  const decoded: OnderwerpobjectRow = {
    id: String(id),
    uuid: null,
    klantcontactId: null,
    objectId: null,
    codeObjecttype: null,
    codeRegister: null,
    codeSoortObjectId: null,
  };
  for (const [property, column] of Object.entries(rowColumns)) {
    decoded[property as keyof typeof rowColumns] = decodeColumn(row[column], column, field);
  }
  return decoded;
}

function decodeColumn(value: unknown, column: string, field: string): string | null {
  if (value === null || value === undefined) {
    return null;
  }
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number' && Number.isSafeInteger(value)) {
    return String(value);
  }
  throw new DeadLetterError(
    'INVALID_ROW',
    `Column "${column}" in "${field}" is ${typeOf(value)}, expected a string, integer or null.`,
  );
}

function decodePosition(envelope: Record<string, unknown>): SourcePosition {
  const source = envelope.source;
  if (!isObject(source)) {
    throw new DeadLetterError('INVALID_ENVELOPE', 'Envelope has no "source" block.');
  }

  const tsMs = source.ts_ms;
  if (typeof tsMs !== 'number' || !Number.isFinite(tsMs)) {
    throw new DeadLetterError(
      'INVALID_ENVELOPE',
      `Field "source.ts_ms" is ${typeOf(tsMs)}, expected the commit time in milliseconds.`,
    );
  }

  return {
    lsn: integerText(source.lsn),
    sequence: decodeSequence(source.sequence),
    txId: integerText(source.txId),
    tsMs,
    snapshot:
      source.snapshot !== undefined && source.snapshot !== 'false' && source.snapshot !== false,
  };
}

/** Parses PostgreSQL's `source.sequence`, a JSON array text of two LSNs as strings or nulls. */
function decodeSequence(sequence: unknown): [string | null, string | null] | null {
  if (typeof sequence !== 'string') {
    return null;
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(sequence);
  } catch (error) {
    throw new DeadLetterError(
      'INVALID_ENVELOPE',
      `Field "source.sequence" is ${excerpt(sequence)}, expected a JSON array of two LSNs.`,
      { cause: error },
    );
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) {
    throw new DeadLetterError(
      'INVALID_ENVELOPE',
      `Field "source.sequence" is ${excerpt(sequence)}, expected a JSON array of two LSNs.`,
    );
  }
  return [integerText(parsed[0]), integerText(parsed[1])];
}

function integerText(value: unknown): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value)) {
    return String(value);
  }
  if (typeof value === 'string' && /^\d+$/.test(value)) {
    return value;
  }
  return null;
}

function parseJson(buffer: Buffer, part: 'key' | 'value'): unknown {
  try {
    return JSON.parse(buffer.toString('utf8'));
  } catch (error) {
    throw new DeadLetterError(
      'INVALID_JSON',
      `Record ${part} is not valid JSON (${(error as Error).message}). Check that the ` +
        'connector writes with org.apache.kafka.connect.json.JsonConverter.',
      { cause: error },
    );
  }
}

/** Strips the `{"schema": …, "payload": …}` wrapper of JsonConverter with schemas enabled. */
function unwrapSchema(document: unknown): unknown {
  if (isObject(document) && 'schema' in document && 'payload' in document) {
    const keys = Object.keys(document);
    if (keys.length === 2) {
      return document.payload;
    }
  }
  return document;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeOf(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return 'an array';
  }
  return typeof value === 'object' ? 'an object' : `the ${typeof value} ${excerpt(value, 40)}`;
}
