/**
 * Runs the benchmarks and checks each result against its target:
 *
 *   npm run bench
 *
 * The pipeline and memory benchmarks need no servers. The throughput benchmark brings up the local
 * stack as the demo does and runs the processor on a backlog in Kafka. Exits with status 1 when a
 * result misses its target. docs/benchmarks.md records the results on the development machine.
 */
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { parseEnvFile, settingsFromVariables } from '../test/support/stack-settings.js';
import { meetsTarget, type Measurement } from './measurement.js';
import { memoryBenchmarks } from './memory.js';
import { pipelineBenchmarks } from './pipeline.js';
import { throughputBenchmarks } from './throughput.js';

const root = resolve(import.meta.dirname, '..');

function step(text: string): void {
  process.stderr.write(`\n== ${text}\n`);
}

const results: Measurement[] = [];

step('Memory: state per linked row and klantcontact table per klantcontact');
results.push(...memoryBenchmarks());

step('Pipeline on one core: decoding and whole batches');
results.push(...(await pipelineBenchmarks()));

step('Bringing up the local stack for the throughput benchmark');
const up = spawnSync(resolve(root, 'deploy/local/stack'), ['up'], { stdio: 'inherit' });
if (up.status !== 0) {
  process.stderr.write('deploy/local/stack up failed; its logs are in .stack/logs/.\n');
  process.exit(1);
}
const stack = settingsFromVariables(parseEnvFile(resolve(root, '.stack/env')), 'deploy-local');

step('Throughput: a backlog of 40,000 records through one processor instance');
results.push(...(await throughputBenchmarks(stack)));

const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node.js ${process.version}`;
process.stdout.write(`\n${machine}\n\n`);
process.stdout.write('| benchmark | result | target | met |\n| --- | --- | --- | --- |\n');
for (const result of results) {
  const bound = result.bound === 'min' ? 'at least' : 'at most';
  process.stdout.write(
    `| ${result.name} | ${result.value.toLocaleString('en')} ${result.unit} | ${bound} ${result.target.toLocaleString('en')} | ${meetsTarget(result) ? 'yes' : 'NO'} |\n`,
  );
}
const missed = results.filter((result) => !meetsTarget(result));
if (missed.length > 0) {
  process.stderr.write(`\n${missed.length} benchmark(s) missed the target.\n`);
  process.exit(1);
}
