import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Admin } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { deleteConnector, registerConnector } from '../support/connect.js';
import { OpenKlantDatabase, zaakColumns } from '../support/database.js';
import { expectExactOutput, type OutputSummary } from '../support/exactly-once.js';
import { rowIdOf, testKafka, TopicReader, waitFor, waitUntilProcessed } from '../support/kafka.js';
import {
  newProcessorSettings,
  ProcessorProcess,
  type ProcessorSettings,
} from '../support/processor-process.js';
import { seededRandom, Workload, writtenRows } from '../support/workload.js';

/**
 * Exactly-once tests. `npm test` runs a short form; `npm run test:chaos` sets CHAOS_SCALE=full
 * and runs the full form: 20,000 changes over 5,000 rows and 5 kills.
 */
const full = process.env.CHAOS_SCALE === 'full';
const scale = full
  ? { rows: 5_000, changes: 20_000, kills: 5 }
  : { rows: 150, changes: 600, kills: 2 };
const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
const processingTimeoutMs = full ? 1_200_000 : 240_000;

const stack = inject('stack');
const kafka = testKafka(stack);
const suffix = randomUUID().slice(0, 8);
const connectorName = `test-eos-${suffix}`;
const inputTopic = `testeos${suffix}.public.klantinteracties_onderwerpobject`;
let admin: Admin;
let database: OpenKlantDatabase;
let input: TopicReader | undefined;
let klantcontactId: number;
let label: string;
const started: ProcessorProcess[] = [];

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  database = new OpenKlantDatabase(stack);
  const klantcontact = await database.insertKlantcontact('Verhuizing doorgeven', 'KC-500');
  klantcontactId = klantcontact.id;
  label = klantcontact.label;

  // Without a data snapshot the connector streams only what changes after it started, so a
  // long-lived stack's table size does not slow these tests.
  await registerConnector(stack, connectorName, {
    'topic.prefix': `testeos${suffix}`,
    'slot.name': `test_eos_${suffix}`,
    'publication.name': `test_eos_${suffix}`,
    'table.include.list': 'public.klantinteracties_onderwerpobject',
    'topic.creation.default.partitions': '6',
    'snapshot.mode': 'no_data',
  });
  const markers = new Set<number>();
  await waitFor(
    'the connector to stream a marker row',
    async () => {
      const marker = await database.insertOnderwerpobject(
        zaakColumns(klantcontactId, randomUUID()),
      );
      markers.add(marker.id);
      if (!(await admin.listTopics()).includes(inputTopic)) {
        return undefined;
      }
      input ??= await TopicReader.start(kafka, inputTopic);
      return input.records.some((record) => markers.has(rowIdOf(record.key) ?? -1))
        ? true
        : undefined;
    },
    120_000,
  );
}, 300_000);

afterEach(async () => {
  await Promise.all(started.splice(0).map((processor) => processor.stop('SIGKILL')));
});

afterAll(async () => {
  await input?.stop();
  await deleteConnector(stack, connectorName);
  await database?.close();
  await admin?.disconnect();
});

