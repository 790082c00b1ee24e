import { Bench } from 'tinybench';
import { processBatch } from '../src/processor/batch.js';
import { decodeJsonMessages } from '../src/processor/decode.js';
import { emptyPartitionState } from '../src/state/partition-state.js';
import { benchmarkSettings, inputMessages, onderwerpobjectRecords } from './inputs.js';
import type { Measurement } from './measurement.js';

/** Records per benchmark batch. */
const batchSize = 500;

const settings = benchmarkSettings(() => 'Vraag over de aanvraag omgevingsvergunning - (KC-1001)');

/**
 * Measures the pure pipeline on one core: decoding, and a whole batch through decode, link rule,
 * transition and CloudEvent building. Each batch contains the link, move, delete and tombstone of
 * 125 rows, so it produces 500 events.
 */
export async function pipelineBenchmarks(): Promise<Measurement[]> {
  const withSchemas = inputMessages(onderwerpobjectRecords('with-schemas.json', batchSize / 4, 40));
  const withoutSchemas = inputMessages(
    onderwerpobjectRecords('without-schemas.json', batchSize / 4, 40),
  );
  const state = emptyPartitionState();

  const bench = new Bench({ time: 2_000, warmupTime: 500 });
  bench
    .add('decode JSON with schemas', () => {
      decodeJsonMessages(withSchemas);
    })
    .add('process a batch, JSON with schemas', () => {
      processBatch(withSchemas, state, settings);
    })
    .add('process a batch, JSON without schemas', () => {
      processBatch(withoutSchemas, state, settings);
    });
  await bench.warmup();
  await bench.run();

  const events = processBatch(withSchemas, state, settings).events.length;
  if (events !== batchSize) {
    throw new Error(`The benchmark batch produced ${events} events, expected ${batchSize}.`);
  }

  const targets: Record<string, number> = {
    'decode JSON with schemas': 12_000,
    'process a batch, JSON with schemas': 8_000,
    'process a batch, JSON without schemas': 15_000,
  };
  return bench.tasks.map((task) => {
    const hz = task.result?.hz;
    if (hz === undefined || task.result?.error !== undefined) {
      throw new Error(`Benchmark "${task.name}" failed: ${String(task.result?.error)}`);
    }
    return {
      name: `${task.name} (one core)`,
      value: Math.round(hz * batchSize),
      unit: 'records/s',
      bound: 'min',
      target: targets[task.name]!,
    };
  });
}
