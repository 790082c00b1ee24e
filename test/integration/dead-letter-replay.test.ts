import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Admin, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTopicsWithLeaders } from '../../src/topics.js';
import { fixture } from '../support/fixtures.js';
import { testKafka, TopicReader, waitFor, type ConsumedRecord } from '../support/kafka.js';
import {
  newProcessorSettings,
  ProcessorProcess,
  type ProcessorSettings,
} from '../support/processor-process.js';

const root = resolve(import.meta.dirname, '../..');
const stack = inject('stack');
const kafka = testKafka(stack);
let admin: Admin;
let producer: Producer;
let settings: ProcessorSettings;
let processor: ProcessorProcess;
let deadLetterTopic: string;
let replayGroup: string;

const created = fixture('without-schemas.json', 'create linked');
const createdZaak = JSON.parse(created.value!).after.onderwerpobjectidentificator_object_id;

const badJson = {
  key: created.key,
  value: '{"before":null,"after":',
  headers: { 'trace-id': 'trace-json', 'deadletter.custom': 'dropped on replay' },
  partition: 1,
};
const badKey = { key: '{"pk":1}', value: created.value!, headers: { 'trace-id': 'trace-key' } };

interface ReplayRun {
  code: number | null;
  stdout: string[];
  stderr: string;
  logs: { level: number; msg: string; [field: string]: unknown }[];
}

/**
 * Runs `dead-letter replay` in a child process, by default with the processor's group id.
 * `onLog` receives each log line and the child process, to signal it.
 */
function replay(
  args: string[],
  options: { groupId?: string; onLog?: (line: string, child: ChildProcess) => void } = {},
): Promise<ReplayRun> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli.ts', 'dead-letter', 'replay', ...args],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Without CLOUDEVENTS_SOURCE and OPENKLANT_BASE_URL, which the replay does not need.
      env: {
        PATH: process.env.PATH,
        KAFKA_BOOTSTRAP_SERVERS: stack.kafkaBootstrapServers,
        KAFKA_GROUP_ID: options.groupId ?? settings.groupId,
        KAFKA_SESSION_TIMEOUT_MS: '10000',
      },
    },
  );
  let stdout = '';
  const stderr: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderr.push(line);
    options.onLog?.(line, child);
  });
  return new Promise((done) =>
    child.on('close', (code) => {
      const logs = stderr
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as ReplayRun['logs'][number]);
      done({
        code,
        stdout: stdout.split('\n').filter((line) => line !== ''),
        stderr: stderr.join('\n'),
        logs,
      });
    }),
  );
}

/** Reads a topic from its start to its current end. */
async function readTopic(topic: string): Promise<ConsumedRecord[]> {
  const reader = await TopicReader.start(kafka, topic);
  try {
    return [...(await reader.readToEnd(admin))];
  } finally {
    await reader.stop();
  }
}

async function endOffsets(topic: string): Promise<string[]> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.sort((a, b) => a.partition - b.partition).map((o) => o.high);
}

function replayed(records: ConsumedRecord[]): ConsumedRecord[] {
  return records.filter((record) => record.headers['deadletter.replayed-from'] !== undefined);
}

function letterWithCode(letters: ConsumedRecord[], code: string): ConsumedRecord {
  const found = letters.find((letter) => letter.headers['deadletter.error.code'] === code);
  expect(found, `dead letter with code ${code}`).toBeDefined();
  return found!;
}

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  settings = newProcessorSettings(stack, 'replay');
  settings.inputTopic = `${settings.groupId}.input`;
  // The recorded records name klantcontacten this stack may not have; labels are not checked.
  settings.extra = { LABEL_WAIT_MS: '1000' };
  deadLetterTopic = `${settings.groupId}-dead-letter`;
  replayGroup = `${settings.groupId}-dead-letter-replay`;
  await createTopicsWithLeaders(admin, [
    { topic: settings.inputTopic, numPartitions: 2, replicationFactor: 1 },
  ]);
  producer = kafka.producer();
  await producer.connect();

  processor = ProcessorProcess.start(stack, settings);
  await processor.waitForLog((line) => line.msg === 'processor started');
  await producer.send({
    topic: settings.inputTopic,
    messages: [badJson, { ...badKey, partition: 0 }],
  });
  await waitFor('the dead letters', async () => {
    const offsets = await admin.fetchOffsets({
      groupId: settings.groupId,
      topics: [settings.inputTopic],
    });
    return offsets[0]!.partitions.every((p) => p.offset === '1') ? true : undefined;
  });
  // Stopped, so that a re-sent record that fails again does not add a dead letter mid-test.
  await processor.stop();
});

afterAll(async () => {
  await processor?.stop();
  await producer?.disconnect();
  await admin?.disconnect();
});

