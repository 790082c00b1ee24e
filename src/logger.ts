import { pino, type DestinationStream, type Logger } from 'pino';
import kafkajs, { type logCreator, type logLevel as LogLevel } from 'kafkajs';

const { logLevel } = kafkajs;

export type { Logger };

/**
 * Creates the JSON logger, writing to standard output unless `destination` is given. Errors go
 * under `err`, as pino serialises them.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { service: 'openklant-zaak-cdc' } }, destination);
}

const pinoLevels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * Routes kafkajs's own log lines into pino under `component: "kafkajs"`. kafkajs logs a retried
 * request as an error; those lines stay as kafkajs levels them.
 */
export function kafkajsLogCreator(logger: Logger): logCreator {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }) => {
      const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
      kafkaLogger[pinoLevels[level] ?? 'info'](fields, message);
    };
}

/** Maps a pino level name to the kafkajs level, so both log at the same threshold. */
export function kafkajsLevel(level: string): LogLevel {
  switch (level) {
    case 'debug':
    case 'trace':
      return logLevel.DEBUG;
    case 'info':
      return logLevel.INFO;
    case 'warn':
      return logLevel.WARN;
    default:
      return logLevel.ERROR;
  }
}
