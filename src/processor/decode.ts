import type { DecodedRecord } from '../decode/change.js';
import type { DebeziumAvroDecoder } from '../decode/debezium-avro.js';
import { decodeDebeziumJson } from '../decode/debezium-json.js';
import { DeadLetterError } from '../errors.js';
import type { InputMessage } from './dead-letter.js';

/** A decoded input record, or the reason it goes to the dead-letter topic. */
export type DecodeOutcome = DecodedRecord | DeadLetterError;

/** Decodes records of Kafka Connect's JsonConverter. Errors other than DeadLetterError are thrown. */
export function decodeJsonMessages(messages: readonly InputMessage[]): DecodeOutcome[] {
  return messages.map((message) =>
    deadLetterOr(() => decodeDebeziumJson(message.key, message.value)),
  );
}

/**
 * Decodes Avro records in the Confluent wire format, one after the other, so that records with
 * the same schema id fetch the schema once. A registry failure (SchemaRegistryError) is thrown,
 * which fails the batch.
 */
export async function decodeAvroMessages(
  messages: readonly InputMessage[],
  decoder: DebeziumAvroDecoder,
): Promise<DecodeOutcome[]> {
  const outcomes: DecodeOutcome[] = [];
  for (const message of messages) {
    try {
      outcomes.push(await decoder.decodeOnderwerpobject(message.key, message.value));
    } catch (error) {
      if (!(error instanceof DeadLetterError)) {
        throw error;
      }
      outcomes.push(error);
    }
  }
  return outcomes;
}

function deadLetterOr(decode: () => DecodedRecord): DecodeOutcome {
  try {
    return decode();
  } catch (error) {
    if (!(error instanceof DeadLetterError)) {
      throw error;
    }
    return error;
  }
}
