import type { DecodedRecord } from '../decode/change.js';
import type { DebeziumAvroDecoder } from '../decode/debezium-avro.js';
import { decodeDebeziumJson } from '../decode/debezium-json.js';
import { DeadLetterError, excerpt, SchemaRegistryError } from '../errors.js';
import type { InputMessage } from './dead-letter.js';

/** A decoded input record, or the reason it goes to the dead-letter topic. */
export type DecodeOutcome = DecodedRecord | DeadLetterError;

/** Decodes records of Kafka Connect's JsonConverter; a record that fails gives its dead letter. */
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
      if (error instanceof SchemaRegistryError) {
        throw error;
      }
      outcomes.push(asDeadLetter(error));
    }
  }
  return outcomes;
}

function deadLetterOr(decode: () => DecodedRecord): DecodeOutcome {
  try {
    return decode();
  } catch (error) {
    return asDeadLetter(error);
  }
}

/**
 * Turns the error of a record that could not be decoded into its dead letter. An error other than
 * a DeadLetterError is a case the decoder does not handle. Its record goes to the dead-letter
 * topic too, so that one record cannot stop its partition.
 */
function asDeadLetter(error: unknown): DeadLetterError {
  if (error instanceof DeadLetterError) {
    return error;
  }
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new DeadLetterError(
    'INVALID_ENVELOPE',
    `Decoding the record failed with ${excerpt(reason)}. The processor does not handle this ` +
      'input; report it with the dead letter, and re-feed the letter after the fix.',
    { cause: error },
  );
}
