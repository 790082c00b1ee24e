import { z } from 'zod';
import { streamPositionOf, type StreamPosition } from '../state/stream-position.js';

/** What the label needs of one Debezium change record of `klantinteracties_klantcontact`. */
export type KlantcontactChange =
  | {
      kind: 'upsert';
      id: string;
      onderwerp: string;
      nummer: string | null;
      position: StreamPosition | null;
    }
  | { kind: 'delete'; id: string; position: StreamPosition | null }
  | { kind: 'tombstone'; id: string };

const id = z.union([z.number().int().transform(String), z.string().regex(/^-?\d+$/)]);
const row = z.object({ id, onderwerp: z.string(), nummer: z.string().nullable().optional() });
const envelope = z.object({
  op: z.enum(['c', 'u', 'd', 'r']),
  before: z.object({ id }).passthrough().nullable().optional(),
  after: row.nullable().optional(),
  source: z.object({
    sequence: z.string().nullable().optional(),
    snapshot: z.union([z.string(), z.boolean()]).nullable().optional(),
  }),
});

/**
 * Decodes a klantcontact record of Kafka Connect's JsonConverter, with or without schemas.
 * Throws an Error naming the problem for a record that is not a klantcontact change.
 */
export function decodeKlantcontactJson(
  key: Buffer | null,
  value: Buffer | null,
): KlantcontactChange {
  const keyId = id.safeParse(payloadOf(key, 'key')?.id);
  if (!keyId.success) {
    throw new Error('Klantcontact record key has no integer "id".');
  }
  if (value === null || value.length === 0) {
    return { kind: 'tombstone', id: keyId.data };
  }

  const parsed = envelope.safeParse(payloadOf(value, 'value'));
  if (!parsed.success) {
    throw new Error(
      `Klantcontact record value is not a Debezium envelope: ${parsed.error.issues[0]?.message}.`,
    );
  }
  const { op, after, source } = parsed.data;
  const position = streamPositionOf({
    lsn: null,
    sequence: sequenceOf(source.sequence),
    txId: null,
    tsMs: 0,
    snapshot:
      source.snapshot !== undefined &&
      source.snapshot !== null &&
      source.snapshot !== 'false' &&
      source.snapshot !== false,
  });
  if (op === 'd') {
    return { kind: 'delete', id: keyId.data, position };
  }
  if (!after) {
    throw new Error(`Klantcontact envelope with op "${op}" has no "after" row.`);
  }
  return {
    kind: 'upsert',
    id: keyId.data,
    onderwerp: after.onderwerp,
    nummer: after.nummer ?? null,
    position,
  };
}

function payloadOf(buffer: Buffer | null, part: string): Record<string, unknown> | undefined {
  if (buffer === null || buffer.length === 0) {
    return undefined;
  }
  let document: unknown;
  try {
    document = JSON.parse(buffer.toString('utf8'));
  } catch {
    throw new Error(`Klantcontact record ${part} is not valid JSON.`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return undefined;
  }
  const object = document as Record<string, unknown>;
  const keys = Object.keys(object);
  const unwrapped =
    keys.length === 2 && 'schema' in object && 'payload' in object ? object.payload : object;
  return typeof unwrapped === 'object' && unwrapped !== null
    ? (unwrapped as Record<string, unknown>)
    : undefined;
}

function sequenceOf(sequence: string | null | undefined): [string | null, string | null] | null {
  if (typeof sequence !== 'string') {
    return null;
  }
  try {
    const parsed = JSON.parse(sequence) as unknown;
    if (Array.isArray(parsed) && parsed.length === 2) {
      return [parsed[0] ?? null, parsed[1] ?? null] as [string | null, string | null];
    }
  } catch {
    return null;
  }
  return null;
}
