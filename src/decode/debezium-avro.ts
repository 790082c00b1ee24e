import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { DeadLetterError, SchemaRegistryError } from '../errors.js';
import type { DecodedRecord } from './change.js';
import { decodeDebeziumDocument, decodeKeyPayload, missingKeyError } from './debezium-json.js';
import { decodeKlantcontactPayloads, type KlantcontactChange } from './klantcontact-json.js';

/**
 * Avro `long` read as a bigint, so that LSNs, transaction ids and bigint keys keep every digit.
 * avsc's default long type returns a JavaScript number and rejects values beyond 2^53.
 */
const exactLong = avro.types.LongType.__with({
  fromBuffer: (buffer: Buffer) => buffer.readBigInt64LE(),
  toBuffer: (value: bigint) => {
    const buffer = Buffer.alloc(8);
    buffer.writeBigInt64LE(value);
    return buffer;
  },
  fromJSON: (value: number | string) => BigInt(value),
  toJSON: (value: bigint) => Number(value),
  isValid: (value: unknown) => typeof value === 'bigint',
  compare: (a: bigint, b: bigint) => Number(a > b) - Number(a < b),
});

/**
 * Reads every Avro `long` as `exactLong`. A type hook, unlike avsc's `registry` option, is
 * called per schema, so the named types of one schema never collide with another schema's.
 */
export function exactLongHook(schema: avro.Schema): avro.Type | undefined {
  const isLong =
    schema === 'long' ||
    (typeof schema === 'object' && (schema as { type?: unknown }).type === 'long');
  return isLong ? exactLong : undefined;
}

/** Length of the Confluent wire format header: magic byte 0 and a 4-byte big-endian schema id. */
const wireHeaderLength = 5;

/**
 * Decodes Debezium records that a Confluent-compatible Avro converter wrote: each key and value
 * is magic byte 0, the writer schema's 4-byte id in the registry, and the Avro binary datum.
 * The registry client fetches each schema once by id and caches it, so a schema that changes
 * while the connector runs (a column added or dropped) decodes with the id of its record.
 */
export class DebeziumAvroDecoder {
  constructor(private readonly registry: SchemaRegistry) {}

  /** Creates a decoder for the registry's Confluent-compatible API at `url`. */
  static forRegistryUrl(url: string): DebeziumAvroDecoder {
    return new DebeziumAvroDecoder(
      new SchemaRegistry({ host: url }, { [SchemaType.AVRO]: { typeHook: exactLongHook } }),
    );
  }

  /** Decodes an onderwerpobject record into the same form as `decodeDebeziumJson`. */
  async decodeOnderwerpobject(key: Buffer | null, value: Buffer | null): Promise<DecodedRecord> {
    const document =
      value === null || value.length === 0 ? null : await this.decode(value, 'value');
    const keyPayload = key === null || key.length === 0 ? undefined : await this.decode(key, 'key');
    return decodeDebeziumDocument(() => {
      if (keyPayload === undefined) {
        throw missingKeyError();
      }
      return decodeKeyPayload(keyPayload);
    }, document);
  }

  /** Decodes a klantcontact record into the same form as `decodeKlantcontactJson`. */
  async decodeKlantcontact(key: Buffer | null, value: Buffer | null): Promise<KlantcontactChange> {
    const valuePayload =
      value === null || value.length === 0 ? null : await this.decode(value, 'value');
    const keyPayload = key === null || key.length === 0 ? undefined : await this.decode(key, 'key');
    return decodeKlantcontactPayloads(isRecord(keyPayload) ? keyPayload : undefined, valuePayload);
  }

  /**
   * Decodes one key or value into plain values. Throws a DeadLetterError for bytes that are not
   * the wire format, a schema id the registry does not have, or an Avro datum that does not
   * match its schema. Any other registry failure, such as a refused connection, is thrown as a
   * SchemaRegistryError, because it is no fault of the record.
   */
  private async decode(buffer: Buffer, part: 'key' | 'value'): Promise<unknown> {
    if (buffer.length < wireHeaderLength || buffer[0] !== 0) {
      throw new DeadLetterError(
        'INVALID_AVRO',
        `Record ${part} is not in the Confluent Avro wire format: it must start with magic byte 0 ` +
          `and a 4-byte schema id, but its first bytes are ${buffer.subarray(0, 5).toString('hex') || 'none'}. ` +
          'Check that the connector writes with an Avro converter in the Confluent format.',
      );
    }
    const schemaId = buffer.readUInt32BE(1);
    try {
      await this.registry.getSchema(schemaId);
    } catch (error) {
      if (responseStatus(error) === 404) {
        throw new DeadLetterError(
          'UNKNOWN_SCHEMA',
          `Record ${part} names schema id ${schemaId}, which the schema registry does not have. ` +
            'Check that SCHEMA_REGISTRY_URL names the registry the connector writes to.',
          { cause: error },
        );
      }
      throw new SchemaRegistryError(
        `Fetching schema id ${schemaId} from the schema registry failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
    let datum: unknown;
    try {
      datum = await this.registry.decode(buffer);
    } catch (error) {
      throw new DeadLetterError(
        'INVALID_AVRO',
        `Record ${part} does not decode with its schema id ${schemaId}: ${(error as Error).message}.`,
        { cause: error },
      );
    }
    return plainValue(datum);
  }
}

/** Returns the HTTP status of a failed registry request, if the error carries one. */
function responseStatus(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'status' in error) {
    const status = (error as { status: unknown }).status;
    return typeof status === 'number' ? status : undefined;
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Turns a decoded Avro datum into the values the JSON decoders see. A long within
 * Number.MAX_SAFE_INTEGER becomes a number and a larger one stays a bigint. Debezium's
 * `io.debezium.data.VariableScaleDecimal`, a record of `scale` and the unscaled two's-complement
 * `value` bytes, becomes decimal text. Strings such as `io.debezium.time.ZonedTimestamp` and
 * longs such as `io.debezium.time.MicroTimestamp` keep their Avro value.
 */
function plainValue(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= -Number.MAX_SAFE_INTEGER && value <= Number.MAX_SAFE_INTEGER
      ? Number(value)
      : value;
  }
  if (Array.isArray(value)) {
    return value.map(plainValue);
  }
  if (!isRecord(value) || Buffer.isBuffer(value)) {
    return value;
  }
  const fields = Object.keys(value);
  if (fields.length === 2 && typeof value.scale === 'number' && Buffer.isBuffer(value.value)) {
    return decimalText(value.value, value.scale);
  }
  return Object.fromEntries(fields.map((field) => [field, plainValue(value[field])]));
}

/** Formats an unscaled big-endian two's-complement integer and its scale as decimal text. */
export function decimalText(unscaled: Buffer, scale: number): string {
  let integer = 0n;
  for (const byte of unscaled) {
    integer = (integer << 8n) | BigInt(byte);
  }
  if (unscaled.length > 0 && (unscaled[0]! & 0x80) !== 0) {
    integer -= 1n << BigInt(unscaled.length * 8);
  }
  const negative = integer < 0n;
  const digits = (negative ? -integer : integer).toString().padStart(scale + 1, '0');
  const text = scale > 0 ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return negative ? `-${text}` : text;
}
