import { DeadLetterError, excerpt } from '../errors.js';
import { refersToZaak } from '../link/rule.js';
import type { ChangeOp, OnderwerpobjectRow, SourcePosition } from './change.js';
import { integerText, typeOf } from './json.js';

/**
 * The value Debezium writes, by default, in place of a TOASTed column value that PostgreSQL did
 * not send because the update left it unchanged. Debezium's `unavailable.value.placeholder`
 * setting changes it.
 *
 * NOTE: a connector with another `unavailable.value.placeholder` passes the placeholder through
 * as if it were the column's value.
 */
export const unavailableValuePlaceholder = '__debezium_unavailable_value';

const rowColumns = {
  uuid: 'uuid',
  klantcontactId: 'klantcontact_id',
  objectId: 'onderwerpobjectidentificator_object_id',
  codeObjecttype: 'onderwerpobjectidentificator_code_objecttype',
  codeRegister: 'onderwerpobjectidentificator_code_register',
  codeSoortObjectId: 'onderwerpobjectidentificator_code_soort_object_id',
} as const;

type RowProperty = keyof typeof rowColumns;

/**
 * Decodes the columns of one row. `where` names the row in error messages, for example `"after"`
 * or `the flattened row`. Other columns, and the `__` fields of a flattened row, are ignored.
 */
