import { randomUUID } from 'node:crypto';
import avro from 'avsc';
import type { Consumer, Kafka } from 'kafkajs';
import type { StackSettings } from './stack-settings.js';
import { exactLongHook } from '../../src/decode/debezium-avro.js';

/** Why the Avro tests are skipped on a stack without a schema registry. */
export const registrySkipReason =
  'skipped: the stack has no SCHEMA_REGISTRY_URL and APICURIO_REGISTRY_URL ' +
  '(start it with STACK_REGISTRY=apicurio deploy/local/stack up)';

/**
 * Returns the registry's Confluent-compatible API and Apicurio's own API, which its Connect
 * converter uses, or undefined for a stack without a registry.
 */
export function registryUrlsOf(
  stack: StackSettings,
): { confluent: string; apicurio: string } | undefined {
  return stack.schemaRegistryUrl !== undefined && stack.apicurioRegistryUrl !== undefined
    ? { confluent: stack.schemaRegistryUrl, apicurio: stack.apicurioRegistryUrl }
    : undefined;
}

/** Returns the settings of Apicurio's AvroConverter that write the Confluent wire format. */
export function avroConverter(part: 'key' | 'value', apicurioUrl: string): Record<string, string> {
  const prefix = `${part}.converter`;
  return {
    [prefix]: 'io.apicurio.registry.utils.converter.AvroConverter',
    [`${prefix}.apicurio.registry.url`]: apicurioUrl,
    [`${prefix}.apicurio.registry.auto-register`]: 'true',
    [`${prefix}.apicurio.registry.find-latest`]: 'true',
    [`${prefix}.apicurio.registry.as-confluent`]: 'true',
    [`${prefix}.apicurio.registry.use-id`]: 'contentId',
    [`${prefix}.apicurio.registry.headers.enabled`]: 'false',
  };
}

export interface RawRecord {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Reads a topic from its start and keeps the raw key and value bytes, which Avro needs. */
export class RawTopicReader {
  readonly records: RawRecord[] = [];

  private constructor(private readonly consumer: Consumer) {}

  static async start(kafka: Kafka, topic: string): Promise<RawTopicReader> {
    const consumer = kafka.consumer({
      groupId: `test-raw-reader-${randomUUID()}`,
      maxWaitTimeInMs: 200,
      allowAutoTopicCreation: false,
    });
    const reader = new RawTopicReader(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const headers = Object.fromEntries(
          Object.entries(message.headers ?? {}).map(([name, header]) => [name, String(header)]),
        );
        reader.records.push({
          partition,
          offset: message.offset,
          key: message.key,
          value: message.value,
          headers,
        });
      },
    });
    return reader;
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

/**
 * Reads and writes Avro values in the Confluent wire format through a registry's
 * Confluent-compatible API, to build records that a converter would not write.
 */
export class WireFormat {
  constructor(private readonly registryUrl: string) {}

  /** Returns the schema id of a value in the wire format. */
  static schemaIdOf(value: Buffer): number {
    return value.readUInt32BE(1);
  }

  async schema(id: number): Promise<avro.Schema> {
    const response = await fetch(`${this.registryUrl}/schemas/ids/${id}`);
    if (!response.ok) {
      throw new Error(`Fetching schema id ${id} from the registry failed with ${response.status}.`);
    }
    const body = (await response.json()) as { schema: string };
    return JSON.parse(body.schema) as avro.Schema;
  }

  /** Registers a schema under a subject and returns its id. */
  async register(subject: string, schema: avro.Schema): Promise<number> {
    const response = await fetch(`${this.registryUrl}/subjects/${subject}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify(schema) }),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(
        `Registering a schema under ${subject} failed with ${response.status}: ${text}`,
      );
    }
    return (JSON.parse(text) as { id: number }).id;
  }

  /** Decodes a value with its writer schema. Longs come back as bigints. */
  async decode(value: Buffer): Promise<Record<string, unknown>> {
    const type = typeOf(await this.schema(WireFormat.schemaIdOf(value)));
    return type.fromBuffer(value.subarray(5)) as Record<string, unknown>;
  }

  /** Encodes a decoded value with the schema of the given id. */
  async encode(id: number, decoded: unknown): Promise<Buffer> {
    const type = typeOf(await this.schema(id));
    const header = Buffer.alloc(5);
    header.writeUInt32BE(id, 1);
    return Buffer.concat([header, type.toBuffer(decoded)]);
  }
}

function typeOf(schema: avro.Schema): avro.Type {
  return avro.Type.forSchema(schema, { typeHook: exactLongHook });
}
