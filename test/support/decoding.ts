import type { DecodedRecord, OnderwerpobjectRow } from '../../src/decode/change.js';
import { decodeDebeziumJson } from '../../src/decode/debezium-json.js';
import { DeadLetterError, type DeadLetterCode } from '../../src/errors.js';
import type { RecordedRecord } from './fixtures.js';

type RecordText = Pick<RecordedRecord, 'key' | 'value'>;

export function decodeRecorded(record: RecordText): DecodedRecord {
  return decodeDebeziumJson(
    record.key === null ? null : Buffer.from(record.key),
    record.value === null ? null : Buffer.from(record.value),
  );
}

/** Returns the dead-letter code and message of a record that the decoder rejects. */
export function rejectionOf(record: RecordText): { code: DeadLetterCode; message: string } {
  let decoded: DecodedRecord;
  try {
    decoded = decodeRecorded(record);
  } catch (error) {
    if (!(error instanceof DeadLetterError)) {
      throw error;
    }
    return { code: error.code, message: error.message };
  }
  throw new Error(`Decoding did not fail; it returned ${JSON.stringify(decoded)}.`);
}

/**
 * Returns the payload of a recorded key or value, without the JsonConverter's schema wrapper.
 * JSON.parse rounds integers beyond 2^53, so tests of bigint keys state those ids as text.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function payloadOf(text: string): Record<string, any> {
  const parsed = JSON.parse(text);
  return 'schema' in parsed && 'payload' in parsed ? parsed.payload : parsed;
}

/** Returns the decoded form of a recorded row's columns. */
export function rowOf(columns: Record<string, unknown>): OnderwerpobjectRow {
  const text = (value: unknown) => (value === null ? null : String(value));
  return {
    id: String(columns.id),
    uuid: text(columns.uuid),
    klantcontactId: text(columns.klantcontact_id),
    objectId: text(columns.onderwerpobjectidentificator_object_id),
    codeObjecttype: text(columns.onderwerpobjectidentificator_code_objecttype),
    codeRegister: text(columns.onderwerpobjectidentificator_code_register),
    codeSoortObjectId: text(columns.onderwerpobjectidentificator_code_soort_object_id),
  };
}
