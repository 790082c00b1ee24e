import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import kafkajs from 'kafkajs';
import { createTopicsWithLeaders } from '../src/topics.js';
import type { StackSettings } from '../test/support/stack-settings.js';
import { klantcontactRecord, onderwerpobjectRecords } from './inputs.js';
import type { Measurement } from './measurement.js';

const { CompressionTypes, Kafka, logLevel } = kafkajs;
const root = resolve(import.meta.dirname, '..');
const rows = 10_000;
const partitions = 3;
const klantcontactId = 7;

/**
 * Measures one processor instance end to end on the local stack: it reads a backlog of 40,000
 * Debezium records (the link, move, delete and tombstone of 10,000 rows) from a 3-partition topic
 * and commits 40,000 events in per-partition transactions. Reports the records per second from
 * the moment the processor has joined its group to the moment it has committed the whole backlog,
 * and the processor's peak resident memory.
 */
export async function throughputBenchmarks(stack: StackSettings): Promise<Measurement[]> {
  const kafka = new Kafka({
    clientId: 'benchmark',
    brokers: stack.kafkaBootstrapServers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const run = `bench-${randomUUID().slice(0, 8)}`;
  const inputTopic = `${run}.onderwerpobject`;
  const klantcontactTopic = `${run}.klantcontact`;
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await createTopicsWithLeaders(admin, [
      { topic: inputTopic, numPartitions: partitions, replicationFactor: 1 },
      { topic: klantcontactTopic, numPartitions: 1, replicationFactor: 1 },
    ]);
    const klantcontact = klantcontactRecord('klantcontact-with-schemas.json', klantcontactId);
    await producer.send({ topic: klantcontactTopic, messages: [klantcontact] });
    const records = onderwerpobjectRecords('with-schemas.json', rows, klantcontactId);
    for (let start = 0; start < records.length; start += 300) {
      await producer.send({
        topic: inputTopic,
        compression: CompressionTypes.None,
        messages: records.slice(start, start + 300),
      });
    }
    const ends = await admin.fetchTopicOffsets(inputTopic);

    const processor = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        PATH: process.env.PATH,
        KAFKA_BOOTSTRAP_SERVERS: stack.kafkaBootstrapServers,
        KAFKA_GROUP_ID: run,
        ONDERWERPOBJECT_TOPIC: inputTopic,
        KLANTCONTACT_TOPIC: klantcontactTopic,
        CLOUDEVENTS_TOPIC: `${run}.cloudevents`,
        CLOUDEVENTS_SOURCE: 'urn:nld:oin:01823288444:openklant',
        OPENKLANT_BASE_URL: 'https://open-klant.example.nl',
        METRICS_PORT: '0',
      },
    });
    const exited = new Promise<number | null>((done) => processor.on('exit', done));
    try {
      const started = await new Promise<number>((done, fail) => {
        createInterface({ input: processor.stdout! }).on('line', (line) => {
          if (line.includes('"partition assignment changed"')) {
            done(Date.now());
          }
        });
        void exited.then((code) => fail(new Error(`The processor exited with ${code}.`)));
      });
      let peakKib = 0;
      for (;;) {
        peakKib = Math.max(peakKib, peakResidentKib(processor.pid!));
        const [committed] = await admin.fetchOffsets({ groupId: run, topics: [inputTopic] });
        const done = ends.every(({ partition, high }) => {
          const entry = committed!.partitions.find(
            (candidate) => candidate.partition === partition,
          );
          return BigInt(entry?.offset ?? '-1') >= BigInt(high);
        });
        if (done) {
          break;
        }
        await new Promise((wake) => setTimeout(wake, 100));
      }
      const seconds = (Date.now() - started) / 1_000;
      return [
        {
          name: 'backlog through Kafka, one instance, 3 partitions',
          value: Math.round(records.length / seconds),
          unit: 'records/s',
          bound: 'min',
          target: 2_500,
        },
        {
          name: 'processor peak resident memory during the backlog',
          value: Math.round(peakKib / 1_024),
          unit: 'MiB',
          bound: 'max',
          target: 400,
        },
      ];
    } finally {
      processor.kill('SIGTERM');
      await exited;
    }
  } finally {
    await producer.disconnect();
    await admin
      .deleteTopics({
        topics: [
          inputTopic,
          klantcontactTopic,
          `${run}.cloudevents`,
          `${run}-link-state-changelog`,
          `${run}-dead-letter`,
        ],
      })
      .catch(() => undefined);
    await admin.disconnect();
  }
}

/** Returns a process's peak resident set size (VmHWM) from Linux's /proc, in KiB. */
function peakResidentKib(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  return match === null ? 0 : Number(match[1]);
}