describe('dead-letter replay', () => {
  it('prints letters and sends nothing with --dry-run', async () => {
    const inputBefore = await endOffsets(settings.inputTopic);
    const letters = await readTopic(deadLetterTopic);
    const jsonLetter = letterWithCode(letters, 'INVALID_JSON');

    const run = await replay(['--dry-run']);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      `would re-send ${deadLetterTopic}:${jsonLetter.partition}:${jsonLetter.offset} to ` +
        `${settings.inputTopic}[1] code=INVALID_JSON ` +
        `reason=${JSON.stringify(jsonLetter.headers['deadletter.error.message'])}`,
    );
    expect(run.stdout).toContain(`Would re-send 2 of 2 dead letters read from ${deadLetterTopic}.`);
    expect(run.stdout.join('\n')).not.toContain(badJson.value);
    expect(run.stderr).not.toContain(badJson.value);
    expect(await endOffsets(settings.inputTopic)).toEqual(inputBefore);
    const committed = await admin.fetchOffsets({ groupId: replayGroup, topics: [deadLetterTopic] });
    expect(committed[0]!.partitions.map((p) => p.offset)).toEqual(
      committed[0]!.partitions.map(() => '-1'),
    );
  });

  it('re-sends only letters of --error-code', async () => {
    const letters = await readTopic(deadLetterTopic);
    const keyLetter = letterWithCode(letters, 'INVALID_KEY');

    const run = await replay(['--error-code', 'INVALID_KEY']);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Re-sent 1 of 2 dead letters read from ${deadLetterTopic}.`);
    expect(run.stdout).toContain('  by error code: INVALID_KEY 1');
    expect(run.stdout).toContain(`  by target topic: ${settings.inputTopic} 1`);
    expect(run.stdout).toContain('  left out by --error-code: 1');
    const input = replayed(await readTopic(settings.inputTopic));
    expect(input).toEqual([
      {
        partition: 0,
        offset: '1',
        key: badKey.key,
        value: badKey.value,
        headers: {
          'trace-id': 'trace-key',
          'deadletter.replayed-from': `${deadLetterTopic}:${keyLetter.partition}:${keyLetter.offset}`,
        },
      },
    ]);
  });

  it('sends nothing on a second run', async () => {
    const inputBefore = await endOffsets(settings.inputTopic);

    const run = await replay([]);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toEqual([`Re-sent 0 of 0 dead letters read from ${deadLetterTopic}.`]);
    expect(await endOffsets(settings.inputTopic)).toEqual(inputBefore);
  });

  it('re-sends letters left out earlier with --from-beginning', async () => {
    const letters = await readTopic(deadLetterTopic);
    const jsonLetter = letterWithCode(letters, 'INVALID_JSON');

    const run = await replay(['--from-beginning', '--error-code', 'INVALID_JSON']);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Re-sent 1 of 2 dead letters read from ${deadLetterTopic}.`);
    const input = replayed(await readTopic(settings.inputTopic));
    expect(input.filter((record) => record.partition === 1)).toEqual([
      {
        partition: 1,
        offset: '1',
        key: badJson.key,
        value: badJson.value,
        headers: {
          'trace-id': 'trace-json',
          'deadletter.replayed-from': `${deadLetterTopic}:${jsonLetter.partition}:${jsonLetter.offset}`,
        },
      },
    ]);
    expect(input).toHaveLength(2);

    const again = await replay([]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toEqual([`Re-sent 0 of 0 dead letters read from ${deadLetterTopic}.`]);
  });

  it('feeds a fixed record through the processor', async () => {
    // A dead letter of a record that the current processor accepts, as an older version that
    // rejected it would have written it.
    await producer.send({
      topic: deadLetterTopic,
      messages: [
        {
          key: created.key,
          value: created.value,
          headers: {
            'deadletter.error.code': 'INVALID_ROW',
            'deadletter.error.message': 'rejected by an older version',
            'deadletter.source.topic': settings.inputTopic,
            'deadletter.source.partition': '0',
            'deadletter.source.offset': '7',
            'deadletter.source.timestamp': '1796399176000',
          },
        },
      ],
    });

    const run = await replay([]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Re-sent 1 of 1 dead letters read from ${deadLetterTopic}.`);

    const output = await TopicReader.start(kafka, settings.outputTopic);
    processor = ProcessorProcess.start(stack, settings);
    try {
      const events = await waitFor('the event of the re-sent record', () =>
        output.records.length > 0 ? output.records : undefined,
      );
      expect(events.map((event) => [event.key, JSON.parse(event.value!).type])).toEqual([
        [createdZaak, 'nl.overheid.zaken.zaak-gekoppeld'],
      ]);
    } finally {
      await output.stop();
      await processor.stop();
    }
  });

  it('skips letters without source headers and exits 1', async () => {
    const sent = await producer.send({
      topic: deadLetterTopic,
      messages: [{ key: 'k', value: 'v', headers: { 'deadletter.error.code': 'INVALID_JSON' } }],
    });
    const { partition, baseOffset } = sent[0]!;

    const run = await replay(['--error-code', 'INVALID_JSON']);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `  cannot re-send ${deadLetterTopic}:${partition}:${baseOffset}: header ` +
        'deadletter.source.topic is missing; expected a topic name',
    );
    const errors = run.logs.filter(
      (line) => line.msg === 'dead letter has no valid source headers and cannot be re-sent',
    );
    expect(errors).toHaveLength(1);
    const again = await replay([]);
    expect(again.code, again.stderr).toBe(0);
  });

  it('reads one offset with --partition, --from-offset and --to-offset', async () => {
    const letters = await readTopic(deadLetterTopic);
    const keyLetter = letterWithCode(letters, 'INVALID_KEY');
    const offset = keyLetter.offset;

    const run = await replay([
      '--dry-run',
      '--partition',
      String(keyLetter.partition),
      '--from-offset',
      offset,
      '--to-offset',
      offset,
    ]);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.filter((line) => line.startsWith('would re-send'))).toEqual([
      expect.stringMatching(
        new RegExp(`^would re-send ${deadLetterTopic}:${keyLetter.partition}:${offset} to `),
      ),
    ]);
  });

  it('stops at a letter whose source topic is missing', async () => {
    const inputBefore = await endOffsets(settings.inputTopic);
    const sent = await producer.send({
      topic: deadLetterTopic,
      messages: [
        {
          key: created.key,
          value: created.value,
          headers: {
            'deadletter.error.code': 'INVALID_ROW',
            'deadletter.source.topic': `${settings.groupId}.missing`,
            'deadletter.source.partition': '0',
          },
        },
      ],
    });
    const { partition, baseOffset } = sent[0]!;

    const run = await replay([]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `Dead-letter replay failed: The dead letter at ${deadLetterTopic}:${partition}:` +
        `${baseOffset} came from partition 0 of topic "${settings.groupId}.missing", which does ` +
        `not exist. Create the topic or partition, or skip the letter with --from-offset ` +
        `${Number(baseOffset) + 1} --partition ${partition}.`,
    );
    expect(await endOffsets(settings.inputTopic)).toEqual(inputBefore);
    const list = await admin.listTopics();
    expect(list).not.toContain(`${settings.groupId}.missing`);

    const skip = await replay([
      '--from-offset',
      String(Number(baseOffset) + 1),
      '--partition',
      `${partition}`,
    ]);
    expect(skip.code, skip.stderr).toBe(0);
    const again = await replay([]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toEqual([`Re-sent 0 of 0 dead letters read from ${deadLetterTopic}.`]);
  });
});

describe('dead-letter replay stopped by a signal', () => {
  it('continues where it stopped without duplicates', async () => {
    const groupId = `${settings.groupId}-signal`;
    const target = `${groupId}.input`;
    const deadLetters = `${groupId}-dead-letter`;
    await createTopicsWithLeaders(admin, [
      { topic: target, numPartitions: 1, replicationFactor: 1 },
      { topic: deadLetters, numPartitions: 1, replicationFactor: 1 },
    ]);
    // 6000 letters of 2 KiB in 24 record batches, so the replay commits many chunks.
    const count = 6000;
    const value = 'x'.repeat(2048);
    // Sent 250 at a time: one request stays below the broker's default message.max.bytes (1 MiB).
    for (let first = 0; first < count; first += 250) {
      await producer.send({
        topic: deadLetters,
        messages: Array.from({ length: 250 }, (_, index) => ({
          key: String(first + index),
          value,
          headers: {
            'deadletter.error.code': 'INVALID_JSON',
            'deadletter.source.topic': target,
            'deadletter.source.partition': '0',
          },
        })),
      });
    }

    let signalled = false;
    const first = await replay([], {
      groupId,
      onLog: (line, child) => {
        if (!signalled && line.includes('"msg":"dead-letter chunk re-sent"')) {
          signalled = true;
          child.kill('SIGTERM');
        }
      },
    });
    expect(first.code, first.stderr).toBe(130);
    expect(first.stdout).toContain('Stopped before the end; run the command again to continue.');
    const firstCount = Number(/^Re-sent (\d+) of/m.exec(first.stdout.join('\n'))?.[1]);
    expect(firstCount).toBeGreaterThan(0);
    expect(firstCount).toBeLessThan(count);

    const second = await replay([], { groupId });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(
      `Re-sent ${count - firstCount} of ${count - firstCount} dead letters read from ${deadLetters}.`,
    );

    const records = await readTopic(target);
    expect(records).toHaveLength(count);
    const keys = new Set(records.map((record) => record.key));
    expect(keys.size).toBe(count);
    expect(records.map((record) => record.key)).toEqual(
      Array.from({ length: count }, (_, index) => String(index)),
    );
  });
});