export function decodeColumns(row: Record<string, unknown>, where: string): OnderwerpobjectRow {
  const id = row.id;
  if (!((typeof id === 'number' && Number.isSafeInteger(id)) || typeof id === 'bigint')) {
    throw new DeadLetterError(
      'INVALID_ROW',
      `Column "id" in ${where} is ${typeOf(id)}, expected an integer.`,
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
    decoded[property as RowProperty] =
      property === 'klantcontactId'
        ? decodeIntegerColumn(row[column], column, where)
        : decodeTextColumn(row[column], column, where);
  }
  return decoded;
}

/** Decodes a text column: a string or null. */
function decodeTextColumn(value: unknown, column: string, where: string): string | null {
  if (value === null || value === undefined || typeof value === 'string') {
    return value ?? null;
  }
  throw new DeadLetterError(
    'INVALID_ROW',
    `Column "${column}" in ${where} is ${typeOf(value)}, expected a string or null. Check that ` +
      "the connector captures Open Klant's klantinteracties_onderwerpobject table.",
  );
}

/** Decodes an integer column, such as a foreign key, into decimal text, or null. */
function decodeIntegerColumn(value: unknown, column: string, where: string): string | null {
  if (value === null || value === undefined) {
    return null;
  }
  const integer = integerText(value);
  if (integer !== null) {
    return integer;
  }
  throw new DeadLetterError(
    'INVALID_ROW',
    `Column "${column}" in ${where} is ${typeOf(value)}, expected an integer or null. Check that ` +
      "the connector captures Open Klant's klantinteracties_onderwerpobject table.",
  );
}

/** The columns that the link rule reads only for a row that refers to a zaak. */
const linkProperties: RowProperty[] = ['objectId', 'uuid'];

/**
 * Rejects a new row state that refers to a zaak when its object id or row uuid contains
 * Debezium's placeholder for an unchanged TOASTed value, because the link depends on that value.
 * For a row that does not refer to a zaak the placeholder is harmless, so an update that makes a
 * row stop referring to a zaak still unlinks it. The placeholder never stands for the `zaak` or
 * `uuid` that would make a row refer to a zaak. PostgreSQL moves a value out of line only when it
 * is larger than a TOAST pointer, 18 bytes aligned to 24 (toast_tuple_find_biggest_attribute in
 * PostgreSQL's src/backend/access/table/toast_helper.c).
 */
export function rejectUnavailableValues(row: OnderwerpobjectRow, where: string): void {
  if (!refersToZaak(row)) {
    return;
  }
  const unavailable = linkProperties.filter(
    (property) => row[property] === unavailableValuePlaceholder,
  );
  if (unavailable.length === 0) {
    return;
  }

  const columns = unavailable.map((property) => `"${rowColumns[property]}"`).join(' and ');
  const subject =
    unavailable.length === 1
      ? `Column ${columns} in ${where} holds`
      : `Columns ${columns} in ${where} hold`;
  throw new DeadLetterError(
    'UNAVAILABLE_VALUE',
    `${subject} Debezium's placeholder ${unavailableValuePlaceholder}: PostgreSQL did not ` +
      'send the unchanged TOASTed value, and the link rule needs it. Run ' +
      'ALTER TABLE klantinteracties_onderwerpobject REPLICA IDENTITY FULL, after which Debezium ' +
      'takes unchanged values from the old row.',
  );
}

/** Decodes an operation. `field` names it in error messages, for example `Envelope op`. */
export function decodeOp(op: unknown, field: string): ChangeOp {
  if (op === 'c' || op === 'u' || op === 'd' || op === 'r') {
    return op;
  }
  if (op === 't') {
    throw new DeadLetterError(
      'UNSUPPORTED_OPERATION',
      `${field} "t" (truncate) is not processed. Keep the connector's default ` +
        'skipped.operations=t, or unlink the rows by deleting them.',
    );
  }
  if (op === 'm') {
    throw new DeadLetterError(
      'UNSUPPORTED_OPERATION',
      `${field} "m" (logical decoding message) is not processed. Debezium writes the messages ` +
        'of pg_logical_emit_message to the topic {topic.prefix}.message; check that no ' +
        'transform routes that topic to the input topic.',
    );
  }
  throw new DeadLetterError(
    'INVALID_ENVELOPE',
    `${field} ${typeof op === 'string' ? `"${excerpt(op, 40)}"` : typeOf(op)} is unknown, ` +
      'expected one of "c", "u", "d", "r". Check that the input topic contains Debezium change ' +
      'events of the onderwerpobject table.',
  );
}

/** The raw source fields of a change, from an envelope's `source` or a flattened row. */
export interface PositionFields {
  lsn: unknown;
  sequence: unknown;
  txId: unknown;
  tsMs: unknown;
  snapshot: unknown;
}

/** Decodes a change's source position. `names` are the fields' names for error messages. */
export function decodePosition(
  fields: PositionFields,
  names: { tsMs: string; sequence: string },
): SourcePosition {
  if (
    typeof fields.tsMs !== 'number' ||
    !Number.isFinite(fields.tsMs) ||
    Math.abs(fields.tsMs) > maxDateMs
  ) {
    throw new DeadLetterError(
      'INVALID_ENVELOPE',
      `Field "${names.tsMs}" is ${typeOf(fields.tsMs)}, expected the commit time in milliseconds ` +
        'since 1970 within the range of a date (at most 8.64e15).',
    );
  }

  return {
    lsn: unsignedIntegerText(fields.lsn, 'lsn'),
    sequence: decodeSequence(fields.sequence, names.sequence),
    txId: unsignedIntegerText(fields.txId, 'txId'),
    tsMs: fields.tsMs,
    snapshot: isSnapshot(fields.snapshot),
  };
}

/**
 * Tells whether Debezium's `snapshot` field marks a snapshot read. The values "true", "first",
 * "last", "incremental" and the like do, but "false" and null do not.
 */
export function isSnapshot(value: unknown): boolean {
  return value !== undefined && value !== null && value !== 'false' && value !== false;
}

/** The largest distance from 1970 in milliseconds that a JavaScript Date can hold. */
const maxDateMs = 8.64e15;

/** The largest PostgreSQL LSN or transaction id: both are unsigned 64-bit integers. */
const maxUnsigned64 = 2n ** 64n - 1n;

/** Parses PostgreSQL's `source.sequence`, a JSON array text of two LSNs as strings or nulls. */
function decodeSequence(sequence: unknown, name: string): [string | null, string | null] | null {
  if (typeof sequence !== 'string') {
    return null;
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(sequence);
  } catch (error) {
    throw new DeadLetterError(
      'INVALID_ENVELOPE',
      `Field "${name}" is ${excerpt(sequence)}, expected a JSON array of two LSNs.`,
      { cause: error },
    );
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) {
    throw new DeadLetterError(
      'INVALID_ENVELOPE',
      `Field "${name}" is ${excerpt(sequence)}, expected a JSON array of two LSNs.`,
    );
  }
  return [unsignedIntegerText(parsed[0], name), unsignedIntegerText(parsed[1], name)];
}

/**
 * Returns a non-negative integer as decimal text, or null for anything else. A value beyond
 * 2^64 - 1 is rejected, because as a stream position it would mark every later change as re-sent.
 */
function unsignedIntegerText(value: unknown, name: string): string | null {
  const text = integerText(value);
  if (text === null || text.startsWith('-')) {
    return null;
  }
  if (BigInt(text) > maxUnsigned64) {
    throw new DeadLetterError(
      'INVALID_ENVELOPE',
      `Field "${name}" contains ${excerpt(text, 40)}, beyond 2^64 - 1, the largest PostgreSQL ` +
        'LSN or transaction id. Check the connector that wrote the record.',
    );
  }
  return text;
}
