import { Command, Option } from 'commander';
import { destination } from 'pino';
import { loadReplayConfig, type ReplayConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { createLogger } from '../logger.js';
import { deadLetterCodes } from './letters.js';
import {
  collectCodes,
  parseOffset,
  parsePartition,
  parseSince,
  type ReplayStart,
} from './range.js';
import { replayDeadLetters, ReplayError } from './replay.js';

const replayHelp = `
Each dead letter goes back to the topic and partition in its deadletter.source.topic and
deadletter.source.partition headers, with its original key, value and headers. The deadletter.*
headers are removed and deadletter.replayed-from is set to {topic}:{partition}:{offset} of the
dead letter. The run reads up to the end offsets the topic had when it started, then prints a
summary and exits.

The consumer group {KAFKA_GROUP_ID}-dead-letter-replay stores how far replays have read. Each
chunk's records and that group's offset commit in one Kafka transaction, so a run continues after
the last chunk an earlier run committed and re-sends none of it. A run moves the group's offset
past every letter it reads, also past letters that --error-code leaves out, and never back.
--from-beginning, --from-offset and --since read letters again, also those re-sent before.

Exit status: 0 when done; 1 on an error or when a dead letter has invalid source headers; 2 on
invalid settings; 130 when stopped by SIGINT or SIGTERM.

Environment variables (as for "openklant-cdc run"; CLOUDEVENTS_SOURCE and OPENKLANT_BASE_URL may
be unset):
  KAFKA_BOOTSTRAP_SERVERS   required; comma-separated host:port list
  KAFKA_GROUP_ID            the processor's consumer group id (default openklant-zaak-cdc)
  KAFKA_CLIENT_ID           client id (default openklant-zaak-cdc)
  KAFKA_SESSION_TIMEOUT_MS  consumer session timeout in milliseconds (default 30000)
  KAFKA_TRANSACTION_TIMEOUT_MS
                            transaction timeout in milliseconds (default 60000)
  DEAD_LETTER_TOPIC         dead-letter topic (default {KAFKA_GROUP_ID}-dead-letter)
  LOG_LEVEL                 fatal, error, warn, info, debug or trace (default info); the JSON
                            log goes to standard error, the letters and summary to standard output
`;

interface ReplayCommandOptions {
  dryRun?: boolean;
  fromBeginning?: boolean;
  fromOffset?: bigint;
  toOffset?: bigint;
  since?: number;
  partition?: number;
  errorCode: string[];
}

/** Adds `dead-letter replay` to the program. */
export function addDeadLetterCommand(program: Command): void {
  program
    .command('dead-letter')
    .description('Work with the dead-letter topic.')
    .command('replay')
    .description(
      'Re-send dead letters to the topic and partition they came from, e.g. after the processor ' +
        'or the connector was fixed.',
    )
    .option('--dry-run', 'print the letters that would be re-sent; send and commit nothing')
    .addOption(
      new Option(
        '--from-beginning',
        "read from the topic's earliest offset, not the group's",
      ).conflicts(['fromOffset', 'since']),
    )
    .addOption(
      new Option('--from-offset <offset>', 'read each partition from this offset')
        .argParser(parseOffset)
        .conflicts('since'),
    )
    .addOption(
      new Option(
        '--to-offset <offset>',
        'read each partition up to this offset, inclusive',
      ).argParser(parseOffset),
    )
    .addOption(
      new Option(
        '--since <time>',
        'read from the first letter written at or after this time: milliseconds since the Unix ' +
          'epoch or ISO 8601 with a zone, e.g. 2026-03-01T09:00:00Z',
      ).argParser(parseSince),
    )
    .addOption(
      new Option(
        '--partition <number>',
        'read only this partition of the dead-letter topic',
      ).argParser(parsePartition),
    )
    .addOption(
      new Option(
        '--error-code <code>',
        `re-send only letters with this error code; repeat or separate with commas (${deadLetterCodes.join(', ')})`,
      )
        .argParser(collectCodes)
        .default([], 'every code'),
    )
    .addHelpText('after', replayHelp)
    .action(runReplay);
}

async function runReplay(options: ReplayCommandOptions, command: Command): Promise<void> {
  if (
    options.fromOffset !== undefined &&
    options.toOffset !== undefined &&
    options.toOffset < options.fromOffset
  ) {
    command.error(
      `error: --to-offset ${options.toOffset} is before --from-offset ${options.fromOffset}`,
    );
  }
  let config: ReplayConfig;
  try {
    config = loadReplayConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(
        `${error.message}\nRun "openklant-cdc dead-letter replay --help" for all settings.\n`,
      );
      process.exit(2);
    }
    throw error;
  }

  const logger = createLogger(config.logLevel, destination({ dest: 2, sync: true }));
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) {
      logger.warn({ signal }, 'second signal received, exiting without a clean shutdown');
      process.exit(130);
    }
    logger.info({ signal }, 'signal received, stopping after the chunk in progress');
    abort.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const print = (line: string) => process.stdout.write(`${line}\n`);
  const result = await replayDeadLetters(
    config,
    {
      start: replayStart(options),
      toOffset: options.toOffset,
      partition: options.partition,
      codes: new Set(options.errorCode),
      dryRun: options.dryRun === true,
      signal: abort.signal,
    },
    logger,
    print,
  );
  // A run that failed before it read a letter has no counts worth printing.
  if (result.outcome !== 'failed' || result.summary.read > 0) {
    result.summary.lines(config.topics.deadLetter, options.dryRun === true).forEach(print);
  }
  let exitCode: number;
  if (result.outcome === 'failed') {
    logger.error({ err: result.error }, 'dead-letter replay failed');
    const reason =
      result.error instanceof ReplayError ? result.error.message : String(result.error);
    process.stderr.write(`Dead-letter replay failed: ${reason}\n`);
    exitCode = 1;
  } else if (result.outcome === 'interrupted') {
    print('Stopped before the end; run the command again to continue.');
    exitCode = 130;
  } else {
    exitCode = result.summary.invalid.length > 0 ? 1 : 0;
  }
  // Waits until standard output took every line before the process ends.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(exitCode);
}

function replayStart(options: ReplayCommandOptions): ReplayStart {
  if (options.fromBeginning) {
    return { from: 'beginning' };
  }
  if (options.fromOffset !== undefined) {
    return { from: 'offset', offset: options.fromOffset };
  }
  if (options.since !== undefined) {
    return { from: 'timestamp', timestamp: options.since };
  }
  return { from: 'committed' };
}
