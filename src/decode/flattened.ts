import { DeadLetterError } from '../errors.js';
import type { ChangeOp, RowChange } from './change.js';
import {
  decodeColumns,
  decodeOp,
  decodePosition,
  isSnapshot,
  rejectUnavailableValues,
} from './fields.js';
import { typeOf } from './json.js';

const where = 'the flattened row';

/** The `add.fields` value that gives the processor every field it reads from a flattened row. */
export const recommendedAddFields = 'op,lsn,txId,sequence,source.ts_ms';

/**
 * Decodes a row that Debezium's ExtractNewRecordState transform flattened: the row's columns plus
 * the fields that the transform adds with its default prefix `__`.
 *
 * - `__deleted`, which `delete.tombstone.handling.mode=rewrite` adds as "true" or "false", marks
 *   a delete. The row then contains the old row, as an envelope's `before` does.
 * - `__op` (from `add.fields=op`) is the operation. Without it, a row is a snapshot read when
 *   `__source_snapshot` or `__snapshot` marks it, and is otherwise handled as an update.
 * - `__source_ts_ms` (from `source.ts_ms`) is the commit time, which each event's `time` needs,
 *   so a row without it is rejected. `__ts_ms` is the time Debezium processed the change and
 *   does not replace it.
 * - `__lsn`, `__sequence` and `__txId`, or their `__source_` forms, are the source position.
 *   Without `__sequence` a re-sent change is processed again.
 *
 * NOTE: without `__lsn`, `__sequence` and `__txId`, the event id rests on the row, zaak and commit
 * time only, so two links of one row to the same zaak in one millisecond get the same id.
 */
export function decodeFlattenedRow(key: string, document: Record<string, unknown>): RowChange {
  if (!('id' in document)) {
    throw new DeadLetterError(
      'INVALID_ENVELOPE',
      'Record value has neither the fields of a Debezium change event envelope ("op", ' +
        '"before", "after", "source") nor the column "id" of an onderwerpobject row flattened ' +
        'by ExtractNewRecordState.',
    );
  }

  const snapshot = sourceField(document, 'snapshot').value;
  const op = flattenedOp(document, isSnapshot(snapshot));
  const row = decodeColumns(document, where);
  if (op !== 'd') {
    rejectUnavailableValues(row, where);
  }

  const tsMs = document.__source_ts_ms;
  if (tsMs === undefined) {
    throw new DeadLetterError(
      'INVALID_ENVELOPE',
      'Flattened row has no "__source_ts_ms" field, so the commit time for the events is ' +
        'unknown. Add source.ts_ms to the add.fields of the ExtractNewRecordState transform, ' +
        `for example transforms.unwrap.add.fields=${recommendedAddFields}.`,
    );
  }
  const sequence = sourceField(document, 'sequence');
  const position = decodePosition(
    {
      lsn: sourceField(document, 'lsn').value,
      sequence: sequence.value,
      txId: sourceField(document, 'txId').value,
      tsMs,
      snapshot: op === 'r' ? true : snapshot,
    },
    { tsMs: '__source_ts_ms', sequence: sequence.field },
  );

  return {
    kind: 'change',
    key,
    op,
    before: op === 'd' ? row : null,
    after: op === 'd' ? null : row,
    position,
  };
}

/**
 * Returns the operation of a flattened row: `__op` when the transform added it, else a delete when
 * `__deleted` is "true", a snapshot read when `snapshot` is set, and otherwise an update.
 */
export function flattenedOp(document: Record<string, unknown>, snapshot: boolean): ChangeOp {
  const deleted = decodeDeleted(document.__deleted);
  if (document.__op === undefined || document.__op === null) {
    if (deleted) {
      return 'd';
    }
    return snapshot ? 'r' : 'u';
  }

  const op = decodeOp(document.__op, 'Field "__op"');
  if (deleted !== null && deleted !== (op === 'd')) {
    throw new DeadLetterError(
      'INVALID_ENVELOPE',
      `Flattened row has "__op" "${op}" but "__deleted" "${deleted}", which contradict each ` +
        'other.',
    );
  }
  return op;
}

function decodeDeleted(value: unknown): boolean | null {
  if (value === undefined || value === null) {
    return null;
  }
  if (value === 'true' || value === true) {
    return true;
  }
  if (value === 'false' || value === false) {
    return false;
  }
  throw new DeadLetterError(
    'INVALID_ENVELOPE',
    `Field "__deleted" is ${typeOf(value)}, expected "true" or "false".`,
  );
}

/**
 * Returns a field of Debezium's `source` block under the name that `add.fields` gives it:
 * `__lsn` for `lsn`, or `__source_lsn` for `source.lsn`.
 */
export function sourceField(
  document: Record<string, unknown>,
  name: string,
): { field: string; value: unknown } {
  const short = `__${name}`;
  if (document[short] !== undefined) {
    return { field: short, value: document[short] };
  }
  const long = `__source_${name}`;
  return { field: long, value: document[long] };
}
