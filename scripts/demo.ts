/**
 * Runs the processor end to end on the local stack: brings the stack up, writes Open Klant rows
 * with SQL, runs the processor, and prints the CloudEvents it published for those rows.
 *
 *   npm run demo
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { OpenKlantDatabase, zaakColumns } from '../test/support/database.js';
import { testKafka, TopicReader, waitFor } from '../test/support/kafka.js';
import { parseEnvFile, settingsFromVariables } from '../test/support/stack-settings.js';

const root = resolve(import.meta.dirname, '..');
const outputTopic = 'openklant.zaak-cloudevents';
const groupId = 'openklant-zaak-cdc-demo';

function step(text: string): void {
  process.stderr.write(`\n== ${text}\n`);
}

step('Bringing up the local stack (Kafka, Kafka Connect with Debezium, PostgreSQL)');
const up = spawnSync(resolve(root, 'deploy/local/stack'), ['up'], { stdio: 'inherit' });
if (up.status !== 0) {
  process.stderr.write('deploy/local/stack up failed; its logs are in .stack/logs/.\n');
  process.exit(1);
}
const stack = settingsFromVariables(parseEnvFile(resolve(root, '.stack/env')), 'deploy-local');

step('Starting the processor');
mkdirSync(resolve(root, '.stack/logs'), { recursive: true });
const logPath = resolve(root, '.stack/logs/demo-processor.log');
const processor = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run'], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: {
    ...process.env,
    KAFKA_BOOTSTRAP_SERVERS: stack.kafkaBootstrapServers,
    KAFKA_GROUP_ID: groupId,
    ONDERWERPOBJECT_TOPIC: stack.onderwerpobjectTopic,
    CLOUDEVENTS_TOPIC: outputTopic,
    CLOUDEVENTS_SOURCE: 'urn:nld:oin:01823288444:openklant',
    OPENKLANT_BASE_URL: 'http://open-klant.local:8000',
    METRICS_PORT: '0',
  },
});
processor.stdout.pipe(createWriteStream(logPath));
process.stderr.write(`processor pid ${processor.pid}, log ${logPath}\n`);

const database = new OpenKlantDatabase(stack);
const kafka = testKafka(stack);
const zaakA = randomUUID();
const zaakB = randomUUID();
const zaakC = randomUUID();

step('Writing Open Klant rows with SQL');
const klantcontact = await database.insertKlantcontact(
  'Vraag over de aanvraag omgevingsvergunning',
  'KC-1001',
);
const linkedA = await database.insertOnderwerpobject(zaakColumns(klantcontact.id, zaakA));
process.stderr.write(`INSERT onderwerpobject ${linkedA.id}, linked to zaak ${zaakA}\n`);
const linkedB = await database.insertOnderwerpobject(zaakColumns(klantcontact.id, zaakB));
process.stderr.write(`INSERT onderwerpobject ${linkedB.id}, linked to zaak ${zaakB}\n`);
const other = await database.insertOnderwerpobject({
  ...zaakColumns(klantcontact.id, randomUUID()),
  objecttype: 'klant',
});
process.stderr.write(`INSERT onderwerpobject ${other.id}, objecttype klant (no link)\n`);
await database.updateOnderwerpobject(linkedB.id, { objectId: zaakC });
process.stderr.write(`UPDATE onderwerpobject ${linkedB.id}, from zaak ${zaakB} to ${zaakC}\n`);
await database.deleteOnderwerpobject(linkedA.id);
process.stderr.write(`DELETE onderwerpobject ${linkedA.id}\n`);
await database.close();

step(`Reading the CloudEvents from ${outputTopic}`);
const expectedCount = 5;
const rowUuids = [linkedA.uuid, linkedB.uuid, other.uuid];
const admin = kafka.admin();
await admin.connect();
await waitFor(`topic ${outputTopic}`, async () =>
  (await admin.listTopics()).includes(outputTopic) ? true : undefined,
);
const reader = await TopicReader.start(kafka, outputTopic);
const ours = await waitFor(
  `${expectedCount} events about the demo rows`,
  () => {
    const about = reader.records.filter((record) =>
      rowUuids.some((uuid) => record.value?.includes(uuid)),
    );
    return about.length >= expectedCount ? about : undefined;
  },
  120_000,
);
const partitions = [...new Set(ours.map((record) => record.partition))].sort((a, b) => a - b);
for (const partition of partitions) {
  process.stdout.write(`-- output partition ${partition}\n`);
  for (const record of ours.filter((candidate) => candidate.partition === partition)) {
    process.stdout.write(
      `${JSON.stringify({ key: record.key, headers: record.headers, value: JSON.parse(record.value!) }, null, 2)}\n`,
    );
  }
}
await reader.stop();
await admin.disconnect();

step('Stopping the processor');
processor.kill('SIGTERM');
await new Promise((done) => processor.on('exit', done));
process.stderr.write(
  `\nPublished ${ours.length} CloudEvents for the demo rows. The stack is still up:\n` +
    `  kcat -b ${stack.kafkaBootstrapServers} -X isolation.level=read_committed -C -t ${outputTopic} -e -f '%k %h %s\\n'\n` +
    '  deploy/local/stack status\n' +
    '  deploy/local/stack down\n' +
    `The demo's consumer group is ${groupId}: set KAFKA_GROUP_ID=${groupId} to run\n` +
    '`dead-letter replay` against its dead-letter topic.\n' +
    'Events are printed per output partition, so events about different zaken may appear in\n' +
    'another order than the SQL ran; the events about one zaak are in order.\n',
);
