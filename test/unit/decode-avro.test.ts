import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DebeziumAvroDecoder, decimalText } from '../../src/decode/debezium-avro.js';
import { DeadLetterError, SchemaRegistryError } from '../../src/errors.js';
import { decodeAvroMessages } from '../../src/processor/decode.js';

interface AvroRecording {
  schemas: Record<string, unknown>;
  records: { name: string; topic: string; key: string | null; value: string | null }[];
}

const recording = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '../fixtures/debezium-avro/records.json'), 'utf8'),
) as AvroRecording;

function bytesOf(name: string): { key: Buffer | null; value: Buffer | null } {
  const record = recording.records.find((candidate) => candidate.name === name);
  if (record === undefined) {
    throw new Error(`No Avro fixture named "${name}"; run scripts/record-avro-fixtures.ts.`);
  }
  return {
    key: record.key === null ? null : Buffer.from(record.key, 'base64'),
    value: record.value === null ? null : Buffer.from(record.value, 'base64'),
  };
}

// Serves the recorded schemas at GET /schemas/ids/{id}, as the registry's Confluent API does.
let server: Server;
let decoder: DebeziumAvroDecoder;

beforeAll(async () => {
  server = createServer((request, response) => {
    const id = /^\/schemas\/ids\/(\d+)$/.exec(request.url ?? '')?.[1];
    const schema = id === undefined ? undefined : recording.schemas[id];
    response.setHeader('content-type', 'application/vnd.schemaregistry.v1+json');
    if (schema === undefined) {
      response.statusCode = 404;
      response.end(JSON.stringify({ error_code: 40403, message: 'Schema not found' }));
      return;
    }
    response.end(JSON.stringify(schema));
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  decoder = DebeziumAvroDecoder.forRegistryUrl(`http://127.0.0.1:${port}`);
});

afterAll(async () => {
  await new Promise((closed) => server.close(closed));
});

describe('DebeziumAvroDecoder', () => {
  it('decodes an insert', async () => {
    const { key, value } = bytesOf('create');
    const decoded = await decoder.decodeOnderwerpobject(key, value);
    expect(decoded.kind).toBe('change');
    if (decoded.kind !== 'change') return;
    expect(decoded.op).toBe('c');
    expect(decoded.before).toBeNull();
    expect(decoded.after?.objectId).toBe('5a1b0c2d-0000-4000-8000-00000000a5a0');
    expect(decoded.after?.codeObjecttype).toBe('zaak');
    expect(decoded.after?.id).toBe(decoded.key);
    expect(decoded.position.lsn).toMatch(/^\d+$/);
    expect(decoded.position.sequence?.[1]).toBe(decoded.position.lsn);
    expect(decoded.position.snapshot).toBe(false);
  });

  it('decodes records of an added and a dropped column', async () => {
    const names = ['update', 'update-added-column', 'update-dropped-column'];
    const objectIds = [];
    for (const name of names) {
      const { key, value } = bytesOf(name);
      const decoded = await decoder.decodeOnderwerpobject(key, value);
      expect(decoded.kind).toBe('change');
      if (decoded.kind === 'change') objectIds.push(decoded.after?.objectId);
    }
    expect(objectIds).toEqual([
      '5a1b0c2d-0000-4000-8000-00000000a5a1',
      '5a1b0c2d-0000-4000-8000-00000000a5a1',
      '5a1b0c2d-0000-4000-8000-00000000a5a2',
    ]);
  });

  it('uses another schema id after a column was added', () => {
    const schemaIds = ['update', 'update-added-column', 'update-dropped-column'].map((name) =>
      bytesOf(name).value!.readUInt32BE(1),
    );
    expect(schemaIds[1]).not.toBe(schemaIds[0]);
    expect(schemaIds[2]).toBe(schemaIds[0]);
  });

  it('decodes a delete and its tombstone', async () => {
    const deleted = bytesOf('delete');
    const decoded = await decoder.decodeOnderwerpobject(deleted.key, deleted.value);
    expect(decoded.kind === 'change' && decoded.op).toBe('d');
    expect(decoded.kind === 'change' && decoded.after).toBeNull();
    const tombstone = bytesOf('tombstone');
    const decodedTombstone = await decoder.decodeOnderwerpobject(tombstone.key, tombstone.value);
    expect(decodedTombstone).toEqual({ kind: 'tombstone', key: decoded.key });
  });

  it('decodes a klantcontact insert', async () => {
    const { key, value } = bytesOf('klantcontact-create');
    const decoded = await decoder.decodeKlantcontact(key, value);
    expect(decoded.kind).toBe('upsert');
    if (decoded.kind !== 'upsert') return;
    expect(decoded.onderwerp).toBe('Avro-opname');
    expect(decoded.nummer).toBe('0042');
  });

  it('sends truncated Avro to the dead-letter topic', async () => {
    const { key, value } = bytesOf('create');
    const truncated = value!.subarray(0, value!.length - 10);
    await expect(decoder.decodeOnderwerpobject(key, truncated)).rejects.toMatchObject({
      name: 'DeadLetterError',
      code: 'INVALID_AVRO',
    });
  });

  it('sends an unknown schema id to the dead-letter topic', async () => {
    const { key, value } = bytesOf('create');
    const wrongId = Buffer.from(value!);
    wrongId.writeUInt32BE(99_999, 1);
    const error = await decoder.decodeOnderwerpobject(key, wrongId).catch((caught) => caught);
    expect(error).toBeInstanceOf(DeadLetterError);
    expect((error as DeadLetterError).code).toBe('UNKNOWN_SCHEMA');
    expect((error as DeadLetterError).message).toContain('schema id 99999');
  });

  it('sends JSON bytes to the dead-letter topic', async () => {
    const { key } = bytesOf('create');
    await expect(
      decoder.decodeOnderwerpobject(key, Buffer.from('{"op":"c"}')),
    ).rejects.toMatchObject({ code: 'INVALID_AVRO' });
  });
});

describe('decimalText', () => {
  it.each([
    [[0x30, 0x39], 2, '123.45'],
    [[0xcf, 0xc7], 2, '-123.45'],
    [[0x05], 3, '0.005'],
    [[0x00], 0, '0'],
  ])('formats %j with scale %i', (bytes, scale, expected) => {
    expect(decimalText(Buffer.from(bytes), scale)).toBe(expected);
  });
});

describe('decodeAvroMessages', () => {
  it('returns dead letters in place', async () => {
    const created = bytesOf('create');
    const truncated = created.value!.subarray(0, created.value!.length - 10);
    const messages = [
      { ...created, offset: '0', timestamp: '0' },
      { key: created.key, value: truncated, offset: '1', timestamp: '0' },
    ];

    const outcomes = await decodeAvroMessages(messages, decoder);

    expect(outcomes).toHaveLength(2);
    expect(outcomes[0]).not.toBeInstanceOf(DeadLetterError);
    expect(outcomes[1]).toBeInstanceOf(DeadLetterError);
    expect((outcomes[1] as DeadLetterError).code).toBe('INVALID_AVRO');
  });

  it('fails the batch when the registry is down', async () => {
    const closed = createServer();
    await new Promise<void>((listening) => closed.listen(0, '127.0.0.1', listening));
    const { port } = closed.address() as AddressInfo;
    await new Promise((done) => closed.close(done));
    const unreachable = DebeziumAvroDecoder.forRegistryUrl(`http://127.0.0.1:${port}`);
    const { key, value } = bytesOf('create');

    await expect(
      decodeAvroMessages([{ key, value, offset: '0', timestamp: '0' }], unreachable),
    ).rejects.toBeInstanceOf(SchemaRegistryError);
  });
});
