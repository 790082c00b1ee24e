import { randomUUID } from 'node:crypto';
import { zaakColumns, type OpenKlantDatabase } from './database.js';
import { rowIdOf, waitFor, type TopicReader } from './kafka.js';
import type { StackSettings } from './stack-settings.js';

/**
 * Registers another Debezium connector on the same database, with the stack connector's
 * settings plus the given ones. Each connector needs its own topic prefix, replication slot and
 * publication; the slot is dropped when the connector stops, so no WAL is kept for it.
 */
export async function registerConnector(
  stack: StackSettings,
  name: string,
  settings: Record<string, string>,
): Promise<void> {
  const base = await connectRequest<Record<string, string>>(
    stack,
    'GET',
    `/connectors/${stack.connectorName}/config`,
  );
  const config = {
    ...base,
    name,
    'slot.drop.on.stop': 'true',
    'topic.creation.default.partitions': '3',
    'topic.creation.default.replication.factor': '1',
    ...settings,
  };
  await connectRequest(stack, 'PUT', `/connectors/${name}/config`, config);
  await waitFor(
    `connector ${name} and its task to run`,
    async () => {
      const status = await connectRequest<{
        connector: { state: string };
        tasks: { state: string; trace?: string }[];
      }>(stack, 'GET', `/connectors/${name}/status`).catch(() => undefined);
      const failed = status?.tasks.find((task) => task.state === 'FAILED');
      if (failed) {
        throw new Error(`Connector ${name} failed: ${failed.trace}`);
      }
      const running =
        status?.connector.state === 'RUNNING' &&
        status.tasks.length > 0 &&
        status.tasks.every((task) => task.state === 'RUNNING');
      return running ? true : undefined;
    },
    120_000,
  );
}

export async function deleteConnector(stack: StackSettings, name: string): Promise<void> {
  await connectRequest(stack, 'DELETE', `/connectors/${name}`).catch(() => undefined);
}

async function connectRequest<T>(
  stack: StackSettings,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${stack.connectUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) {
    throw new Error(`Kafka Connect ${method} ${path} failed with ${response.status}: ${text}`);
  }
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** A value of ExtractNewRecordState's `delete.tombstone.handling.mode`. */
export type DeleteHandlingMode =
  'tombstone' | 'rewrite' | 'rewrite-with-tombstone' | 'delete-to-tombstone' | 'drop';

/**
 * Returns connector settings that flatten each change event with Debezium's
 * ExtractNewRecordState transform, under the conventional alias `unwrap`. Without `addFields` the
 * transform adds no metadata fields, and without `deleteHandling` it uses its default,
 * `tombstone`.
 */
export function extractNewRecordState(options: {
  deleteHandling?: DeleteHandlingMode;
  addFields?: string;
}): Record<string, string> {
  const settings: Record<string, string> = {
    transforms: 'unwrap',
    'transforms.unwrap.type': 'io.debezium.transforms.ExtractNewRecordState',
  };
  if (options.deleteHandling !== undefined) {
    settings['transforms.unwrap.delete.tombstone.handling.mode'] = options.deleteHandling;
  }
  if (options.addFields !== undefined) {
    settings['transforms.unwrap.add.fields'] = options.addFields;
  }
  return settings;
}

/**
 * Returns settings that limit a connector's initial snapshot to the onderwerpobject rows with the
 * given ids, so that a test connector does not read the whole table.
 */
export function snapshotOnly(ids: number[]): Record<string, string> {
  const table = 'public.klantinteracties_onderwerpobject';
  return {
    'snapshot.select.statement.overrides': table,
    [`snapshot.select.statement.overrides.${table}`]: `SELECT * FROM ${table} WHERE id IN (${ids.join(', ')})`,
  };
}

/**
 * Writes an onderwerpobject change that links nothing and waits until the connector wrote it. The
 * first transaction that a new connector streams has no last commit LSN. A link in it cannot be
 * placed among the klantcontact versions that another connector wrote, so its batch would wait
 * LABEL_WAIT_MS.
 */
export async function streamWarmUpChange(
  database: OpenKlantDatabase,
  input: TopicReader,
  klantcontactId: number,
): Promise<void> {
  const warmUp = await database.insertOnderwerpobject({
    ...zaakColumns(klantcontactId, randomUUID()),
    objecttype: 'klant',
  });
  await waitFor('the warm-up change', () =>
    input.records.some((record) => rowIdOf(record.key) === warmUp.id) ? true : undefined,
  );
}