function start(settings: ProcessorSettings): ProcessorProcess {
  const processor = ProcessorProcess.start(stack, settings);
  started.push(processor);
  return processor;
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

async function committedOutput(settings: ProcessorSettings, workload: Workload) {
  await waitUntilProcessed(
    admin,
    input!,
    settings.groupId,
    writtenRows(workload),
    processingTimeoutMs,
  );
  const output = await TopicReader.start(kafka, settings.outputTopic);
  try {
    return await output.readToEnd(admin);
  } finally {
    await output.stop();
  }
}

/** Counts the log lines of this test's processors that mention a transaction fault. */
function transactionFaults(): Record<string, number> {
  const lines = started.flatMap((processor) => processor.output().split('\n'));
  return {
    concurrentTransactions: lines.filter((line) => line.includes('concurrent operation')).length,
    fencedProducers: lines.filter((line) => line.includes('old epoch')).length,
    abortedBatches: lines.filter((line) => line.includes('transaction of the batch failed')).length,
  };
}

/** Appends a test's counts to .stack/logs/exactly-once.log, for the README's record of runs. */
function report(test: string, summary: OutputSummary, extra: Record<string, number>): void {
  const folder = resolve(import.meta.dirname, '../../.stack/logs');
  mkdirSync(folder, { recursive: true });
  const line = { at: new Date().toISOString(), scale: full ? 'full' : 'short', seed, test };
  appendFileSync(
    resolve(folder, 'exactly-once.log'),
    `${JSON.stringify({ ...line, ...summary, ...extra, ...transactionFaults() })}\n`,
  );
}

describe(`exactly-once output (seed ${seed})`, { timeout: processingTimeoutMs + 60_000 }, () => {
  it('survives kill -9 at random moments', async () => {
    const settings = { ...newProcessorSettings(stack, 'crash'), inputTopic };
    const workload = new Workload(database, klantcontactId, seed);
    const random = seededRandom(seed + 1);
    let processor = start(settings);

    const writing = workload.write(scale.rows, scale.changes);
    for (let kill = 0; kill < scale.kills; kill += 1) {
      await sleep(2_000 + random() * 4_000);
      await processor.stop('SIGKILL');
      processor = start(settings);
    }
    await writing;
    const records = await committedOutput(settings, workload);

    const summary = expectExactOutput(records, workload, settings, label);
    report('crash', summary, { kills: scale.kills });
  });

  it('stays exact while instances join and leave', async () => {
    const settings = { ...newProcessorSettings(stack, 'rebalance'), inputTopic };
    const workload = new Workload(database, klantcontactId, seed + 2);
    const third = Math.floor(scale.changes / 3);
    start(settings);

    await workload.write(Math.floor(scale.rows / 3), third);
    const joined = [start(settings), start(settings)];
    await workload.write(Math.floor(scale.rows / 3), third);
    await Promise.all(
      joined.map((processor) =>
        processor.waitForLog(
          (line) =>
            line.msg === 'partition assignment changed' && (line.assigned as number[]).length > 0,
        ),
      ),
    );
    await Promise.all(joined.map((processor) => processor.stop('SIGTERM')));
    await workload.write(Math.floor(scale.rows / 3), scale.changes - 2 * third);
    const records = await committedOutput(settings, workload);

    const summary = expectExactOutput(records, workload, settings, label);
    report('rebalance', summary, { instances: 3 });
  });

  it('fences an instance paused past its session timeout', async () => {
    const settings = { ...newProcessorSettings(stack, 'zombie'), inputTopic };
    const workload = new Workload(database, klantcontactId, seed + 3);
    const zombie = start(settings);
    await zombie.waitForLog((line) => line.msg === 'processor started');

    const writing = workload.write(Math.floor(scale.rows / 2), Math.floor(scale.changes / 2));
    await sleep(1_500);
    process.kill(zombie.pid, 'SIGSTOP');
    const successor = start(settings);
    await writing;
    // The successor gets the partitions once the paused instance's session timed out.
    await successor.waitForLog(
      (line) =>
        line.msg === 'partition assignment changed' && (line.assigned as number[]).length > 0,
    );
    await waitUntilProcessed(
      admin,
      input!,
      settings.groupId,
      writtenRows(workload),
      processingTimeoutMs,
    );
    const joinsBefore = zombie.logs.length;
    process.kill(zombie.pid, 'SIGCONT');
    await workload.write(Math.floor(scale.rows / 2), scale.changes - Math.floor(scale.changes / 2));
    const records = await committedOutput(settings, workload);

    const summary = expectExactOutput(records, workload, settings, label);
    await zombie.waitForLog(
      (line) =>
        zombie.logs.indexOf(line) >= joinsBefore && line.msg === 'partition assignment changed',
    );
    report('zombie', summary, {});
  });

  it('emits nothing for re-published input', async () => {
    const settings = { ...newProcessorSettings(stack, 'resend'), inputTopic };
    const workload = new Workload(database, klantcontactId, seed + 4);
    const processor = start(settings);
    await workload.write(scale.rows / 2, scale.changes / 2);
    const before = await committedOutput(settings, workload);
    expectExactOutput(before, workload, settings, label);

    const rowIds = new Set(workload.changesByRow.keys());
    const suffixRecords = input!.records
      .filter((record) => rowIds.has(rowIdOf(record.key) ?? -1))
      .slice(-Math.floor(scale.changes / 4));
    const producer = kafka.producer();
    await producer.connect();
    // Chunks keep each produce request below the broker's message.max.bytes.
    for (let start = 0; start < suffixRecords.length; start += 200) {
      await producer.send({
        topic: inputTopic,
        messages: suffixRecords.slice(start, start + 200).map((record) => ({
          partition: record.partition,
          key: record.key,
          value: record.value,
          headers: record.headers,
        })),
      });
    }
    await producer.disconnect();
    const ends = await admin.fetchTopicOffsets(inputTopic);
    await waitFor(
      'the group to commit past the re-published records',
      async () => {
        const committed = await admin.fetchOffsets({
          groupId: settings.groupId,
          topics: [inputTopic],
        });
        const offsets = new Map(
          committed[0]!.partitions.map(({ partition, offset }) => [partition, BigInt(offset)]),
        );
        return ends.every(({ partition, high }) => (offsets.get(partition) ?? -1n) >= BigInt(high))
          ? true
          : undefined;
      },
      processingTimeoutMs,
    );
    const output = await TopicReader.start(kafka, settings.outputTopic);
    const after = await output.readToEnd(admin);
    await output.stop();

    const summary = expectExactOutput(after, workload, settings, label);
    const resent = processor.logs
      .filter((line) => line.msg === 'skipped changes at or before the stored stream position')
      .reduce((sum, line) => sum + (line.resent as number), 0);
    const republishedChanges = suffixRecords.filter((record) => record.value !== null).length;
    expect(resent).toBeGreaterThanOrEqual(republishedChanges);
    report('resend', summary, { republished: suffixRecords.length });
  });
});
