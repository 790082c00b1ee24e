/** The decoded form of one Debezium change record of the onderwerpobject table. */

/**
 * The columns of `klantinteracties_onderwerpobject` that the link rule reads. A column whose
 * unchanged TOASTed value PostgreSQL did not send contains Debezium's placeholder
 * `__debezium_unavailable_value`. The decoder rejects the record when the link depends on it.
 */
export interface OnderwerpobjectRow {
  /** Decimal text, exact also beyond 2^53 for a bigint key. */
  id: string;
  uuid: string | null;
  klantcontactId: string | null;
  objectId: string | null;
  codeObjecttype: string | null;
  codeRegister: string | null;
  codeSoortObjectId: string | null;
}

/**
 * Where a change sits in PostgreSQL's write-ahead log, from the envelope's `source` block.
 * LSNs are kept as decimal strings because they exceed 2^53.
 */
export interface SourcePosition {
  lsn: string | null;
  /** Debezium's `source.sequence`: the last commit LSN before this change, and this change's LSN. */
  sequence: [string | null, string | null] | null;
  txId: string | null;
  /** Commit time of the database transaction, milliseconds since the epoch. */
  tsMs: number;
  snapshot: boolean;
}

export type ChangeOp = 'c' | 'u' | 'd' | 'r';

export interface RowChange {
  kind: 'change';
  key: string;
  op: ChangeOp;
  before: OnderwerpobjectRow | null;
  after: OnderwerpobjectRow | null;
  position: SourcePosition;
}

/** The null-valued record Debezium writes after a delete so that compaction can drop the key. */
export interface Tombstone {
  kind: 'tombstone';
  key: string;
}

export type DecodedRecord = RowChange | Tombstone;
